package io.raftcached.raft;

import com.alipay.sofa.jraft.entity.PeerId;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Spreads the leaders of a node's groups over the nodes: the leader of a group hands leadership
 * to the group's preferred leader (placement's choice, the same on every node) once it has led
 * for {@link #SETTLE_MILLIS} and the preferred node is a voter that is alive and caught up, at
 * most once per {@link #RETRY_MILLIS}. jraft's election priorities would do it by delaying
 * elections, which slows every failover; a transfer moves a leader only while the group is
 * healthy, and the preferred node, once leading, never hands it on, so leadership cannot bounce
 * between two nodes. A preferred node that is down or behind costs nothing: the transfer is not
 * tried (a leader transferring refuses writes until the target takes over, so only a target that
 * takes over at once is asked).
 */
final class LeaderPreference {
    static final long PERIOD_MILLIS = 1_000;
    /** A new leader first serves for this long: a transfer right after an election would stack two elections. */
    static final long SETTLE_MILLIS = 3_000;
    /** A transfer that did not happen (the target lagged or was down) is tried again after this. */
    static final long RETRY_MILLIS = 10_000;
    /** A target at most this many entries behind takes over at once: one round of AppendEntries. */
    static final long CAUGHT_UP_ENTRIES = 64;

    private long leaderSinceNanos;
    private long lastTransferNanos;
    private boolean transferred;

    synchronized void becameLeader(long nowNanos) {
        leaderSinceNanos = nowNanos;
        transferred = false;
    }

    /**
     * The voter to hand leadership to now, or null.
     *
     * @param readyVoters the voters alive and within {@link #CAUGHT_UP_ENTRIES} of this leader
     * @param preferredEndpoint the preferred leader's Raft address; empty for no preference
     */
    synchronized PeerId transferTarget(boolean leader, PeerId self, List<PeerId> readyVoters, String preferredEndpoint,
            long nowNanos) {
        if (!leader || self == null || preferredEndpoint.isEmpty() || self.getEndpoint().toString().equals(preferredEndpoint)
                || nowNanos - leaderSinceNanos < TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS)
                || transferred && nowNanos - lastTransferNanos < TimeUnit.MILLISECONDS.toNanos(RETRY_MILLIS)) {
            return null;
        }
        for (PeerId peer : readyVoters) {
            if (peer.getEndpoint().toString().equals(preferredEndpoint)) {
                transferred = true;
                lastTransferNanos = nowNanos;
                return peer;
            }
        }
        return null;
    }
}
