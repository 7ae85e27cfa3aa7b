package io.raftcached.raft;

import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.core.Replicator;
import com.alipay.sofa.jraft.entity.PeerId;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On the leader, one log line when a peer becomes unreachable and one when it is back, from
 * jraft's replicator events; the failed heartbeats in between (every 100 ms or so) say nothing new.
 */
final class PeerWatch implements Replicator.ReplicatorStateListener {
    private static final Logger LOG = LoggerFactory.getLogger(PeerWatch.class);

    private final LongSupplier nanoTime;
    /** Peers reported down, with when. */
    private final Map<PeerId, Long> downSinceNanos = new ConcurrentHashMap<>();

    PeerWatch(LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
    }

    @Override
    public void onCreated(PeerId peer) {
        // A new leader's replicator: the peer is news only once it fails or comes back.
    }

    @Override
    public void onError(PeerId peer, Status status) {
        if (downSinceNanos.putIfAbsent(peer, nanoTime.getAsLong()) == null) {
            LOG.info("peer {} is unreachable: {}", peer.getEndpoint(), status.getErrorMsg());
        }
    }

    @Override
    public void stateChanged(PeerId peer, ReplicatorState state) {
        if (state == ReplicatorState.ONLINE) {
            Long since = downSinceNanos.remove(peer);
            if (since != null) {
                LOG.info("peer {} is back after {} s", peer.getEndpoint(), (nanoTime.getAsLong() - since) / 1_000_000_000L);
            }
        }
    }

    @Override
    public void onDestroyed(PeerId peer) {
        downSinceNanos.remove(peer);
    }
}
