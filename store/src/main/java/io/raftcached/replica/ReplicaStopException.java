package io.raftcached.replica;

/**
 * This replica cannot go on applying the log: the log holds something this binary or this node's
 * configuration cannot apply the way the others do (a newer entry format, another store shape,
 * another cluster). Applying it anyway, or skipping it, would make this replica diverge, so the
 * node must stop; the message says what the operator has to change.
 */
public final class ReplicaStopException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ReplicaStopException(String message) {
        super(message);
    }
}
