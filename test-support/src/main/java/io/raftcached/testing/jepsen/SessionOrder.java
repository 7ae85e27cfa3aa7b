package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Per-connection order: raftcached executes one connection's requests in the order they were
 * sent, also when several are sent before the first reply (a pipeline), and in every read mode.
 * In a history a process is one connection's session, so of two operations of a process the one
 * invoked first takes effect first, when both take effect.
 *
 * <p>Real time already orders an operation after those of its process that were answered before it
 * was sent. This class finds the pairs real time does not order: operation {@code e} is a
 * <b>session predecessor</b> of {@code o} when both belong to one process, {@code e} was invoked
 * before {@code o}, and {@code e}'s completion (of any kind) was not recorded before {@code o} was
 * invoked — {@code e} was still in flight when {@code o} was sent, or never completed. An
 * operation completed as info before {@code o} was sent is not one: the workload continues as a
 * new process after an info, and hand-built histories follow that convention.
 *
 * <p>What that means for a checker: if both take effect, {@code e} takes effect before {@code o};
 * so an operation with a known outcome may take effect only after its known-outcome predecessors,
 * and an operation of unknown outcome can no longer take effect once one of its successors did.
 */
final class SessionOrder {
    private static final int[] NONE = new int[0];

    private SessionOrder() {}

    /** For each of {@code ops} (by position), the positions of its session predecessors, in invocation order. */
    static int[][] predecessors(List<Operation> ops) {
        int[][] predecessors = new int[ops.size()][];
        Integer[] byInvocation = new Integer[ops.size()];
        for (int i = 0; i < byInvocation.length; i++) {
            byInvocation[i] = i;
        }
        Arrays.sort(byInvocation, Comparator.comparingInt(i -> ops.get(i).invokeIndex()));
        // per process: its operations not yet completed at the invocation being looked at
        Map<Integer, List<Integer>> inFlight = new HashMap<>();
        for (int i : byInvocation) {
            Operation op = ops.get(i);
            List<Integer> open = inFlight.computeIfAbsent(op.process(), p -> new ArrayList<>(2));
            open.removeIf(j -> completedBefore(ops.get(j), op.invokeIndex()));
            predecessors[i] = open.isEmpty() ? NONE : open.stream().mapToInt(Integer::intValue).toArray();
            open.add(i);
        }
        return predecessors;
    }

    /** The converse relation of {@link #predecessors}: for each operation, the positions of its session successors. */
    static int[][] successors(int[][] predecessors) {
        List<List<Integer>> successors = new ArrayList<>(predecessors.length);
        for (int i = 0; i < predecessors.length; i++) {
            successors.add(null);
        }
        for (int o = 0; o < predecessors.length; o++) {
            for (int e : predecessors[o]) {
                if (successors.get(e) == null) {
                    successors.set(e, new ArrayList<>(2));
                }
                successors.get(e).add(o);
            }
        }
        int[][] result = new int[predecessors.length][];
        for (int i = 0; i < result.length; i++) {
            List<Integer> of = successors.get(i);
            result[i] = of == null ? NONE : of.stream().mapToInt(Integer::intValue).toArray();
        }
        return result;
    }

    /** How many of {@code ops} were sent while an earlier one of their process was in flight (pipelined). */
    static int pipelined(List<Operation> ops) {
        int count = 0;
        for (int[] of : predecessors(ops)) {
            count += of.length > 0 ? 1 : 0;
        }
        return count;
    }

    private static boolean completedBefore(Operation op, int index) {
        return op.completedAt() >= 0 && op.completedAt() < index;
    }
}
