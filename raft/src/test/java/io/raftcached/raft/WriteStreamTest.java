package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.store.StoreResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The write stream against a scripted leader and the real replica core, on a test clock: batches
 * may be lost, resent or arrive ahead of a gap, and every write must still apply exactly once and
 * in order (each write increments one counter, so its result is its place in the log).
 */
class WriteStreamTest {
    private final WriteStreamHarness harness = new WriteStreamHarness();

    @AfterEach
    void close() {
        harness.close();
    }

    @Test
    void appliesEachWriteOnceInSubmissionOrderDespiteLossAndResends() throws Exception {
        List<CompletableFuture<StoreResult>> results = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            results.add(harness.stream().submit(WriteStreamHarness.incr()));
        }
        harness.stream().pump();
        harness.leader().dropNext = 1;   // the next send is lost on the way
        for (int i = 0; i < 10; i++) {
            results.add(harness.stream().submit(WriteStreamHarness.incr()));
        }
        harness.stream().pump();
        harness.commitAll();   // the first batch applies; none of the rest arrived
        harness.advanceMillis(1_000);   // past the resend backoff
        harness.stream().pump();
        harness.commitAll();
        for (int i = 0; i < results.size(); i++) {
            assertEquals(i + 1, results.get(i).get(1, TimeUnit.SECONDS).number, "write " + i);
        }
        assertEquals("20", harness.counter(), "every write applied exactly once");
    }

    @Test
    void aBatchAheadOfALostOneIsRefusedAndBothAreResentInOrder() throws Exception {
        CompletableFuture<StoreResult> first = harness.stream().submit(WriteStreamHarness.incr());
        harness.leader().dropNext = 1;
        harness.stream().pump();   // lost
        CompletableFuture<StoreResult> second = harness.stream().submit(WriteStreamHarness.incr());
        harness.stream().pump();   // a resend is pending: nothing new leaves before it
        harness.advanceMillis(1_000);
        harness.stream().pump();
        harness.commitAll();
        assertEquals(1, first.get(1, TimeUnit.SECONDS).number);
        assertEquals(2, second.get(1, TimeUnit.SECONDS).number);
        // A duplicate of an applied batch answers from the dedupe table and changes nothing.
        harness.leader().resendLast();
        harness.commitAll();
        assertEquals("2", harness.counter());
    }

    @Test
    void abandonsAStreamThatCannotBeCommittedInTime() throws Exception {
        harness.leader().leaderKnown = false;
        CompletableFuture<StoreResult> lost = harness.stream().submit(WriteStreamHarness.incr());
        harness.stream().pump();
        harness.advanceMillis(WriteStreamHarness.WRITE_TIMEOUT_MILLIS + 1);
        harness.stream().pump();
        ExecutionException failure = assertThrows(ExecutionException.class, () -> lost.get(1, TimeUnit.SECONDS));
        assertTrue(failure.getCause().getMessage().startsWith("not written"), failure.getCause().getMessage());
        assertEquals(1, harness.stream().abandonedStreams());
        harness.leader().leaderKnown = true;
        CompletableFuture<StoreResult> next = harness.stream().submit(WriteStreamHarness.incr());
        harness.stream().pump();
        harness.commitAll();
        assertEquals(1, next.get(1, TimeUnit.SECONDS).number, "the new stream starts afresh");
    }

    @Test
    void completesWritesASnapshotCoveredFromTheirFirstResults() throws Exception {
        CompletableFuture<StoreResult> first = harness.stream().submit(WriteStreamHarness.incr());
        harness.stream().pump();
        // The leader applies it, but this node learns of it only through a snapshot of the leader.
        harness.commitOnLeaderOnlyThenInstallSnapshot();
        assertEquals(1, first.get(1, TimeUnit.SECONDS).number);
    }
}
