package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class CounterCheckerTest {
    private static final CheckSetup SETUP = CheckSetup.of(false);

    private static CheckResult check(HistoryBuilder h) {
        return CounterChecker.check(h.history(), SETUP);
    }

    private static void assertViolation(CheckResult result, String says, Op... mustShow) {
        CheckAssertions.assertViolation(result, says, mustShow);
        assertTrue(result.counterexample().size() <= 6, CheckAssertions.text(result));
    }

    @Test
    void concurrentAndUnknownIncrementsWithinBounds() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeIncr(1, "c");
        Op b = h.invokeIncr(2, "c");
        h.okIncr(b, 1).okIncr(a, 2);
        h.get(3, "c", "0");   // a stale local read: allowed
        h.info(h.invokeIncr(4, "c"));
        h.info(h.invokeIncr(5, "c"));
        h.incr(1, "c", 4);
        h.finalRead(1, "c", "4").finalRead(2, "c", "4");
        CheckResult result = check(h);
        assertTrue(result.valid(), result.toString());
        assertTrue(result.explanation().contains("c: 3 acknowledged <= 4 - 0 <= 3 acknowledged + 2 unknown"), result.explanation());
    }

    @Test
    void everyUnknownIncrementMayHaveCounted() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1);
        h.info(h.invokeIncr(2, "c"));
        h.invokeIncr(3, "c");   // never completed
        h.finalRead(1, "c", "3");
        assertTrue(check(h).valid());
    }

    @Test
    void finalValueBelowTheAcknowledgedIncrements() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1).incr(1, "c", 2);
        Op last = h.invokeIncr(2, "c");
        h.okIncr(last, 3);
        h.finalRead(1, "c", "2");
        assertViolation(check(h), "an acknowledged increment was lost", last);
    }

    @Test
    void finalValueAboveEveryIncrementAskedFor() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1);
        h.info(h.invokeIncr(2, "c"));
        h.finalRead(1, "c", "3");
        assertViolation(check(h), "an increment was applied twice");
    }

    @Test
    void twoIncrementsReturnedTheSameNumber() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeIncr(1, "c");
        Op b = h.invokeIncr(2, "c");
        Op aOk = a.completedAs(Op.Type.OK, "1", 1L, 0);
        h.okIncr(a, 1).okIncr(b, 1);
        h.finalRead(1, "c", "2");
        CheckResult result = check(h);
        assertViolation(result, "two acknowledged incrs returned 1", a, b);
        assertTrue(result.counterexample().size() == 4, result.toString());
        assertTrue(aOk.number() == 1L);
    }

    @Test
    void anIncrementThatSkippedANumber() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1);
        Op skip = h.invokeIncr(1, "c");
        h.okIncr(skip, 3);
        h.finalRead(1, "c", "3");
        assertViolation(check(h), "at most 2 increments", skip);
    }

    @Test
    void anIncrementThatMissedOnesAcknowledgedBeforeIt() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1);
        Op unknown = h.invokeIncr(2, "c");
        h.incr(1, "c", 3);
        h.info(unknown);
        Op low = h.invokeIncr(3, "c");
        h.okIncr(low, 2);   // 2 were acknowledged before it started: it must return at least 3
        h.finalRead(1, "c", "4");
        assertViolation(check(h), "at least 3 was due", low);
    }

    @Test
    void readsOutsideWhatTheCounterCanHold() {
        HistoryBuilder high = new HistoryBuilder();
        high.incr(1, "c", 1);
        Op r = high.invokeGet(2, "c");
        high.okRead(r, "7");
        high.finalRead(1, "c", "1");
        assertViolation(check(high), "read 7", r);

        HistoryBuilder junk = new HistoryBuilder();
        Op j = junk.invokeGet(2, "c");
        junk.okRead(j, "p1-1");
        junk.incr(1, "c", 1).finalRead(1, "c", "1");
        assertViolation(check(junk), "read p1-1", j);
    }

    @Test
    void aMissingOrVanishedFinalValue() {
        HistoryBuilder none = new HistoryBuilder();
        none.incr(1, "c", 1);
        CheckResult result = check(none);
        assertFalse(result.valid());
        assertTrue(result.explanation().contains("no final read"), result.explanation());

        HistoryBuilder vanished = new HistoryBuilder();
        vanished.incr(1, "c", 1).finalRead(2, "c", null);
        assertViolation(check(vanished), "is not a number");
    }

    @Test
    void listedCounterWithoutIncrementsStillNeedsItsFinalRead() {
        HistoryBuilder h = new HistoryBuilder();
        h.get(1, "c", "0");
        CheckSetup listed = CheckSetup.of(false, Set.of(), Set.of("c"), null);
        assertFalse(CounterChecker.check(h.history(), listed).valid());
        h.finalRead(1, "c", "0");
        assertTrue(CounterChecker.check(h.history(), listed).valid());
    }

    @Test
    void aCounterThatWasAlsoSetCannotBeJudged() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1).set(2, "c", "10").finalRead(1, "c", "10");
        CheckResult result = check(h);
        assertTrue(result.isGaveUp(), result.toString());
    }

    @Test
    void randomValidHistoriesPass() {
        for (long seed = 1; seed <= 10; seed++) {
            for (boolean local : new boolean[] {false, true}) {
                for (double pipelines : new double[] {0, 0.4}) {
                    History history = RandomHistories.generate(seed, new RandomHistories.Options(6, 1, 2, 1_500, 0.05, local, 3, pipelines));
                    CheckResult result = CounterChecker.check(history, CheckSetup.of(!local));
                    assertTrue(result.valid(), "seed " + seed + ", pipelines " + pipelines + ": " + result);
                }
            }
        }
    }
}
