package io.raftcached.raft;

import java.util.List;
import io.raftcached.store.StoreConfig;

/**
 * What a starting node does, decided from what it finds on disk and what its peers answer: a pure
 * function, so every case is a row in a table test ({@code StartupDecisionTest}). {@link Startup}
 * gathers the inputs (and asks again after {@link Wait}).
 *
 * <ul>
 *   <li>With Raft state and an identity: restart as that identity, unless the directory belongs to
 *       another node id, the node was started with another store shape than its cluster's, or a
 *       peer answers for another cluster or another Raft group.</li>
 *   <li>Without: a one-member group bootstraps at once; otherwise join as a learner if any peer
 *       knows of a cluster (refusing one of another store shape before it is asked to add us),
 *       bootstrap with the initial members once a majority of them answers and none knows a
 *       cluster, and wait for peers otherwise.</li>
 * </ul>
 */
final class StartupDecision {
    private StartupDecision() {}

    /** What the node found on disk and was started with. */
    record Local(int nodeId, String shape, NodeIdentity stored, boolean hasRaftState, int initialMembers) {
        boolean singleMember() {
            return initialMembers <= 1;
        }
    }

    /**
     * A peer's answer to the start-up probe; {@code clusterId} empty when it knows no cluster yet,
     * {@code raftGroup} empty from a node older than group ids.
     */
    record Probe(String peer, String clusterId, String clusterShape, String leader, String raftGroup) {
        /** The group its Raft RPCs carry ({@link NodeIdentity#LEGACY_RAFT_GROUP} from an older node). */
        String groupOrLegacy() {
            return raftGroup.isEmpty() ? NodeIdentity.LEGACY_RAFT_GROUP : raftGroup;
        }
    }

    sealed interface Decision permits Restart, Bootstrap, Join, Wait, Refuse {}

    record Restart(NodeIdentity identity) implements Decision {}

    /** Start a new group with the initial members (all at incarnation 0). */
    record Bootstrap() implements Decision {}

    /** Ask {@code leaderHint} (may be empty: find one) to add this node as a learner of {@code raftGroup}. */
    record Join(String leaderHint, String raftGroup) implements Decision {}

    record Wait(String reason) implements Decision {}

    /** Do not start; {@code message} tells the operator why and what to change. */
    record Refuse(String message) implements Decision {}

    /**
     * @param probes answers of the other initial members that replied (unreachable ones are absent);
     *               ignored by a one-member group
     */
    static Decision decide(Local local, List<Probe> probes) {
        if (local.hasRaftState() && local.stored() != null) {
            return restart(local, probes);
        }
        if (local.singleMember()) {
            return new Bootstrap();
        }
        String leaderHint = "";
        Probe clusterMember = null;
        for (Probe probe : probes) {
            if (!probe.clusterId().isEmpty()) {
                clusterMember = probe;
                if (!probe.leader().isEmpty()) {
                    leaderHint = probe.leader();
                }
            }
        }
        if (clusterMember != null) {
            if (!clusterMember.clusterShape().isEmpty() && !clusterMember.clusterShape().equals(local.shape())) {
                return new Refuse("refusing to join cluster " + clusterMember.clusterId() + ": it was created with "
                        + clusterMember.clusterShape() + " but this node was started with " + local.shape()
                        + StoreConfig.startWith(clusterMember.clusterShape(), local.shape()));
            }
            return new Join(leaderHint, clusterMember.groupOrLegacy());
        }
        int answered = 1 + probes.size();
        if (answered > local.initialMembers() / 2) {
            return new Bootstrap();
        }
        return new Wait("waiting for a majority of the " + local.initialMembers() + " initial members to answer before"
                + " bootstrapping (" + answered + " did)");
    }

    private static Decision restart(Local local, List<Probe> probes) {
        NodeIdentity stored = local.stored();
        if (stored.nodeId() != local.nodeId()) {
            return new Refuse("this data directory belongs to node " + stored.nodeId() + ", not node " + local.nodeId());
        }
        if (!stored.shape().isEmpty() && !stored.shape().equals(local.shape())) {
            return new Refuse("store shape mismatch: this node's cluster has " + stored.shape()
                    + " but it was started with " + local.shape() + StoreConfig.startWith(stored.shape(), local.shape()));
        }
        for (Probe probe : probes) {
            if (!stored.clusterId().isEmpty() && !probe.clusterId().isEmpty() && !probe.clusterId().equals(stored.clusterId())) {
                return new Refuse("this node belongs to cluster " + stored.clusterId() + " but peer " + probe.peer()
                        + " belongs to cluster " + probe.clusterId());
            }
            // An empty group is a peer still starting, or one older than group ids: nothing to compare.
            if (!probe.raftGroup().isEmpty() && !probe.raftGroup().equals(stored.raftGroup())) {
                return new Refuse("this node runs Raft group " + stored.raftGroup() + " but peer " + probe.peer()
                        + " runs " + probe.raftGroup() + ": a node of another cluster at one of --peers' addresses");
            }
        }
        return new Restart(stored);
    }

    /** Whether deciding needs the peers' answers (a restart checks them for another cluster). */
    static boolean needsProbes(Local local) {
        return !local.singleMember();
    }
}
