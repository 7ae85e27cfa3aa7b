package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

/** What every checker test asks of a verdict of violation. */
final class CheckAssertions {
    private CheckAssertions() {}

    /**
     * Invalid (not a give-up), its explanation containing {@code says} (null: not checked), with a
     * counterexample that includes every one of {@code mustShow}.
     */
    static void assertViolation(CheckResult result, String says, Op... mustShow) {
        assertFalse(result.valid(), result.toString());
        assertFalse(result.isGaveUp(), result.toString());
        if (says != null) {
            assertTrue(result.explanation().contains(says), result.explanation());
        }
        assertFalse(result.counterexample().isEmpty(), result.toString());
        for (Op op : mustShow) {
            assertTrue(result.counterexample().contains(op), op + " missing from " + text(result));
        }
    }

    static String text(CheckResult result) {
        return CheckReport.text(List.of(result));
    }

    /** Operations (invocations) in the counterexample. */
    static long operations(CheckResult result) {
        return result.counterexample().stream().filter(op -> op.type() == Op.Type.INVOKE).count();
    }
}
