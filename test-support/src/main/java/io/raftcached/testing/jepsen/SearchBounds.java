package io.raftcached.testing.jepsen;

import java.time.Duration;

/**
 * Limits on the linearizability search, so a check always ends. Running out of any of them is a
 * give-up ({@link CheckResult#gaveUp}), which fails the run: a check that did not finish never
 * passes. Shrinking a counterexample has its own smaller budget; running out of that only leaves
 * the counterexample larger, the verdict stands.
 *
 * @param maxStepsPerKey       search steps (an attempt to linearize one operation, or a backtrack)
 *                             allowed for one key
 * @param maxCachedStatesPerKey distinct (linearized set, register state) configurations remembered
 *                             for one key; each costs about 100 bytes
 * @param timeLimit            wall time for the whole linearizability check, all keys together
 * @param shrinkChecksMax      re-checks of smaller histories allowed to shrink one counterexample
 * @param shrinkTimeLimit      wall time for shrinking one counterexample
 */
public record SearchBounds(long maxStepsPerKey, int maxCachedStatesPerKey, Duration timeLimit, int shrinkChecksMax,
        Duration shrinkTimeLimit) {

    public SearchBounds {
        if (maxStepsPerKey <= 0 || maxCachedStatesPerKey <= 0 || timeLimit.isNegative() || shrinkChecksMax < 0
                || shrinkTimeLimit.isNegative()) {
            throw new IllegalArgumentException("bounds must be positive: " + maxStepsPerKey + ", " + maxCachedStatesPerKey + ", "
                    + timeLimit + ", " + shrinkChecksMax + ", " + shrinkTimeLimit);
        }
    }

    /**
     * For fault runs: 20 M steps and 1 M cached states per key (about 100 MB at most), 60 s in all,
     * 400 re-checks or 10 s to shrink. A history of tens of thousands of operations with a few
     * keys and short timeouts needs a small fraction of that.
     */
    public static SearchBounds defaults() {
        return new SearchBounds(20_000_000, 1_000_000, Duration.ofSeconds(60), 400, Duration.ofSeconds(10));
    }

    public SearchBounds withTimeLimit(Duration limit) {
        return new SearchBounds(maxStepsPerKey, maxCachedStatesPerKey, limit, shrinkChecksMax, shrinkTimeLimit);
    }

    public SearchBounds withStates(long steps, int states) {
        return new SearchBounds(steps, states, timeLimit, shrinkChecksMax, shrinkTimeLimit);
    }
}
