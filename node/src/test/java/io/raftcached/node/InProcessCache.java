package io.raftcached.node;

import io.netty.util.internal.PlatformDependent;
import io.raftcached.proto.Batch;
import io.raftcached.proto.Command;
import io.raftcached.proto.WriterId;
import io.raftcached.raft.RaftStatus;
import io.raftcached.raft.ReadPermission;
import io.raftcached.raft.ReplicatedCache;
import io.raftcached.replica.Applied;
import io.raftcached.replica.LogEntries;
import io.raftcached.replica.Replica;
import io.raftcached.store.ImageWalk;
import io.raftcached.store.ItemWalk;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.testing.MemoryImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;

/**
 * The replicated cache as a single in-process replica, for driving the real server code (decoder,
 * connection handler, executor, stats) without processes or Raft: each write becomes a one-command
 * batch applied at once to a real {@link Replica}, stamped with the wall clock, as a one-member
 * cluster's leader would.
 */
final class InProcessCache implements ReplicatedCache {
    /** No Raft here: nothing is ever emitted. */
    private final io.raftcached.raft.RaftEvents events = new io.raftcached.raft.RaftEvents();

    private static final int NODE_ID = 1;
    private static final long INCARNATION = 1;
    private final Replica replica;
    private final WriterId writer = WriterId.newBuilder().setNodeId(NODE_ID).setIncarnation(INCARNATION).setStream(1).build();
    private long nextSeq = 1;
    private long nextIndex = 1;
    private final io.raftcached.raft.RaftMetrics metrics = new io.raftcached.raft.RaftMetrics();

    InProcessCache(StoreConfig shape) {
        this.replica = new Replica(shape, 7, NODE_ID, INCARNATION);
    }

    @Override
    public synchronized CompletableFuture<StoreResult> submit(Command command) {
        byte[] batch = Batch.newBuilder().setWriter(writer).setFirstSeq(nextSeq++).addCommands(command).build().toByteArray();
        try {
            Applied.Batch applied = (Applied.Batch) replica.apply(nextIndex++,
                    ByteBuffer.wrap(LogEntries.batch(System.currentTimeMillis(), com.google.protobuf.ByteString.copyFrom(batch))));
            replica.maintain();
            return CompletableFuture.completedFuture(applied.localResults()[0]);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Whether writes are admitted, as a node whose write stream has room would; off, they wait. */
    private boolean admittingWrites = true;
    private final List<Runnable> writeRoomWaiters = new ArrayList<>();

    @Override
    public synchronized boolean admitsWrite(long sizeBytes, Runnable onRoom) {
        if (!admittingWrites) {
            writeRoomWaiters.add(onRoom);
        }
        return admittingWrites;
    }

    /** Stops admitting writes (a full write stream), or admits them again and wakes who waited. */
    void admitWrites(boolean admitting) {
        List<Runnable> waiters;
        synchronized (this) {
            admittingWrites = admitting;
            waiters = admitting ? List.copyOf(writeRoomWaiters) : List.of();
            if (admitting) {
                writeRoomWaiters.clear();
            }
        }
        waiters.forEach(Runnable::run);
    }

    @Override
    public boolean admitsRead(Runnable onRoom) {
        return true;
    }

    @Override
    public ReadPermission readPermission() {
        return ReadPermission.ALLOWED;
    }

    @Override
    public long readClockMillis() {
        return Math.max(System.currentTimeMillis(), replica.appliedNowMillis());
    }

    @Override
    public Store.ReadOutcome read(byte[] key, long readNowMillis, Store.Lookup lookup, Store.ItemVisitor visitor) {
        return replica.read(key, readNowMillis, lookup, visitor);
    }

    @Override
    public Store store() {
        return replica.store();
    }

    @Override
    public CompletableFuture<Void> linearizableBarrier() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public io.raftcached.raft.RaftMetrics metrics() {
        return metrics;
    }

    @Override
    public RaftStatus status() {
        RaftStatus status = new RaftStatus();
        status.nodeId = NODE_ID;
        status.role = "leader";
        status.appliedIndex = replica.appliedIndex();
        status.committedIndex = replica.appliedIndex();
        status.ready = true;
        return status;
    }

    @Override
    public synchronized List<String> digests() {
        return List.of(replica.digest());
    }

    /** The image is kept in direct buffers here (a node writes it to its data directory). */
    @Override
    public synchronized ItemWalk metadump(long classBits) throws IOException {
        MemoryImage pages = new MemoryImage();
        Replica.Snapshot snapshot = replica.beginSnapshot(pages::write);
        snapshot.store().writePages();
        snapshot.store().close();
        ByteBuffer image = pages.toDirect();
        long address = PlatformDependent.directBufferAddress(image);
        int pageBytes = snapshot.store().header().getShape().getSlabPageSize();
        return ImageWalk.over(snapshot.store().header(), page -> address + (long) (page - 1) * pageBytes, classBits,
                () -> PlatformDependent.freeDirectBuffer(image));
    }

    @Override
    public synchronized void trackSizes() {
        replica.trackSizes();
    }

    @Override
    public SortedMap<Long, Long> sizeHistogram() {
        return replica.store().sizeHistogram();
    }

    @Override
    public void watchEvictions(io.raftcached.store.EvictionLog.Sink sink, java.util.function.LongConsumer dropped) {
        throw new UnsupportedOperationException("no watch evictions in process");
    }

    @Override
    public io.raftcached.raft.RaftEvents events() {
        return events;
    }

    @Override
    public CompletableFuture<Void> snapshotNow() {
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public void handOver(long timeoutMillis) {
        // nothing to hand over: there is no other member
    }

    @Override
    public void close() {
        replica.close();
    }
}
