package io.raftcached.it.jepsen;

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
import java.util.function.Function;

/**
 * Which checkers judge a fault run's history, and the time each gets. A checker that runs out of
 * time gave up, and a run whose checker gave up fails: a check that did not finish never passes.
 *
 * <p>The run-level checks here are the fault runner's own (convergence of the digests it read,
 * the counter bounds); the history checkers proper are the colleague's classes in this package.
 */
final class FaultRunChecks {
    /** What the checkers need besides the history. */
    record Context(boolean linearizable, List<String> registerKeys, List<String> counterKeys, Map<String, String> digests,
            int finalReadProcessBase) {}

    private FaultRunChecks() {}

    /** The checkers for a run's mode. */
    static List<Map.Entry<String, Function<History, CheckResult>>> checkers(Context context) {
        List<Map.Entry<String, Function<History, CheckResult>>> checkers = new ArrayList<>();
        checkers.add(Map.entry("convergence", history -> convergence(context.digests())));
        checkers.add(Map.entry("counter-bounds", history -> counterBounds(history, context)));
        return checkers;
    }

    /** Runs every checker with a time limit each; a checker past its limit or that threw gave up. */
    static List<CheckResult> run(History history, Context context, long timeoutMillis) {
        List<CheckResult> results = new ArrayList<>();
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread thread = new Thread(r, "checker");
            thread.setDaemon(true);
            return thread;
        });
        try {
            for (Map.Entry<String, Function<History, CheckResult>> checker : checkers(context)) {
                long started = System.nanoTime();
                Future<CheckResult> future = executor.submit(() -> checker.getValue().apply(history));
                CheckResult result;
                try {
                    result = future.get(timeoutMillis, TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    future.cancel(true);
                    result = CheckResult.gaveUp(checker.getKey(), "no verdict within " + timeoutMillis + " ms");
                    // A checker that ignores interruption keeps the thread: give the next one a fresh executor.
                    executor.shutdownNow();
                    executor = Executors.newSingleThreadExecutor(r -> {
                        Thread thread = new Thread(r, "checker");
                        thread.setDaemon(true);
                        return thread;
                    });
                } catch (ExecutionException e) {
                    result = CheckResult.gaveUp(checker.getKey(), "threw " + e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    result = CheckResult.gaveUp(checker.getKey(), "interrupted");
                }
                System.out.printf("checker %s: %s in %d ms: %s%n", result.checker(), result.valid() ? "valid" : "INVALID",
                        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started), result.explanation());
                results.add(result);
            }
        } finally {
            executor.shutdownNow();
        }
        return results;
    }

    /** Every member reported the same "index:sha256" after the heal. */
    static CheckResult convergence(Map<String, String> digests) {
        if (digests.isEmpty()) {
            return CheckResult.violation("convergence", "the members never reached one applied index, so no digests to compare", List.of());
        }
        if (new TreeSet<>(digests.values()).size() == 1) {
            return CheckResult.ok("convergence", digests.size() + " members hold the same state: " + digests.values().iterator().next());
        }
        return CheckResult.violation("convergence", "the members hold different states at one applied index: " + digests, List.of());
    }

    /**
     * For each counter: acknowledged increments &lt;= final - initial &lt;= acknowledged + unknown,
     * with the final value taken from the final reads (which must agree across nodes).
     */
    static CheckResult counterBounds(History history, Context context) {
        String name = "counter-bounds";
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
