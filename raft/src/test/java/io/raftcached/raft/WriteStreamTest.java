package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Batch;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.store.StoreResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The write stream against a scripted leader (no Raft): batches may be lost, duplicated or
 * arrive ahead of a gap, and every write must still apply exactly once and in order.
 */
class WriteStreamTest {
    /** A leader that appends what it is sent to a log, unless told to drop it. */
    private final class ScriptedLeader implements WriteStream.Transport {
        final List<byte[]> log = new ArrayList<>();
        int dropNext;
        volatile boolean leaderKnown = true;

        @Override
        public boolean leaderKnown() {
            return leaderKnown;
        }

        @Override
        public synchronized void send(byte[] batch, Runnable onFailure) {
            if (dropNext > 0) {
                dropNext--;
                onFailure.run();
                return;
            }
            log.add(batch);
        }

        /** Applies the log in order like a state machine: dedupe, then an incrementing counter. */
        synchronized void applyAll() throws Exception {
            for (byte[] bytes : log) {
                Batch batch = Batch.parseFrom(bytes);
                DedupeTable.Key writer = DedupeTable.Key.of(batch.getWriter());
                StoreResult[] results = new StoreResult[batch.getCommandsCount()];
                if (dedupe.check(writer, batch.getFirstSeq()) != DedupeTable.Verdict.GAP) {
                    for (int i = 0; i < results.length; i++) {
                        long seq = batch.getFirstSeq() + i;
                        if (dedupe.check(writer, seq) == DedupeTable.Verdict.DUPLICATE) {
                            results[i] = dedupe.firstResult(writer, seq);
                        } else {
                            StoreResult result = new StoreResult(StoreResult.Status.NUMBER);
                            result.number = ++counter;
                            dedupe.record(writer, seq, result);
                            results[i] = result;
                        }
                    }
                }
                stream.onApplied(batch, results, seq -> dedupe.firstResult(writer, seq));
            }
            log.clear();
        }
    }

    private final DedupeTable dedupe = new DedupeTable();
    private long counter;
    private WriteStream stream;

    @AfterEach
    void close() {
        if (stream != null) {
            stream.close();
        }
    }

    private static Command incr() {
        return Command.newBuilder().setOp(Op.ARITH).setKey(ByteString.copyFromUtf8("k")).setDelta(1).build();
    }

    private static void awaitLog(ScriptedLeader leader, int batches) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            synchronized (leader) {
                if (leader.log.size() >= batches) {
                    return;
                }
            }
            Thread.sleep(1);
        }
    }

    @Test
    void appliesEachWriteOnceInSubmissionOrderDespiteLossAndResends() throws Exception {
        ScriptedLeader leader = new ScriptedLeader();
        stream = new WriteStream(1, 42, 5_000, leader);
        stream.start();
        List<CompletableFuture<StoreResult>> results = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            results.add(stream.submit(incr()));
        }
        awaitLog(leader, 1);
        leader.dropNext = 1;   // the next send is lost on the way
        for (int i = 0; i < 10; i++) {
            results.add(stream.submit(incr()));
        }
        for (int round = 0; round < 200 && results.stream().anyMatch(f -> !f.isDone()); round++) {
            Thread.sleep(5);
            leader.applyAll();
        }
        for (int i = 0; i < results.size(); i++) {
            assertEquals(i + 1, results.get(i).get(1, TimeUnit.SECONDS).number, "write " + i);
        }
        assertEquals(20, counter, "every write applied exactly once");
    }

    @Test
    void abandonsAStreamThatCannotBeCommittedInTime() throws Exception {
        ScriptedLeader leader = new ScriptedLeader();
        leader.leaderKnown = false;
        stream = new WriteStream(1, 42, 100, leader);
        stream.start();
        CompletableFuture<StoreResult> lost = stream.submit(incr());
        ExecutionException failure = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
                () -> lost.get(5, TimeUnit.SECONDS));
        assertTrue(failure.getCause().getMessage().startsWith("not written"), failure.getCause().getMessage());
        assertEquals(1, stream.abandonedStreams());
        leader.leaderKnown = true;
        CompletableFuture<StoreResult> next = stream.submit(incr());
        awaitLog(leader, 1);
        leader.applyAll();
        assertEquals(1, next.get(1, TimeUnit.SECONDS).number, "the new stream starts afresh");
    }

    @Test
    void completesWritesASnapshotCoveredFromTheirFirstResults() throws Exception {
        ScriptedLeader leader = new ScriptedLeader();
        stream = new WriteStream(1, 42, 5_000, leader);
        stream.start();
        CompletableFuture<StoreResult> first = stream.submit(incr());
        awaitLog(leader, 1);
        // The leader applies it, but this node learns of it only through a snapshot.
        Batch batch;
        synchronized (leader) {
            batch = Batch.parseFrom(leader.log.remove(0));
        }
        DedupeTable.Key writer = DedupeTable.Key.of(batch.getWriter());
        StoreResult result = new StoreResult(StoreResult.Status.NUMBER);
        result.number = 77;
        dedupe.record(writer, 1, result);
        stream.catchUp(dedupe.lastSeq(writer), seq -> dedupe.firstResult(writer, seq));
        assertEquals(77, first.get(1, TimeUnit.SECONDS).number);
    }
}
