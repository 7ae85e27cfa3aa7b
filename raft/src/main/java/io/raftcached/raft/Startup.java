package io.raftcached.raft;

import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import io.raftcached.proto.JoinRequest;
import io.raftcached.proto.JoinResponse;
import io.raftcached.proto.NodeInfoResponse;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreSnapshot;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.stream.Collectors;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out {@link StartupDecision}: reads the node's identity, asks the initial members about
 * themselves, joins an existing cluster as a learner, and says which identity and initial
 * configuration jraft starts with. All waiting is in rounds of {@link #RETRY_MILLIS}, until the
 * node is closed.
 */
final class Startup {
    private static final Logger LOG = LoggerFactory.getLogger(Startup.class);
    static final int PROBE_TIMEOUT_MILLIS = 1_000;
    private static final int JOIN_TIMEOUT_MILLIS = 5_000;
    private static final long RETRY_MILLIS = 500;
    /** Rounds between two "still waiting" lines in the log. */
    private static final int LOG_EVERY_ROUNDS = 10;

    /** Who the node is and the configuration jraft starts with (ignored by jraft when a log exists). */
    record Outcome(NodeIdentity identity, Configuration initialConfiguration) {}

    private final RaftSettings settings;
    private final StoreConfig shape;
    private final RaftRpc rpc;
    /** Which of the node's groups starts: its peers are probed for the same group. */
    private final HostedGroup hosted;
    private final BooleanSupplier closed;

    Startup(RaftSettings settings, StoreConfig shape, RaftRpc rpc, HostedGroup hosted, BooleanSupplier closed) {
        this.settings = settings;
        this.hosted = hosted;
        this.shape = shape;
        this.rpc = rpc;
        this.closed = closed;
    }

    Outcome run(Path raftDirectory) throws IOException, InterruptedException {
        NodeIdentity stored = NodeIdentity.load(settings.dataDirectory());
        boolean hasRaftState = stored != null && Files.isDirectory(raftDirectory);
        if (!hasRaftState && Files.exists(raftDirectory)) {
            deleteRecursively(raftDirectory);   // Raft state without an identity cannot be trusted
        }
        StartupDecision.Local local = new StartupDecision.Local(settings.nodeId(), shape.flagsText(), stored, hasRaftState,
                settings.peers().size());
        for (int round = 0; !closed.getAsBoolean(); round++) {
            List<StartupDecision.Probe> probes = StartupDecision.needsProbes(local) ? probePeers() : List.of();
            StartupDecision.Decision decision = StartupDecision.decide(local, probes);
            if (decision instanceof StartupDecision.Refuse refuse) {
                throw new IOException(refuse.message());
            }
            if (decision instanceof StartupDecision.Restart restart) {
                NodeIdentity identity = restart.identity();
                LOG.info("restarting node {} (incarnation {}) of cluster {} from {}", identity.nodeId(), identity.incarnation(),
                        identity.clusterId().isEmpty() ? "(not yet named)" : identity.clusterId(), settings.dataDirectory());
                return new Outcome(identity, initialConfiguration());
            }
            if (decision instanceof StartupDecision.Bootstrap) {
                NodeIdentity identity = new NodeIdentity(settings.nodeId(), 0, "", "", bootstrapGroup());
                identity.save(settings.dataDirectory());
                Configuration initial = initialConfiguration();
                LOG.info("bootstrapping a new cluster with {}", initial);
                return new Outcome(identity, initial);
            }
            if (decision instanceof StartupDecision.Join join) {
                NodeIdentity joined = join(join.leaderHint(), join.raftGroup());
                if (joined != null) {
                    joined.save(settings.dataDirectory());
                    return new Outcome(joined, new Configuration());
                }
                logEvery(round, "this node's data directory is empty and a cluster exists: waiting to join it as a learner");
            } else if (decision instanceof StartupDecision.Wait wait) {
                logEvery(round, wait.reason());
            }
            Thread.sleep(RETRY_MILLIS);
        }
        throw new InterruptedException("closed while starting");
    }

    private static void logEvery(int round, String message) {
        if (round % LOG_EVERY_ROUNDS == 0) {
            LOG.info(message);
        }
    }

    private List<StartupDecision.Probe> probePeers() {
        List<StartupDecision.Probe> probes = new ArrayList<>();
        for (RaftSettings.Peer peer : otherPeers()) {
            NodeInfoResponse info = rpc.nodeInfo(peer.endpoint(), hosted.ordinal(), PROBE_TIMEOUT_MILLIS);
            if (info != null) {
                String clusterShape = info.hasClusterShape() ? StoreSnapshot.configOf(info.getClusterShape()).flagsText() : "";
                probes.add(new StartupDecision.Probe(peer.toString(), info.getClusterId(), clusterShape, info.getLeader(),
                        info.getRaftGroup()));
            }
        }
        return probes;
    }

    /**
     * The Raft group of a new cluster, which every initial member computes alike without talking:
     * from {@code --cluster-token} and the initial members (as etcd derives its cluster id from
     * {@code --initial-cluster-token} and the initial cluster). A one-member group draws its own.
     * Clusters with other members or tokens then never answer each other's Raft RPCs. A node's
     * further groups carry their position ({@link HostedGroup#nameSuffix}).
     */
    private String bootstrapGroup() {
        return firstGroupName() + hosted.nameSuffix();
    }

    private String firstGroupName() {
        if (settings.singleMember()) {
            byte[] random = new byte[6];
            new SecureRandom().nextBytes(random);
            return "raftcached-" + HexFormat.of().formatHex(random);
        }
        String members = settings.peers().stream().map(RaftSettings.Peer::toString).sorted().collect(Collectors.joining(","));
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest((settings.clusterToken() + "\n" + members)
                    .getBytes(StandardCharsets.UTF_8));
            return "raftcached-" + HexFormat.of().formatHex(hash, 0, 6);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    /** Asks the leader for a fresh incarnation as a learner; null if no leader accepted this round. */
    private NodeIdentity join(String leaderHint, String probedGroup) throws IOException {
        String endpoint = settings.raftHost() + ":" + settings.raftPort();
        JoinRequest request = JoinRequest.newBuilder().setNodeId(settings.nodeId()).setEndpoint(endpoint)
                .setShape(StoreSnapshot.shapeOf(shape)).setRaftGroup(probedGroup).build();
        String target = leaderHint.isEmpty() ? findLeader() : leaderHint;
        if (target.isEmpty()) {
            return null;
        }
        JoinResponse response = rpc.call(target, request, JoinResponse.class, JOIN_TIMEOUT_MILLIS);
        if (response == null) {
            return null;
        }
        if (response.getRefused()) {
            throw new IOException(response.getMessage());
        }
        if (!response.getOk()) {
            return null;
        }
        LOG.info("joined cluster {} as learner incarnation {}: will be promoted once caught up",
                response.getClusterId(), response.getIncarnation());
        String group = response.getRaftGroup().isEmpty() ? probedGroup : response.getRaftGroup();
        return new NodeIdentity(settings.nodeId(), response.getIncarnation(), response.getClusterId(), "", group);
    }

    private String findLeader() {
        for (RaftSettings.Peer peer : otherPeers()) {
            NodeInfoResponse info = rpc.nodeInfo(peer.endpoint(), hosted.ordinal(), PROBE_TIMEOUT_MILLIS);
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

    private static void deleteRecursively(Path directory) throws IOException {
        try (var paths = Files.walk(directory)) {
            List<Path> all = new ArrayList<>(paths.toList());
            Collections.reverse(all);
            for (Path path : all) {
                Files.delete(path);
            }
        }
    }
}
