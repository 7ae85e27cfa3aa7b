package io.raftcached.raft;

import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import io.raftcached.proto.JoinRequest;
import io.raftcached.proto.JoinResponse;
import io.raftcached.proto.NodeInfoRequest;
import io.raftcached.proto.PromoteRequest;
import io.raftcached.proto.PromoteResponse;
import io.raftcached.store.StoreSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Membership and introspection RPCs between nodes: node info (bootstrap, readiness, status),
 * a learner joining under a fresh incarnation, and a caught-up learner's promotion to voter.
 */
final class ControlProcessors {
    private static final Logger LOG = LoggerFactory.getLogger(ControlProcessors.class);

    private ControlProcessors() {}

    /** The processors, registered once on {@code host}'s server; each request runs on its group. */
    static List<RpcProcessor<?>> all(RaftHost host, Executor executor) {
        return List.of(
                host.new Dispatch<>(NodeInfoRequest.class, executor, request -> null,
                        (ignored, context, request) -> context.sendResponse(host.nodeInfo(request.getGroup()))),
                host.new Dispatch<>(JoinRequest.class, executor, request -> host.groupFor(request.getRaftGroup(), 0),
                        ControlProcessors::join),
                host.new Dispatch<>(PromoteRequest.class, executor, request -> host.groupFor(request.getRaftGroup(), 0),
                        ControlProcessors::promote));
    }

    /** On the leader: add the joiner as a learner with an incarnation above any it had. */
    private static void join(ClusterNode cluster, RpcContext context, JoinRequest request) {
        if (!cluster.isLeader()) {
            context.sendResponse(JoinResponse.newBuilder().setOk(false).setMessage("not the leader")
                    .setLeaderHint(cluster.leaderHint()).build());
            return;
        }
        if (!request.getRaftGroup().isEmpty() && !request.getRaftGroup().equals(cluster.raftGroup())) {
            // It found its peers in another group: a member of another cluster answered its probe.
            context.sendResponse(JoinResponse.newBuilder().setOk(false).setRefused(true).setMessage("refusing to join:"
                    + " this cluster runs Raft group " + cluster.raftGroup() + " but the joiner found its peers in group "
                    + request.getRaftGroup() + " (another cluster at one of its --peers' addresses?)").build());
            return;
        }
        io.raftcached.proto.ClusterConfig config = cluster.clusterConfig();
        if (config != null && request.hasShape()
                && !StoreSnapshot.configOf(request.getShape()).equals(StoreSnapshot.configOf(config.getShape()))) {
            // Refused before it is added: a learner of another shape would only stop at its first
            // apply and stay in the configuration.
            String message = "refusing to join cluster " + config.getClusterId() + ": it was created with "
                    + StoreSnapshot.configOf(config.getShape()).flagsText() + " but this node was started with "
                    + StoreSnapshot.configOf(request.getShape()).flagsText() + "; start it with the cluster's values";
            context.sendResponse(JoinResponse.newBuilder().setOk(false).setRefused(true).setMessage(message).build());
            return;
        }
        Configuration conf = cluster.currentConfiguration();
        int highest = -1;
        List<PeerId> staleLearners = new ArrayList<>();
        for (PeerId peer : conf.getPeers()) {
            if (peer.getEndpoint().toString().equals(request.getEndpoint())) {
                highest = Math.max(highest, peer.getIdx());
            }
        }
        for (PeerId learner : conf.getLearners()) {
            if (learner.getEndpoint().toString().equals(request.getEndpoint())) {
                highest = Math.max(highest, learner.getIdx());
                staleLearners.add(learner);   // an earlier join that did not finish
            }
        }
        int incarnation = highest + 1;
        PeerId joiner = PeerId.parsePeer(request.getEndpoint() + ":" + incarnation);
        LOG.info("node {} at {} joins as learner {} (earlier identities there stay out of quorum until promotion)",
                request.getNodeId(), request.getEndpoint(), joiner);
        Runnable addJoiner = () -> cluster.raftNode().addLearners(List.of(joiner), status -> context.sendResponse(
                JoinResponse.newBuilder().setOk(status.isOk()).setMessage(String.valueOf(status.getErrorMsg()))
                        .setIncarnation(incarnation).setClusterId(cluster.clusterId()).setRaftGroup(cluster.raftGroup()).build()));
        if (staleLearners.isEmpty()) {
            addJoiner.run();
        } else {
            cluster.raftNode().removeLearners(staleLearners, status -> addJoiner.run());
        }
    }

    /** On the leader: the learner replaces the voters at its address that it supersedes. */
    private static void promote(ClusterNode cluster, RpcContext context, PromoteRequest request) {
        try {
            makeVoter(cluster, context, request);
        } catch (RuntimeException e) {
            LOG.warn("promotion of {} failed", request.getPeerId(), e);
            context.sendResponse(PromoteResponse.newBuilder().setOk(false).setMessage(String.valueOf(e.getMessage())).build());
        }
    }

    private static void makeVoter(ClusterNode cluster, RpcContext context, PromoteRequest request) {
        if (!cluster.isLeader()) {
            context.sendResponse(PromoteResponse.newBuilder().setOk(false).setMessage("not the leader")
                    .setLeaderHint(cluster.leaderHint()).build());
            return;
        }
        PeerId learner = PeerId.parsePeer(request.getPeerId());
        Configuration conf = cluster.currentConfiguration();
        // A learner, or a replacement half-way through promotion (out of the learners, not yet
        // a voter, superseding an older identity at its address). A node removed on purpose
        // is neither, so it cannot vote itself back in.
        boolean replacement = learner != null && conf.getPeers().stream()
                .anyMatch(p -> p.getEndpoint().equals(learner.getEndpoint()) && p.getIdx() < learner.getIdx());
        if (learner == null || conf.getPeers().contains(learner)
                || !conf.getLearners().contains(learner) && !replacement) {
            context.sendResponse(PromoteResponse.newBuilder().setOk(false)
                    .setMessage(request.getPeerId() + " is not a learner of this cluster").build());
            return;
        }
        List<PeerId> voters = new ArrayList<>();
        for (PeerId peer : conf.getPeers()) {
            if (!peer.getEndpoint().equals(learner.getEndpoint())) {
                voters.add(peer);
            }
        }
        voters.add(learner);
        List<PeerId> learners = new ArrayList<>(conf.getLearners());
        learners.remove(learner);
        LOG.info("promoting learner {} to voter; voters become {}", learner, voters);
        // jraft checks the new configuration together with the current one, where the peer is
        // still a learner: drop it from the learners first, then make it a voter.
        Runnable makeVoter = () -> cluster.raftNode().changePeers(new Configuration(voters, learners), status -> context.sendResponse(
                PromoteResponse.newBuilder().setOk(status.isOk()).setMessage(String.valueOf(status.getErrorMsg())).build()));
        if (!conf.getLearners().contains(learner)) {
            makeVoter.run();
            return;
        }
        cluster.raftNode().removeLearners(List.of(learner), status -> {
            if (status.isOk()) {
                makeVoter.run();
            } else {
                context.sendResponse(PromoteResponse.newBuilder().setOk(false)
                        .setMessage("could not take " + learner + " out of the learners: " + status.getErrorMsg()).build());
            }
        });
    }
}
