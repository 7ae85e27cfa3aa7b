package io.raftcached.raft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.closure.ReadIndexClosure;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.NodeImpl;
import com.alipay.sofa.jraft.core.State;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.option.ReadOnlyOption;
import com.alipay.sofa.jraft.rpc.RaftRpcServerFactory;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import com.google.protobuf.ByteString;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.Command;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import io.raftcached.proto.JoinRequest;
import io.raftcached.proto.JoinResponse;
import io.raftcached.proto.LogEntry;
import io.raftcached.proto.NodeInfoRequest;
import io.raftcached.proto.NodeInfoResponse;
import io.raftcached.proto.PromoteRequest;
import io.raftcached.proto.PromoteResponse;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One raftcached node's part in the Raft group: the only class the server module talks to.
 * It decides at start whether to bootstrap, restart or rejoin as a learner, runs jraft with the
 * RocksDB log, sends this node's writes through its {@link WriteStream}, answers the leader side
 * of forwarding and membership RPCs, and tells the read path whether local reads are allowed.
 */
public final class ClusterNode implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
    static final String GROUP_ID = "raftcached";
    private static final int FEATURE_LEVEL = 1;
    private static final long DUTY_PERIOD_MILLIS = 100;
    private static final long TICK_IDLE_MILLIS = 1_000;
    private static final int PROBE_TIMEOUT_MILLIS = 1_000;
    /** AppendEntries in flight per follower (jraft: 256); see where it is set. */
    private static final int REPLICATOR_INFLIGHT_MESSAGES = 16;

    /** Whether a local read may be served now. */
    public enum ReadPermission { ALLOWED, NOT_READY, STALE }

    private final RaftSettings settings;
    private final StoreConfig shape;
    private final long writerIncarnation = new SecureRandom().nextLong() & Long.MAX_VALUE;
    private final long hashSeed = new SecureRandom().nextLong();
    private final RaftRpc rpc;
    private final ExecutorService controlExecutor = Executors.newFixedThreadPool(2, daemon("raftcached-control"));
    private final ExecutorService snapshotExecutor = Executors.newSingleThreadExecutor(daemon("raftcached-snapshot"));
    private final ScheduledExecutorService duties = Executors.newSingleThreadScheduledExecutor(daemon("raftcached-duties"));
    private final CacheStateMachine machine;
    private final WriteStream writes;
    private final ForwardProcessor forwardProcessor;
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicBoolean snapshotRunning = new AtomicBoolean();
    private final AtomicBoolean tickInFlight = new AtomicBoolean();
    private RpcServer rpcServer;
    private RaftGroupService group;
    private volatile Node node;
    private volatile PeerId self;
    private volatile NodeIdentity identity;
    private volatile long term;
    private volatile boolean leader;
    private volatile boolean configProposed;
    private volatile boolean ready;
    private volatile long readyTargetIndex = -1;
    private volatile long leaderConfirmedNanos = System.nanoTime();
    private volatile boolean promotionRequested;
    private volatile long nextPromotionAttemptNanos;
    private static final long PROMOTION_RETRY_NANOS = TimeUnit.SECONDS.toNanos(2);
    private volatile String fatalMessage;

    private ClusterNode(RaftSettings settings, StoreConfig shape) {
        this.settings = settings;
        this.shape = shape;
        this.rpc = new RaftRpc();
        this.forwardProcessor = new ForwardProcessor(this);
        this.machine = new CacheStateMachine(settings.nodeId(), writerIncarnation, new Store(shape, hashSeed), hashSeed,
                new SnapshotFiles(), snapshotExecutor, new MachineListener());
        this.writes = new WriteStream(settings.nodeId(), writerIncarnation, settings.writeTimeoutMillis(), new Transport());
    }

    /**
     * Starts the node: answers peers' probes at once, then bootstraps, restarts from its data
     * directory, or joins an existing cluster as a learner. Returns once jraft runs; the node
     * becomes ready for reads when it has caught up (see {@link #readPermission}).
     */
    public static ClusterNode start(RaftSettings settings, StoreConfig shape) throws IOException, InterruptedException {
        ClusterNode cluster = new ClusterNode(settings, shape);
        try {
            cluster.startUp();
            return cluster;
        } catch (IOException | InterruptedException | RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    private void startUp() throws IOException, InterruptedException {
        Files.createDirectories(settings.dataDirectory());
        keepRequestOrder();
        registerMessages();
        rpcServer = RaftRpcServerFactory.createRaftRpcServer(new Endpoint(settings.raftHost(), settings.raftPort()));
        rpcServer.registerProcessor(forwardProcessor);
        ControlProcessors.all(this, controlExecutor).forEach(rpcServer::registerProcessor);
        if (!rpcServer.init(null)) {
            throw new IOException("cannot listen for Raft on " + settings.raftHost() + ":" + settings.raftPort());
        }
        rpc.start();

        Path raftDirectory = settings.dataDirectory().resolve("raft");
        NodeIdentity stored = NodeIdentity.load(settings.dataDirectory());
        boolean hasState = stored != null && Files.isDirectory(raftDirectory);
        Configuration initial = new Configuration();
        if (hasState) {
            checkStoredIdentity(stored);
            identity = stored;
            refuseForeignCluster(stored.clusterId());
            LOG.info("restarting node {} (incarnation {}) of cluster {} from {}", stored.nodeId(), stored.incarnation(),
                    stored.clusterId().isEmpty() ? "(not yet named)" : stored.clusterId(), settings.dataDirectory());
        } else {
            if (Files.exists(raftDirectory)) {
                deleteRecursively(raftDirectory);   // Raft state without an identity cannot be trusted
            }
            identity = decideFreshStart(initial);
            identity.save(settings.dataDirectory());
        }
        self = new PeerId(settings.raftHost(), settings.raftPort(), identity.incarnation());
        if (initial.isEmpty() && hasState) {
            initial = initialConfiguration();   // ignored by jraft when a log exists
        }
        startRaft(raftDirectory, initial);
        writes.start();
        duties.scheduleWithFixedDelay(this::performDuties, DUTY_PERIOD_MILLIS, DUTY_PERIOD_MILLIS, TimeUnit.MILLISECONDS);
    }

    /**
     * Bolt hands a batch of decoded messages to a multi-threaded executor unless told otherwise,
     * which can reorder requests of one connection. jraft turns that off when a node starts, but
     * our RPC server starts earlier (peers probe it during bootstrap), so turn it off first: the
     * forwarding lane and jraft's replication pipeline both rely on per-connection order.
     */
    private static void keepRequestOrder() {
        System.setProperty("bolt.rpc.dispatch-msg-list-in-default-executor", "false");
    }

    private static void registerMessages() {
        ProtoSerializer.register(ForwardRequest.getDefaultInstance());
        ProtoSerializer.register(ForwardResponse.getDefaultInstance());
        ProtoSerializer.register(NodeInfoRequest.getDefaultInstance());
        ProtoSerializer.register(NodeInfoResponse.getDefaultInstance());
        ProtoSerializer.register(JoinRequest.getDefaultInstance());
        ProtoSerializer.register(JoinResponse.getDefaultInstance());
        ProtoSerializer.register(PromoteRequest.getDefaultInstance());
        ProtoSerializer.register(PromoteResponse.getDefaultInstance());
    }

    private void checkStoredIdentity(NodeIdentity stored) throws IOException {
        if (stored.nodeId() != settings.nodeId()) {
            throw new IOException(settings.dataDirectory() + " belongs to node " + stored.nodeId()
                    + ", not node " + settings.nodeId());
        }
        String started = ShapeText.describe(shape);
        if (!stored.shape().isEmpty() && !stored.shape().equals(started)) {
            throw new IOException("store shape mismatch: this node's cluster has " + stored.shape()
                    + " but it was started with " + started + "; start it with the cluster's values");
        }
    }

    /** A node whose data belongs to one cluster must not talk to another one's members. */
    private void refuseForeignCluster(String clusterId) throws IOException {
        if (clusterId.isEmpty()) {
            return;
        }
        for (RaftSettings.Peer peer : otherPeers()) {
            NodeInfoResponse info = rpc.nodeInfo(peer.endpoint(), PROBE_TIMEOUT_MILLIS);
            if (info != null && !info.getClusterId().isEmpty() && !info.getClusterId().equals(clusterId)) {
                throw new IOException("refusing to start: this node belongs to cluster " + clusterId + " but peer "
                        + peer + " belongs to cluster " + info.getClusterId());
            }
        }
    }

    /**
     * With no Raft state: bootstrap with the initial members if no peer knows of a cluster yet and
     * a majority answers; join as a learner if a cluster exists; otherwise wait for peers.
     */
    private NodeIdentity decideFreshStart(Configuration initial) throws IOException, InterruptedException {
        if (settings.singleMember()) {
            initial.addPeer(new PeerId(settings.raftHost(), settings.raftPort(), 0));
            return new NodeIdentity(settings.nodeId(), 0, "", ShapeText.describe(shape));
        }
        for (int attempt = 0; !closed.get(); attempt++) {
            int answered = 1;
            String leaderHint = "";
            boolean clusterExists = false;
            for (RaftSettings.Peer peer : otherPeers()) {
                NodeInfoResponse info = rpc.nodeInfo(peer.endpoint(), PROBE_TIMEOUT_MILLIS);
                if (info == null) {
                    continue;
                }
                answered++;
                if (!info.getClusterId().isEmpty()) {
                    clusterExists = true;
                    if (!info.getLeader().isEmpty()) {
                        leaderHint = info.getLeader();
                    }
                }
            }
            if (clusterExists) {
                return joinAsLearner(leaderHint);
            }
            if (answered > settings.peers().size() / 2) {
                initial.reset();
                for (PeerId peer : initialConfiguration()) {
                    initial.addPeer(peer);
                }
                LOG.info("bootstrapping a new cluster with {}", initial);
                return new NodeIdentity(settings.nodeId(), 0, "", ShapeText.describe(shape));
            }
            if (attempt % 10 == 0) {
                LOG.info("waiting for a majority of {} to answer before bootstrapping ({} of {} did)",
                        settings.peers(), answered, settings.peers().size());
            }
            Thread.sleep(500);
        }
        throw new InterruptedException("closed while waiting for peers");
    }

    /** Asks the leader for a fresh incarnation as a learner; retries until a leader accepts. */
    private NodeIdentity joinAsLearner(String leaderHint) throws IOException, InterruptedException {
        String endpoint = settings.raftHost() + ":" + settings.raftPort();
        JoinRequest request = JoinRequest.newBuilder().setNodeId(settings.nodeId()).setEndpoint(endpoint).build();
        String target = leaderHint;
        for (int attempt = 0; !closed.get(); attempt++) {
            if (target.isEmpty()) {
                target = findLeader();
            }
            if (!target.isEmpty()) {
                JoinResponse response = rpc.call(target, request, JoinResponse.class, 5_000);
                if (response != null && response.getOk()) {
                    LOG.info("joined cluster {} as learner incarnation {}: will be promoted once caught up",
                            response.getClusterId(), response.getIncarnation());
                    return new NodeIdentity(settings.nodeId(), response.getIncarnation(), response.getClusterId(),
                            ShapeText.describe(shape));
                }
                target = response != null ? response.getLeaderHint() : "";
            }
            if (attempt % 10 == 0) {
                LOG.info("this node's data directory is empty and a cluster exists: waiting to join it as a learner");
            }
            Thread.sleep(500);
        }
        throw new InterruptedException("closed while joining");
    }

    private String findLeader() {
        for (RaftSettings.Peer peer : otherPeers()) {
            NodeInfoResponse info = rpc.nodeInfo(peer.endpoint(), PROBE_TIMEOUT_MILLIS);
            if (info != null && !info.getLeader().isEmpty()) {
                return info.getLeader();
            }
        }
        return "";
    }

    private List<RaftSettings.Peer> otherPeers() {
        return settings.peers().stream().filter(p -> p.nodeId() != settings.nodeId()).toList();
    }

    private Configuration initialConfiguration() {
        Configuration conf = new Configuration();
        for (RaftSettings.Peer peer : settings.peers()) {
            conf.addPeer(new PeerId(peer.host(), peer.port(), 0));
        }
        if (conf.isEmpty()) {
            conf.addPeer(new PeerId(settings.raftHost(), settings.raftPort(), 0));
        }
        return conf;
    }

    private void startRaft(Path raftDirectory, Configuration initial) throws IOException {
        Files.createDirectories(raftDirectory);
        LogStorageTuning.register(settings.dataDirectory());
        NodeOptions options = new NodeOptions();
        options.setFsm(machine);
        options.setLogUri(raftDirectory.resolve("log").toString());
        options.setRaftMetaUri(raftDirectory.resolve("meta").toString());
        options.setSnapshotUri(raftDirectory.resolve("snapshot").toString());
        options.setInitialConf(initial);
        options.setElectionTimeoutMs(settings.electionTimeoutMillis());
        options.setSnapshotIntervalSecs(settings.snapshotIntervalSeconds());
        options.setSnapshotLogIndexMargin(0);
        options.setDisableCli(false);
        options.setSharedElectionTimer(false);
        RaftOptions raftOptions = new RaftOptions();
        raftOptions.setSync(settings.fsync());
        raftOptions.setSyncMeta(settings.fsync());
        raftOptions.setReadOnlyOptions(ReadOnlyOption.ReadOnlySafe);
        // Bounds the heap a catching-up follower costs the leader: each in-flight AppendEntries holds
        // up to maxBodySize (512 KB) of entries, about three times over while it is serialized. jraft's
        // 256 let a leader with a 512 MB heap run out of memory resyncing a node with 1 GB of items.
        raftOptions.setMaxReplicatorInflightMsgs(REPLICATOR_INFLIGHT_MESSAGES);
        options.setRaftOptions(raftOptions);
        group = new RaftGroupService(GROUP_ID, self, options, rpcServer, true);
        node = group.start(false);
        if (node == null) {
            throw new IOException("jraft did not start; see the log above");
        }
        LOG.info("raft node {} started in {} (fsync {})", self, raftDirectory, settings.fsync() ? "on" : "OFF");
    }

    // --- writes ------------------------------------------------------------------------------

    /** Sends a write through the log; completes with its result once this node has applied it. */
    public CompletableFuture<StoreResult> submit(Command command) {
        return writes.submit(command);
    }

    /**
     * Whether this node takes another write now; if not, {@code onRoom} runs once earlier writes
     * have drained. Connections use it to stop reading rather than refuse pipelined writes.
     */
    public boolean admitsWrite(Runnable onRoom) {
        return writes.admits(onRoom);
    }

    /** Whether a failure from {@link #submit} left the write's outcome unknown (vs. not written). */
    public static boolean outcomeUnknown(Throwable failure) {
        Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
        return cause instanceof WriteStream.WriteFailedException wfe && wfe.outcomeUnknown;
    }

    /** The wall clock this node stamps entries with when it leads (skewed on purpose in fault tests). */
    private long wallClockMillis() {
        return System.currentTimeMillis() + settings.clockOffsetMillis();
    }

    /**
     * The time a leader stamps on an entry: its wall clock, but never behind the time the log has
     * already reached. A leader whose clock is behind a previous leader's thus continues that
     * timeline at real speed instead of freezing apply time (and TTLs) until its clock catches up.
     */
    private long stampMillis() {
        return Math.max(wallClockMillis(), machine.readClockMillis());
    }

    byte[] logEntryForBatch(ByteString batch) {
        return LogEntry.newBuilder().setFormatVersion(CacheStateMachine.LOG_FORMAT_VERSION)
                .setLeaderTimeMillis(stampMillis()).setBatch(batch).build().toByteArray();
    }

    private final class Transport implements WriteStream.Transport {
        @Override
        public boolean leaderKnown() {
            Node raft = node;
            return raft != null && (leader || raft.getLeaderId() != null && !raft.getLeaderId().isEmpty());
        }

        @Override
        public void send(byte[] batch, Runnable onFailure) {
            Node raft = node;
            if (raft == null) {
                onFailure.run();
                return;
            }
            if (leader) {
                raft.apply(new Task(ByteBuffer.wrap(logEntryForBatch(ByteString.copyFrom(batch))), status -> {
                    if (!status.isOk()) {
                        LOG.debug("local append failed: {}", status);
                        onFailure.run();
                    }
                }));
                return;
            }
            PeerId target = raft.getLeaderId();
            if (target == null || target.isEmpty()) {
                onFailure.run();
                return;
            }
            rpc.forward(target.getEndpoint().toString(), ForwardRequest.newBuilder().setBatch(ByteString.copyFrom(batch)).build(),
                    settings.writeTimeoutMillis(), response -> {
                        if (response == null || response.getStatus() != ForwardResponse.Status.OK) {
                            LOG.debug("forward to {} failed: {}", target, response == null ? "no answer"
                                    : response.getStatus() + " " + response.getMessage());
                            onFailure.run();
                        }
                    });
        }
    }

    // --- reads ---------------------------------------------------------------------------------

    /** The store reads go to; replaced when a snapshot is installed, so fetch it per read. */
    public Store store() {
        return machine.store();
    }

    /** The time reads use: the last applied leader time plus local time elapsed since. */
    public long readClockMillis() {
        return machine.readClockMillis();
    }

    public ReadPermission readPermission() {
        if (!ready) {
            return ReadPermission.NOT_READY;
        }
        long maxStaleness = settings.maxStalenessMillis();
        if (maxStaleness > 0 && !leader
                && System.nanoTime() - leaderConfirmedNanos > TimeUnit.MILLISECONDS.toNanos(maxStaleness)) {
            return ReadPermission.STALE;
        }
        return ReadPermission.ALLOWED;
    }

    /**
     * For a linearizable read: completes once this node has applied everything the leader had
     * committed when the read arrived (jraft ReadIndex, confirmed by a quorum).
     */
    public CompletableFuture<Void> linearizableBarrier() {
        CompletableFuture<Void> barrier = new CompletableFuture<>();
        Node raft = node;
        if (raft == null) {
            barrier.completeExceptionally(new IllegalStateException("not started"));
            return barrier;
        }
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
        return barrier;
    }

    // --- the node's periodic duties ------------------------------------------------------------

    private void performDuties() {
        try {
            Node raft = node;
            if (raft == null || closed.get()) {
                return;
            }
            if (leader && machine.config() == null && !configProposed) {
                proposeClusterConfig(raft);
            }
            if (leader && System.nanoTime() - machine.appliedAtNanos() > TimeUnit.MILLISECONDS.toNanos(TICK_IDLE_MILLIS)) {
                proposeTick(raft);
            }
            if (settings.snapshotLogBytes() > 0 && machine.bytesSinceSnapshot() > settings.snapshotLogBytes()
                    && snapshotRunning.compareAndSet(false, true)) {
                raft.snapshot(status -> snapshotRunning.set(false));
            }
            confirmLeaderAndReadiness(raft);
            maybeRequestPromotion(raft);
        } catch (RuntimeException e) {
            LOG.warn("periodic duty failed", e);
        }
    }

    private void proposeClusterConfig(Node raft) {
        configProposed = true;
        ClusterConfig config = ClusterConfig.newBuilder().setClusterId(UUID.randomUUID().toString())
                .setFeatureLevel(FEATURE_LEVEL).setShape(io.raftcached.store.StoreSnapshot.shapeOf(shape)).build();
        byte[] entry = LogEntry.newBuilder().setFormatVersion(CacheStateMachine.LOG_FORMAT_VERSION)
                .setLeaderTimeMillis(stampMillis()).setConfig(config).build().toByteArray();
        raft.apply(new Task(ByteBuffer.wrap(entry), status -> {
            if (!status.isOk()) {
                configProposed = false;
            }
        }));
    }

    /** An idle leader still moves replicated time forward, so TTLs expire on every replica. */
    private void proposeTick(Node raft) {
        if (tickInFlight.compareAndSet(false, true)) {
            byte[] entry = LogEntry.newBuilder().setFormatVersion(CacheStateMachine.LOG_FORMAT_VERSION)
                    .setLeaderTimeMillis(stampMillis()).build().toByteArray();
            raft.apply(new Task(ByteBuffer.wrap(entry), status -> tickInFlight.set(false)));
        }
    }

    /**
     * A follower learns that its forwarded write committed only from the leader's next append, and
     * answers its client only once it has applied the write. When nothing else is on its way, a
     * tick entry carries the new commit index out at once instead of at the next heartbeat.
     */
    void announceCommit() {
        Node raft = node;
        if (leader && raft != null) {
            proposeTick(raft);
        }
    }

    /**
     * ReadIndex goes through the leader and a quorum: success proves this node is in touch with a
     * live leader (staleness bound) and tells how far it must apply before it is ready.
     */
    private void confirmLeaderAndReadiness(Node raft) {
        raft.readIndex(new byte[0], new ReadIndexClosure() {
            @Override
            public void run(Status status, long index, byte[] context) {
                if (!status.isOk()) {
                    return;
                }
                leaderConfirmedNanos = System.nanoTime();
                if (!ready && readyTargetIndex < 0) {
                    readyTargetIndex = index;
                    machine.appliedWaiters().await(index).thenRun(() -> {
                        ready = true;
                        LOG.info("caught up to index {}: serving reads", index);
                    });
                }
            }
        });
    }

    /**
     * A new leader holds every committed entry: once it has applied its whole log it is caught
     * up, without waiting for the periodic ReadIndex round (a write it just acknowledged must be
     * readable on the same connection right away).
     */
    private void markReadyOnceApplied() {
        Node raft = node;
        if (ready || raft == null) {
            return;
        }
        long lastIndex = raft.getLastLogIndex();
        machine.appliedWaiters().await(lastIndex).thenRun(() -> {
            if (!ready) {
                ready = true;
                LOG.info("leading and caught up to index {}: serving reads", lastIndex);
            }
        });
    }

    /** A learner that replaced a lost identity asks to vote once it has caught up. */
    private void maybeRequestPromotion(Node raft) {
        if (!ready || promotionRequested || leader || System.nanoTime() < nextPromotionAttemptNanos) {
            return;
        }
        PeerId me = self;
        Configuration conf = currentConfiguration();
        boolean learner = conf.getLearners().contains(me) || !conf.getPeers().contains(me) && identity.incarnation() > 0;
        if (!learner || raft.getLeaderId() == null || raft.getLeaderId().isEmpty()) {
            return;
        }
        promotionRequested = true;
        controlExecutor.execute(() -> {
            PromoteResponse response = rpc.call(raft.getLeaderId().getEndpoint().toString(),
                    PromoteRequest.newBuilder().setPeerId(me.toString()).build(), PromoteResponse.class, 10_000);
            if (response == null || !response.getOk()) {
                LOG.info("promotion of {} not done yet: {}", me, response == null ? "no answer" : response.getMessage());
                nextPromotionAttemptNanos = System.nanoTime() + PROMOTION_RETRY_NANOS;
                promotionRequested = false;
            } else {
                LOG.info("promoted {} to voter", me);
            }
        });
    }

    // --- status --------------------------------------------------------------------------------

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

    String clusterId() {
        ClusterConfig config = machine.config();
        return config == null ? "" : config.getClusterId();
    }

    public RaftStatus status() {
        Node raft = node;
        RaftStatus status = new RaftStatus();
        status.nodeId = settings.nodeId();
        status.peerId = self == null ? "" : self.toString();
        status.clusterId = clusterId();
        status.term = term;
        status.appliedIndex = machine.appliedIndex();
        status.ready = ready;
        status.snapshotsInstalled = machine.snapshotsInstalled();
        status.snapshotsSaved = machine.snapshotsSaved();
        status.lastSnapshotBeginMicros = machine.lastSnapshotBeginMicros();
        status.lastSnapshotDumpMillis = machine.lastSnapshotDumpMillis();
        status.abandonedWriteStreams = writes.abandonedStreams();
        status.duplicatesAnswered = machine.duplicatesAnswered();
        status.pendingWrites = writes.pendingWrites();
        status.fatal = fatalMessage;
        if (raft != null) {
            State state = raft.getNodeState();
            Configuration conf = currentConfiguration();
            boolean learner = conf.getLearners().contains(self);
            status.role = state == State.STATE_LEADER ? "leader" : learner ? "learner"
                    : state == State.STATE_FOLLOWER ? "follower" : state.name().replace("STATE_", "").toLowerCase();
            status.leader = leaderHint();
            status.committedIndex = raft.getLastCommittedIndex();
            status.lastLogIndex = raft.getLastLogIndex();
            status.peers = conf.getPeers().stream().map(PeerId::toString).toList();
            status.learners = conf.getLearners().stream().map(PeerId::toString).toList();
        }
        return status;
    }

    NodeInfoResponse nodeInfo() {
        RaftStatus status = status();
        return NodeInfoResponse.newBuilder().setNodeId(status.nodeId).setPeerId(status.peerId)
                .setClusterId(identity == null ? "" : identity.clusterId().isEmpty() ? status.clusterId : identity.clusterId())
                .setHasRaftState(node != null).setRole(status.role).setTerm(status.term).setLeader(status.leader)
                .setCommittedIndex(status.committedIndex).setAppliedIndex(status.appliedIndex)
                .setLastLogIndex(status.lastLogIndex).setClientAddress(settings.clientAddress())
                .addAllPeers(status.peers).addAllLearners(status.learners).setReady(status.ready)
                .setSnapshotsInstalled(status.snapshotsInstalled).build();
    }

    /** Digest of all replicated state at the applied index ("index:sha256"). Pauses apply while it runs. */
    public String digest() {
        return machine.digest();
    }

    /** memcached's item size histogram ({@code stats sizes}); pauses apply while it walks the store. */
    public java.util.SortedMap<Long, Long> sizeHistogram() {
        return machine.withApplyPaused(Store::sizeHistogram);
    }

    /** Takes a snapshot now; completes when it is saved. */
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

    /** Set when the node found it cannot continue (another cluster, another shape). */
    public String fatalMessage() {
        return fatalMessage;
    }

    private final class MachineListener implements CacheStateMachine.Listener {
        @Override
        public void onOwnWritesApplied(io.raftcached.proto.Batch batch, StoreResult[] results,
                java.util.function.LongFunction<StoreResult> earlier) {
            writes.onApplied(batch, results, earlier);
        }

        @Override
        public void onSnapshotLoaded(java.util.function.ToLongFunction<io.raftcached.proto.WriterId> lastSeq,
                java.util.function.BiFunction<io.raftcached.proto.WriterId, Long, StoreResult> firstResult) {
            io.raftcached.proto.WriterId mine = writes.writerId();
            writes.catchUp(lastSeq.applyAsLong(mine), seq -> firstResult.apply(mine, seq));
        }

        @Override
        public void onClusterConfig(ClusterConfig config) {
            NodeIdentity current = identity;
            String clusterShape = ShapeText.describe(io.raftcached.store.StoreSnapshot.configOf(config.getShape()));
            if (!clusterShape.equals(ShapeText.describe(shape))) {
                onFatalMismatch("store shape mismatch: the cluster was created with " + clusterShape
                        + " but this node was started with " + ShapeText.describe(shape));
                return;
            }
            if (current != null && !current.clusterId().isEmpty() && !current.clusterId().equals(config.getClusterId())) {
                onFatalMismatch("this node belongs to cluster " + current.clusterId() + " but the log is of cluster "
                        + config.getClusterId());
                return;
            }
            if (current != null && current.clusterId().isEmpty()) {
                identity = current.withClusterId(config.getClusterId());
                try {
                    identity.save(settings.dataDirectory());
                } catch (IOException e) {
                    LOG.error("could not record the cluster id", e);
                }
            }
        }

        @Override
        public void onLeaderChange(boolean isLeader, long newTerm) {
            leader = isLeader;
            if (newTerm > 0) {
                term = newTerm;
            }
            if (isLeader) {
                leaderConfirmedNanos = System.nanoTime();
                markReadyOnceApplied();
            }
            writes.leaderChanged();
        }

        @Override
        public void onFatalMismatch(String message) {
            fatalMessage = message;
            LOG.error("FATAL: {}", message);
            System.err.println("raftcached: " + message);
            Thread stopper = new Thread(() -> {
                close();
                Runtime.getRuntime().halt(2);
            }, "raftcached-fatal");
            stopper.start();
        }
    }

    // --- lifecycle -----------------------------------------------------------------------------

    /**
     * The first half of a graceful stop: lets this node's writes in flight finish, then, if this
     * node leads, hands leadership to the most up-to-date follower so the cluster does not wait
     * out an election timeout. Bounded by {@code timeoutMillis}.
     */
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
        duties.shutdownNow();
        writes.close();
        if (group != null) {
            group.shutdown();
            try {
                group.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } else if (rpcServer != null) {
            rpcServer.shutdown();
        }
        forwardProcessor.close();
        rpc.close();
        controlExecutor.shutdownNow();
        snapshotExecutor.shutdown();
        try {
            snapshotExecutor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static java.util.concurrent.ThreadFactory daemon(String name) {
        return runnable -> {
            Thread thread = new Thread(runnable, name);
            thread.setDaemon(true);
            return thread;
        };
    }

    private static void deleteRecursively(Path directory) throws IOException {
        try (var paths = Files.walk(directory)) {
            List<Path> all = new ArrayList<>(paths.toList());
            java.util.Collections.reverse(all);
            for (Path path : all) {
                Files.delete(path);
            }
        }
    }
}
