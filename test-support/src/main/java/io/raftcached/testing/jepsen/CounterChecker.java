package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Bounds on each counter key (see {@link CheckSetup} for what a counter key is), in every read
 * mode. With {@code initial} the value before the history, {@code acked} the sum of the ok
 * increments and {@code unknown} the sum of those of unknown outcome:
 *
 * <ol>
 *   <li><b>Final value.</b> Every final read returns a number f with
 *       {@code acked <= f - initial <= acked + unknown}; a miss or a non-number is a violation, and
 *       so is a missing final read.</li>
 *   <li><b>Each increment observed once.</b> No two ok incrs returned the same number.</li>
 *   <li><b>Numbers in range.</b> An ok incr X returned a number within
 *       {@code [initial + (increments acked before X was invoked) + X's own, initial + (increments
 *       invoked before X completed)]}, which lies within {@code [initial + 1, initial + acked +
 *       unknown]}: a number above that counts an increment twice or skips one, below it misses an
 *       acknowledged one.</li>
 *   <li><b>Reads in range.</b> Every ok get returns a number within {@code [initial, initial +
 *       (increments invoked before the get completed)]}: a local read may be stale, but it can
 *       never show more than was asked for, nor less than the start.</li>
 * </ol>
 * A counter key that was also set, added, cas'd or deleted is outside this model: the check gives up
 * on it rather than pass it.
 */
public final class CounterChecker {
    public static final String NAME = "counter";

    private CounterChecker() {}

    public static CheckResult check(History history, CheckSetup setup) {
        return Problem.judgePaired(NAME, history, operations -> check(operations, setup));
    }

    public static CheckResult check(List<Operation> operations, CheckSetup setup) {
        Set<String> counters = setup.counterKeysOf(operations);
        Map<String, List<Operation>> byKey = new HashMap<>();
        for (Operation op : operations) {
            if (counters.contains(op.key())) {
                byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        List<Problem> problems = new ArrayList<>();
        List<String> unjudged = new ArrayList<>();
        List<String> summaries = new ArrayList<>();
        for (String key : counters) {
            List<Operation> ops = byKey.getOrDefault(key, List.of());
            Operation other = ops.stream().filter(op -> op.isWrite() && op.fn() != Op.Fn.INCR && !op.failed()).findFirst().orElse(null);
            if (other != null) {
                unjudged.add(key + " (" + other + " is not an incr)");
                continue;
            }
            summaries.add(checkKey(key, ops, setup, problems));
        }
        if (!problems.isEmpty()) {
            return Problem.violation(NAME, problems);
        }
        if (!unjudged.isEmpty()) {
            return CheckResult.gaveUp(NAME, "counter keys written otherwise than by incr cannot be judged: " + unjudged);
        }
        if (counters.isEmpty()) {
            return CheckResult.ok(NAME, "no counter keys in the history");
        }
        return CheckResult.ok(NAME, String.join("; ", summaries));
    }

    private static String checkKey(String key, List<Operation> ops, CheckSetup setup, List<Problem> problems) {
        long initial = setup.counterInitial();
        List<Operation> acked = new ArrayList<>();
        List<Operation> incrs = new ArrayList<>();   // ok or unknown: every incr that may have counted
        List<Operation> finals = new ArrayList<>();
        List<Operation> reads = new ArrayList<>();
        long ackedSum = 0;
        long unknownSum = 0;
        for (Operation op : ops) {
            if (op.fn() == Op.Fn.INCR && !op.failed()) {
                incrs.add(op);
                if (op.ok()) {
                    acked.add(op);
                    ackedSum += op.delta();
                } else {
                    unknownSum += op.delta();
                }
            } else if (op.fn() == Op.Fn.GET && op.ok()) {
                (setup.isFinalRead(op) ? finals : reads).add(op);
            }
        }
        int before = problems.size();

        // 2: each number once
        Map<Long, Operation> byNumber = new HashMap<>();
        for (Operation op : acked) {
            if (op.number() == null) {
                continue;
            }
            Operation first = byNumber.putIfAbsent(op.number(), op);
            if (first != null) {
                problems.add(new Problem(key + ": two acknowledged incrs returned " + op.number() + " (" + first + " and " + op
                        + "): one increment counted twice or one lost", List.of(first, op)));
            }
        }

        // 3: numbers within what real time allows
        Sums ackedByCompletion = new Sums(acked, Operation::deadline);
        Sums invokedByInvocation = new Sums(incrs, Operation::invokeIndex);
        for (Operation op : acked) {
            if (op.number() == null) {
                continue;
            }
            long low = initial + ackedByCompletion.before(op.invokeIndex()) + op.delta();
            long high = initial + invokedByInvocation.before(op.deadline());
            if (op.number() < low) {
                Operation witness = ackedByCompletion.lastBefore(op.invokeIndex());
                problems.add(new Problem(key + ": " + op + " returned " + op.number() + " but at least " + low
                        + " was due: increments acknowledged before it started are missing",
                        witness == null ? List.of(op) : List.of(witness, op)));
            } else if (op.number() > high) {
                problems.add(new Problem(key + ": " + op + " returned " + op.number() + " but at most " + high
                        + " increments (from " + initial + ") had been asked for when it completed: an increment counted twice",
                        List.of(op)));
            }
        }

        // 4: reads within range
        for (Operation op : reads) {
            Long value = RegisterModel.number(op.read());
            long high = initial + invokedByInvocation.before(op.deadline());
            if (value == null || value < initial || value > high) {
                problems.add(new Problem(key + ": " + op + " read " + (op.read() == null ? "a miss" : op.read())
                        + " but the counter can only have held a number in [" + initial + ", " + high + "] then", List.of(op)));
            }
        }

        // 1: final value
        Set<String> finalValues = new LinkedHashSet<>();
        for (Operation op : finals) {
            finalValues.add(String.valueOf(op.read()));
        }
        if (finals.isEmpty()) {
            problems.add(new Problem(key + ": no final read (the runner must read every counter on every node after healing)", List.of()));
        }
        for (Operation op : finals) {
            Long value = RegisterModel.number(op.read());
            if (value == null) {
                problems.add(new Problem(key + ": final read " + op + " is not a number: the counter vanished or was overwritten",
                        List.of(op)));
                continue;
            }
            long delta = value - initial;
            if (delta < ackedSum) {
                List<Operation> witnesses = new ArrayList<>(List.of(op));
                acked.stream().filter(a -> a.number() != null && a.number() > value)
                        .max(Comparator.comparingLong(Operation::number)).ifPresent(witnesses::add);
                problems.add(new Problem(key + ": final value " + value + " on " + op.invoke().node() + " = initial " + initial + " + "
                        + delta + ", fewer than the " + ackedSum + " acknowledged increments: an acknowledged increment was lost",
                        witnesses));
            } else if (delta > ackedSum + unknownSum) {
                problems.add(new Problem(key + ": final value " + value + " on " + op.invoke().node() + " = initial " + initial + " + "
                        + delta + ", more than the " + ackedSum + " acknowledged + " + unknownSum
                        + " unknown increments: an increment was applied twice", List.of(op)));
            }
        }
        if (problems.size() > before) {
            return key + ": violated";
        }
        return String.format("%s: %d acknowledged <= %s - %d <= %d acknowledged + %d unknown; %d distinct numbers within real-time"
                + " bounds; %d reads in range", key, ackedSum, finalValues.size() == 1 ? finalValues.iterator().next() : finalValues,
                initial, ackedSum, unknownSum, byNumber.size(), reads.size());
    }

    /** Sums of incr deltas by a time, for "how much was acked/invoked before t" in log time. */
    private static final class Sums {
        private final int[] times;
        private final long[] prefix;
        private final Operation[] ops;

        Sums(List<Operation> operations, java.util.function.ToIntFunction<Operation> time) {
            ops = operations.toArray(new Operation[0]);
            Arrays.sort(ops, Comparator.comparingInt(time));
            times = new int[ops.length];
            prefix = new long[ops.length + 1];
            for (int i = 0; i < ops.length; i++) {
                times[i] = time.applyAsInt(ops[i]);
                prefix[i + 1] = prefix[i] + ops[i].delta();
            }
        }

        /** How many entries have a time strictly before {@code t}. */
        private int count(int t) {
            int lo = 0;
            int hi = times.length;
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (times[mid] < t) {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            return lo;
        }

        long before(int t) {
            return prefix[count(t)];
        }

        Operation lastBefore(int t) {
            int n = count(t);
            return n == 0 ? null : ops[n - 1];
        }
    }
}
