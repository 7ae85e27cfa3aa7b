package io.raftcached.raft;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Batch;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.proto.WriterId;
import io.raftcached.replica.Applied;
import io.raftcached.replica.LogEntries;
import io.raftcached.replica.Replica;
import io.raftcached.store.StoreConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A {@link WriteStream} on a test clock, whose batches go to a scripted leader: a log that applies
 * them to two real replicas, this node's (which answers the stream) and the leader's. Nothing runs
 * on its own: the test pumps the stream and commits the log.
 */
final class WriteStreamHarness implements AutoCloseable {
    static final int NODE_ID = 1;
    static final long INCARNATION = 42;
    static final long WRITE_TIMEOUT_MILLIS = 5_000;
    static final long ADMITTED_BYTES_MAX = 64 * 1024;
    private static final long START_MILLIS = 1_790_000_000_000L;
    private static final byte[] COUNTER_KEY = "counter".getBytes(StandardCharsets.US_ASCII);

    /** A leader that appends what it is sent, unless told to lose it. */
    static final class ScriptedLeader implements WriteStream.Transport {
        final List<byte[]> log = new ArrayList<>();
        int dropNext;
        volatile boolean leaderKnown = true;
        private byte[] last;

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
            last = batch;
        }

        /** Appends the last batch again, as a retry that crossed its first delivery would. */
        synchronized void resendLast() {
            log.add(last);
        }
    }

    private final ScriptedLeader leader = new ScriptedLeader();
    private long nowNanos = TimeUnit.SECONDS.toNanos(1);
    private final WriteStream stream = new WriteStream(NODE_ID, INCARNATION, WRITE_TIMEOUT_MILLIS, ADMITTED_BYTES_MAX, leader, () -> nowNanos);
    private final StoreConfig shape = StoreConfig.withMemory(2L * StoreConfig.MEGABYTE);
    private final Replica local = new Replica(shape, 1, NODE_ID, INCARNATION);
    private final Replica remote = new Replica(shape, 2, 2, 7);
    private long nextIndex = 1;

    WriteStreamHarness() {
        // The counter every write increments, set by another writer.
        Command set = Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                .setKey(ByteString.copyFrom(COUNTER_KEY)).setValue(ByteString.copyFromUtf8("0")).build();
        byte[] batch = Batch.newBuilder().setWriter(WriterId.newBuilder().setNodeId(9).setIncarnation(9).setStream(1))
                .setFirstSeq(1).addCommands(set).build().toByteArray();
        applyEverywhere(batch);
    }

    static Command incr() {
        return Command.newBuilder().setOp(Op.ARITH).setKey(ByteString.copyFrom(COUNTER_KEY)).setDelta(1).build();
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
        List<byte[]> batches;
        synchronized (leader) {
            batches = new ArrayList<>(leader.log);
            leader.log.clear();
        }
        batches.forEach(this::applyEverywhere);
    }

    private void applyEverywhere(byte[] batch) {
        byte[] entry = LogEntries.batch(START_MILLIS, ByteString.copyFrom(batch));
        long index = nextIndex++;
        apply(remote, index, entry);
        Applied applied = apply(local, index, entry);
        if (applied instanceof Applied.Batch mine && mine.localResults() != null) {
            stream.onApplied(mine.writer(), mine.firstSeq(), mine.gap() ? null : mine.localResults(),
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
        List<byte[]> batches;
        synchronized (leader) {
            batches = new ArrayList<>(leader.log);
            leader.log.clear();
        }
        for (byte[] batch : batches) {
            apply(remote, nextIndex++, LogEntries.batch(START_MILLIS, ByteString.copyFrom(batch)));
        }
        Map<Integer, byte[]> pages = new HashMap<>();
        Replica.Snapshot snapshot = remote.beginSnapshot((page, bytes) -> pages.put(page, bytes.clone()));
        snapshot.store().writePages();
        snapshot.store().close();
        local.restore(snapshot.index(), snapshot.store().header(),
                (page, bytes) -> System.arraycopy(pages.get(page), 0, bytes, 0, bytes.length), snapshot.machine())
                .close();
        stream.catchUp(local::lastSeq, local::firstResult);
    }

    /** The counter's value on this node's replica. */
    String counter() {
        String[] value = {null};
        local.read(COUNTER_KEY, START_MILLIS, false, item -> value[0] = new String(item.copyValue(), StandardCharsets.US_ASCII));
        return value[0];
    }

    @Override
    public void close() {
        stream.close();
        local.close();
        remote.close();
    }
}
