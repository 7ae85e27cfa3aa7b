package io.raftcached.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.core.StateMachineAdapter;
import com.alipay.sofa.jraft.entity.LeaderChangeContext;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotReader;
import com.alipay.sofa.jraft.storage.snapshot.SnapshotWriter;
import com.google.protobuf.InvalidProtocolBufferException;
import io.raftcached.proto.Batch;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.Command;
import io.raftcached.proto.LogEntry;
import io.raftcached.proto.MachineState;
import io.raftcached.store.Store;
import io.raftcached.store.StoreResult;
import io.raftcached.store.StoreSnapshot;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jraft state machine: applies committed log entries to the {@link Store} on every replica,
 * keeps the dedupe table and the cluster's identity, and saves/loads snapshots.
 *
 * <p>{@code onApply} never throws: an exception that is a deterministic function of the entry
 * would stop every replica at once. A command that cannot be applied yields an INVALID result on
 * all replicas alike; only a JVM-level error (out of memory), which is local and would make this
 * replica diverge, stops the process.
 */
final class CacheStateMachine extends StateMachineAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(CacheStateMachine.class);
    static final int LOG_FORMAT_VERSION = 1;
    static final int MACHINE_STATE_FORMAT_VERSION = 1;

    /** What the node around the state machine needs to hear about. */
    interface Listener {
        /**
         * Results of this node's own writes, in seq order; {@code results[i] == null} means
         * "refused, resend". {@code earlier} gives the first result of any earlier seq of the same
         * writer, for seqs this node applied inside a snapshot rather than one by one.
         */
        void onOwnWritesApplied(Batch batch, StoreResult[] results, java.util.function.LongFunction<StoreResult> earlier);

        /** A snapshot replaced the state: writes of ours it covers were applied, never seen here. */
        void onSnapshotLoaded(java.util.function.ToLongFunction<io.raftcached.proto.WriterId> lastSeq,
                java.util.function.BiFunction<io.raftcached.proto.WriterId, Long, StoreResult> firstResult);

        /** The cluster's config was applied for the first time (or restored from a snapshot). */
        void onClusterConfig(ClusterConfig config);

        void onLeaderChange(boolean leader, long term);

        /** A replicated fact this node cannot live with (another cluster, another store shape). */
        void onFatalMismatch(String message);
    }

    private final int nodeId;
    private final long writerIncarnation;
    private final Listener listener;
    private final SnapshotFiles snapshotFiles;
    private final Executor snapshotExecutor;
    private final long hashSeed;
    private volatile Store store;
    private final DedupeTable dedupe = new DedupeTable();
    private volatile ClusterConfig config;
    private volatile long appliedIndex;
    private volatile long appliedAtNanos = System.nanoTime();
    /** The read clock is this plus local monotonic milliseconds; one field, so readers never see it torn. */
    private volatile long readClockOffsetMillis = -monotonicMillis();
    private final AppliedWaiters appliedWaiters = new AppliedWaiters();
    private final AtomicLong snapshotsInstalled = new AtomicLong();
    private final AtomicLong snapshotsSaved = new AtomicLong();
    /** Retried writes answered from the dedupe table instead of being applied again. */
    private volatile long duplicatesAnswered;
    private volatile long lastSnapshotBeginMicros;
    private volatile long lastSnapshotDumpMillis;
    private long bytesSinceSnapshot;
    /** Held by apply for each run of entries, so a digest sees a state at one applied index. */
    private final java.util.concurrent.locks.ReentrantLock applyLock = new java.util.concurrent.locks.ReentrantLock();
    private final io.raftcached.store.StoreConfig expectedShape;

    CacheStateMachine(int nodeId, long writerIncarnation, Store store, long hashSeed, SnapshotFiles snapshotFiles,
            Executor snapshotExecutor, Listener listener) {
        this.expectedShape = store.config();
        this.nodeId = nodeId;
        this.writerIncarnation = writerIncarnation;
        this.store = store;
        this.hashSeed = hashSeed;
        this.snapshotFiles = snapshotFiles;
        this.snapshotExecutor = snapshotExecutor;
        this.listener = listener;
    }

    Store store() {
        return store;
    }

    ClusterConfig config() {
        return config;
    }

    long appliedIndex() {
        return appliedIndex;
    }

    AppliedWaiters appliedWaiters() {
        return appliedWaiters;
    }

    /**
     * The read clock: the applied now plus local monotonic time since the read clock last fell
     * behind it. It never runs backwards and only jumps forward to the applied now: entries stamped
     * no later than it (a leader whose clock is behind, or the commit latency between stamping and
     * applying) must not pull it back, or it would freeze while entries keep arriving.
     */
    long readClockMillis() {
        return readClockOffsetMillis + monotonicMillis();
    }

    /** Called on the apply thread (the only writer) after the applied now may have moved. */
    private void catchUpReadClock(long appliedNowMillis) {
        long monotonic = monotonicMillis();
        if (appliedNowMillis > readClockOffsetMillis + monotonic) {
            readClockOffsetMillis = appliedNowMillis - monotonic;
        }
    }

    private static long monotonicMillis() {
        return System.nanoTime() / 1_000_000;
    }

    /** When the last entry was applied (local monotonic time). */
    long appliedAtNanos() {
        return appliedAtNanos;
    }

    long snapshotsInstalled() {
        return snapshotsInstalled.get();
    }

    long duplicatesAnswered() {
        return duplicatesAnswered;
    }

    long snapshotsSaved() {
        return snapshotsSaved.get();
    }

    long lastSnapshotBeginMicros() {
        return lastSnapshotBeginMicros;
    }

    long lastSnapshotDumpMillis() {
        return lastSnapshotDumpMillis;
    }

    /** Log bytes applied since the last snapshot began, for the log-size snapshot trigger. */
    long bytesSinceSnapshot() {
        return bytesSinceSnapshot;
    }

    @Override
    public void onApply(Iterator iterator) {
        applyLock.lock();
        try {
            applyAll(iterator);
        } finally {
            applyLock.unlock();
        }
    }

    private void applyAll(Iterator iterator) {
        Store current = store;
        while (iterator.hasNext()) {
            long index = iterator.getIndex();
            ByteBuffer data = iterator.getData();
            Closure done = iterator.done();
            try {
                bytesSinceSnapshot += data.remaining();
                applyEntry(current, data);
            } catch (VirtualMachineError e) {
                LOG.error("JVM error while applying entry {}: stopping this replica rather than diverge", index, e);
                Runtime.getRuntime().halt(70);
            } catch (Throwable t) {
                // Deterministic by construction: every replica fails the same entry the same way.
                LOG.error("entry {} could not be applied; treated as a no-op on every replica", index, t);
            }
            appliedIndex = index;
            if (done != null) {
                done.run(Status.OK());
            }
            iterator.next();
        }
        current.maintain();
        appliedWaiters.advance(appliedIndex);
    }

    private void applyEntry(Store current, ByteBuffer data) throws InvalidProtocolBufferException {
        LogEntry entry = LogEntry.parseFrom(data);
        if (entry.getFormatVersion() > LOG_FORMAT_VERSION) {
            LOG.error("log entry format {} is newer than this binary understands ({}); skipped on this replica",
                    entry.getFormatVersion(), LOG_FORMAT_VERSION);
            listener.onFatalMismatch("the log holds entries of format " + entry.getFormatVersion()
                    + " but this binary only understands format " + LOG_FORMAT_VERSION + "; upgrade it");
            return;
        }
        current.advanceClock(entry.getLeaderTimeMillis());
        catchUpReadClock(current.appliedNowMillis());
        appliedAtNanos = System.nanoTime();
        switch (entry.getBodyCase()) {
            case BATCH -> applyBatch(current, Batch.parseFrom(entry.getBatch()));
            case CONFIG -> applyConfig(entry.getConfig());
            default -> { }   // a clock tick: time advances, nothing else
        }
    }

    private void applyBatch(Store current, Batch batch) {
        DedupeTable.Key writer = DedupeTable.Key.of(batch.getWriter());
        boolean mine = batch.getWriter().getNodeId() == nodeId && batch.getWriter().getIncarnation() == writerIncarnation;
        long firstSeq = batch.getFirstSeq();
        StoreResult[] results = mine ? new StoreResult[batch.getCommandsCount()] : null;
        if (dedupe.check(writer, firstSeq) == DedupeTable.Verdict.GAP) {
            // Writes ahead of a lost predecessor: refuse all; the writer resends in order.
            if (mine) {
                listener.onOwnWritesApplied(batch, results, seq -> dedupe.firstResult(writer, seq));
            }
            return;
        }
        for (int i = 0; i < batch.getCommandsCount(); i++) {
            long seq = firstSeq + i;
            StoreResult result;
            if (dedupe.check(writer, seq) == DedupeTable.Verdict.DUPLICATE) {
                duplicatesAnswered++;
                result = dedupe.firstResult(writer, seq);
                if (result == null) {
                    result = new StoreResult(StoreResult.Status.INVALID);
                }
            } else {
                Command command = batch.getCommands(i);
                result = current.apply(command, mine);
                dedupe.record(writer, seq, result);
            }
            if (mine) {
                results[i] = result;
            }
        }
        if (mine) {
            listener.onOwnWritesApplied(batch, results, seq -> dedupe.firstResult(writer, seq));
        }
    }

    private void applyConfig(ClusterConfig proposed) {
        if (config != null) {
            return;   // the first config applied is the cluster's; later proposals are no-ops
        }
        config = proposed;
        listener.onClusterConfig(proposed);
    }

    // --- snapshots ----------------------------------------------------------------------------

    @Override
    public void onSnapshotSave(SnapshotWriter writer, Closure done) {
        long beginNanos = System.nanoTime();
        MachineState machine = machineState();
        SnapshotFiles.Save save;
        try {
            save = snapshotFiles.beginSave(writer.getPath(), store, machine);
        } catch (Exception e) {
            LOG.error("could not begin a snapshot in {}", writer.getPath(), e);
            done.run(new Status(RaftError.EIO, "snapshot begin failed: %s", e.getMessage()));
            return;
        }
        bytesSinceSnapshot = 0;
        lastSnapshotBeginMicros = (System.nanoTime() - beginNanos) / 1_000;
        snapshotExecutor.execute(() -> {
            long dumpStart = System.nanoTime();
            try {
                save.finish();
                for (String file : SnapshotFiles.FILES) {
                    if (!writer.addFile(file)) {
                        throw new java.io.IOException("snapshot writer refused " + file);
                    }
                }
                lastSnapshotDumpMillis = (System.nanoTime() - dumpStart) / 1_000_000;
                snapshotsSaved.incrementAndGet();
                LOG.info("snapshot saved in {}: {} pages, apply paused {} us to begin it, dump took {} ms, "
                        + "{} pages copied aside by apply", writer.getPath(), save.pageCount(),
                        lastSnapshotBeginMicros, lastSnapshotDumpMillis, save.pagesCopiedByApply());
                done.run(Status.OK());
            } catch (Throwable t) {
                LOG.error("snapshot save failed in {}", writer.getPath(), t);
                done.run(new Status(RaftError.EIO, "snapshot save failed: %s", String.valueOf(t.getMessage())));
            } finally {
                save.close();
            }
        });
    }

    private MachineState machineState() {
        MachineState.Builder machine = MachineState.newBuilder().setFormatVersion(MACHINE_STATE_FORMAT_VERSION)
                .addAllWriters(dedupe.toProto());
        if (config != null) {
            machine.setConfig(config);
        }
        return machine.build();
    }

    @Override
    public boolean onSnapshotLoad(SnapshotReader reader) {
        applyLock.lock();
        try {
            return loadSnapshot(reader);
        } finally {
            applyLock.unlock();
        }
    }

    private boolean loadSnapshot(SnapshotReader reader) {
        SnapshotFiles.Loaded loaded;
        try {
            loaded = snapshotFiles.load(reader.getPath(), hashSeed);
        } catch (Exception e) {
            LOG.error("could not load the snapshot in {}", reader.getPath(), e);
            return false;
        }
        MachineState machine = loaded.machine();
        if (!loaded.store().config().equals(expectedShape)) {
            loaded.store().close();
            listener.onFatalMismatch("the cluster's store shape is " + ShapeText.describe(loaded.store().config())
                    + " but this node was started with " + ShapeText.describe(expectedShape));
            return false;
        }
        if (machine.hasConfig() && config != null && !machine.getConfig().getClusterId().equals(config.getClusterId())) {
            loaded.store().close();
            listener.onFatalMismatch("the snapshot belongs to cluster " + machine.getConfig().getClusterId()
                    + " but this node is in cluster " + config.getClusterId());
            return false;
        }
        Store previous = store;
        store = loaded.store();
        catchUpReadClock(store.appliedNowMillis());
        appliedAtNanos = System.nanoTime();
        dedupe.restore(machine.getWritersList());
        if (machine.hasConfig() && config == null) {
            config = machine.getConfig();
            listener.onClusterConfig(config);
        }
        appliedIndex = reader.load().getLastIncludedIndex();
        appliedWaiters.advance(appliedIndex);
        snapshotsInstalled.incrementAndGet();
        listener.onSnapshotLoaded(writer -> dedupe.lastSeq(DedupeTable.Key.of(writer)),
                (writer, seq) -> dedupe.firstResult(DedupeTable.Key.of(writer), seq));
        LOG.info("snapshot loaded from {}: {} items at index {}", reader.getPath(), store.currentItems(), appliedIndex);
        StoreRetirement.retire(previous);
        return true;
    }

    /** Runs a read of the whole store with apply held back, so it sees one applied index. */
    <T> T withApplyPaused(java.util.function.Function<Store, T> reader) {
        applyLock.lock();
        try {
            return reader.apply(store);
        } finally {
            applyLock.unlock();
        }
    }

    /**
     * The digest of all replicated state — store, dedupe table, cluster config — and the index it
     * was taken at, as "index:sha256". Holds apply back while it reads the whole store.
     */
    String digest() {
        applyLock.lock();
        try {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            sha.update(store.digest().getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            sha.update(machineState().toByteArray());
            return appliedIndex + ":" + java.util.HexFormat.of().formatHex(sha.digest());
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        } finally {
            applyLock.unlock();
        }
    }

    @Override
    public void onLeaderStart(long term) {
        listener.onLeaderChange(true, term);
    }

    @Override
    public void onLeaderStop(Status status) {
        listener.onLeaderChange(false, -1);
    }

    @Override
    public void onStartFollowing(LeaderChangeContext context) {
        listener.onLeaderChange(false, context.getTerm());
    }

    @Override
    public void onError(RaftException e) {
        LOG.error("raft error: {}", e.getStatus(), e);
    }
}
