package io.raftcached.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.closure.ReadIndexClosure;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.NodeImpl;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.Command;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import io.raftcached.proto.NodeInfoResponse;
import io.raftcached.replica.Applied;
import io.raftcached.replica.LogEntries;
import io.raftcached.replica.Replica;
import io.raftcached.store.EvictionLog;
import io.raftcached.store.ItemWalk;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.store.StoreSnapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One raftcached node's part in the Raft group, over jraft: the {@link ReplicatedCache} the server
 * calls. It wires the pieces — {@link Startup} (bootstrap, restart, join), the {@link Replica}
 * under a thin {@link CacheStateMachine}, this node's {@link WriteStream}, the leader's side of
 * forwarding ({@link ForwardProcessor}) and membership ({@link ControlProcessors}), the periodic
 * {@link Duties}, {@link Readiness} — and answers for its status and its lifecycle. Its RPCs
 * arrive through the process's {@link RaftHost}, which a process hosting many groups shares.
 */
public final class ClusterNode implements ReplicatedCache {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    /** Shares of the leader's forward budget, one per follower sending at once: the followers of a five-node cluster. */
    static final int FORWARD_WINDOW_SHARES = 4;

    private final RaftSettings settings;
    private final StoreConfig shape;
    private final FatalStop fatal;
    private final long writerIncarnation = new SecureRandom().nextLong() & Long.MAX_VALUE;
    /** The Raft endpoint this node's group is served on; closed with the node if {@link #ownsHost}. */
    private final RaftHost host;
    /** Whether this node made {@link #host} for itself (one group per process) and so closes it. */
    private final boolean ownsHost;
    private final HostedGroup hosted;
    private final ExecutorService snapshotExecutor = Executors.newSingleThreadExecutor(daemon("raftcached-snapshot"));
    /** Duties, hint flushes and the forward window's last-resort releases (cancelled ones removed at once). */
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, daemon("raftcached-duties"));
    private final Replica replica;
    private final ReadClock readClock = ReadClock.system();
    private final RaftMetrics metrics;
    private final CacheStateMachine machine;
    private final Readiness readiness;
    private final Duties duties;
    private final AccessHints hints = new AccessHints();
    /** Where images of the store for whole-store walks are written while a walk runs. */
    private static final String IMAGE_SCRATCH = "image-scratch";
    private final Promotion promotion;
    private final WriteStream writes;
    private final ForwardProcessor forwardProcessor;
    private final Admission readsWaiting;
    /** On the leader: entries it proposed that jraft holds ({@link #propose}). */
    private final InFlightBudget logBudget;
    /**
     * On a follower: sends within a window of bytes forwarded and not yet answered, a share of the
     * leader's forward budget (the leader is assumed to run with this node's budgets), so that up
     * to {@link #FORWARD_WINDOW_SHARES} followers sending at full speed are not refused.
     */
    private final ForwardSender forwardSender;
    private final RaftEvents events = new RaftEvents();
    private final LeaderPreference leaderPreference = new LeaderPreference();
    private volatile EvictionLog.Sink evictionSink;
    private volatile LongConsumer evictionsDropped;
    private final AtomicBoolean closed = new AtomicBoolean();
    private RaftGroupService group;
    private volatile Node node;
    private volatile PeerId self;
    private volatile NodeIdentity identity;
    private volatile long term;
    private volatile boolean leader;

    private ClusterNode(RaftSettings settings, StoreConfig shape, FatalStop fatal, RaftHost host, HostedGroup hosted,
            RaftMetrics metrics, boolean ownsHost) {
        this.settings = settings;
        this.metrics = metrics;
        this.host = host;
        this.hosted = hosted;
        this.ownsHost = ownsHost;
        this.shape = shape;
        scheduler.setRemoveOnCancelPolicy(true);
        this.fatal = fatal;
        this.replica = new Replica(shape, new SecureRandom().nextLong(), settings.nodeId(), writerIncarnation);
        this.machine = new CacheStateMachine(replica, readClock, snapshotExecutor, new StoreRetirement(scheduler),
                new MachineListener(), fatal, settings.faults().failApplyAtIndex(), metrics);
        this.readiness = new Readiness(machine.appliedWaiters(), settings.maxStalenessMillis(), System::nanoTime);
        this.promotion = new Promotion(host.rpc(), host.controlExecutor(), System::nanoTime, events);
        this.duties = new Duties(new DutyHost(), replica, machine, readiness, settings.snapshotLogBytes(), System::nanoTime);
        this.logBudget = new InFlightBudget(settings.budgets().logBytes(), JraftOptions.PROPOSED_ENTRIES_MAX);
        this.forwardSender = new ForwardSender(new InFlightBudget(settings.budgets().forwardBytes() / FORWARD_WINDOW_SHARES,
                WriteStream.WRITES_PENDING_MAX), this::timedForward, scheduler, settings.writeTimeoutMillis());
        this.forwardProcessor = new ForwardProcessor(this, settings.budgets().forwardBytes(), metrics.forwardedBatchesReceived);
        this.readsWaiting = new Admission(settings.budgets().readsWaitingMax());
        this.writes = new WriteStream(settings.nodeId(), writerIncarnation, settings.writeTimeoutMillis(),
                settings.budgets().writeBytes(), new Transport(), System::nanoTime);
    }

    /**
     * Starts the node: answers peers' probes at once, then bootstraps, restarts from its data
     * directory, or joins an existing cluster as a learner. Returns once jraft runs; the node
     * becomes ready for reads when it has caught up (see {@link #readPermission}).
     *
     * @param fatal how to stop the node when it must not go on (only the server's Main exits)
     */
    public static ClusterNode start(RaftSettings settings, StoreConfig shape, FatalStop fatal)
            throws IOException, InterruptedException {
        RaftHost host = startHost(settings);
        try {
            return start(settings, shape, fatal, host, HostedGroup.ONLY, new RaftMetrics(), true);
        } catch (IOException | InterruptedException | RuntimeException e) {
            host.close();
            throw e;
        }
    }

    /** The process's Raft endpoint, for the groups {@link #startHosted} starts on it. */
    static RaftHost startHost(RaftSettings settings) throws IOException {
        JraftOptions.setProcessWide();
        PeerTls.use(settings.peerTls());
        return RaftHost.start(settings.raftHost(), settings.raftPort());
    }

    /**
     * Starts group {@code hosted} of a node running several, on the shared {@code host}, which
     * the caller closes after the last group ({@link RaftSettings#forGroup}: its own directory and budgets).
     */
    static ClusterNode startHosted(RaftSettings settings, StoreConfig shape, FatalStop fatal, RaftHost host,
            HostedGroup hosted, RaftMetrics metrics) throws IOException, InterruptedException {
        return start(settings.forGroup(hosted), shape, fatal, host, hosted, metrics, false);
    }

    private static ClusterNode start(RaftSettings settings, StoreConfig shape, FatalStop fatal, RaftHost host,
            HostedGroup hosted, RaftMetrics metrics, boolean ownsHost) throws IOException, InterruptedException {
        ClusterNode cluster = new ClusterNode(settings, shape, fatal, host, hosted, metrics, ownsHost);
        try {
            cluster.startUp();
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            // A failed start leaves parts half open, and closing them may throw too: the start's
            // own failure is what the operator must see.
            try {
                cluster.close();
            } catch (RuntimeException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private void startUp() throws IOException, InterruptedException {
        Files.createDirectories(settings.dataDirectory());
        removeLeftoverImages();
        host.add(this);
        Path raftDirectory = settings.dataDirectory().resolve("raft");
        Startup.Outcome outcome = new Startup(settings, shape, host.rpc(), hosted, closed::get).run(raftDirectory);
        identity = outcome.identity();
        self = new PeerId(settings.raftHost(), settings.raftPort(), identity.incarnation());
        Files.createDirectories(raftDirectory);
        settings.logStore().checkMatches(LogStore.logDirectory(settings.dataDirectory()));
        if (settings.logStore() == LogStore.ROCKSDB) {
            LogStorageTuning.register(settings.dataDirectory());
        }
        group = new RaftGroupService(identity.raftGroup(), self,
                JraftOptions.of(settings, machine, raftDirectory, outcome.initialConfiguration(), metrics, hosted),
                host.server(), true);
        node = group.start(false);
        if (node == null) {
            throw new IOException("jraft did not start; see the log above");
        }
        node.addReplicatorStateListener(new PeerWatch(System::nanoTime));
        LOG.info("raft node {} of group {} started in {} ({} log, fsync {})", self, identity.raftGroup(), raftDirectory,
                settings.logStore().flagValue(), settings.fsync() ? "on" : "OFF");
        writes.start();
        scheduler.scheduleWithFixedDelay(duties::run, Duties.PERIOD_MILLIS, Duties.PERIOD_MILLIS, TimeUnit.MILLISECONDS);
        if (!settings.faults().noAccessHints()) {
            replica.localReads().sendHintsTo(hints);
        }
        scheduler.scheduleWithFixedDelay(this::flushHints, AccessHints.FLUSH_PERIOD_MILLIS, AccessHints.FLUSH_PERIOD_MILLIS,
                TimeUnit.MILLISECONDS);
        if (hosted.preferredLeader() != 0) {
            scheduler.scheduleWithFixedDelay(this::preferLeader, LeaderPreference.PERIOD_MILLIS, LeaderPreference.PERIOD_MILLIS,
                    TimeUnit.MILLISECONDS);
        }
    }

    /** Spreads the leaders of a node's groups: see {@link LeaderPreference}. */
    private void preferLeader() {
        Node raft = node;
        if (raft == null || closed.get()) {
            return;
        }
        PeerId target = leaderPreference.transferTarget(leader, self, leader ? readyVoters(raft) : List.of(),
                preferredEndpoint(), System.nanoTime());
        if (target != null) {
            Status status = raft.transferLeadershipTo(target);
            LOG.info("handing leadership of group {} to its preferred leader {}: {}", raftGroup(), target, status);
        }
    }

    /** On the leader: the voters it heard from within an election timeout that are caught up. */
    private List<PeerId> readyVoters(Node raft) {
        List<PeerId> alive;
        try {
            alive = raft.listAlivePeers();
        } catch (IllegalStateException notLeader) {
            return List.of();
        }
        Map<String, Long> lag = FollowerLag.of(raft, currentConfiguration(), self);
        return alive.stream().filter(peer -> lag.getOrDefault(peer.getEndpoint().toString(), Long.MAX_VALUE)
                <= LeaderPreference.CAUGHT_UP_ENTRIES).toList();
    }

    /** The Raft address of this group's preferred leader, from {@code --peers}; empty when it is none of them. */
    private String preferredEndpoint() {
        return settings.peers().stream().filter(peer -> peer.nodeId() == hosted.preferredLeader()).map(RaftSettings.Peer::endpoint)
                .findFirst().orElse("");
    }

    /** Hints ride the write path like a client's write, but only when it has room: reads never hold writes back. */
    private CompletableFuture<?> flushHints() {
        try {
            return hints.flush(replica.memoryManagementEnabled(),
                    (command, sizeBytes) -> writes.admitsNow(sizeBytes) ? writes.submit(command) : null);
        } catch (RuntimeException e) {
            LOG.warn("sending access hints failed", e);
            return CompletableFuture.completedFuture(null);
        }
    }

    /**
     * Waits (at most the write timeout) until the reads this node served so far have reached the
     * replicated LRU, so that a walk taken next reflects the gets a client sent before it.
     */
    private void awaitReadsHinted() {
        try {
            flushHints().get(settings.writeTimeoutMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            LOG.debug("walking the replica before this node's hints applied: {}", e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Images a walk left when the node stopped in the middle of it (and the digests' old directory). */
    private void removeLeftoverImages() throws IOException {
        for (String name : List.of(IMAGE_SCRATCH, "digest-scratch")) {
            Path directory = settings.dataDirectory().resolve(name);
            if (Files.isDirectory(directory)) {
                try (java.util.stream.Stream<Path> files = Files.walk(directory)) {
                    for (Path file : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                        Files.delete(file);
                    }
                }
            }
        }
    }

    // --- writes ------------------------------------------------------------------------------

    @Override
    public CompletableFuture<StoreResult> submit(Command command) {
        return writes.submit(command);
    }

    @Override
    public boolean admitsWrite(long sizeBytes, Runnable onRoom) {
        return writes.admits(sizeBytes, onRoom);
    }

    /** The wall clock this node stamps entries with when it leads (skewed on purpose in fault tests). */
    private long wallClockMillis() {
        return System.currentTimeMillis() + settings.faults().clockOffsetMillis();
    }

    /**
     * The time a leader stamps on an entry: its wall clock, but never behind the time the log has
     * already reached. A leader whose clock is behind a previous leader's thus continues that
     * timeline at real speed instead of freezing apply time (and TTLs) until its clock catches up.
     */
    private long stampMillis() {
        return Math.max(wallClockMillis(), readClock.nowMillis());
    }

    /** The log entry for a batch this leader appends (its own or a follower's). */
    byte[] logEntryForBatch(ByteString batch) {
        return LogEntries.batch(stampMillis(), batch);
    }

    /**
     * Appends {@code entry} to the log as leader once the {@link InFlightBudget} has room for it, and
     * gives the room back when {@code done} runs (applied here, or failed). Waits for room — this
     * is where a writer faster than the log is held back — for at most the write timeout and only
     * while this node leads. Returns false, without running {@code done}, if it did not append.
     */
    boolean propose(Node raft, byte[] entry, Closure done) {
        return propose(raft, entry, done, TimeUnit.MILLISECONDS.toNanos(settings.writeTimeoutMillis()));
    }

    /** {@link #propose} without waiting: false at once, without running {@code done}, if the log has no room now. */
    boolean proposeIfRoom(Node raft, byte[] entry, Closure done) {
        return propose(raft, entry, done, 0);
    }

    private boolean propose(Node raft, byte[] entry, Closure done, long waitNanos) {
        if (!waitForRoom(logBudget, entry.length, waitNanos, () -> leader)) {
            return false;
        }
        raft.apply(new Task(ByteBuffer.wrap(entry), status -> {
            logBudget.release(entry.length);
            done.run(status);
        }));
        return true;
    }

    /** Takes room in {@code budget}, waiting at most {@code waitNanos}, while {@code stillWanted} and not closing. */
    private boolean waitForRoom(InFlightBudget budget, long sizeBytes, long waitNanos, BooleanSupplier stillWanted) {
        try {
            return budget.acquire(sizeBytes, waitNanos, () -> !closed.get() && stillWanted.getAsBoolean());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A forwarded write committed: see {@link Duties#proposeTick}. */
    void announceCommit() {
        duties.proposeTick();
    }

    private final class Transport implements WriteStream.Transport {
        @Override
        public WriteStream.Route route() {
            if (node == null) {
                return WriteStream.Route.NONE;
            }
            return leader ? WriteStream.Route.LOCAL : leaderHint().isEmpty() ? WriteStream.Route.NONE : WriteStream.Route.FORWARDED;
        }

        @Override
        public void abandoned(int count, long timeoutMillis) {
            events.emit("type=raft_writes_abandoned writes=" + count + " timeout_ms=" + timeoutMillis);
        }

        @Override
        public void send(byte[] batch, Runnable onFailure) {
            Node raft = node;
            if (raft == null) {
                onFailure.run();
                return;
            }
            // The batch is never changed once built, so the entry and the request wrap it instead of copying it.
            if (leader) {
                boolean proposed = propose(raft, logEntryForBatch(UnsafeByteOperations.unsafeWrap(batch)), status -> {
                    if (!status.isOk()) {
                        LOG.debug("local append failed: {}", status);
                        onFailure.run();
                    }
                });
                if (!proposed) {
                    onFailure.run();
                }
                return;
            }
            String target = leaderHint();
            if (target.isEmpty()) {
                onFailure.run();
                return;
            }
            forwardSender.send(target, batch, () -> !closed.get() && !leader && target.equals(leaderHint()), reason -> {
                metrics.forwardFailures.inc();
                events.emit("type=raft_forward_failed leader=" + target + " status=" + reason + " bytes=" + batch.length);
                onFailure.run();
            });
        }
    }

    /** Forwards a batch to the leader, counted and timed until its answer (or failure). */
    private void timedForward(String target, ForwardRequest request, long timeoutMillis, Consumer<ForwardResponse> done) {
        metrics.forwardedBatches.inc();
        long sentNanos = System.nanoTime();
        // Stamped with this node's group, so a leader of another cluster at the address refuses it (the batch is shared, not copied).
        host.rpc().forward(target, request.toBuilder().setRaftGroup(raftGroup()).build(), timeoutMillis, response -> {
            metrics.forwardSeconds.observe(RaftMetrics.secondsSince(sentNanos));
            done.accept(response);
        });
    }

    // --- reads ---------------------------------------------------------------------------------

    @Override
    public Store.ReadOutcome read(byte[] key, long readNowMillis, Store.Lookup lookup, Store.ItemVisitor visitor) {
        return replica.read(key, readNowMillis, lookup, visitor);
    }

    @Override
    public Store store() {
        return replica.store();
    }

    @Override
    public long readClockMillis() {
        return readClock.nowMillis();
    }

    @Override
    public ReadPermission readPermission() {
        return readiness.permission(leader);
    }

    @Override
    public boolean admitsRead(Runnable onRoom) {
        return readsWaiting.admits(onRoom);
    }

    /**
     * ReadIndex through the leader and a quorum, then this node's apply up to that index: bounded
     * by {@code --write-timeout-ms} (SERVER_ERROR after it, never a hung connection) and, with the
     * reads admitted by {@link #admitsRead}, by {@link MemoryBudgets#readsWaitingMax}.
     */
    @Override
    public CompletableFuture<Void> linearizableBarrier() {
        CompletableFuture<Void> barrier = new CompletableFuture<>();
        Node raft = node;
        if (raft == null) {
            barrier.completeExceptionally(new IllegalStateException("not started"));
            return barrier;
        }
        readsWaiting.enter(1);
        barrier.whenComplete((ignored, failure) -> readsWaiting.leave(1));
        raft.readIndex(new byte[0], new ReadIndexClosure() {
            @Override
            public void run(Status status, long index, byte[] context) {
                if (!status.isOk()) {
                    barrier.completeExceptionally(new IllegalStateException("no quorum confirmed the read: " + status.getErrorMsg()));
                    return;
                }
                machine.appliedWaiters().await(index).whenComplete((ignored, failure) -> barrier.complete(null));
            }
        });
        return barrier.orTimeout(settings.writeTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    /** Completes once this replica has applied {@code index}, or fails after the write timeout. */
    CompletableFuture<Void> awaitApplied(long index) {
        return machine.appliedWaiters().await(index).orTimeout(settings.writeTimeoutMillis(), TimeUnit.MILLISECONDS);
    }

    long appliedIndex() {
        return replica.appliedIndex();
    }

    // --- what the membership RPCs and the forward lane need -----------------------------------

    boolean isLeader() {
        return leader;
    }

    Node raftNode() {
        return node;
    }

    /** The committed membership as this node knows it (jraft's list* calls work on the leader only). */
    Configuration currentConfiguration() {
        Node raft = node;
        return raft instanceof NodeImpl impl ? impl.getCurrentConf() : new Configuration();
    }

    String leaderHint() {
        Node raft = node;
        PeerId leaderId = raft == null ? null : raft.getLeaderId();
        return leaderId == null || leaderId.isEmpty() ? "" : leaderId.getEndpoint().toString();
    }

    /** The cluster config this node applied, or null before the first one. */
    ClusterConfig clusterConfig() {
        return replica.config();
    }

    /** This group's position on its node, by which probes find it before they know its name. */
    int ordinal() {
        return hosted.ordinal();
    }

    /** How many groups the node's cluster has. */
    int groupCount() {
        return hosted.count();
    }

    /** The jraft group this node runs in; empty while it starts. */
    String raftGroup() {
        NodeIdentity current = identity;
        return current == null ? "" : current.raftGroup();
    }

    String clusterId() {
        ClusterConfig config = replica.config();
        return config == null ? "" : config.getClusterId();
    }

    // --- status --------------------------------------------------------------------------------

    @Override
    public RaftMetrics metrics() {
        return metrics;
    }

    @Override
    public RaftStatus status() {
        Node raft = node;
        RaftStatus status = new RaftStatus();
        status.nodeId = settings.nodeId();
        status.peerId = self == null ? "" : self.toString();
        status.clusterId = clusterId();
        status.term = term;
        status.appliedIndex = replica.appliedIndex();
        status.ready = readiness.ready();
        status.groupsLed = leader ? 1 : 0;
        status.group = hosted.ordinal();
        status.groupsTotal = hosted.count();
        status.snapshotsInstalled = machine.snapshotsInstalled();
        status.snapshotsSaved = machine.snapshotsSaved();
        status.snapshotsDeferred = machine.snapshotsDeferred();
        status.lastSnapshotBeginMicros = machine.lastSnapshotBeginMicros();
        status.lastSnapshotDumpMillis = machine.lastSnapshotDumpMillis();
        status.abandonedWriteStreams = writes.abandonedStreams();
        status.duplicatesAnswered = replica.duplicatesAnswered();
        status.pendingWrites = writes.pendingWrites();
        status.logBufferBytes = logBudget.heldBytes();
        status.forwardBufferBytes = forwardProcessor.admittedBytes();
        status.forwardsRefusedOtherGroup = forwardProcessor.refusedOtherGroup();
        status.peerTlsRefused = PeerHandshakes.refused();
        status.failure = readiness.failure();
        status.promotion = promotion.describe();
        status.hintWrites = hints.writesSent();
        status.hintKeys = hints.keysSent();
        status.hintBytes = hints.bytesSent();
        status.hintKeysDropped = hints.keysDropped();
        status.sentBytes = ReplicationBytes.sentBytes();
        if (raft != null) {
            Configuration conf = currentConfiguration();
            status.role = RaftStatus.role(raft.getNodeState(), conf.getLearners().contains(self));
            status.leader = leaderHint();
            status.committedIndex = raft.getLastCommittedIndex();
            status.lastLogIndex = raft.getLastLogIndex();
            status.peers = conf.getPeers().stream().map(PeerId::toString).toList();
            status.learners = conf.getLearners().stream().map(PeerId::toString).toList();
            if (leader) {
                status.followerLag = FollowerLag.of(raft, conf, self);
            }
        }
        return status;
    }

    /** The leader's side of forwarding, which the host hands this group's forwarded batches to. */
    ForwardProcessor forwardProcessor() {
        return forwardProcessor;
    }

    NodeInfoResponse nodeInfo() {
        RaftStatus status = status();
        NodeIdentity current = identity;
        NodeInfoResponse.Builder info = NodeInfoResponse.newBuilder().setNodeId(status.nodeId).setPeerId(status.peerId)
                .setClusterId(current == null || current.clusterId().isEmpty() ? status.clusterId : current.clusterId())
                .setHasRaftState(node != null).setRole(status.role).setTerm(status.term).setLeader(status.leader)
                .setCommittedIndex(status.committedIndex).setAppliedIndex(status.appliedIndex)
                .setLastLogIndex(status.lastLogIndex).setClientAddress(settings.clientAddress())
                .addAllPeers(status.peers).addAllLearners(status.learners).setReady(status.ready)
                .setSnapshotsInstalled(status.snapshotsInstalled).setPromotion(status.promotion)
                .setFailure(status.failure == null ? "" : status.failure)
                .setRaftGroup(current == null ? "" : current.raftGroup()).setGroup(hosted.ordinal()).setGroups(hosted.count());
        ClusterConfig config = replica.config();
        if (config != null) {
            info.setClusterShape(config.getShape());
        }
        return info.build();
    }

    /** Walks an image of the state (see {@link StoreImage}), so apply pauses only to begin it. */
    @Override
    public List<String> digests() {
        return List.of(digest());
    }

    String digest() {
        try (StoreImage image = StoreImage.take(machine, imageScratch())) {
            return image.digest();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("could not write the digest's image of the store", e);
        }
    }

    @Override
    public ItemWalk metadump(long classBits) throws IOException {
        awaitReadsHinted();
        StoreImage image = StoreImage.take(machine, imageScratch());
        try {
            return image.walk(classBits);
        } catch (RuntimeException e) {
            image.close();
            throw e;
        }
    }

    private Path imageScratch() {
        return settings.dataDirectory().resolve(IMAGE_SCRATCH);
    }

    @Override
    public void trackSizes() {
        machine.withApplyPaused(r -> {
            r.trackSizes();
            return null;
        });
    }

    @Override
    public SortedMap<Long, Long> sizeHistogram() {
        return replica.store().sizeHistogram();
    }

    @Override
    public RaftEvents events() {
        return events;
    }

    @Override
    public void watchEvictions(EvictionLog.Sink sink, LongConsumer dropped) {
        evictionsDropped = dropped;
        evictionSink = sink;
        replica.evictions().record(sink != null);
    }

    @Override
    public CompletableFuture<Void> snapshotNow() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Node raft = node;
        if (raft == null) {
            done.completeExceptionally(new IllegalStateException("not started"));
            return done;
        }
        raft.snapshot(status -> {
            if (status.isOk()) {
                done.complete(null);
            } else {
                done.completeExceptionally(new IllegalStateException(status.getErrorMsg()));
            }
        });
        return done;
    }

    private final class MachineListener implements CacheStateMachine.Listener {
        @Override
        public void onApplied(Applied applied) {
            // Drained after every entry, also once nobody watches, so a new watcher never sees old evictions.
            EvictionLog.Sink sink = evictionSink;
            long dropped = replica.evictions().drain(sink != null ? sink : evicted -> { });
            if (dropped > 0 && sink != null) {
                evictionsDropped.accept(dropped);
            }
            if (applied instanceof Applied.Batch batch && batch.localResults() != null) {
                writes.onApplied(batch.writer(), batch.firstSeq(), batch.refused() ? null : batch.localResults(),
                        seq -> replica.firstResult(batch.writer(), seq));
            } else if (applied instanceof Applied.Config config && config.adopted()) {
                adoptCluster(config.config());
            }
        }

        @Override
        public void onSnapshotLoaded() {
            ClusterConfig config = replica.config();
            if (config != null) {
                adoptCluster(config);
            }
            writes.catchUp(writerId -> replica.lastSeq(writerId), replica::firstResult);
        }

        @Override
        public void onLeaderChange(boolean isLeader, long newTerm, String leaderEndpoint) {
            leader = isLeader;
            if (newTerm > 0) {
                term = newTerm;
                // Becoming leader or following a new one; stepping down (term -1) is not a new leader yet.
                metrics.leaderChanges.inc();
                if (isLeader) {
                    leaderPreference.becameLeader(System.nanoTime());
                    LOG.info("became leader at term {}", newTerm);
                } else {
                    LOG.info("following leader {} at term {}", leaderEndpoint.isEmpty() ? "(unknown)" : leaderEndpoint, newTerm);
                }
            } else {
                LOG.info("stepped down as leader at term {}", term);
            }
            // onLeaderStop passes no term: the node stepped down and waits for the next leader
            events.emit("type=raft_leader role=" + (isLeader ? "leader" : newTerm > 0 ? "follower" : "stepped_down")
                    + " term=" + term);
            Node raft = node;
            if (isLeader && raft != null) {
                readiness.leading(raft.getLastLogIndex());
            }
            forwardSender.leaderChanged();
            writes.leaderChanged();
        }

        @Override
        public void onRaftError(String reason) {
            readiness.fail(reason);
            events.emit("type=raft_error reason=" + reason.replace(' ', '_'));
        }

        @Override
        public void onConfigurationCommitted(String members, String learners) {
            events.emit("type=raft_membership members=" + members.replace(" ", "") + " learners=" + learners.replace(" ", ""));
        }

        @Override
        public void onSnapshot(String what, long index) {
            events.emit("type=raft_snapshot status=" + what + " index=" + index);
        }
    }

    /**
     * The cluster's config reached this node: it must be the cluster this node belongs to, and the
     * node records the cluster's id and shape so a restart with other flags is refused up front.
     */
    private void adoptCluster(ClusterConfig config) {
        NodeIdentity current = identity;
        if (current == null) {
            return;
        }
        if (!current.clusterId().isEmpty() && !current.clusterId().equals(config.getClusterId())) {
            fatal.stop("this node belongs to cluster " + current.clusterId() + " but the log is of cluster "
                    + config.getClusterId(), null);
            return;
        }
        String clusterShape = StoreSnapshot.configOf(config.getShape()).flagsText();
        if (current.clusterId().equals(config.getClusterId()) && current.shape().equals(clusterShape)) {
            return;
        }
        identity = current.withCluster(config.getClusterId(), clusterShape);
        try {
            identity.save(settings.dataDirectory());
        } catch (IOException e) {
            fatal.stop("could not record the cluster id in " + settings.dataDirectory() + ": " + e.getMessage(), e);
        }
    }

    private final class DutyHost implements Duties.Host {
        @Override
        public Node raft() {
            return closed.get() ? null : node;
        }

        @Override
        public boolean leader() {
            return leader;
        }

        @Override
        public long stampMillis() {
            return ClusterNode.this.stampMillis();
        }

        @Override
        public void promote(Node raft) {
            if (!leader) {
                promotion.maybeRequest(self, identity.incarnation(), raftGroup(), currentConfiguration(), readiness.ready(),
                        leaderHint());
            }
        }
    }

    // --- lifecycle -----------------------------------------------------------------------------

    /**
     * Lets this node's writes in flight finish, then, if this node leads, hands leadership to the
     * most up-to-date follower so the cluster does not wait out an election timeout. Bounded by
     * {@code timeoutMillis}.
     */
    @Override
    public void handOver(long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (writes.pendingWrites() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        Node raft = node;
        if (raft == null || !leader || currentConfiguration().getPeers().size() < 2) {
            return;
        }
        Status status = raft.transferLeadershipTo(PeerId.ANY_PEER);
        if (!status.isOk()) {
            LOG.warn("could not hand leadership over before stopping: {}", status);
            return;
        }
        while (leader && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        LOG.info(leader ? "leadership hand-over did not finish in time; stopping anyway"
                : "handed leadership over to {}", leaderHint());
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        scheduler.shutdownNow();
        writes.close();
        if (group != null) {
            group.shutdown();
            try {
                group.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        host.remove(this);
        // jraft was given the server as shared, so its group leaves it running: the host's maker closes it.
        if (ownsHost) {
            host.close();
        }
        forwardProcessor.close();
        snapshotExecutor.shutdown();
        try {
            snapshotExecutor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }
}
