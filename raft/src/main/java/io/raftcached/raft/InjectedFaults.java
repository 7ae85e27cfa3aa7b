package io.raftcached.raft;

/**
 * Faults a test injects into a real node process through hidden flags, so the fault suite can
 * exercise what a real cluster must survive, and what a benchmark switches off to measure its
 * cost. All are zero or false in production.
 *
 * @param clockOffsetMillis added to this node's wall clock (skewed clocks)
 * @param failApplyAtIndex applying this log entry throws on this node (fail-stop, then replay on restart); 0 never
 * @param noAccessHints this node sends no access hints (what reads cost without them; the LRU then follows writes)
 */
public record InjectedFaults(long clockOffsetMillis, long failApplyAtIndex, boolean noAccessHints) {
    public static final InjectedFaults NONE = new InjectedFaults(0, 0, false);
}
