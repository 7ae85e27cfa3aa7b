package io.raftcached.raft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.ReplicatorGroup;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.core.NodeImpl;
import com.alipay.sofa.jraft.core.Replicator;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.util.ThreadId;
import java.lang.reflect.Field;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The leader's view of how far each follower is behind: its last log index minus the entries its
 * replicator has sent and had acknowledged (next index - 1). jraft keeps the replicators in a
 * private field and offers their next index only through {@link Replicator#getNextIndexUnsafe}, so the
 * group is reached by reflection, once; without it the lag is simply not reported.
 */
final class FollowerLag {
    private static final Field REPLICATOR_GROUP = replicatorGroupField();

    private FollowerLag() {}

    private static Field replicatorGroupField() {
        try {
            Field field = NodeImpl.class.getDeclaredField("replicatorGroup");
            field.setAccessible(true);
            return field;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    static Map<String, Long> of(Node node, Configuration conf, PeerId self) {
        if (REPLICATOR_GROUP == null || !(node instanceof NodeImpl)) {
            return Map.of();
        }
        ReplicatorGroup group;
        try {
            group = (ReplicatorGroup) REPLICATOR_GROUP.get(node);
        } catch (IllegalAccessException e) {
            return Map.of();
        }
        long lastLogIndex = node.getLastLogIndex();
        Map<String, Long> lag = new LinkedHashMap<>();
        for (PeerId peer : conf.listPeers()) {
            put(lag, group, peer, self, lastLogIndex);
        }
        for (PeerId learner : conf.listLearners()) {
            put(lag, group, learner, self, lastLogIndex);
        }
        return lag;
    }

    private static void put(Map<String, Long> lag, ReplicatorGroup group, PeerId peer, PeerId self, long lastLogIndex) {
        if (peer.equals(self)) {
            return;
        }
        ThreadId replicator = group.getReplicator(peer);
        // Unsafe: without the replicator's lock, which it holds while it sends; a stats or a scrape never waits on it.
        long nextIndex = replicator == null ? 0 : Replicator.getNextIndexUnsafe(replicator);
        // No replicator yet (or it is probing): everything is still to be sent.
        lag.put(peer.getEndpoint().toString(), nextIndex <= 0 ? lastLogIndex : Math.max(0, lastLogIndex - (nextIndex - 1)));
    }
}
