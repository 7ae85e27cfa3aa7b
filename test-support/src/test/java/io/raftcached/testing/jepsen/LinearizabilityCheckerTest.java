package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class LinearizabilityCheckerTest {
    private static final CheckSetup LINEARIZABLE = CheckSetup.of(true);
    private static final CheckSetup LOCAL = CheckSetup.of(false);

    private static CheckResult check(HistoryBuilder h) {
        return LinearizabilityChecker.check(h.history(), LINEARIZABLE);
    }

    private static void assertValid(CheckResult result) {
        assertTrue(result.valid(), result.toString());
        assertTrue(result.counterexample().isEmpty());
    }

    /** Invalid (not a give-up), with a counterexample of at most {@code maxOps} operations that includes {@code mustShow}. */
    private static void assertViolation(CheckResult result, int maxOps, Op... mustShow) {
        CheckAssertions.assertViolation(result, null, mustShow);
        long invocations = CheckAssertions.operations(result);
        assertTrue(invocations <= maxOps, invocations + " operations in " + CheckAssertions.text(result));
    }

    // --- valid ----------------------------------------------------------------------------------

    @Test
    void sequentialOperationsOfEveryKind() {
        HistoryBuilder h = new HistoryBuilder();
        h.get(1, "x", null).set(1, "x", "a").get(2, "x", "a").addFail(2, "x", "b").cas(1, "x", "a", "c").casFail(2, "x", "a", "d")
                .get(2, "x", "c").delete(1, "x").deleteFail(2, "x").get(1, "x", null).add(2, "x", "e").get(1, "x", "e");
        assertValid(check(h));
    }

    @Test
    void overlappingWritesMayTakeEffectInEitherOrder() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(2, "x", "b");
        Op r1 = h.invokeGet(3, "x");
        h.okRead(r1, "b");
        Op r2 = h.invokeGet(4, "x");
        h.okRead(r2, "a");   // b then a: both writes still running, so a may come after b
        h.ok(a).ok(b);
        h.get(3, "x", "a");
        assertValid(check(h));
    }

    @Test
    void aReadOverlappingAWriteMaySeeEitherValue() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op w = h.invokeSet(1, "x", "b");
        h.get(2, "x", "b").get(3, "x", "b");
        h.ok(w);
        Op r = h.invokeGet(2, "x");
        Op w2 = h.invokeSet(1, "x", "c");
        h.okRead(r, "b").ok(w2).get(2, "x", "c");
        assertValid(check(h));
    }

    @Test
    void unknownWriteThatTookEffectLate() {
        HistoryBuilder h = new HistoryBuilder();
        Op lost = h.invokeSet(1, "x", "a");
        h.info(lost);
        h.get(2, "x", null).set(2, "x", "b").get(2, "x", "b");
        h.get(3, "x", "a");   // the unknown write landed after b: allowed, it may take effect any time
        h.get(2, "x", "a");
        assertValid(check(h));
    }

    @Test
    void unknownWritesThatNeverTookEffect() {
        HistoryBuilder h = new HistoryBuilder();
        h.info(h.invokeSet(1, "x", "a"));
        h.info(h.invoke(2, Op.Fn.DELETE, "x", null, null));
        h.info(h.invokeCas(3, "x", "zz", "c"));
        h.get(4, "x", null).set(4, "x", "b").get(5, "x", "b");
        h.invokeSet(6, "x", "never-completed");   // still open when the history ends
        assertValid(check(h));
    }

    @Test
    void casChainThroughAnUnknownCas() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op ab = h.invokeCas(1, "x", "a", "b");
        h.info(ab);
        h.casFail(2, "x", "zz", "q");   // failed: never happened
        h.cas(3, "x", "b", "c").cas(2, "x", "c", "d").get(3, "x", "d");
        assertValid(check(h));
    }

    @Test
    void counterIncrementsInEitherOrderAndAnUnknownOneThatCounted() {
        HistoryBuilder h = new HistoryBuilder();
        Op i1 = h.invokeIncr(1, "c");
        Op i2 = h.invokeIncr(2, "c");
        h.okIncr(i2, 1).okIncr(i1, 2);
        h.info(h.invokeIncr(3, "c"));
        h.info(h.invokeIncr(4, "c"));   // one of the two counted
        h.incr(1, "c", 4).get(2, "c", "4");
        assertValid(check(h));
    }

    @Test
    void localReadsAreNotJudgedButFinalReadsAre() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").set(1, "x", "b").get(2, "x", "a");   // stale, allowed with local reads
        h.finalRead(1, "x", "b");
        assertValid(LinearizabilityChecker.check(h.history(), LOCAL));
        assertFalse(LinearizabilityChecker.check(h.history(), LINEARIZABLE).valid());
    }

    @Test
    void aPipelineTakingEffectInOrderInterleavedWithOtherClients() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");   // one pipeline: set a, get, set b, get
        Op r1 = h.invokeGet(1, "x");
        Op b = h.invokeSet(1, "x", "b");
        Op r2 = h.invokeGet(1, "x");
        Op c = h.invokeSet(2, "x", "c");   // another client, in between
        h.ok(a).okRead(r1, "c").ok(b).okRead(r2, "b").ok(c);
        h.get(3, "x", "b");
        assertValid(check(h));
    }

    @Test
    void theUnknownTailOfAPipelineMayHaveTakenEffectInOrderOrNotAtAll() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        Op c = h.invokeSet(1, "x", "c");
        h.ok(a).info(b).info(c);   // a timeout after the first reply
        h.get(2, "x", "c").get(2, "x", "c");
        assertValid(check(h));

        HistoryBuilder skipped = new HistoryBuilder();
        Op a2 = skipped.invokeSet(1, "x", "a");
        Op b2 = skipped.invokeSet(1, "x", "b");
        Op c2 = skipped.invokeSet(1, "x", "c");
        skipped.ok(a2).info(b2).ok(c2);   // b answered "outcome unknown", c went on
        skipped.get(2, "x", "c");
        assertValid(check(skipped));
    }

    @Test
    void anUnknownOperationTiedToItsPipelineIsNotSwappedForALikeOne() {
        // the pipeline's unknown delete cannot have happened (x was absent, and after the set is too late);
        // the other client's unknown delete, same effect, explains the miss on its own
        HistoryBuilder h = new HistoryBuilder();
        Op tied = h.invoke(1, Op.Fn.DELETE, "x", null, null);
        Op set = h.invokeSet(1, "x", "a");
        h.info(tied).ok(set);
        h.info(h.invoke(3, Op.Fn.DELETE, "x", null, null));
        h.get(2, "x", null);
        assertValid(check(h));
    }

    @Test
    void anUnknownOperationBehindAnotherUnknownOneOfItsPipelineIsNotSwappedForALikeOne() {
        // b, then the other client's delete, then p1's add of a landing late: the read of a. p1's own
        // unknown delete cannot stand in for the other one: it would have to follow p1's add.
        HistoryBuilder h = new HistoryBuilder();
        Op addA = h.invoke(1, Op.Fn.ADD, "x", "a", null);
        Op tied = h.invoke(1, Op.Fn.DELETE, "x", null, null);
        h.info(addA).info(tied);
        h.set(2, "x", "b");
        h.info(h.invoke(3, Op.Fn.DELETE, "x", null, null));
        h.get(2, "x", "a");
        assertValid(check(h));
    }

    @Test
    void anUnknownOperationBehindASlowWriteOfItsPipelineIsNotSwappedForALikeOne() {
        // the other client's delete, the miss, then p1's set of a, and its read. p1's unknown delete
        // cannot stand in for the other one: it must follow p1's set, answered only after the miss.
        HistoryBuilder h = new HistoryBuilder();
        h.set(0, "x", "z");
        Op setA = h.invokeSet(1, "x", "a");
        Op tied = h.invoke(1, Op.Fn.DELETE, "x", null, null);
        Op other = h.invoke(3, Op.Fn.DELETE, "x", null, null);
        h.get(2, "x", null);
        h.ok(setA).info(tied).info(other);
        h.get(2, "x", "a");
        assertValid(check(h));
    }

    // --- invalid --------------------------------------------------------------------------------

    @Test
    void writesOfAPipelineTakingEffectOutOfOrder() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        h.ok(a).ok(b);
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "a");   // b then a would explain it, but the connection sent a first
        assertViolation(check(h), 3, a, b, r);
        h.finalRead(1, "x", "a");   // with local reads the writes and final reads are judged: same verdict
        assertViolation(LinearizabilityChecker.check(h.history(), LOCAL), 3, a, b);
    }

    @Test
    void aReadSeeingTheLaterWriteOfItsOwnPipeline() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(2, "x", "old");
        Op r = h.invokeGet(1, "x");
        Op w = h.invokeSet(1, "x", "new");
        h.okRead(r, "new").ok(w);
        assertViolation(check(h), 3, r, w);
    }

    @Test
    void aReadMissingTheEarlierWriteOfItsOwnPipeline() {
        HistoryBuilder h = new HistoryBuilder();
        Op w = h.invokeSet(1, "x", "a");
        Op r = h.invokeGet(1, "x");
        h.ok(w).okRead(r, null);   // the miss of before the set: fine by real time, not in per-connection order
        assertViolation(check(h), 2, w, r);
    }

    @Test
    void anUnknownWriteLandingAfterALaterWriteOfItsPipeline() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        h.info(a).ok(b);
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "a");   // a took effect, so before b: b must show
        assertViolation(check(h), 3, a, b, r);
    }

    @Test
    void aCounterReadSeeingTheIncrSentBehindIt() {
        HistoryBuilder h = new HistoryBuilder();
        Op r = h.invokeGet(1, "c");
        Op i = h.invokeIncr(1, "c");
        h.okRead(r, "1").okIncr(i, 1);
        assertViolation(check(h), 2, r, i);
    }


    @Test
    void staleReadAfterACompletedWrite() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        h.ok(b);
        Op stale = h.invokeGet(2, "x");
        h.okRead(stale, "a");
        h.set(1, "x", "c").get(2, "x", "c");
        CheckResult result = check(h);
        assertViolation(result, 2, b, stale);
        assertTrue(result.explanation().contains("\"b\""), result.explanation());
    }

    @Test
    void lostUpdateTwoCasFromTheSameValue() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op c1 = h.invokeCas(1, "x", "a", "b");
        Op c2 = h.invokeCas(2, "x", "a", "c");
        h.ok(c1).ok(c2);
        h.get(3, "x", "c");
        assertViolation(check(h), 3, c1, c2);
    }

    @Test
    void lostUpdateConcurrentWritesThenAnOldValue() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        Op c = h.invokeSet(2, "x", "c");
        h.ok(b).ok(c);
        Op r = h.invokeGet(3, "x");
        h.okRead(r, "a");
        assertViolation(check(h), 3, r);
    }

    @Test
    void readOfAValueNeverWritten() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a").get(2, "x", "a");
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "ghost");
        h.set(1, "x", "b");
        CheckResult result = check(h);
        assertViolation(result, 2, r);
        assertTrue(result.explanation().contains("no operation wrote"), result.explanation());
    }

    @Test
    void readOfAFailedWrite() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        h.fail(h.invokeSet(1, "x", "b"));
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "b");
        assertViolation(check(h), 2, r);
    }

    @Test
    void readAfterADeleteStillSeesTheValue() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op d = h.invoke(1, Op.Fn.DELETE, "x", null, null);
        h.ok(d);
        Op r = h.invokeGet(2, "x");
        h.okRead(r, "a");
        assertViolation(check(h), 2, d, r);
    }

    @Test
    void addThatSucceededOverAPresentValue() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op add = h.invoke(2, Op.Fn.ADD, "x", "b", null);
        h.ok(add);
        assertViolation(check(h), 2, add);
    }

    @Test
    void counterDoubleCountAndSkip() {
        HistoryBuilder twice = new HistoryBuilder();
        twice.incr(1, "c", 1);
        Op again = twice.invokeIncr(2, "c");
        twice.okIncr(again, 1);
        assertViolation(check(twice), 2, again);

        HistoryBuilder skip = new HistoryBuilder();
        skip.incr(1, "c", 1).incr(1, "c", 2);
        Op jump = skip.invokeIncr(2, "c");
        skip.okIncr(jump, 4);
        assertViolation(check(skip), 2, jump);
    }

    @Test
    void writesAreJudgedWithLocalReadsToo() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op c1 = h.invokeCas(1, "x", "a", "b");
        Op c2 = h.invokeCas(2, "x", "a", "c");
        h.ok(c1).ok(c2);
        assertViolation(LinearizabilityChecker.check(h.history(), LOCAL), 3, c1, c2);
    }

    @Test
    void finalReadThatLostAnAcknowledgedWriteWithLocalReads() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "a");
        Op b = h.invokeSet(1, "x", "b");
        h.ok(b);
        h.finalRead(1, "x", "a");
        assertViolation(LinearizabilityChecker.check(h.history(), LOCAL), 2, b);
    }

    @Test
    void onlyTheOffendingKeyIsReported() {
        HistoryBuilder h = new HistoryBuilder();
        for (int i = 0; i < 50; i++) {
            h.set(1, "good", "g" + i).get(2, "good", "g" + i);
        }
        h.set(1, "bad", "a").set(1, "bad", "b");
        Op r = h.invokeGet(2, "bad");
        h.okRead(r, "a");
        CheckResult result = check(h);
        assertViolation(result, 2, r);
        assertTrue(result.explanation().startsWith("key bad "), result.explanation());
        assertTrue(result.counterexample().stream().allMatch(op -> op.key().equals("bad")));
    }

    // --- at scale -------------------------------------------------------------------------------

    @Test
    void bigRandomLinearizableHistoryChecksFast() {
        History history = RandomHistories.generate(42, new RandomHistories.Options(10, 3, 1, 6_000, 0.03, false, 3));
        assertTrue(history.events().size() > 12_000);
        long cpu = cpuNanos();
        CheckResult result = LinearizabilityChecker.check(history, LINEARIZABLE);
        long millis = TimeUnit.NANOSECONDS.toMillis(cpuNanos() - cpu);
        assertValid(result);
        assertTrue(millis < 2_000, "took " + millis + " ms of CPU: " + result.explanation());
    }

    @Test
    void manyRandomLinearizableHistoriesAreValid() {
        for (long seed = 1; seed <= 40; seed++) {
            History history = RandomHistories.generate(seed, new RandomHistories.Options(6, 2, 1, 400, 0.1, false, 3));
            CheckResult result = LinearizabilityChecker.check(history, LINEARIZABLE);
            assertTrue(result.valid(), "seed " + seed + ": " + result);
        }
    }

    @Test
    void manyRandomPipelinedHistoriesAreValidInBothModes() {
        for (long seed = 1; seed <= 30; seed++) {
            for (boolean local : new boolean[] {false, true}) {
                History history = RandomHistories.generate(seed, new RandomHistories.Options(6, 2, 1, 600, 0.08, local, 3, 0.4));
                CheckResult result = LinearizabilityChecker.check(history, local ? LOCAL : LINEARIZABLE);
                assertTrue(result.valid(), "seed " + seed + (local ? " local" : "") + ": " + result);
                assertTrue(result.explanation().contains("linearized in the order sent"), result.explanation());
            }
        }
    }

    @Test
    void bigRandomPipelinedHistoryChecksFast() {
        History history = RandomHistories.generate(43, new RandomHistories.Options(10, 3, 1, 6_000, 0.03, false, 3, 0.33));
        long cpu = cpuNanos();
        CheckResult result = LinearizabilityChecker.check(history, LINEARIZABLE);
        long millis = TimeUnit.NANOSECONDS.toMillis(cpuNanos() - cpu);
        assertValid(result);
        assertTrue(millis < 2_000, "took " + millis + " ms of CPU: " + result.explanation());
    }

    @Test
    void localReadHistoriesAreValidForWritesButNotForReads() {
        History history = RandomHistories.generate(7, new RandomHistories.Options(8, 3, 1, 3_000, 0.03, true, 3));
        assertValid(LinearizabilityChecker.check(history, LOCAL));
        CheckResult strict = LinearizabilityChecker.check(history, LINEARIZABLE);
        assertFalse(strict.valid(), "stale local reads should not pass as linearizable: " + strict);
        assertFalse(strict.isGaveUp(), strict.toString());
    }

    @Test
    void aStaleReadInjectedLateInABigHistoryShrinksToAFewOperations() {
        History valid = RandomHistories.generate(11, new RandomHistories.Options(8, 2, 0, 4_000, 0.02, false, 3));
        List<Op> events = new ArrayList<>(valid.events());
        // find the last ok set of r0 that was followed by another completed ok set of r0; read the older value afterwards
        String older = null;
        for (Op op : events) {
            if (op.type() == Op.Type.OK && op.fn() == Op.Fn.SET && op.key().equals("r0") && op.process() < 1_000_000) {
                older = op.value();
            }
        }
        History bad = new History();
        events.stream().filter(op -> op.process() < 1_000_000).forEach(bad::add);
        long nanos = events.get(events.size() - 1).nanos();
        bad.add(new Op(900_001, Op.Type.INVOKE, Op.Fn.SET, "r0", "newest", null, null, nanos + 1, "n1"));
        bad.add(new Op(900_001, Op.Type.OK, Op.Fn.SET, "r0", "newest", null, null, nanos + 2, "n1"));
        Op staleInvoke = new Op(900_002, Op.Type.INVOKE, Op.Fn.GET, "r0", null, null, null, nanos + 3, "n2");
        Op stale = new Op(900_002, Op.Type.OK, Op.Fn.GET, "r0", older, null, null, nanos + 4, "n2");
        bad.add(staleInvoke);
        bad.add(stale);
        long cpu = cpuNanos();
        CheckResult result = LinearizabilityChecker.check(bad, LINEARIZABLE);
        long millis = TimeUnit.NANOSECONDS.toMillis(cpuNanos() - cpu);
        assertViolation(result, 3, stale);
        assertTrue(millis < 5_000, "took " + millis + " ms of CPU");
    }

    @Test
    void aPipelineReorderedLateInABigPipelinedHistoryShrinksToItself() {
        // unknown outcomes at about the rate of a fault run: proving a violation explores every
        // configuration before it, and pipelines with unknown tails multiply those (at 2% this
        // history runs out of search steps: a give-up, not a verdict)
        History valid = RandomHistories.generate(12, new RandomHistories.Options(8, 2, 0, 4_000, 0.005, false, 3, 0.33));
        History bad = new History();
        valid.events().stream().filter(op -> op.process() < 1_000_000).forEach(bad::add);
        long nanos = valid.events().get(valid.events().size() - 1).nanos();
        Op first = new Op(900_001, Op.Type.INVOKE, Op.Fn.SET, "r0", "first", null, null, nanos + 1, "n1");
        Op second = new Op(900_001, Op.Type.INVOKE, Op.Fn.SET, "r0", "second", null, null, nanos + 2, "n1");
        bad.add(first);
        bad.add(second);
        bad.add(first.completedAs(Op.Type.OK, "first", null, nanos + 3));
        bad.add(second.completedAs(Op.Type.OK, "second", null, nanos + 4));
        Op readInvoke = new Op(900_002, Op.Type.INVOKE, Op.Fn.GET, "r0", null, null, null, nanos + 5, "n2");
        Op read = readInvoke.completedAs(Op.Type.OK, "first", null, nanos + 6);   // second came first: not in the order sent
        bad.add(readInvoke);
        bad.add(read);
        long cpu = cpuNanos();
        CheckResult result = LinearizabilityChecker.check(bad, LINEARIZABLE);
        long millis = TimeUnit.NANOSECONDS.toMillis(cpuNanos() - cpu);
        assertViolation(result, 6, first, second, read);   // the three, and the writes before them as context
        assertTrue(result.explanation().contains("no linearization of these 3 operations"), result.explanation());
        assertTrue(millis < 5_000, "took " + millis + " ms of CPU");
    }

    @Test
    void pathologicalHistoryHitsTheBoundAndGivesUp() {
        // 22 overlapping writes, then a read nothing explains: every order of every subset is a configuration
        HistoryBuilder h = new HistoryBuilder();
        List<Op> writes = new ArrayList<>();
        for (int p = 0; p < 22; p++) {
            writes.add(h.invokeSet(p, "x", "v" + p));
        }
        writes.forEach(h::ok);
        h.get(100, "x", "nobody-wrote-this");
        CheckSetup tight = LINEARIZABLE.withBounds(SearchBounds.defaults().withStates(50_000_000, 100_000).withTimeLimit(Duration.ofSeconds(30)));
        long cpu = cpuNanos();
        CheckResult result = LinearizabilityChecker.check(h.history(), tight);
        long millis = TimeUnit.NANOSECONDS.toMillis(cpuNanos() - cpu);
        assertFalse(result.valid());
        assertTrue(result.isGaveUp(), result.toString());
        assertTrue(result.explanation().contains("more than 100000 configurations"), result.explanation());
        assertTrue(millis < 5_000, "took " + millis + " ms of CPU");
    }

    @Test
    void theTimeLimitEndsASearchToo() {
        HistoryBuilder h = new HistoryBuilder();
        List<Op> writes = new ArrayList<>();
        for (int p = 0; p < 24; p++) {
            writes.add(h.invokeSet(p, "x", "v" + p));
        }
        writes.forEach(h::ok);
        h.get(100, "x", "nobody-wrote-this");
        CheckSetup timed = LINEARIZABLE.withBounds(SearchBounds.defaults().withTimeLimit(Duration.ofMillis(300)));
        long started = System.nanoTime();
        CheckResult result = LinearizabilityChecker.check(h.history(), timed);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(result.isGaveUp(), result.toString());
        assertTrue(millis < 10_000, "took " + millis + " ms");
    }

    /** CPU time of this thread: timings must not depend on what else the machine runs. */
    private static long cpuNanos() {
        return java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
    }

    // --- the search against brute force -----------------------------------------------------------

    @Test
    void agreesWithBruteForceOnSmallRandomHistories() {
        agreesWithBruteForce(new Random(5), 1);
    }

    @Test
    void agreesWithBruteForceOnSmallRandomPipelinedHistories() {
        agreesWithBruteForce(new Random(6), 3);
    }

    /** Up to {@code depth} operations in flight per process: 1 is the history model before pipelines. */
    private static void agreesWithBruteForce(Random random, int depth) {
        int invalid = 0;
        int tied = 0;
        for (int round = 0; round < 3_000; round++) {
            History history = smallRandomHistory(random, depth);
            List<Operation> ops = Operation.pair(history.events()).operations();
            List<Operation> judged = LinearizabilityChecker.judgedByKey(ops, LINEARIZABLE).getOrDefault("x", List.of());
            boolean expected = BruteForce.linearizable(judged, null);
            CheckResult result = LinearizabilityChecker.check(history, LINEARIZABLE);
            assertEquals(expected, result.valid(), "round " + round + ": " + judged + " -> " + result);
            invalid += expected ? 0 : 1;
            tied += SessionOrder.pipelined(judged) > 0 ? 1 : 0;
        }
        assertTrue(invalid > 300 && invalid < 2_700, invalid + " of 3000 invalid: the generator should make both kinds");
        assertTrue(depth == 1 ? tied == 0 : tied > 1_000, tied + " of 3000 with operations tied by their connection's order");
    }

    /** Up to 6 operations by 3 processes on one key, at most {@code depth} in flight per process, with random (often wrong) results. */
    private static History smallRandomHistory(Random random, int depth) {
        HistoryBuilder h = new HistoryBuilder();
        String[] values = {"a", "b", "c"};
        List<Op> open = new ArrayList<>();
        int started = 0;
        int n = 2 + random.nextInt(5);
        int[] inFlight = new int[3];   // per process
        while (started < n || !open.isEmpty()) {
            List<Integer> room = new ArrayList<>();
            for (int p = 0; p < inFlight.length; p++) {
                if (inFlight[p] < depth) {
                    room.add(p);
                }
            }
            boolean start = started < n && (open.isEmpty() || random.nextBoolean()) && !room.isEmpty();
            if (start) {
                int p = depth == 1 ? room.get(0) : room.get(random.nextInt(room.size()));
                inFlight[p]++;
                String v = values[started % 3] + started;
                Op op = switch (random.nextInt(6)) {
                    case 0 -> h.invokeSet(p, "x", v);
                    case 1 -> h.invoke(p, Op.Fn.ADD, "x", v, null);
                    case 2 -> h.invokeCas(p, "x", random.nextBoolean() ? null : values[random.nextInt(3)] + random.nextInt(n), v);
                    case 3 -> h.invoke(p, Op.Fn.DELETE, "x", null, null);
                    default -> h.invokeGet(p, "x");
                };
                open.add(op);
                started++;
            } else {
                int process = open.get(random.nextInt(open.size())).process();
                Op op = open.stream().filter(o -> o.process() == process).findFirst().orElseThrow();   // replies in request order
                open.remove(op);
                inFlight[process]--;
                int outcome = random.nextInt(10);
                if (outcome == 0) {
                    h.info(op);
                } else if (outcome == 1) {
                    h.fail(op);
                } else if (op.fn() == Op.Fn.GET) {
                    int r = random.nextInt(started + 1);
                    h.okRead(op, r == started ? null : values[r % 3] + r);
                } else {
                    h.ok(op);
                }
            }
        }
        return h.history();
    }
}
