package io.raftcached.raft;

import io.raftcached.proto.Command;
import io.raftcached.store.EvictionLog;
import io.raftcached.store.ItemWalk;
import io.raftcached.store.Store;
import io.raftcached.store.StoreCounters;
import io.raftcached.store.StoreResult;
import java.io.IOException;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongConsumer;

/**
 * The replicated cache as the server sees it: the one interface {@code node} calls. Writes go
 * through the log and complete with the result this node computed by applying them; reads are
 * served from this node's replica when {@link #readPermission} allows. {@link ClusterNode} is the
 * implementation over jraft; tests drive the server through a single in-process replica.
 */
public interface ReplicatedCache extends AutoCloseable {
    // --- writes ----------------------------------------------------------------------------------

    /** Sends a write through the log; completes with its result once this node has applied it. */
    CompletableFuture<StoreResult> submit(Command command);

    /**
     * Whether this node takes another write of about {@code sizeBytes} now (within its count and
     * byte budget); if not, {@code onRoom} runs (on any thread) once earlier writes have drained.
     * Connections use it to stop reading rather than refuse writes.
     */
    boolean admitsWrite(long sizeBytes, Runnable onRoom);

    // --- reads -----------------------------------------------------------------------------------

    ReadPermission readPermission();

    /** The time reads use: the last applied leader time plus local time elapsed since. */
    long readClockMillis();

    /** Reads a key from this node's replica ({@link Store#read}): the live item, or an applied version. */
    Store.ReadOutcome read(byte[] key, long readNowMillis, Store.Lookup lookup, Store.ItemVisitor visitor);

    /**
     * Whether this node holds a replica of {@code key}'s group, so {@link #read} serves it; the
     * rest go through {@link #readElsewhere}. A node of one group holds every key.
     */
    default boolean holds(byte[] key) {
        return true;
    }

    /**
     * Reads keys this node holds no replica of ({@link #holds} false for each) on replicas of their
     * groups elsewhere: completes with the items of a prefix of {@code keys} (at least the first),
     * in order, or fails with {@link ReadRefusedException}. The relayed bytes count against the
     * node's budget until the result is closed, and the future may wait for room in it.
     *
     * @param versions per key, 0 for the live item or the version (cas) a touch returned
     * @param bump whether the reads count as accesses (LRU, hints), as a get's do
     */
    default CompletableFuture<RelayedReads> readElsewhere(List<byte[]> keys, long[] versions, boolean bump, boolean linearizable) {
        throw new IllegalStateException("this node holds every key");
    }

    /** The current store's counters (stats), summed over a node's groups; read items through {@link #read} only. */
    StoreCounters store();

    /**
     * Whether another linearizable read may wait for its barrier now; if not, {@code onRoom} runs
     * (on any thread) once waiting reads have drained. Connections stop reading meanwhile.
     */
    boolean admitsRead(Runnable onRoom);

    /**
     * For a linearizable read: completes once this node has applied everything the leader had
     * committed when it was called (ReadIndex, confirmed by a quorum), or fails after the write
     * timeout.
     */
    CompletableFuture<Void> linearizableBarrier();

    // --- status and administration ---------------------------------------------------------------

    RaftStatus status();

    /** Each of the node's Raft groups' status, in group order (the one status of a node of one group). */
    default List<RaftStatus> groupStatuses() {
        return List.of(status());
    }

    /** The Raft path's timings and events, for the node's {@code /metrics}. */
    RaftMetrics metrics();

    /**
     * Digest of each group's replicated state at its applied index ("index:sha256"), in group
     * order; null for a group this node holds no replica of.
     */
    List<String> digests();

    /**
     * memcached's {@code lru_crawler metadump}: a walk over the live items of the classes in
     * {@code classBits} as of now, off an image of the store. Close it when done.
     */
    ItemWalk metadump(long classBits) throws IOException;

    /** Keeps memcached's item size histogram from now on ({@code -o track_sizes}). */
    void trackSizes();

    /** memcached's item size histogram ({@code stats sizes}), empty unless sizes are tracked. */
    SortedMap<Long, Long> sizeHistogram();

    /**
     * Sends what this node's replica evicts to {@code sink} after each applied entry (on the apply
     * thread), or stops with null. Nothing is recorded while no sink is set.
     *
     * @param dropped told how many evictions of an entry past {@link EvictionLog#RECORDS_MAX} were not recorded
     */
    void watchEvictions(EvictionLog.Sink sink, LongConsumer dropped);

    /** This node's Raft events, for {@code watch raft}. */
    RaftEvents events();

    /** Takes a snapshot now; completes when it is saved. */
    CompletableFuture<Void> snapshotNow();

    /**
     * The first half of a graceful stop: lets writes in flight finish and hands leadership over,
     * within {@code timeoutMillis}.
     */
    void handOver(long timeoutMillis) throws InterruptedException;

    @Override
    void close();
}
