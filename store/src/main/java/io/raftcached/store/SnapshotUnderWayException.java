package io.raftcached.store;

/**
 * The store dumps one snapshot at a time (its copy-on-write covers one image): a second begin is
 * refused until the first dump ends. Callers choose: retry later, or give up this attempt.
 */
public final class SnapshotUnderWayException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    SnapshotUnderWayException() {
        super("a snapshot is already being taken");
    }
}
