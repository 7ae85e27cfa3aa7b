package io.raftcached.testing.jepsen;

import java.util.List;

/**
 * Linearizability by trying every order, for tiny histories only: the reference the search is
 * compared against. An operation may go next when no operation with a known outcome that
 * completed before it was invoked is still left, and, per-connection order, no operation of its
 * process with a known outcome that was still in flight when it was sent is left, and (for one of
 * unknown outcome) no operation its process sent while it was in flight already went; unknown
 * ones may be left out. Written directly from those words, not from {@link SessionOrder}.
 */
final class BruteForce {
    private BruteForce() {}

    static boolean linearizable(List<Operation> ops, String initial) {
        if (ops.size() > 10) {
            throw new IllegalArgumentException("brute force is for tiny histories");
        }
        return search(ops, new boolean[ops.size()], initial);
    }

    private static boolean search(List<Operation> ops, boolean[] done, String state) {
        boolean allKnownDone = true;
        for (int i = 0; i < ops.size(); i++) {
            if (!done[i] && !ops.get(i).pending()) {
                allKnownDone = false;
            }
        }
        if (allKnownDone) {
            return true;
        }
        for (int i = 0; i < ops.size(); i++) {
            if (done[i] || !eligible(ops, done, ops.get(i))) {
                continue;
            }
            String next = RegisterModel.step(state, ops.get(i));
            if (next == RegisterModel.INVALID) {
                continue;
            }
            done[i] = true;
            boolean found = search(ops, done, next);
            done[i] = false;
            if (found) {
                return true;
            }
        }
        return false;
    }

    private static boolean eligible(List<Operation> ops, boolean[] done, Operation candidate) {
        for (int j = 0; j < ops.size(); j++) {
            Operation other = ops.get(j);
            if (!done[j] && !other.pending() && other.deadline() < candidate.invokeIndex()) {
                return false;
            }
            if (!done[j] && !other.pending() && inFlightWhenSent(other, candidate)) {
                return false;
            }
            if (done[j] && candidate.pending() && inFlightWhenSent(candidate, other)) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code earlier}, of the same process, was sent before {@code later} and not yet completed when it was. */
    private static boolean inFlightWhenSent(Operation earlier, Operation later) {
        return earlier.process() == later.process() && earlier.invokeIndex() < later.invokeIndex()
                && (earlier.completedAt() < 0 || earlier.completedAt() > later.invokeIndex());
    }
}
