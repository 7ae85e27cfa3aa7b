package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class ConvergenceCheckerTest {
    @Test
    void equalDigestsConverged() {
        CheckResult result = ConvergenceChecker.check(Map.of("n1", "9:abc", "n2", "9:abc", "n3", "9:abc"));
        assertTrue(result.valid(), result.toString());
        assertTrue(result.explanation().contains("3 nodes hold the same state: 9:abc"));
    }

    @Test
    void theNodeThatDiffersIsNamed() {
        CheckResult result = ConvergenceChecker.check(Map.of("n1", "9:abc", "n2", "9:abd", "n3", "9:abc"));
        assertFalse(result.valid());
        assertFalse(result.isGaveUp());
        assertTrue(result.explanation().contains("[n1, n3] hold 9:abc, but [n2] hold 9:abd"), result.explanation());
    }

    @Test
    void nothingToCompareFails() {
        assertFalse(ConvergenceChecker.check(Map.of()).valid());
        assertFalse(ConvergenceChecker.check(null).valid());
    }
}
