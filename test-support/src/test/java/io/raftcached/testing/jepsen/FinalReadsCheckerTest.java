package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import org.junit.jupiter.api.Test;

class FinalReadsCheckerTest {
    private static final CheckSetup SETUP = CheckSetup.of(false);

    private static CheckResult check(HistoryBuilder h) {
        return FinalReadsChecker.check(h.history(), SETUP);
    }

    private static void assertValid(HistoryBuilder h) {
        CheckResult result = check(h);
        assertTrue(result.valid(), result.toString());
    }

    private static void assertViolation(CheckResult result, String says, Op... mustShow) {
        CheckAssertions.assertViolation(result, says, mustShow);
        assertTrue(result.counterexample().size() <= 10, CheckAssertions.text(result));
    }

    @Test
    void theLastAcknowledgedWriteSurvives() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").set(2, "x", "b").cas(1, "x", "b", "c").casFail(2, "x", "b", "d");
        h.finalRead(1, "x", "c").finalRead(2, "x", "c").finalRead(3, "x", "c");
        assertValid(h);
    }

    @Test
    void eitherOfTwoConcurrentAcknowledgedWrites() {
        for (String last : new String[] {"a", "b"}) {
            HistoryBuilder h = new HistoryBuilder();
            Op a = h.invokeSet(1, "x", "a");
            Op b = h.invokeSet(2, "x", "b");
            h.ok(b).ok(a);
            h.finalRead(1, "x", last);
            assertValid(h);
        }
    }

    @Test
    void anUnknownWriteMayComeLast() {
        HistoryBuilder h = new HistoryBuilder();
        h.info(h.invokeSet(1, "x", "early"));
        h.set(2, "x", "b").set(2, "x", "c");
        h.finalRead(1, "x", "early");
        assertValid(h);
    }

    @Test
    void aMissAfterADeleteOrWhenNothingWasAcknowledged() {
        HistoryBuilder deleted = new HistoryBuilder();
        deleted.set(1, "x", "a").delete(2, "x").finalRead(1, "x", null);
        assertValid(deleted);

        HistoryBuilder neverAcked = new HistoryBuilder();
        neverAcked.info(neverAcked.invokeSet(1, "x", "a"));
        neverAcked.fail(neverAcked.invokeSet(2, "x", "b"));
        neverAcked.finalRead(1, "x", null);
        assertValid(neverAcked);

        HistoryBuilder unknownDelete = new HistoryBuilder();
        unknownDelete.set(1, "x", "a");
        unknownDelete.info(unknownDelete.invoke(2, Op.Fn.DELETE, "x", null, null));
        unknownDelete.set(1, "x", "b");
        unknownDelete.finalRead(1, "x", null);
        assertValid(unknownDelete);
    }

    @Test
    void aFinalReadThatLostAnAcknowledgedWrite() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        h.ok(a);
        Op b = h.invokeSet(2, "x", "b");
        h.ok(b);
        h.get(3, "x", "b");
        h.finalRead(1, "x", "a").finalRead(2, "x", "a");
        assertViolation(check(h), "which a later acknowledged write superseded", a, b);
    }

    @Test
    void aMissThatLostAnAcknowledgedWrite() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").delete(1, "x");
        Op b = h.invokeSet(2, "x", "b");
        h.ok(b);
        h.finalRead(1, "x", null);
        assertViolation(check(h), "a miss, but no delete can have come last", b);
    }

    @Test
    void aFinalValueNeverWrittenOrWrittenByAFailedWrite() {
        HistoryBuilder ghost = new HistoryBuilder();
        ghost.set(1, "x", "a").finalRead(1, "x", "ghost");
        assertViolation(check(ghost), "which no operation wrote");

        HistoryBuilder failed = new HistoryBuilder();
        failed.set(1, "x", "a");
        Op f = failed.invokeSet(2, "x", "f");
        failed.fail(f);
        failed.finalRead(1, "x", "f");
        assertViolation(check(failed), "reported failed", f);
    }

    @Test
    void nodesThatDisagree() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(2, "x", "b");
        h.ok(a).ok(b);
        h.finalRead(1, "x", "a").finalRead(2, "x", "b");
        assertViolation(check(h), "the final reads disagree: n1=a, n2=b");
    }

    @Test
    void everyKeyNeedsAFinalRead() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").set(1, "y", "b").finalRead(1, "x", "a");
        CheckResult result = check(h);
        assertFalse(result.valid());
        assertTrue(result.explanation().contains("y: no ok final read"), result.explanation());

        HistoryBuilder listed = new HistoryBuilder();
        listed.set(1, "x", "a").finalRead(1, "x", "a");
        assertFalse(FinalReadsChecker.check(listed.history(), CheckSetup.of(false, Set.of("x", "unused"), Set.of(), null)).valid());
    }

    @Test
    void countersAreOnlyCheckedForAgreement() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1).finalRead(1, "c", "1").finalRead(2, "c", "1");
        assertValid(h);
        HistoryBuilder split = new HistoryBuilder();
        split.incr(1, "c", 1).finalRead(1, "c", "1").finalRead(2, "c", "0");
        assertFalse(check(split).valid());
    }

    @Test
    void aPipelinesWritesEndInTheOrderSent() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        h.ok(a).ok(b);
        h.finalRead(1, "x", "b");
        assertValid(h);
        HistoryBuilder lost = new HistoryBuilder();
        Op a2 = lost.invokeSet(1, "x", "a");
        Op b2 = lost.invokeSet(1, "x", "b");
        lost.ok(a2).ok(b2);
        lost.finalRead(1, "x", "a");   // by real time a may be last; the connection sent b after it
        assertViolation(check(lost), "superseded", a2, b2);
    }

    @Test
    void anUnknownWriteFollowedOnItsConnectionCannotComeLast() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        h.info(a).ok(b);
        h.finalRead(1, "x", "a");
        assertViolation(check(h), "allowed: [\"b\"]", b);
        HistoryBuilder alone = new HistoryBuilder();
        alone.info(alone.invokeSet(1, "x", "a"));
        alone.set(2, "x", "b").finalRead(1, "x", "a");   // another connection's write: the unknown one may land after it
        assertValid(alone);
    }

    @Test
    void randomValidHistoriesPass() {
        for (long seed = 1; seed <= 10; seed++) {
            for (boolean local : new boolean[] {false, true}) {
                for (double pipelines : new double[] {0, 0.4}) {
                    History history = RandomHistories.generate(seed, new RandomHistories.Options(6, 3, 1, 1_500, 0.05, local, 3, pipelines));
                    CheckResult result = FinalReadsChecker.check(history, CheckSetup.of(!local));
                    assertTrue(result.valid(), "seed " + seed + ", pipelines " + pipelines + ": " + result);
                }
            }
        }
    }
}
