package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.List;

/**
 * Every checker that applies to a run, in one call:
 *
 * <ul>
 *   <li>{@link LinearizabilityChecker}: every operation with linearizable reads; with local reads
 *       the writes and final reads only; a connection's pipelined operations in the order sent.</li>
 *   <li>{@link CounterChecker}: bounds on each counter.</li>
 *   <li>{@link FinalReadsChecker}: no acknowledged write lost, final reads agree.</li>
 *   <li>{@link LocalReadsChecker}: reads of written values, read-your-writes, monotonic reads, no
 *       read of its own connection's later write (what local reads promise; linearizable reads
 *       keep it too, so it runs in both modes).</li>
 *   <li>{@link ConvergenceChecker}: when the setup carries digests.</li>
 * </ul>
 * A run passes when {@link #allValid} holds; {@link CheckReport#text} writes the verdicts down.
 */
public final class Checkers {
    private Checkers() {}

    public static List<CheckResult> all(History history, CheckSetup setup) {
        Operation.Paired paired = Operation.pair(history.events());
        if (!paired.problems().isEmpty()) {
            String problems = "malformed history: " + String.join("; ", paired.problems().subList(0, Math.min(5, paired.problems().size())));
            List<CheckResult> results = new ArrayList<>();
            for (String name : List.of(LinearizabilityChecker.NAME, CounterChecker.NAME, FinalReadsChecker.NAME, LocalReadsChecker.NAME)) {
                results.add(CheckResult.gaveUp(name, problems));
            }
            if (setup.digests() != null) {
                results.add(ConvergenceChecker.check(setup.digests()));
            }
            return results;
        }
        List<Operation> operations = paired.operations();
        List<CheckResult> results = new ArrayList<>();
        results.add(guarded(LinearizabilityChecker.NAME, () -> LinearizabilityChecker.check(operations, setup)));
        results.add(guarded(CounterChecker.NAME, () -> CounterChecker.check(operations, setup)));
        results.add(guarded(FinalReadsChecker.NAME, () -> FinalReadsChecker.check(operations, setup)));
        results.add(guarded(LocalReadsChecker.NAME, () -> LocalReadsChecker.check(operations, setup)));
        if (setup.digests() != null) {
            results.add(ConvergenceChecker.check(setup.digests()));
        }
        return results;
    }

    public static boolean allValid(List<CheckResult> results) {
        return results.stream().allMatch(CheckResult::valid);
    }

    /** A checker that throws has not judged: that is a give-up, not a pass and not a crash of the run. */
    private static CheckResult guarded(String name, java.util.function.Supplier<CheckResult> checker) {
        try {
            return checker.get();
        } catch (RuntimeException | StackOverflowError | OutOfMemoryError e) {
            return CheckResult.gaveUp(name, "threw " + e);
        }
    }
}
