package io.raftcached.raft;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.raftcached.proto.Batch;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.proto.WriterId;
import io.raftcached.replica.Applied;
import io.raftcached.replica.LogEntries;
import io.raftcached.replica.Replica;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.testing.MemoryImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A {@link WriteStream} on a test clock, whose batches go to a scripted leader: a log that applies
 * them to two real replicas, this node's (which answers the stream) and the leader's. Nothing runs
 * on its own: the test pumps the stream and commits the log. What happens is written down as
 * events (batches sent and lost, batches applied, writes completed) for the test to print or check.
 */
final class WriteStreamHarness implements AutoCloseable {
    static final int NODE_ID = 1;
    static final long INCARNATION = 42;
    static final long WRITE_TIMEOUT_MILLIS = 5_000;
    static final long ADMITTED_BYTES_MAX = 64 * 1024;
    private static final long START_MILLIS = 1_790_000_000_000L;
    private static final byte[] COUNTER_KEY = "counter".getBytes(StandardCharsets.US_ASCII);

    /** A leader that appends what it is sent, unless told to lose it. */
    final class ScriptedLeader implements WriteStream.Transport {
        final List<byte[]> log = new ArrayList<>();
        private final List<byte[]> held = new ArrayList<>();
        int dropNext;
        volatile WriteStream.Route route = WriteStream.Route.FORWARDED;
        private byte[] last;

        @Override
        public WriteStream.Route route() {
            return route;
        }

        @Override
        public synchronized void send(byte[] batch, Runnable onFailure) {
            if (dropNext > 0) {
                dropNext--;
                events.add("lost " + seqs(batch));
                onFailure.run();
                return;
            }
            events.add("sent " + seqs(batch));
            log.add(batch);
            last = batch;
        }

        /** Drops the oldest appended batches silently, as a deposed leader's uncommitted entries vanish. */
        synchronized void forget(int count) {
            for (int i = 0; i < count && !log.isEmpty(); i++) {
                events.add("forgot " + seqs(log.remove(0)));
            }
        }

        /** Sets the oldest appended batches aside, as batches delayed on their way to the log. */
        synchronized void hold(int count) {
            for (int i = 0; i < count && !log.isEmpty(); i++) {
                byte[] batch = log.remove(0);
                events.add("held " + seqs(batch));
                held.add(batch);
            }
        }

        /** Appends the held batches after everything appended meanwhile. */
        synchronized void release() {
            log.addAll(held);
            held.clear();
        }

        /** Appends the last batch again, as a retry that crossed its first delivery would. */
        synchronized void resendLast() {
            log.add(last);
        }
    }

    private final List<String> events = new ArrayList<>();
    private final ScriptedLeader leader = new ScriptedLeader();
    private long nowNanos = TimeUnit.SECONDS.toNanos(1);
    private final WriteStream stream = new WriteStream(NODE_ID, INCARNATION, WRITE_TIMEOUT_MILLIS, ADMITTED_BYTES_MAX, leader,
            () -> nowNanos);
    private final StoreConfig shape = StoreConfig.withMemory(2L * StoreConfig.MEGABYTE);
    private final Replica local = new Replica(shape, 1, NODE_ID, INCARNATION);
    private final Replica remote = new Replica(shape, 2, 2, 7);
    private final Map<Integer, CompletableFuture<StoreResult>> writes = new HashMap<>();
    private int nextWrite = 1;
    private int nextReported = 1;
    private long nextIndex = 1;

    WriteStreamHarness() {
        // The counter every write increments, set by another writer.
        Command set = Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                .setKey(ByteString.copyFrom(COUNTER_KEY)).setValue(ByteString.copyFromUtf8("0")).build();
        byte[] batch = Batch.newBuilder().setWriter(WriterId.newBuilder().setNodeId(9).setIncarnation(9).setStream(1))
                .setFirstSeq(1).addCommands(set).build().toByteArray();
        applyEverywhere(batch);
        events.clear();
    }

    /** An incr of the counter, padded to about {@code paddingBytes} (a value the store ignores). */
    static Command incr(int paddingBytes) {
        return Command.newBuilder().setOp(Op.ARITH).setKey(ByteString.copyFrom(COUNTER_KEY)).setDelta(1)
                .setValue(ByteString.copyFrom(new byte[paddingBytes])).build();
    }

    static Command incr() {
        return incr(0);
    }

    /** Submits a write; its number (from 1) names it in the events. */
    int submit(Command command) {
        int number = nextWrite++;
        writes.put(number, stream.submit(command));
        return number;
    }

    CompletableFuture<StoreResult> write(int number) {
        return writes.get(number);
    }

    WriteStream stream() {
        return stream;
    }

    ScriptedLeader leader() {
        return leader;
    }

    void advanceMillis(long millis) {
        nowNanos += TimeUnit.MILLISECONDS.toNanos(millis);
    }

    /** Commits and applies everything the leader appended, on both replicas, in order. */
    void commitAll() {
        for (byte[] batch : takeLog()) {
            applyEverywhere(batch);
        }
    }

    private List<byte[]> takeLog() {
        synchronized (leader) {
            List<byte[]> batches = new ArrayList<>(leader.log);
            leader.log.clear();
            return batches;
        }
    }

    private void applyEverywhere(byte[] batch) {
        byte[] entry = LogEntries.batch(START_MILLIS, ByteString.copyFrom(batch));
        long index = nextIndex++;
        apply(remote, index, entry);
        Applied applied = apply(local, index, entry);
        if (applied instanceof Applied.Batch mine && mine.localResults() != null) {
            events.add((mine.refused() ? "refused " : "applied ") + seqs(batch));
            stream.onApplied(mine.writer(), mine.firstSeq(), mine.refused() ? null : mine.localResults(),
                    seq -> local.firstResult(mine.writer(), seq));
        }
    }

    private static Applied apply(Replica replica, long index, byte[] entry) {
        try {
            return replica.apply(index, ByteBuffer.wrap(entry));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The leader applies what it has; this node gets there by installing the leader's snapshot. */
    void commitOnLeaderOnlyThenInstallSnapshot() throws IOException {
        for (byte[] batch : takeLog()) {
            apply(remote, nextIndex++, LogEntries.batch(START_MILLIS, ByteString.copyFrom(batch)));
        }
        MemoryImage pages = new MemoryImage();
        Replica.Snapshot snapshot = remote.beginSnapshot(pages::write);
        snapshot.store().writePages();
        snapshot.store().close();
        local.restore(snapshot.index(), snapshot.store().header(),
                pages::readPage, snapshot.machine())
                .close();
        events.add("installed the leader's snapshot at index " + snapshot.index());
        stream.catchUp(local::lastSeq, local::firstResult);
    }

    /** Records something the test wants printed among the events. */
    void note(String event) {
        events.add(event);
    }

    /** The counter's value on this node's replica. */
    String counter() {
        String[] value = {null};
        local.read(COUNTER_KEY, START_MILLIS, Store.Lookup.live(false), item -> value[0] = new String(item.copyValue(), StandardCharsets.US_ASCII));
        return value[0];
    }

    /**
     * What happened since the last call: sends, applies, and the writes completed since, in write
     * order (a write is reported once, when it and every earlier write are done).
     */
    List<String> drainEvents() {
        List<String> drained = new ArrayList<>(events);
        events.clear();
        while (nextReported < nextWrite && writes.get(nextReported).isDone()) {
            drained.add("write " + nextReported + ": " + outcome(writes.get(nextReported)));
            nextReported++;
        }
        return drained;
    }

    private static String outcome(CompletableFuture<StoreResult> write) {
        try {
            StoreResult result = write.join();
            return result.status + (result.status == StoreResult.Status.NUMBER ? " " + result.number : "");
        } catch (RuntimeException e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            return "failed: " + cause.getMessage();
        }
    }

    private static String seqs(byte[] bytes) {
        try {
            Batch batch = Batch.parseFrom(bytes);
            return "batch stream " + batch.getWriter().getStream() + " seq " + batch.getFirstSeq() + ".."
                    + (batch.getFirstSeq() + batch.getCommandsCount() - 1);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        stream.close();
        local.close();
        remote.close();
    }
}
