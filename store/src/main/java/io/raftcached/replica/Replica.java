package io.raftcached.replica;

import com.google.protobuf.InvalidProtocolBufferException;
import io.raftcached.proto.Batch;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.Command;
import io.raftcached.proto.LogEntry;
import io.raftcached.proto.MachineState;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreSnapshotHeader;
import io.raftcached.proto.WriterId;
import io.raftcached.store.EvictionLog;
import io.raftcached.store.LocalReads;
import io.raftcached.store.ReadEpochs;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.store.StoreSnapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The replica core: everything a member of the cluster holds as replicated state — the cache
 * {@link Store}, the exactly-once {@link DedupeTable}, the cluster's {@link ClusterConfig} and the
 * log clock — and the one function that changes it, {@link #apply(long, ByteBuffer)}. The same
 * entries applied to the same state give the same state and the same results on every replica.
 *
 * <p>No threads, no locks, no clock: the caller (the jraft adapter, or a test) drives it from one
 * thread, and time enters only as the leader's stamp in each entry. Reads ({@link #read}) are the
 * exception: they run on any thread concurrently with apply and change nothing replicated.
 *
 * <p>Failures are loud. A command the store cannot apply is a deterministic rejection (an INVALID
 * result, the same on every replica); anything else that goes wrong while applying — an entry that
 * does not parse, a format this binary does not know, a config that contradicts this node's — is
 * thrown, and the node must stop rather than skip the entry and diverge.
 */
public final class Replica implements AutoCloseable {
    /** Format of {@link MachineState} in snapshots. */
    public static final int MACHINE_STATE_FORMAT_VERSION = 1;

    private final StoreConfig shape;
    private final long hashSeed;
    private final int localNodeId;
    private final long localIncarnation;
    private final ReadEpochs epochs = new ReadEpochs();
    private final LocalReads localReads = new LocalReads();
    private final DedupeTable dedupe = new DedupeTable();
    private volatile Store store;
    private volatile ClusterConfig config;
    private final EvictionLog evictions = new EvictionLog();
    private volatile long appliedIndex;
    /** Retried writes answered from the dedupe table instead of being applied again (a local count). */
    private volatile long duplicatesAnswered;
    /** Whether the store keeps memcached's size histogram (a local choice: -o track_sizes). */
    private boolean trackSizes;
    private volatile long retiredAtEpoch;

    /**
     * @param shape the store shape this node was started with; a cluster of another shape stops it
     * @param hashSeed the index's hash seed, local and random in production (it must not matter)
     * @param localNodeId writes of this node id and incarnation get their results back with values
     */
    public Replica(StoreConfig shape, long hashSeed, int localNodeId, long localIncarnation) {
        this.shape = shape;
        this.hashSeed = hashSeed;
        this.localNodeId = localNodeId;
        this.localIncarnation = localIncarnation;
        this.store = new Store(shape, hashSeed, epochs, localReads);
        store.recordEvictionsInto(evictions);
    }

    // --- apply (one thread) -------------------------------------------------------------------

    /**
     * Applies the committed entry at {@code index}. Entries must come in log order, each index
     * once; a snapshot restore may jump ahead.
     *
     * @throws ReplicaStopException when this node cannot apply the entry as the others do
     * @throws InvalidProtocolBufferException when the entry's bytes do not parse
     */
    public Applied apply(long index, ByteBuffer entryBytes) throws InvalidProtocolBufferException {
        if (index <= appliedIndex) {
            throw new IllegalStateException("entry " + index + " applied after entry " + appliedIndex);
        }
        LogEntry entry = LogEntry.parseFrom(entryBytes);
        if (entry.getFormatVersion() > LogEntries.FORMAT_VERSION) {
            throw new ReplicaStopException("the log holds entries of format " + entry.getFormatVersion()
                    + " but this binary only understands format " + LogEntries.FORMAT_VERSION + "; upgrade it");
        }
        Store current = store;
        current.advanceClock(entry.getLeaderTimeMillis());
        Applied applied = switch (entry.getBodyCase()) {
            case BATCH -> applyBatch(index, current, Batch.parseFrom(entry.getBatch()));
            case CONFIG -> applyConfig(index, entry.getConfig());
            case BODY_NOT_SET -> new Applied.Tick(index);
        };
        current.endOfEntry(applied instanceof Applied.Tick);
        appliedIndex = index;
        return applied;
    }

    private Applied applyBatch(long index, Store current, Batch batch) {
        WriterId writerId = batch.getWriter();
        DedupeTable.Key writer = DedupeTable.Key.of(writerId);
        boolean local = writerId.getNodeId() == localNodeId && writerId.getIncarnation() == localIncarnation;
        long firstSeq = batch.getFirstSeq();
        int count = batch.getCommandsCount();
        StoreResult[] results = local ? new StoreResult[count] : null;
        if (streamFenceEnabled() && dedupe.newerStreamApplied(writer)) {
            return new Applied.Batch(index, writerId, firstSeq, count, Applied.Refusal.STREAM_ABANDONED, results);
        }
        if (dedupe.check(writer, firstSeq) == DedupeTable.Verdict.GAP) {
            // Writes ahead of a lost predecessor: refuse them all; the writer resends in order.
            return new Applied.Batch(index, writerId, firstSeq, count, Applied.Refusal.GAP, results);
        }
        for (int i = 0; i < count; i++) {
            long seq = firstSeq + i;
            StoreResult result;
            if (dedupe.check(writer, seq) == DedupeTable.Verdict.DUPLICATE) {
                duplicatesAnswered++;
                result = dedupe.firstResult(writer, seq);
                if (result == null) {
                    result = new StoreResult(StoreResult.Status.INVALID);   // too old to know: never applied twice
                }
            } else {
                Command command = batch.getCommands(i);
                result = featureEnabled(command) ? current.apply(command, local) : new StoreResult(StoreResult.Status.INVALID);
                dedupe.record(writer, seq, result);
            }
            if (local) {
                results[i] = result;
            }
        }
        return new Applied.Batch(index, writerId, firstSeq, count, Applied.Refusal.NONE, results);
    }

    /**
     * The cluster feature level that switched each kind of command on: a cluster created by an
     * older version keeps applying exactly as that version does, whatever binary a node runs.
     */
    public static final int FEATURE_LEVEL = 3;
    private static final int FEATURE_LEVEL_MEMORY_MANAGEMENT = 2;
    private static final int FEATURE_LEVEL_STREAM_FENCE = 3;

    private boolean featureEnabled(Command command) {
        boolean memoryManagement = command.getOp() == Op.ACCESS_HINTS || command.getOp() == Op.MAINTENANCE;
        return !memoryManagement || atFeatureLevel(FEATURE_LEVEL_MEMORY_MANAGEMENT);
    }

    /** Whether a batch of an abandoned stream is refused once a newer stream of its node applied. */
    private boolean streamFenceEnabled() {
        return atFeatureLevel(FEATURE_LEVEL_STREAM_FENCE);
    }

    /** Entries before the first config (only in tests) apply as the newest level does. */
    private boolean atFeatureLevel(int level) {
        return config == null || config.getFeatureLevel() >= level;
    }

    /** Whether the cluster applies access hints and maintenance commands (false in clusters older than them). */
    public boolean memoryManagementEnabled() {
        ClusterConfig current = config;
        return current != null && current.getFeatureLevel() >= FEATURE_LEVEL_MEMORY_MANAGEMENT;
    }

    private Applied applyConfig(long index, ClusterConfig proposed) {
        if (config != null) {
            return new Applied.Config(index, config, false);   // the first config applied is the cluster's
        }
        refuseOtherShape(StoreSnapshot.configOf(proposed.getShape()));
        config = proposed;
        return new Applied.Config(index, proposed, true);
    }

    private void refuseOtherShape(StoreConfig clusterShape) {
        if (!clusterShape.equals(shape)) {
            throw new ReplicaStopException("store shape mismatch: the cluster was created with " + clusterShape.flagsText()
                    + " but this node was started with " + shape.flagsText()
                    + StoreConfig.startWith(clusterShape.flagsText(), shape.flagsText()));
        }
    }

    /** Keeps memcached's item size histogram from now on, also across snapshot installs. Apply thread. */
    public void trackSizes() {
        trackSizes = true;
        store.trackSizes();
    }

    /** Lets memory freed by the entries applied so far be reused once readers are done with it. */
    public void maintain() {
        store.maintain();
    }

    // --- what the writer side needs ------------------------------------------------------------

    /** The last seq applied for a writer stream, 0 if none (or forgotten). */
    public long lastSeq(WriterId writer) {
        return dedupe.lastSeq(DedupeTable.Key.of(writer));
    }

    /** The first result of an applied seq, without value bytes; null once it left the window. */
    public StoreResult firstResult(WriterId writer, long seq) {
        return dedupe.firstResult(DedupeTable.Key.of(writer), seq);
    }

    // --- reads (any thread) ---------------------------------------------------------------------

    /** This node's read-side facts and where its access hints go; the same across restores. */
    public LocalReads localReads() {
        return localReads;
    }

    /**
     * Reads a key from the current store ({@link Store#read}). The read section covers fetching
     * the store, so a store that a snapshot install replaces is not freed while this read may
     * still use it ({@link #retiredStoreUnread}).
     */
    public Store.ReadOutcome read(byte[] key, long readNowMillis, Store.Lookup lookup, Store.ItemVisitor visitor) {
        ReadEpochs.Reader reader = epochs.reader();
        reader.enter();
        try {
            return store.readInSection(key, readNowMillis, lookup, visitor);
        } finally {
            reader.exit();
        }
    }

    /**
     * The current store, for stats and other reads of counters. Its item memory may be freed after
     * a snapshot install: read items through {@link #read} only.
     */
    public Store store() {
        return store;
    }

    public ClusterConfig config() {
        return config;
    }

    /** What apply evicted, for {@code watch evictions}; drained by the apply thread after each entry. */
    public EvictionLog evictions() {
        return evictions;
    }

    public long appliedIndex() {
        return appliedIndex;
    }

    /** The replicated now of the last applied entry (the log clock). */
    public long appliedNowMillis() {
        return store.appliedNowMillis();
    }

    public long duplicatesAnswered() {
        return duplicatesAnswered;
    }

    public StoreConfig shape() {
        return shape;
    }

    // --- snapshots and digests (apply thread) --------------------------------------------------

    /**
     * A point-in-time image of all replicated state, begun at one applied index. The replica's own
     * state (dedupe table, cluster config) is copied when it begins and encoded on first use, off
     * the apply thread: encoding up to {@link DedupeTable#WRITERS_MAX} writers' results is what
     * made beginning a snapshot pause apply for milliseconds.
     */
    public static final class Snapshot {
        private final long index;
        private final StoreSnapshot store;
        private final DedupeTable.Frozen writers;
        private final ClusterConfig config;
        private MachineState machine;

        private Snapshot(long index, StoreSnapshot store, DedupeTable.Frozen writers, ClusterConfig config) {
            this.index = index;
            this.store = store;
            this.writers = writers;
            this.config = config;
        }

        public long index() {
            return index;
        }

        public StoreSnapshot store() {
            return store;
        }

        public synchronized MachineState machine() {
            if (machine == null) {
                machine = machineState(writers, config);
            }
            return machine;
        }
    }

    /**
     * Begins a snapshot of the state applied so far: the store's pages follow through
     * {@code sink} as {@link StoreSnapshot#writePages} runs, on any thread, while apply goes on.
     */
    public Snapshot beginSnapshot(StoreSnapshot.PageSink sink) {
        return new Snapshot(appliedIndex, store.beginSnapshot(sink), dedupe.freeze(), config);
    }

    private static MachineState machineState(DedupeTable.Frozen writers, ClusterConfig config) {
        MachineState.Builder machine = MachineState.newBuilder().setFormatVersion(MACHINE_STATE_FORMAT_VERSION)
                .addAllWriters(writers.toProto());
        if (config != null) {
            machine.setConfig(config);
        }
        return machine.build();
    }

    /**
     * Replaces all replicated state with a snapshot's, taken at {@code index}. Returns the store it
     * replaced: free it once {@link #retiredStoreUnread} says no reader can still hold it.
     *
     * @throws ReplicaStopException when the snapshot is of another shape or another cluster
     */
    public Store restore(long index, StoreSnapshotHeader header, StoreSnapshot.PageSource pages, MachineState machine)
            throws IOException {
        if (machine.getFormatVersion() > MACHINE_STATE_FORMAT_VERSION) {
            throw new ReplicaStopException("snapshot state format " + machine.getFormatVersion()
                    + " is newer than this binary understands (" + MACHINE_STATE_FORMAT_VERSION + "); upgrade it");
        }
        refuseOtherShape(StoreSnapshot.configOf(header.getShape()));
        ClusterConfig current = config;
        if (machine.hasConfig() && current != null && !machine.getConfig().getClusterId().equals(current.getClusterId())) {
            throw new ReplicaStopException("the snapshot belongs to cluster " + machine.getConfig().getClusterId()
                    + " but this node is in cluster " + current.getClusterId());
        }
        Store restored = StoreSnapshot.restore(header, pages, hashSeed, epochs, localReads);
        if (trackSizes) {
            restored.trackSizes();
        }
        restored.recordEvictionsInto(evictions);
        Store previous = store;
        store = restored;
        epochs.advance();   // readers that enter from now on see the restored store
        retiredAtEpoch = epochs.current();
        dedupe.restore(machine.getWritersList());
        if (machine.hasConfig()) {
            config = machine.getConfig();
        }
        appliedIndex = index;
        return previous;
    }

    /** Whether no reader can still hold the store the last {@link #restore} replaced. Any thread. */
    public boolean retiredStoreUnread() {
        return epochs.oldestActive() >= retiredAtEpoch;
    }

    /**
     * {@code "<applied index>:<sha256>"} over all replicated state: the store (items, LRU order,
     * slab accounting, CAS counter, flush marker, clock), the dedupe table and the cluster config.
     * Walks every item: the caller keeps apply from running meanwhile.
     */
    public String digest() {
        return digest(appliedIndex, store.digest(), machineState(dedupe.freeze(), config));
    }

    /**
     * The same digest for a snapshot image whose pages are already in memory (a mapped file):
     * taken off the apply thread, it walks the image instead of the live store, so apply goes on.
     */
    public static String digestOf(Snapshot snapshot, StoreSnapshot.PageAddresses pages) {
        return digest(snapshot.index(), StoreSnapshot.digestOf(snapshot.store().header(), pages), snapshot.machine());
    }

    private static String digest(long index, String storeDigest, MachineState machine) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(storeDigest.getBytes(StandardCharsets.US_ASCII));
            sha.update(machine.toByteArray());
            return index + ":" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    @Override
    public void close() {
        store.close();
    }
}
