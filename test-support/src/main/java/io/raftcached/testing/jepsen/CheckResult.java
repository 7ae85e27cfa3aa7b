package io.raftcached.testing.jepsen;

import java.util.List;

/**
 * A checker's verdict. {@code valid} is false for a violation, and also when the checker gave up
 * (its search bound ran out): a check that did not finish never passes.
 *
 * @param checker       which checker
 * @param valid         the history satisfies the property
 * @param explanation   what was checked, or what is wrong, in a sentence
 * @param counterexample for a violation: a minimal sub-history showing it (empty otherwise)
 */
public record CheckResult(String checker, boolean valid, String explanation, List<Op> counterexample) {
    public static CheckResult ok(String checker, String explanation) {
        return new CheckResult(checker, true, explanation, List.of());
    }

    public static CheckResult violation(String checker, String explanation, List<Op> counterexample) {
        return new CheckResult(checker, false, explanation, List.copyOf(counterexample));
    }

    public static CheckResult gaveUp(String checker, String explanation) {
        return new CheckResult(checker, false, GAVE_UP_PREFIX + explanation, List.of());
    }

    /** How the explanation of a give-up starts. */
    public static final String GAVE_UP_PREFIX = "checker gave up: ";

    /** The checker reached no verdict (a bound ran out, or it could not judge): a failure, but not a proven violation. */
    public boolean isGaveUp() {
        return !valid && explanation.startsWith(GAVE_UP_PREFIX);
    }
}
