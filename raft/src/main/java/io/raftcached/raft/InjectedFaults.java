package io.raftcached.raft;

/**
 * Faults a test injects into a real node process through hidden flags, so the fault suite can
 * exercise what a real cluster must survive. Both are zero in production.
 *
 * @param clockOffsetMillis added to this node's wall clock (skewed clocks)
 * @param failApplyAtIndex applying this log entry throws on this node (fail-stop, then replay on restart); 0 never
 */
public record InjectedFaults(long clockOffsetMillis, long failApplyAtIndex) {
    public static final InjectedFaults NONE = new InjectedFaults(0, 0);
}
