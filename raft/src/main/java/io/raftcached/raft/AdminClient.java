package io.raftcached.raft;

import com.alipay.sofa.jraft.CliService;
import com.alipay.sofa.jraft.RaftServiceFactory;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.option.CliOptions;
import io.raftcached.proto.NodeInfoResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@code raftcached cluster ...} does, over the Raft port of any member: it asks that node
 * for the membership, then talks to each member or to the leader through jraft's CLI service.
 * Errors come back as {@link AdminException} with a sentence an operator can act on.
 */
public final class AdminClient implements AutoCloseable {
    /** An admin operation that could not be done, and why. */
    public static final class AdminException extends Exception {
        public AdminException(String message) {
            super(message, null, false, false);
        }
    }

    /** One member's view, or an unreachable member. */
    public record MemberView(String peerId, boolean voter, NodeInfoResponse info) {
        public boolean reachable() {
            return info != null;
        }
    }

    private final RaftRpc rpc = new RaftRpc();
    private final CliService cli;
    private final int timeoutMillis;
    /** Which of each node's Raft groups the operations act on (docs/scale-out.md); 1 for a node of one group. */
    private int group = 1;

    /** {@code peerTls}: the files this process presents and trusts when members talk over TLS ({@link PeerTls.Files#NONE}: plaintext). */
    public AdminClient(int timeoutMillis, PeerTls.Files peerTls) throws java.io.IOException {
        this.timeoutMillis = timeoutMillis;
        PeerTls.use(peerTls);
        registerMessages();
        rpc.start();
        CliOptions options = new CliOptions();
        options.setTimeoutMs(timeoutMillis);
        options.setMaxRetry(3);
        this.cli = RaftServiceFactory.createAndInitCliService(options);
    }

    private static void registerMessages() {
        ProtoSerializer.register(io.raftcached.proto.NodeInfoRequest.getDefaultInstance());
        ProtoSerializer.register(NodeInfoResponse.getDefaultInstance());
    }

    /** From now on, act on each node's group at position {@code ordinal} (1..{@link #groupCount}). */
    public void useGroup(int ordinal) {
        if (ordinal < 1) {
            throw new IllegalArgumentException("groups are numbered from 1, got " + ordinal);
        }
        group = ordinal;
    }

    /** How many Raft groups the node at {@code raftAddress} runs (one for nodes older than groups). */
    public int groupCount(String raftAddress) throws AdminException {
        return Math.max(1, nodeInfo(raftAddress).getGroups());
    }

    /**
     * The node's own view (of the group in use), or, when it holds no replica of that group, the
     * view of the first of the group's members it names that answers; fails if none can be reached.
     */
    public NodeInfoResponse nodeInfo(String raftAddress) throws AdminException {
        NodeInfoResponse info = rpc.nodeInfo(raftAddress, group, timeoutMillis);
        if (info == null) {
            throw new AdminException("cannot reach a raftcached node at " + raftAddress
                    + " (is it running, and is that its Raft address, not its client port?"
                    + (PeerTls.enabled() ? " Do its --peer-ca and this command's trust each other's certificates?)"
                            : " If its members use peer TLS, pass --peer-cert, --peer-key and --peer-ca.)"));
        }
        for (String replica : info.getReplicasList()) {
            NodeInfoResponse member = rpc.nodeInfo(replica, group, timeoutMillis);
            if (member != null && member.getReplicasCount() == 0) {
                return member;
            }
        }
        if (info.getReplicasCount() > 0) {
            throw new AdminException(raftAddress + " holds no replica of group g" + group + ", and none of its members "
                    + info.getReplicasList() + " answered");
        }
        return info;
    }

    /** Every member and learner as the contacted node knows them, each asked for its own view. */
    public List<MemberView> members(String raftAddress) throws AdminException {
        NodeInfoResponse contact = nodeInfo(raftAddress);
        List<MemberView> members = new ArrayList<>();
        for (String peer : contact.getPeersList()) {
            members.add(new MemberView(peer, true, rpc.nodeInfo(endpointOf(peer), group, timeoutMillis)));
        }
        for (String learner : contact.getLearnersList()) {
            members.add(new MemberView(learner, false, rpc.nodeInfo(endpointOf(learner), group, timeoutMillis)));
        }
        if (members.isEmpty()) {
            members.add(new MemberView(contact.getPeerId(), true, contact));
        }
        return members;
    }

    /** The membership a node knows and the Raft group its RPCs carry. */
    private record Group(String id, Configuration conf) {}

    private Group group(String raftAddress) throws AdminException {
        NodeInfoResponse contact = nodeInfo(raftAddress);
        Configuration conf = new Configuration();
        contact.getPeersList().forEach(peer -> conf.addPeer(PeerId.parsePeer(peer)));
        contact.getLearnersList().forEach(learner -> conf.addLearner(PeerId.parsePeer(learner)));
        if (conf.isEmpty()) {
            throw new AdminException(raftAddress + " does not know its cluster's members yet (still starting?)");
        }
        return new Group(groupOf(contact), conf);
    }

    private static String groupOf(NodeInfoResponse info) {
        return info.getRaftGroup().isEmpty() ? NodeIdentity.LEGACY_RAFT_GROUP : info.getRaftGroup();
    }

    /** A member named by host:port (any incarnation) or by its full peer id. */
    private PeerId member(Configuration conf, String name, boolean includeLearners) throws AdminException {
        List<PeerId> matches = new ArrayList<>();
        List<PeerId> candidates = new ArrayList<>(conf.getPeers());
        if (includeLearners) {
            candidates.addAll(conf.getLearners());
        }
        for (PeerId peer : candidates) {
            if (peer.toString().equals(name) || peer.getEndpoint().toString().equals(name)) {
                matches.add(peer);
            }
        }
        if (matches.isEmpty()) {
            throw new AdminException(name + " is not a member of this cluster; members: " + conf);
        }
        if (matches.size() > 1) {
            throw new AdminException(name + " matches several identities " + matches + "; name one with host:port:incarnation");
        }
        return matches.get(0);
    }

    private static void check(Status status, String what) throws AdminException {
        if (!status.isOk()) {
            String message = String.valueOf(status.getErrorMsg());
            RaftError error = status.getRaftError();
            boolean noLeader = error == RaftError.EPERM || error == RaftError.ETIMEDOUT || error == RaftError.EAGAIN
                    || error == RaftError.EHOSTDOWN || error == RaftError.ENOENT
                    || message.contains("No leader") || message.contains("not leader") || message.contains("timeout")
                    || message.contains("Fail to init channel") || message.contains("Fail to get leader");
            if (error == RaftError.ECATCHUP || message.contains("failed to catch up")) {
                throw new AdminException(what + " failed: the new member did not catch up with the leader (" + message
                        + "); is a raftcached node running there, and does the cluster still have a quorum?");
            }
            if (noLeader) {
                throw new AdminException(what + " failed: no leader answered (" + message + "); without a quorum"
                        + " membership cannot change — see `cluster force-recover`");
            }
            throw new AdminException(what + " failed: " + message);
        }
    }

    public void add(String raftAddress, String newPeer, boolean learner) throws AdminException {
        Group group = group(raftAddress);
        Configuration conf = group.conf();
        PeerId peer = PeerId.parsePeer(newPeer);
        if (peer == null) {
            throw new AdminException("a member is host:port or host:port:incarnation, got " + newPeer);
        }
        if (conf.contains(peer) || conf.getLearners().contains(peer)) {
            throw new AdminException(newPeer + " is already a member");
        }
        check(learner ? cli.addLearners(group.id(), conf, List.of(peer))
                : cli.addPeer(group.id(), conf, peer), "adding " + newPeer);
    }

    public void remove(String raftAddress, String name) throws AdminException {
        Group group = group(raftAddress);
        Configuration conf = group.conf();
        PeerId peer = member(conf, name, true);
        if (conf.getLearners().contains(peer)) {
            check(cli.removeLearners(group.id(), conf, List.of(peer)), "removing learner " + peer);
        } else {
            check(cli.removePeer(group.id(), conf, peer), "removing " + peer);
        }
    }

    public void promote(String raftAddress, String name) throws AdminException {
        Group group = group(raftAddress);
        Configuration conf = group.conf();
        PeerId peer = member(conf, name, true);
        if (!conf.getLearners().contains(peer)) {
            throw new AdminException(peer + " is already a voter");
        }
        check(cli.learner2Follower(group.id(), conf, peer), "promoting " + peer);
    }

    public void transferLeader(String raftAddress, String name) throws AdminException {
        Group group = group(raftAddress);
        PeerId target = name == null ? PeerId.ANY_PEER : member(group.conf(), name, false);
        check(cli.transferLeader(group.id(), group.conf(), target), "transferring leadership to " + (name == null ? "any" : target));
    }

    /** Asks one member, or every member, to take a snapshot now. */
    public Map<String, String> snapshot(String raftAddress, String name) throws AdminException {
        Group group = group(raftAddress);
        Configuration conf = group.conf();
        List<PeerId> targets = new ArrayList<>();
        if (name != null) {
            targets.add(member(conf, name, true));
        } else {
            targets.addAll(conf.getPeers());
            targets.addAll(conf.getLearners());
        }
        Map<String, String> outcomes = new LinkedHashMap<>();
        for (PeerId target : targets) {
            Status status = cli.snapshot(group.id(), target);
            outcomes.put(target.toString(), status.isOk() ? "ok" : String.valueOf(status.getErrorMsg()));
        }
        return outcomes;
    }

    /**
     * For a node whose disk is lost for good: removes its old identity from the voters now, so the
     * quorum stops counting it. Started again with an empty data directory, the node joins as a
     * learner under a new incarnation and is promoted once it has caught up.
     */
    public List<String> replace(String raftAddress, String endpoint) throws AdminException {
        Group group = group(raftAddress);
        Configuration conf = group.conf();
        List<String> removed = new ArrayList<>();
        for (PeerId peer : conf.getPeers()) {
            if (peer.getEndpoint().toString().equals(endpoint)) {
                check(cli.removePeer(group.id(), group(raftAddress).conf(), peer), "removing old identity " + peer);
                removed.add(peer.toString());
            }
        }
        if (removed.isEmpty()) {
            throw new AdminException("no voter at " + endpoint + "; members: " + conf);
        }
        return removed;
    }

    /**
     * Quorum loss recovery (jraft resetPeers): makes {@code survivor} believe the membership is
     * {@code members}, whatever the log says. Run on each surviving node. May lose acknowledged
     * writes that only the lost nodes had.
     */
    public void forceRecover(String survivor, List<String> members) throws AdminException {
        Configuration conf = new Configuration();
        for (String member : members) {
            PeerId peer = PeerId.parsePeer(member);
            if (peer == null) {
                throw new AdminException("a member is host:port or host:port:incarnation, got " + member);
            }
            conf.addPeer(peer);
        }
        NodeInfoResponse info = nodeInfo(survivor);
        check(cli.resetPeer(groupOf(info), PeerId.parsePeer(info.getPeerId()), conf), "resetting peers on " + survivor);
    }

    private static String endpointOf(String peerId) {
        PeerId peer = PeerId.parsePeer(peerId);
        return peer == null ? peerId : peer.getEndpoint().toString();
    }

    @Override
    public void close() {
        cli.shutdown();
        rpc.close();
    }
}
