package io.raftcached.it.jepsen;

import io.raftcached.testing.jepsen.CheckResult;
import io.raftcached.testing.jepsen.CheckSetup;
import io.raftcached.testing.jepsen.Checkers;
import io.raftcached.testing.jepsen.History;
import io.raftcached.testing.jepsen.Op;
import io.raftcached.testing.jepsen.SearchBounds;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Which checkers judge a fault run's history, and the time each gets. A checker that runs out of
 * time gave up, and a run whose checker gave up fails: a check that did not finish never passes.
 *
 * <p>The history checkers proper live in test-support ({@link Checkers}); the runner adds its own
 * counter bound as a cross-check computed a second, independent way.
 */
final class FaultRunChecks {
    /** What the checkers need besides the history. */
    record Context(boolean linearizable, List<String> registerKeys, List<String> counterKeys, Map<String, String> digests,
            int finalReadProcessBase) {}

    private FaultRunChecks() {}

    /**
     * The history checkers ({@link #historyCheckers}) in one call bounded by {@code timeoutMillis};
     * past it, or if they throw, they gave up. Then the runner's own counter bound as a cross-check.
     */
    static List<CheckResult> run(History history, Context context, long timeoutMillis) {
        CheckSetup setup = CheckSetup.of(context.linearizable(), context.registerKeys(), context.counterKeys(), context.digests());
        if (setup.finalReadProcessBase() != context.finalReadProcessBase()) {
            throw new IllegalStateException("the checkers expect final reads from process " + setup.finalReadProcessBase()
                    + ", the runner records them from " + context.finalReadProcessBase());
        }
        setup = setup.withBounds(SearchBounds.defaults().withTimeLimit(java.time.Duration.ofMillis(Math.max(1_000, timeoutMillis - 5_000))));
        List<CheckResult> results = new ArrayList<>();
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "checkers");
            thread.setDaemon(true);
            return thread;
        });
        long started = System.nanoTime();
        CheckSetup finalSetup = setup;
        Future<List<CheckResult>> future = executor.submit(() -> historyCheckers(history, finalSetup));
        try {
            results.addAll(future.get(timeoutMillis, TimeUnit.MILLISECONDS));
        } catch (TimeoutException e) {
            future.cancel(true);
            results.add(CheckResult.gaveUp("checkers", "no verdicts within " + timeoutMillis + " ms"));
        } catch (ExecutionException e) {
            results.add(CheckResult.gaveUp("checkers", "threw " + e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            results.add(CheckResult.gaveUp("checkers", "interrupted"));
        } finally {
            executor.shutdownNow();
        }
        results.add(counterBounds(history, context));
        for (CheckResult result : results) {
            System.out.printf("checker %s: %s: %s%n", result.checker(), result.valid() ? "valid" : result.isGaveUp() ? "GAVE UP" : "INVALID",
                    result.explanation());
        }
        System.out.printf("checkers took %d ms%n", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        return results;
    }

    /** Every history checker ({@link Checkers#all}), digests included. */
    static List<CheckResult> historyCheckers(History history, CheckSetup setup) {
        return Checkers.all(history, setup);
    }

    /**
     * For each counter: acknowledged increments &lt;= final - initial &lt;= acknowledged + unknown,
     * with the final value taken from the final reads (which must agree across nodes).
     */
    static CheckResult counterBounds(History history, Context context) {
        String name = "runner-counter-bounds";
        List<String> lines = new ArrayList<>();
        List<Op> counterexample = new ArrayList<>();
        boolean valid = true;
        for (String key : context.counterKeys()) {
            long acked = 0;
            long unknown = 0;
            Map<String, String> finals = new LinkedHashMap<>();
            List<Op> finalOps = new ArrayList<>();
            for (Op op : history.events()) {
                if (!op.key().equals(key)) {
                    continue;
                }
                if (op.fn() == Op.Fn.INCR && op.type() == Op.Type.OK) {
                    acked++;
                } else if (op.fn() == Op.Fn.INCR && op.type() == Op.Type.INFO) {
                    unknown++;
                } else if (op.fn() == Op.Fn.GET && op.type() == Op.Type.OK && op.process() >= context.finalReadProcessBase()) {
                    finals.put(op.node(), op.value());
                    finalOps.add(op);
                }
            }
            if (finals.isEmpty()) {
                valid = false;
                lines.add(key + ": no final read");
                continue;
            }
            if (new TreeSet<>(finals.values().stream().map(String::valueOf).toList()).size() != 1) {
                valid = false;
                lines.add(key + ": final reads disagree " + finals);
                counterexample.addAll(finalOps);
                continue;
            }
            String value = finals.values().iterator().next();
            if (value == null || !value.matches("\\d+")) {
                valid = false;
                lines.add(key + ": final value " + value + " is not a number (a counter created with 0 vanished or changed)");
                counterexample.addAll(finalOps);
                continue;
            }
            long delta = Long.parseLong(value);   // created with "0" before the history
            boolean ok = acked <= delta && delta <= acked + unknown;
            valid &= ok;
            lines.add(String.format("%s: %d acknowledged <= %d <= %d acknowledged + %d unknown: %s", key, acked, delta, acked + unknown,
                    unknown, ok ? "ok" : "VIOLATED"));
            if (!ok) {
                counterexample.addAll(finalOps);
            }
        }
        String explanation = String.join("; ", lines);
        return valid ? CheckResult.ok(name, explanation) : CheckResult.violation(name, explanation, counterexample);
    }
}
