package io.raftcached.testing.jepsen;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The Wing–Gong–Lowe linearizability search for the operations on one key (P-compositionality:
 * keys are independent, so each is searched alone), as Lowe's "just-in-time linearization" and
 * porcupine do it: the invocations and completions form one list in real-time order; the search
 * walks it, tries to linearize each invoked operation now (the model must accept it), lifts it out
 * of the list when it does, and backtracks when it meets the completion of an operation not yet
 * linearized. Configurations (set of linearized operations, model state) already explored are
 * remembered and not explored again.
 *
 * <p>Operations whose outcome is unknown (info, open, or cut) have no completion: they may be
 * linearized anywhere after their invocation, or never. They live in a list of their own, and the
 * search tries them only after the operations with a known outcome, just before it would
 * backtrack: a timed-out write is linearized when something needs it, not eagerly. That order
 * matters because of three reductions that keep a history with many of them tractable:
 * <ul>
 *   <li><b>Subsumption.</b> A configuration whose known-outcome operations and state equal an
 *       explored one, and whose linearized unknown operations are a superset of its, can do nothing
 *       that one could not (an unknown operation may always stay out): it is not explored again.</li>
 *   <li><b>Interchangeable unknown operations.</b> Unknown operations with the same effect (two
 *       incrs of a counter, two deletes, two sets of a value nobody observed) are tried in
 *       invocation order only: any linearization can swap them so.</li>
 *   <li>The caller merges values nobody observed ({@link LinearizabilityChecker#judge}).</li>
 * </ul>
 *
 * <p><b>Per-connection order</b> ({@link SessionOrder}) is a constraint on top of real time: an
 * operation is linearized only after its session predecessors with a known outcome, and an unknown
 * operation no longer once one of its session successors is. Both are functions of the linearized
 * set, so remembered configurations stay exact; and linearizing fewer unknown operations never
 * forbids more, so subsumption stays sound. Two unknown operations with the same effect are
 * interchangeable only when the earlier can take the later's place whatever its own pipeline does
 * ({@link #standsInFor}); otherwise the swap could move it across its pipeline, and they are tried
 * one by one.
 *
 * <p>The search succeeds once every operation with a known outcome is linearized. Every run is
 * bounded by steps, remembered configurations and a deadline.
 */
final class WglSearch {
    enum Verdict { LINEARIZABLE, NOT_LINEARIZABLE, GAVE_UP }

    /** A verdict with what it cost; {@code why} says which bound ran out for a give-up. */
    record Result(Verdict verdict, long steps, int states, String why) {}

    /** Limits for one search; the deadline is on System.nanoTime. */
    record Budget(long maxSteps, int maxStates, long deadlineNanos) {}

    private static final class Entry {
        final boolean call;
        final int op;
        final long time;
        Entry match;
        Entry prev;
        Entry next;

        Entry(boolean call, int op, long time) {
            this.call = call;
            this.op = op;
            this.time = time;
        }
    }

    /** The known-outcome part of a configuration: which of those are linearized (compacted), and the state. */
    private static final class KnownPart {
        final int fullWords;
        final long[] rest;
        final String state;
        final int hash;

        KnownPart(int fullWords, long[] rest, String state) {
            this.fullWords = fullWords;
            this.rest = rest;
            this.state = state;
            this.hash = (fullWords * 31 + Arrays.hashCode(rest)) * 31 + Objects.hashCode(state);
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof KnownPart k && k.hash == hash && k.fullWords == fullWords && Arrays.equals(k.rest, rest)
                    && Objects.equals(k.state, state);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    private final List<Operation> ops;
    /** Known-outcome operations: calls and completions in real-time order. */
    private final Entry head = new Entry(true, -1, -1);
    /** Unknown-outcome operations: calls only, in invocation order. */
    private final Entry pendingHead = new Entry(true, -1, -1);
    /** Per operation: its index among known-outcome or among unknown-outcome operations. */
    private final int[] slot;
    /** Per unknown operation slot: the slot of the previous unknown operation with the same effect, or -1. */
    private final int[] previousSameEffect;
    /** Per operation: the operations of its connection still in flight when it was sent, and those sent while it was. */
    private final int[][] sessionBefore;
    private final int[][] sessionAfter;
    private final long[] definite;
    private final long[] pending;
    private int fullWords;   // definite[0 .. fullWords) are all ones
    private int topWord = -1;   // definite[topWord] is the last non-zero word
    /** Explored configurations: for each known part, the linearized unknown sets seen with it. */
    private final Map<KnownPart, List<long[]>> seen = new HashMap<>();
    private int remembered;
    private long steps;

    private WglSearch(List<Operation> operations) {
        this.ops = operations;
        sessionBefore = SessionOrder.predecessors(ops);
        sessionAfter = SessionOrder.successors(sessionBefore);
        slot = new int[ops.size()];
        int definiteCount = 0;
        int pendingCount = 0;
        List<Integer> pendingOps = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            if (ops.get(i).pending()) {
                slot[i] = pendingCount++;
                pendingOps.add(i);
            } else {
                slot[i] = definiteCount++;
            }
        }
        definite = new long[definiteCount / 64 + 1];
        pending = new long[pendingCount / 64 + 1];
        previousSameEffect = new int[pendingCount];
        Map<String, Integer> lastByEffect = new HashMap<>();   // effect -> the latest such operation nothing sent after it ties
        pendingOps.sort(Comparator.comparingInt(i -> ops.get(i).invokeIndex()));
        Entry lastPending = pendingHead;
        for (int i : pendingOps) {
            Operation op = ops.get(i);
            String effect = op.fn() + "\u0000" + op.expected() + "\u0000" + op.written();
            Integer previous = lastByEffect.get(effect);
            previousSameEffect[slot[i]] = previous != null && standsInFor(previous, op) ? slot[previous] : -1;
            if (sessionAfter[i].length == 0) {
                lastByEffect.put(effect, i);
            }
            Entry call = new Entry(true, i, op.invokeIndex());
            lastPending.next = call;
            call.prev = lastPending;
            lastPending = call;
        }
        buildKnownList();
    }

    /**
     * Searches a linearization of {@code operations} (one key; no failed operations, no unknown
     * gets) starting from any of {@code initialStates} (null = absent).
     */
    static Result check(List<Operation> operations, List<String> initialStates, Budget budget) {
        if (operations.isEmpty()) {
            return new Result(Verdict.LINEARIZABLE, 0, 0, "");
        }
        return new WglSearch(operations).run(initialStates, budget);
    }

    private void buildKnownList() {
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Operation op = ops.get(i);
            if (op.pending()) {
                continue;
            }
            Entry call = new Entry(true, i, op.invokeIndex());
            Entry ret = new Entry(false, i, op.deadline());
            call.match = ret;
            ret.match = call;
            entries.add(call);
            entries.add(ret);
        }
        entries.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> e.call ? 0 : 1));
        Entry last = head;
        for (Entry entry : entries) {
            last.next = entry;
            entry.prev = last;
            last = entry;
        }
    }

    private Result run(List<String> initialStates, Budget budget) {
        for (String initial : initialStates) {
            Verdict verdict = runFrom(initial, budget);
            if (verdict == Verdict.GAVE_UP) {
                return new Result(Verdict.GAVE_UP, steps, remembered, why(budget));
            }
            if (verdict == Verdict.LINEARIZABLE) {
                return new Result(Verdict.LINEARIZABLE, steps, remembered, "");
            }
        }
        return new Result(Verdict.NOT_LINEARIZABLE, steps, remembered, "");
    }

    private String why(Budget budget) {
        if (steps > budget.maxSteps()) {
            return "more than " + budget.maxSteps() + " search steps";
        }
        if (remembered > budget.maxStates()) {
            return "more than " + budget.maxStates() + " configurations";
        }
        if (Thread.currentThread().isInterrupted()) {
            return "interrupted";
        }
        return "out of time";
    }

    private record Frame(Entry call, String state) {}

    private Verdict runFrom(String initial, Budget budget) {
        Deque<Frame> stack = new ArrayDeque<>();
        String state = initial;
        Entry entry = head.next;
        boolean unknownPhase = false;   // trying unknown operations invoked before the completion at `limit`
        long limit = 0;
        while (head.next != null) {
            steps++;
            if (steps > budget.maxSteps() || ((steps & 0xfff) == 0
                    && (System.nanoTime() - budget.deadlineNanos() > 0 || Thread.currentThread().isInterrupted()))) {
                return Verdict.GAVE_UP;
            }
            if (!unknownPhase && !entry.call) {
                // every known operation invoked so far was tried; before backtracking, try the unknown ones
                unknownPhase = true;
                limit = entry.time;
                entry = pendingHead.next;
                continue;
            }
            if (unknownPhase && (entry == null || entry.time >= limit)) {
                if (stack.isEmpty()) {
                    return Verdict.NOT_LINEARIZABLE;
                }
                Frame frame = stack.pop();
                state = frame.state();
                mark(frame.call().op, false);
                unlift(frame.call());
                entry = frame.call().next;
                unknownPhase = ops.get(frame.call().op).pending();
                if (unknownPhase) {
                    limit = firstCompletion().time;
                }
                continue;
            }
            Operation op = ops.get(entry.op);
            int s = slot[entry.op];
            boolean inOrder = (!op.pending() || previousSameEffect[s] < 0 || isSet(pending, previousSameEffect[s]))
                    && inSessionOrder(entry.op);
            String next = inOrder ? RegisterModel.step(state, op) : RegisterModel.INVALID;
            if (next != RegisterModel.INVALID) {
                mark(entry.op, true);
                if (remember(next)) {
                    if (remembered > budget.maxStates()) {
                        return Verdict.GAVE_UP;
                    }
                    stack.push(new Frame(entry, state));
                    state = next;
                    lift(entry);
                    entry = head.next;
                    unknownPhase = false;
                    continue;
                }
                mark(entry.op, false);
            }
            entry = entry.next;
        }
        return Verdict.LINEARIZABLE;
    }

    /**
     * Whether unknown operation {@code earlier} can take the place of {@code later} in any
     * linearization (same effect assumed): nothing its connection sent after it can forbid it, and
     * everything its connection sent before it had a known outcome and was answered before
     * {@code later} was sent, so is linearized before any place {@code later} can take.
     */
    private boolean standsInFor(int earlier, Operation later) {
        if (sessionAfter[earlier].length > 0) {
            return false;
        }
        for (int before : sessionBefore[earlier]) {
            Operation op = ops.get(before);
            if (op.pending() || op.completedAt() > later.invokeIndex()) {
                return false;
            }
        }
        return true;
    }

    /** Whether per-connection order lets {@code op} be linearized next (see the class comment). */
    private boolean inSessionOrder(int op) {
        for (int before : sessionBefore[op]) {
            if (!ops.get(before).pending() && !linearized(before)) {
                return false;
            }
        }
        if (ops.get(op).pending()) {
            for (int after : sessionAfter[op]) {
                if (linearized(after)) {
                    return false;
                }
            }
        }
        return true;
    }

    private boolean linearized(int op) {
        return isSet(ops.get(op).pending() ? pending : definite, slot[op]);
    }

    private Entry firstCompletion() {
        Entry entry = head.next;
        while (entry.call) {
            entry = entry.next;
        }
        return entry;
    }

    /** Records the configuration now marked, with {@code state}; false when it or one that subsumes it was explored. */
    private boolean remember(String state) {
        long[] rest = topWord < fullWords ? new long[0] : Arrays.copyOfRange(definite, fullWords, topWord + 1);
        List<long[]> unknownSets = seen.computeIfAbsent(new KnownPart(fullWords, rest, state), k -> new ArrayList<>(1));
        for (long[] explored : unknownSets) {
            if (subset(explored, pending)) {
                return false;
            }
        }
        unknownSets.add(pending.clone());
        remembered++;
        return true;
    }

    private static boolean subset(long[] small, long[] big) {
        for (int i = 0; i < small.length; i++) {
            if ((small[i] & ~big[i]) != 0) {
                return false;
            }
        }
        return true;
    }

    private static boolean isSet(long[] bits, int index) {
        return (bits[index >>> 6] & (1L << index)) != 0;
    }

    private void mark(int op, boolean linearized) {
        int s = slot[op];
        if (ops.get(op).pending()) {
            if (linearized) {
                pending[s >>> 6] |= 1L << s;
            } else {
                pending[s >>> 6] &= ~(1L << s);
            }
            return;
        }
        int word = s >>> 6;
        if (linearized) {
            definite[word] |= 1L << s;
            topWord = Math.max(topWord, word);
            while (fullWords < definite.length && definite[fullWords] == -1L) {
                fullWords++;
            }
        } else {
            definite[word] &= ~(1L << s);
            fullWords = Math.min(fullWords, word);
            while (topWord >= 0 && definite[topWord] == 0) {
                topWord--;
            }
        }
    }

    private static void lift(Entry call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Entry ret = call.match;
        if (ret != null) {
            ret.prev.next = ret.next;
            if (ret.next != null) {
                ret.next.prev = ret.prev;
            }
        }
    }

    private static void unlift(Entry call) {
        Entry ret = call.match;
        if (ret != null) {
            ret.prev.next = ret;
            if (ret.next != null) {
                ret.next.prev = ret;
            }
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }
}
