package io.raftcached.it.jepsen;

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
        return new CheckResult(checker, false, "checker gave up: " + explanation, List.of());
    }
}
