package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Shrinks the operations of a non-linearizable key to a small counterexample, in three steps, each
 * keeping only smaller histories that the search itself found non linearizable, and each sound
 * (the smaller history being non linearizable proves the original is):
 *
 * <ol>
 *   <li><b>Shortest prefix.</b> Cut the history after a completion: operations invoked later are
 *       dropped, those still running are judged as unknown (a running read is dropped). If the
 *       whole history has a linearization, so has every prefix; so the earliest failing cut is
 *       found by binary search.</li>
 *   <li><b>Latest start.</b> Start at a quiet point c (every operation invoked before c with a
 *       known outcome completed before c): keep the operations invoked from c on, plus the unknown
 *       ones, and search from every state the key may hold at c — the initial value if nothing
 *       had completed, the value of each completed write that no later-invoked completed write
 *       follows, the value of each unknown write invoked before c (absent for a delete), or for a
 *       counter every number between what the completed incrs and all incrs invoked before c
 *       make. Any linearization of the whole history puts everything completed before c first, so
 *       it ends that part in one of those states.</li>
 *   <li><b>Fewer operations.</b> Remove operations in chunks, halving the chunk, keeping a removal
 *       when the rest is still not linearizable. Only removals that cannot create a violation are
 *       tried: a read (it changes nothing); a write whose value no remaining operation read or
 *       expected, with no incr and no delete of known outcome left (the write after it was a set,
 *       or a cas or add that could not follow it anyway); a delete, when no remaining read saw a miss and no
 *       add that matters is left. Incrs are never removed (every later number depends on them).
 *       {@link #removable} has the details.</li>
 * </ol>
 * Every step has a budget ({@link SearchBounds#shrinkChecksMax()}, {@link SearchBounds#shrinkTimeLimit()});
 * running out leaves a larger counterexample, never a wrong one.
 *
 * <p>Per-connection order ({@link SessionOrder}) keeps all three sound: it only ties pairs of
 * operations, so a linearization of the whole history restricted to the operations kept still
 * respects it, and at a quiet point no operation with a known outcome is still in flight, so
 * only unknown ones (which may be left out) are tied across a window's start.
 */
final class LinearizabilityShrinker {
    /** Most candidate start states worth a search; beyond this a start point is skipped. */
    private static final int MAX_START_STATES = 64;
    /** Most operations shown as the context a window starts from. */
    private static final int MAX_CONTEXT = 6;

    record Counterexample(List<Op> events, String explanation) {}

    /**
     * A history to check: operations, the states it may start in (the last {@code fromUnknown} of
     * them only because of writes of unknown outcome before a window), the writes before a window
     * shown as its context.
     */
    private record Attempt(List<Operation> ops, List<String> initialStates, int fromUnknown, List<Operation> context, boolean window) {}

    private final SearchBounds bounds;
    private final long deadlineNanos;
    private int checks;

    private LinearizabilityShrinker(SearchBounds bounds) {
        this.bounds = bounds;
        this.deadlineNanos = System.nanoTime() + bounds.shrinkTimeLimit().toNanos();
    }

    /** {@code keyOperations} (one key, as judged) were found not linearizable from {@code initialStates}. */
    static Counterexample shrink(List<Operation> keyOperations, List<String> initialStates, SearchBounds bounds) {
        LinearizabilityShrinker shrinker = new LinearizabilityShrinker(bounds);
        Attempt best = new Attempt(keyOperations, initialStates, 0, List.of(), false);
        best = shrinker.shortestPrefix(best);
        best = shrinker.latestStart(best);
        best = shrinker.fewerOperations(best);
        return new Counterexample(Operation.eventsOf(concat(best.context(), best.ops())), describe(best, keyOperations, initialStates,
                shrinker.checks));
    }

    private boolean exhausted() {
        return checks >= bounds.shrinkChecksMax() || System.nanoTime() - deadlineNanos > 0 || Thread.currentThread().isInterrupted();
    }

    /** True only for a definite "not linearizable" within the budget. */
    private boolean invalid(List<Operation> ops, List<String> initialStates) {
        if (exhausted()) {
            return false;
        }
        checks++;
        WglSearch.Budget budget = new WglSearch.Budget(bounds.maxStepsPerKey(), bounds.maxCachedStatesPerKey(), deadlineNanos);
        return LinearizabilityChecker.judge(ops, initialStates, budget).verdict() == WglSearch.Verdict.NOT_LINEARIZABLE;
    }

    // --- 1: shortest prefix ---------------------------------------------------------------------

    private Attempt shortestPrefix(Attempt attempt) {
        TreeSet<Integer> completions = new TreeSet<>();
        for (Operation op : attempt.ops()) {
            if (!op.pending()) {
                completions.add(op.deadline());
            }
        }
        List<Integer> cuts = new ArrayList<>(completions);
        Attempt best = attempt;
        int lo = 0;
        int hi = cuts.size() - 1;
        while (lo <= hi && !exhausted()) {
            int mid = (lo + hi) >>> 1;
            List<Operation> prefix = prefix(attempt.ops(), cuts.get(mid));
            if (invalid(prefix, attempt.initialStates())) {
                best = new Attempt(prefix, attempt.initialStates(), 0, List.of(), false);
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        return best;
    }

    static List<Operation> prefix(List<Operation> ops, int cut) {
        List<Operation> prefix = new ArrayList<>();
        for (Operation op : ops) {
            if (op.invokeIndex() > cut) {
                continue;
            }
            if (op.deadline() > cut) {
                if (op.fn() == Op.Fn.GET) {
                    continue;
                }
                op = op.asUnknown();
            }
            prefix.add(op);
        }
        return prefix;
    }

    // --- 2: latest start ------------------------------------------------------------------------

    private Attempt latestStart(Attempt attempt) {
        List<Integer> quiet = quietPoints(attempt.ops());
        Attempt best = attempt;
        int lo = 0;
        int hi = quiet.size() - 1;
        while (lo <= hi && !exhausted()) {
            int mid = (lo + hi) >>> 1;
            Attempt window = window(attempt, quiet.get(mid));
            if (window != null && invalid(window.ops(), window.initialStates())) {
                best = window;
                lo = mid + 1;
            } else {
                hi = mid - 1;
            }
        }
        return best;
    }

    /** Invocation times c after the first where every known-outcome operation invoked before c completed before c. */
    static List<Integer> quietPoints(List<Operation> ops) {
        List<Operation> definite = new ArrayList<>();
        for (Operation op : ops) {
            if (!op.pending()) {
                definite.add(op);
            }
        }
        definite.sort(Comparator.comparingInt(Operation::invokeIndex));
        List<Integer> points = new ArrayList<>();
        int latestCompletion = -1;
        for (int i = 0; i < definite.size(); i++) {
            Operation op = definite.get(i);
            if (i > 0 && latestCompletion < op.invokeIndex()) {
                points.add(op.invokeIndex());
            }
            latestCompletion = Math.max(latestCompletion, op.deadline());
        }
        return points;
    }

    /** The operations from quiet point {@code c} on, with the states the key may hold at c; null when too many. */
    private static Attempt window(Attempt attempt, int c) {
        List<Operation> ops = new ArrayList<>();
        List<Operation> before = new ArrayList<>();
        for (Operation op : attempt.ops()) {
            if (op.invokeIndex() >= c || op.pending()) {
                ops.add(op);
            }
            if (op.invokeIndex() < c) {
                before.add(op);
            }
        }
        boolean incr = attempt.ops().stream().anyMatch(op -> op.fn() == Op.Fn.INCR);
        boolean otherWrites = attempt.ops().stream().anyMatch(op -> op.isWrite() && op.fn() != Op.Fn.INCR);
        if (incr && otherWrites) {
            return null;
        }
        List<String> states = new ArrayList<>();
        List<String> unknownStates = new ArrayList<>();
        List<Operation> context = new ArrayList<>();
        if (incr) {
            if (!counterStates(attempt, before, states, unknownStates, context)) {
                return null;
            }
        } else {
            registerStates(attempt, before, states, unknownStates, context);
        }
        unknownStates.removeIf(states::contains);
        if (states.size() + unknownStates.size() > MAX_START_STATES) {
            return null;
        }
        int fromUnknown = unknownStates.size();
        states.addAll(unknownStates);
        return new Attempt(ops, states, fromUnknown, context, true);
    }

    private static boolean counterStates(Attempt attempt, List<Operation> before, List<String> states, List<String> unknownStates,
            List<Operation> context) {
        Set<Long> deltas = new HashSet<>();
        for (Operation op : attempt.ops()) {
            if (op.fn() == Op.Fn.INCR) {
                deltas.add(op.delta());
            }
        }
        if (deltas.size() != 1 || attempt.initialStates().size() != 1 || RegisterModel.number(attempt.initialStates().get(0)) == null) {
            return false;
        }
        long delta = deltas.iterator().next();
        long value = RegisterModel.number(attempt.initialStates().get(0));
        int unknown = 0;
        Operation lastKnown = null;
        for (Operation op : before) {
            if (op.fn() != Op.Fn.INCR) {
                continue;
            }
            if (op.pending()) {
                unknown++;
            } else {
                value += delta;
                if (lastKnown == null || op.deadline() > lastKnown.deadline()) {
                    lastKnown = op;
                }
            }
        }
        if (unknown >= MAX_START_STATES) {
            return false;
        }
        states.add(Long.toString(value));
        for (int j = 1; j <= unknown; j++) {
            unknownStates.add(Long.toString(value + j * delta));
        }
        if (lastKnown != null) {
            context.add(lastKnown);
        }
        return true;
    }

    private static void registerStates(Attempt attempt, List<Operation> before, List<String> states, List<String> unknownStates,
            List<Operation> context) {
        int latestInvokeOfCompleted = -1;
        boolean anyCompleted = false;
        for (Operation op : before) {
            if (op.isWrite() && !op.pending()) {
                anyCompleted = true;
                latestInvokeOfCompleted = Math.max(latestInvokeOfCompleted, op.invokeIndex());
            }
        }
        if (!anyCompleted) {
            for (String initial : attempt.initialStates()) {
                addState(states, initial);
            }
        }
        List<Operation> current = new ArrayList<>();
        for (Operation op : before) {
            if (!op.isWrite()) {
                continue;
            }
            // a completed write followed by another completed write invoked after it finished is overwritten
            if (op.pending()) {
                addState(unknownStates, op.fn() == Op.Fn.DELETE ? null : op.written());
            } else if (op.deadline() > latestInvokeOfCompleted) {
                addState(states, op.fn() == Op.Fn.DELETE ? null : op.written());
                current.add(op);
            }
        }
        current.sort(Comparator.comparingInt(Operation::deadline).reversed());
        context.addAll(current.subList(0, Math.min(MAX_CONTEXT, current.size())));
    }

    private static void addState(List<String> states, String state) {
        if (!states.contains(state)) {
            states.add(state);
        }
    }

    // --- 3: fewer operations --------------------------------------------------------------------

    private Attempt fewerOperations(Attempt attempt) {
        List<Operation> current = new ArrayList<>(attempt.ops());
        for (int chunk = Math.max(1, (current.size() + 1) / 2); chunk >= 1 && !exhausted(); chunk /= 2) {
            int start = 0;
            while (start < current.size() && !exhausted()) {
                List<Operation> candidates = current.subList(start, Math.min(current.size(), start + chunk));
                List<Operation> trial = removeSoundly(current, new ArrayList<>(candidates));
                if (trial.size() < current.size() && invalid(trial, attempt.initialStates())) {
                    current = trial;
                } else {
                    start += chunk;
                }
            }
        }
        List<Operation> context = new ArrayList<>(attempt.context());
        context.removeAll(current);
        return new Attempt(current, attempt.initialStates(), attempt.fromUnknown(), context, attempt.window());
    }

    /** {@code ops} without as many of {@code remove} as can go one by one, each removal sound in what is left. */
    static List<Operation> removeSoundly(List<Operation> ops, List<Operation> remove) {
        List<Operation> remaining = new ArrayList<>(ops);
        Set<Operation> todo = new LinkedHashSet<>(remove);
        boolean progress = true;
        while (progress && !todo.isEmpty()) {
            progress = false;
            for (Iterator<Operation> it = todo.iterator(); it.hasNext(); ) {
                Operation op = it.next();
                if (removable(op, remaining)) {
                    remaining.remove(op);
                    it.remove();
                    progress = true;
                }
            }
        }
        return remaining;
    }

    /**
     * Whether removing {@code op} from {@code ops} keeps "not linearizable" a proof about the
     * original. Take a linearization L of {@code ops}; L without op must still be one (after
     * leaving out unknown operations that can then no longer take effect, which is allowed):
     * <ul>
     *   <li>a get changes nothing;</li>
     *   <li>a write of w, when no other operation reads or expects w, there is no incr, and no
     *       delete with a known outcome: in L only gets of w (none) sit between it and the next
     *       write, which is a set (indifferent), or an unknown delete (it may fail now: leave it out;
     *       the key ends absent either way unless the state before was absent already — the same),
     *       never an add (the key was present) nor a cas of w (none);</li>
     *   <li>a delete, when there is no incr, no read with a known outcome saw a miss, no add with a known
     *       outcome is left, and every unknown add writes a value nobody observed: between it and the next
     *       write only misses (none) are read, and the next write is a set (indifferent), or an
     *       unknown add (left out: the key then holds the old value instead of one nobody can tell
     *       apart from it);</li>
     *   <li>an incr never (every later number depends on it).</li>
     * </ul>
     */
    static boolean removable(Operation op, List<Operation> ops) {
        switch (op.fn()) {
            case GET:
                return true;
            case INCR:
                return false;
            case DELETE: {
                Set<String> observed = observed(ops);
                for (Operation other : ops) {
                    if (other.fn() == Op.Fn.INCR || other.fn() == Op.Fn.GET && !other.pending() && other.read() == null
                            || other.fn() == Op.Fn.ADD && (!other.pending() || observed.contains(other.written()))) {
                        return false;
                    }
                }
                return true;
            }
            default:
                for (Operation other : ops) {
                    if (other.equals(op)) {
                        continue;
                    }
                    if (other.fn() == Op.Fn.DELETE && !other.pending() || other.fn() == Op.Fn.INCR
                            || other.fn() == Op.Fn.GET && !other.pending() && Objects.equals(other.read(), op.written())
                            || other.fn() == Op.Fn.CAS && Objects.equals(other.expected(), op.written())) {
                        return false;
                    }
                }
                return true;
        }
    }

    private static Set<String> observed(List<Operation> ops) {
        Set<String> observed = new HashSet<>();
        for (Operation op : ops) {
            if (op.fn() == Op.Fn.GET && !op.pending() && op.read() != null) {
                observed.add(op.read());
            } else if (op.fn() == Op.Fn.CAS && op.expected() != null) {
                observed.add(op.expected());
            }
        }
        return observed;
    }

    // --- the words ------------------------------------------------------------------------------

    private static String describe(Attempt best, List<Operation> all, List<String> initialStates, int checks) {
        StringBuilder text = new StringBuilder();
        text.append(best.ops().size() == 1 ? "no linearization of this operation" : "no linearization of these " + best.ops().size()
                + " operations");
        if (best.window()) {
            List<String> known = best.initialStates().subList(0, best.initialStates().size() - best.fromUnknown());
            List<String> unknown = best.initialStates().subList(known.size(), best.initialStates().size());
            text.append(" from any state the key may hold when the first of them starts: ").append(states(known));
            if (!best.context().isEmpty()) {
                text.append(" (set by the operations listed before it)");
            }
            if (!unknown.isEmpty()) {
                text.append(", or ").append(states(unknown)).append(" from ").append(unknown.size() == 1 ? "a write" : "writes")
                        .append(" of unknown outcome invoked earlier");
            }
        } else {
            text.append(" from the initial state ").append(states(initialStates));
        }
        Set<String> written = new HashSet<>();
        for (Operation op : all) {
            if (op.fn() == Op.Fn.SET || op.fn() == Op.Fn.ADD || op.fn() == Op.Fn.CAS) {
                written.add(op.written());
            }
        }
        for (Operation op : best.ops()) {
            if (op.fn() == Op.Fn.GET && !op.pending() && op.read() != null && !written.contains(op.read())
                    && !initialStates.contains(op.read()) && RegisterModel.number(op.read()) == null) {
                text.append("; ").append(op).append(" read a value no operation wrote");
                break;
            }
        }
        text.append(" [shrunk from ").append(all.size()).append(" operations in ").append(checks).append(" re-checks]");
        return text.toString();
    }

    private static String states(List<String> states) {
        List<String> names = new ArrayList<>();
        for (String state : states.subList(0, Math.min(6, states.size()))) {
            names.add(state == null ? "absent" : "\"" + state + "\"");
        }
        return String.join(" or ", names) + (states.size() > 6 ? " or " + (states.size() - 6) + " more" : "");
    }

    private static List<Operation> concat(List<Operation> a, List<Operation> b) {
        List<Operation> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }
}
