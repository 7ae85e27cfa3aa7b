package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LocalReadsCheckerTest {
    private static final CheckSetup SETUP = CheckSetup.of(false);

    private static CheckResult check(HistoryBuilder h) {
        return LocalReadsChecker.check(h.history(), SETUP);
    }

    private static void assertValid(HistoryBuilder h) {
        CheckResult result = check(h);
        assertTrue(result.valid(), result.toString());
    }

    private static void assertViolation(CheckResult result, String says, Op... mustShow) {
        CheckAssertions.assertViolation(result, says, mustShow);
        long operations = CheckAssertions.operations(result);
        assertTrue(operations <= 5, CheckAssertions.text(result));
    }

    @Test
    void staleReadsOfAProcessThatSawNothingNewerAreFine() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").set(1, "x", "b");
        h.get(2, "x", null).get(2, "x", "a").get(2, "x", "b");   // a lagging replica catching up
        h.get(3, "x", "a");
        h.get(1, "x", "b");
        assertValid(h);
    }

    @Test
    void concurrentWritesAreNotOrdered() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(2, "x", "b");
        h.ok(a).ok(b);
        h.get(3, "x", "b").get(3, "x", "a");   // either order of a and b is possible
        h.get(1, "x", "b");                      // b may be newer than p1's own a
        assertValid(h);
    }

    @Test
    void unknownWritesMayLandLate() {
        HistoryBuilder h = new HistoryBuilder();
        h.info(h.invokeSet(1, "x", "late"));
        h.set(2, "x", "b").get(2, "x", "late");
        h.info(h.invoke(3, Op.Fn.DELETE, "x", null, null));
        h.set(2, "x", "c").get(2, "x", null);
        assertValid(h);
    }

    @Test
    void aValueNobodyWrote() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "ghost");
        assertViolation(check(h), "which no operation wrote", r);
    }

    @Test
    void aValueOnlyAFailedWriteWrote() {
        HistoryBuilder h = new HistoryBuilder();
        Op f = h.invoke(1, Op.Fn.ADD, "x", "a", null);
        h.fail(f);
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "a");
        assertViolation(check(h), "reported failed", f, r);
    }

    @Test
    void readYourWritesBrokenByAnOlderValue() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        h.ok(a);
        Op b = h.invokeSet(2, "x", "b");
        h.ok(b);
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "a");
        assertViolation(check(h), "read-your-writes broken for process 2", a, b, r);
    }

    @Test
    void readYourWritesBrokenByAMiss() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").delete(1, "x");
        Op b = h.invokeSet(2, "x", "b");
        h.ok(b);
        Op r = h.invokeGet(2, "x");
        h.okRead(r, null);
        assertViolation(check(h), "a miss", b, r);
    }

    @Test
    void readYourOwnDeleteAndCas() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").delete(1, "x").get(1, "x", null);
        h.set(2, "y", "a").cas(2, "y", "a", "b").get(2, "y", "b");
        assertValid(h);
        Op stale = h.invokeGet(2, "y");
        h.okRead(stale, "a");
        assertViolation(check(h), "read-your-writes", stale);
    }

    @Test
    void monotonicReadsBrokenByGoingBack() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        h.ok(a);
        Op b = h.invokeSet(1, "x", "b");
        h.ok(b);
        Op newer = h.invokeGet(2, "x");
        h.okRead(newer, "b");
        Op older = h.invokeGet(2, "x");
        h.okRead(older, "a");
        assertViolation(check(h), "monotonic reads broken for process 2", a, b, newer, older);
    }

    @Test
    void monotonicReadsUseReadsAsEvidenceOfOrder() {
        // a's write never completed, but a read saw it before b was written: a is older than b
        HistoryBuilder h = new HistoryBuilder();
        h.info(h.invokeSet(1, "x", "a"));
        h.get(3, "x", "a");
        h.set(4, "x", "b");
        h.get(2, "x", "b");
        Op back = h.invokeGet(2, "x");
        h.okRead(back, "a");
        assertViolation(check(h), "monotonic reads", back);
    }

    @Test
    void countersNeverGoBackwardsForAProcess() {
        HistoryBuilder h = new HistoryBuilder();
        h.incr(1, "c", 1).incr(2, "c", 2).get(1, "c", "2").get(3, "c", "0");
        assertValid(h);
        Op back = h.invokeGet(1, "c");
        h.okRead(back, "1");
        assertViolation(check(h), "the counter went backwards", back);

        HistoryBuilder incr = new HistoryBuilder();
        incr.incr(1, "c", 1).incr(2, "c", 2).incr(2, "c", 3).get(1, "c", "3");
        Op low = incr.invokeIncr(1, "c");
        incr.okIncr(low, 3);
        assertViolation(LocalReadsChecker.check(incr.history(), SETUP), "monotonic reads", low);
    }

    @Test
    void aPipelinedReadMustSeeItsConnectionsEarlierWrite() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(2, "x", "old");
        Op w = h.invokeSet(1, "x", "new");
        Op r = h.invokeGet(1, "x");
        h.ok(w).okRead(r, "old");   // "old" was in place before the pipeline was sent
        assertViolation(check(h), "read-your-writes broken for process 1", w, r);

        HistoryBuilder concurrent = new HistoryBuilder();
        Op other = concurrent.invokeSet(2, "x", "other");
        Op w2 = concurrent.invokeSet(1, "x", "new");
        Op r2 = concurrent.invokeGet(1, "x");
        concurrent.ok(other).ok(w2).okRead(r2, "other");   // "other" may have landed between the two
        assertValid(concurrent);
    }

    @Test
    void aPipelinedMissAfterItsOwnWriteThatNoEarlierDeleteExplains() {
        HistoryBuilder h = new HistoryBuilder();
        Op w = h.invokeSet(1, "x", "a");
        Op r = h.invokeGet(1, "x");
        h.ok(w).okRead(r, null);
        h.delete(2, "x");   // invoked after the read ended: cannot explain its miss
        assertViolation(check(h), "a miss", w, r);

        HistoryBuilder explained = new HistoryBuilder();
        Op d = explained.invoke(2, Op.Fn.DELETE, "x", null, null);
        Op w2 = explained.invokeSet(1, "x", "a");
        Op r2 = explained.invokeGet(1, "x");
        explained.ok(w2).okRead(r2, null).ok(d);
        assertValid(explained);
    }

    @Test
    void aReadNeverSeesALaterWriteOfItsOwnConnection() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(2, "x", "old");
        Op r = h.invokeGet(1, "x");
        Op w = h.invokeSet(1, "x", "new");
        h.okRead(r, "new").ok(w);
        assertViolation(check(h), "per-connection order broken for process 1", r, w);

        HistoryBuilder fine = new HistoryBuilder();
        fine.set(2, "x", "old");
        Op r2 = fine.invokeGet(1, "x");
        Op w2 = fine.invokeSet(1, "x", "new");
        fine.okRead(r2, "old").ok(w2).get(1, "x", "new");
        assertValid(fine);
    }

    @Test
    void aPipelinedCounterReadNeverSeesTheIncrSentBehindIt() {
        HistoryBuilder h = new HistoryBuilder();
        Op r = h.invokeGet(1, "c");
        Op i = h.invokeIncr(1, "c");
        h.okRead(r, "1").okIncr(i, 1);
        assertViolation(check(h), "per-connection order broken for process 1", r, i);
    }

    @Test
    void randomLocalReadHistoriesPass() {
        for (long seed = 1; seed <= 10; seed++) {
            for (double pipelines : new double[] {0, 0.4}) {
                History history = RandomHistories.generate(seed, new RandomHistories.Options(8, 3, 1, 2_000, 0.05, true, 3, pipelines));
                CheckResult result = LocalReadsChecker.check(history, SETUP);
                assertTrue(result.valid(), "seed " + seed + ", pipelines " + pipelines + ": " + result);
            }
        }
    }
}
