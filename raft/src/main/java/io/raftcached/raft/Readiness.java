package io.raftcached.raft;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether this node serves local reads. It becomes ready once it has applied up to the commit
 * index a leader confirmed after it started (so a restarted node does not serve what it missed);
 * with {@code --max-staleness-ms}, a follower that has not had a leader confirmed for that long
 * stops serving; a node whose Raft instance failed never serves again.
 */
final class Readiness {
    private static final Logger LOG = LoggerFactory.getLogger(Readiness.class);

    private final AppliedWaiters applied;
    private final long maxStalenessNanos;
    private final LongSupplier nanoTime;
    private volatile boolean ready;
    private volatile boolean targetChosen;
    private volatile long leaderConfirmedNanos;
    private volatile String failure;

    /** @param maxStalenessMillis 0: serve however long no leader was confirmed */
    Readiness(AppliedWaiters applied, long maxStalenessMillis, LongSupplier nanoTime) {
        this.applied = applied;
        this.maxStalenessNanos = TimeUnit.MILLISECONDS.toNanos(maxStalenessMillis);
        this.nanoTime = nanoTime;
        this.leaderConfirmedNanos = nanoTime.getAsLong();
    }

    ReadPermission permission(boolean leader) {
        if (failure != null) {
            return ReadPermission.FAILED;
        }
        if (!ready) {
            return ReadPermission.NOT_READY;
        }
        if (maxStalenessNanos > 0 && !leader && nanoTime.getAsLong() - leaderConfirmedNanos > maxStalenessNanos) {
            return ReadPermission.STALE;
        }
        return ReadPermission.ALLOWED;
    }

    /** A quorum confirmed a leader's commit index {@code readIndex} (a ReadIndex round succeeded). */
    void leaderConfirmed(long readIndex) {
        leaderConfirmedNanos = nanoTime.getAsLong();
        if (!ready && !targetChosen) {
            targetChosen = true;
            applied.await(readIndex).thenRun(() -> becomeReady("caught up to index " + readIndex));
        }
    }

    /**
     * This node leads: it holds every committed entry, so once it has applied its whole log it is
     * caught up, without waiting for the next ReadIndex round (a write it just acknowledged must
     * be readable on the same connection right away).
     */
    void leading(long lastLogIndex) {
        leaderConfirmedNanos = nanoTime.getAsLong();
        if (!ready) {
            applied.await(lastLogIndex).thenRun(() -> becomeReady("leading and caught up to index " + lastLogIndex));
        }
    }

    private void becomeReady(String how) {
        if (!ready) {
            ready = true;
            LOG.info("{}: serving reads", how);
        }
    }

    /** This node's Raft instance stopped: it serves nothing from now on. */
    void fail(String reason) {
        failure = reason;
    }

    boolean ready() {
        return ready && failure == null;
    }

    /** Why this node stopped serving, or null. */
    String failure() {
        return failure;
    }
}
