package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Is the history linearizable? Each key is checked alone (P-compositionality) with the
 * {@link WglSearch} against the {@link RegisterModel}: set/get/cas/add/delete on register keys,
 * incr/get on counter keys.
 *
 * <ul>
 *   <li>Failed operations never happened and are dropped; a failed read is just a failed read.</li>
 *   <li>Operations whose outcome is unknown (info, or never completed) may take effect at any time
 *       after their invocation, or never. An unknown get is dropped.</li>
 *   <li>With local reads (the default mode) reads are not linearizable by design, so only the
 *       writes and the final reads (after healing and convergence) are judged: writes go through
 *       the log and must be linearizable in every mode.</li>
 *   <li>Per-connection order ({@link SessionOrder}): operations a connection pipelined take effect
 *       in the order sent, so the linearization must keep them in that order, not only within
 *       their intervals. That is judged per key too; an order across keys is not (a violation
 *       found is real, one that needs two keys to show is missed).</li>
 * </ul>
 *
 * <p>On a violation the offending key's operations are shrunk to a small counterexample by
 * {@link LinearizabilityShrinker}; every smaller history it reports was itself checked non
 * linearizable. The search is bounded by {@link SearchBounds}; a key that runs out of them makes
 * the check give up (a failure), unless another key is a definite violation.
 */
public final class LinearizabilityChecker {
    public static final String NAME = "linearizability";

    private LinearizabilityChecker() {}

    public static CheckResult check(History history, CheckSetup setup) {
        Operation.Paired paired = Operation.pair(history.events());
        if (!paired.problems().isEmpty()) {
            return CheckResult.gaveUp(NAME, "malformed history: " + String.join("; ", paired.problems()));
        }
        return check(paired.operations(), setup);
    }

    public static CheckResult check(List<Operation> operations, CheckSetup setup) {
        long deadline = System.nanoTime() + setup.bounds().timeLimit().toNanos();
        Set<String> counters = setup.counterKeysOf(operations);
        Map<String, List<Operation>> byKey = judgedByKey(operations, setup);
        int judged = byKey.values().stream().mapToInt(List::size).sum();
        int pipelined = byKey.values().stream().mapToInt(SessionOrder::pipelined).sum();
        List<String> gaveUp = new ArrayList<>();
        List<String> invalid = new ArrayList<>();
        long steps = 0;
        int states = 0;
        for (Map.Entry<String, List<Operation>> key : byKey.entrySet()) {
            WglSearch.Budget budget = new WglSearch.Budget(setup.bounds().maxStepsPerKey(), setup.bounds().maxCachedStatesPerKey(), deadline);
            WglSearch.Result result = judge(key.getValue(), initialStates(key.getKey(), setup, counters), budget);
            steps += result.steps();
            states = Math.max(states, result.states());
            switch (result.verdict()) {
                case NOT_LINEARIZABLE -> invalid.add(key.getKey());
                case GAVE_UP -> gaveUp.add(key.getKey() + " (" + key.getValue().size() + " operations: " + result.why() + ")");
                default -> { }
            }
        }
        String scope = judged + " operations on " + byKey.size() + " keys"
                + (setup.linearizableReads() ? "" : " (local reads: writes and final reads only)");
        if (!invalid.isEmpty()) {
            String key = invalid.get(0);
            LinearizabilityShrinker.Counterexample shrunk = LinearizabilityShrinker.shrink(byKey.get(key),
                    initialStates(key, setup, counters), setup.bounds());
            String others = invalid.size() > 1 ? "; also not linearizable: " + invalid.subList(1, invalid.size()) : "";
            String unknown = gaveUp.isEmpty() ? "" : "; gave up on " + gaveUp;
            return CheckResult.violation(NAME, "key " + key + " is not linearizable: " + shrunk.explanation() + others + unknown,
                    shrunk.events());
        }
        if (!gaveUp.isEmpty()) {
            return CheckResult.gaveUp(NAME, "no verdict for " + gaveUp + " within the bounds " + setup.bounds() + "; " + scope);
        }
        return CheckResult.ok(NAME, scope + " are linearizable (" + steps + " search steps, at most " + states
                + " configurations for one key)" + (pipelined == 0 ? "" : "; " + pipelined
                + " pipelined behind an earlier operation of their connection, linearized in the order sent"));
    }

    /** The operations the search judges, by key: no failed ones, no unknown reads, and no local reads. */
    static Map<String, List<Operation>> judgedByKey(List<Operation> operations, CheckSetup setup) {
        Map<String, List<Operation>> byKey = new TreeMap<>();
        for (Operation op : operations) {
            if (op.failed()) {
                continue;
            }
            if (op.fn() == Op.Fn.GET && (op.pending() || !setup.linearizableReads() && !setup.isFinalRead(op))) {
                continue;
            }
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        return byKey;
    }

    static List<String> initialStates(String key, CheckSetup setup, Set<String> counters) {
        List<String> states = new ArrayList<>();
        states.add(setup.initialValue(key, counters));
        return states;
    }

    /**
     * The search, after leaving out unknown writes that cannot matter (see {@link
     * #withoutUnobservedUnknownWrites}) and merging values nobody observed (see {@link #UNOBSERVED}).
     */
    static WglSearch.Result judge(List<Operation> keyOperations, List<String> initialStates, WglSearch.Budget budget) {
        List<Operation> ops = withoutUnobservedUnknownWrites(keyOperations);
        Set<String> observed = observedValues(ops);
        if (observed == null) {
            return WglSearch.check(ops, initialStates, budget);
        }
        List<Operation> merged = new ArrayList<>(ops.size());
        for (Operation op : ops) {
            boolean valueWrite = op.fn() == Op.Fn.SET || op.fn() == Op.Fn.ADD || op.fn() == Op.Fn.CAS;
            if (valueWrite && !observed.contains(op.written())) {
                Op invoke = op.invoke();
                invoke = new Op(invoke.process(), invoke.type(), invoke.fn(), invoke.key(), UNOBSERVED, invoke.expected(), invoke.number(),
                        invoke.nanos(), invoke.node());
                op = new Operation(invoke, op.completion(), op.invokeIndex(), op.completedAt(), op.deadline());
            }
            merged.add(op);
        }
        List<String> initial = new ArrayList<>();
        for (String state : initialStates) {
            String mergedState = state == null || observed.contains(state) ? state : UNOBSERVED;
            if (!initial.contains(mergedState)) {
                initial.add(mergedState);
            }
        }
        return WglSearch.check(merged, initial, budget);
    }

    /**
     * Stands for every value that no get returned and no cas expected, on a key without incr. No
     * operation can tell such values apart (a get would have to return one, a cas expect one; add
     * and delete only see that the key is present), so the model steps the same with any of them,
     * and merging them loses nothing. It merges configurations of the search, and it makes unknown
     * writes of such values interchangeable, so the search tries them in invocation order instead
     * of every subset: without it, a few dozen timed-out writes on a key with deletes explode it.
     */
    static final String UNOBSERVED = "\u0000unobserved";

    /** Values some get returned or some cas expected; null for a counter key (incr observes every number). */
    private static Set<String> observedValues(List<Operation> ops) {
        Set<String> observed = new HashSet<>();
        for (Operation op : ops) {
            if (op.fn() == Op.Fn.INCR) {
                return null;
            }
            if (op.fn() == Op.Fn.GET && op.read() != null) {
                observed.add(op.read());
            }
            if (op.fn() == Op.Fn.CAS && op.expected() != null) {
                observed.add(op.expected());
            }
        }
        return observed;
    }

    /**
     * Leaves out set/add/cas of unknown outcome whose value nobody observed (no get returned it, no
     * cas expected it), on a key with no delete and no incr. Why that is safe: take a linearization
     * that includes such a write W; the next write after W in it is a set (any state will do), a
     * cas that expects W's value (there is none), or an add (impossible: W left the key present);
     * the reads between W and it return W's value (there are none). So removing W leaves a
     * linearization, and an unknown write may always be left out. Without this every timed-out
     * write would double the search.
     */
    static List<Operation> withoutUnobservedUnknownWrites(List<Operation> keyOperations) {
        Set<String> observed = new HashSet<>();
        for (Operation op : keyOperations) {
            if (op.fn() == Op.Fn.DELETE || op.fn() == Op.Fn.INCR) {
                return keyOperations;
            }
            if (op.fn() == Op.Fn.GET && op.read() != null) {
                observed.add(op.read());
            }
            if (op.fn() == Op.Fn.CAS && op.expected() != null) {
                observed.add(op.expected());
            }
        }
        List<Operation> kept = new ArrayList<>(keyOperations.size());
        for (Operation op : keyOperations) {
            boolean valueWrite = op.fn() == Op.Fn.SET || op.fn() == Op.Fn.ADD || op.fn() == Op.Fn.CAS;
            if (op.pending() && valueWrite && !observed.contains(op.written())) {
                continue;
            }
            kept.add(op);
        }
        return kept;
    }
}
