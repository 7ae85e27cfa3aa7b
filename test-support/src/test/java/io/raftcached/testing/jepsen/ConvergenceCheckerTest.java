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
    void groupsAreComparedAmongTheirOwnReplicas() {
        CheckResult same = ConvergenceChecker.check(Map.of("g1@n1", "9:abc", "g1@n2", "9:abc", "g2@n2", "4:fff", "g2@n3", "4:fff"));
        assertTrue(same.valid(), same.toString());
        assertTrue(same.explanation().contains("group g1: 2 nodes hold the same state: 9:abc"), same.explanation());
        CheckResult differ = ConvergenceChecker.check(Map.of("g1@n1", "9:abc", "g1@n2", "9:abc", "g2@n2", "4:fff", "g2@n3", "4:ffe",
                "g2@n4", "4:fff"));
        assertFalse(differ.valid());
        assertTrue(differ.explanation().contains("group g2: the nodes hold 2 different states: [g2@n2, g2@n4] hold 4:fff, but [g2@n3]"),
                differ.explanation());
    }

    @Test
    void nothingToCompareFails() {
        assertFalse(ConvergenceChecker.check(Map.of()).valid());
        assertFalse(ConvergenceChecker.check(null).valid());
    }
}
