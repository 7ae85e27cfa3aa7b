package io.raftcached.raft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.closure.ReadIndexClosure;
import com.alipay.sofa.jraft.entity.Task;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.replica.LogEntries;
import io.raftcached.replica.Replica;
import io.raftcached.store.StoreSnapshot;
import java.nio.ByteBuffer;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a node does every {@link #PERIOD_MILLIS} besides serving: a new leader names the cluster
 * (the first config entry), an idle leader moves replicated time forward with a tick entry, the
 * log-size snapshot trigger fires, a ReadIndex round confirms the leader (readiness, staleness),
 * and a learner that replaced a lost identity asks for promotion.
 */
final class Duties {
    private static final Logger LOG = LoggerFactory.getLogger(Duties.class);
    static final long PERIOD_MILLIS = 100;
    /** An idle leader proposes a tick this long after the last applied entry. */
    static final long TICK_IDLE_MILLIS = 1_000;
    /**
     * After a snapshot the log-size trigger asked for failed (deferred while a store image is
     * written, say), it waits this long before asking again rather than at every round: each
     * attempt makes and removes a snapshot directory and jraft logs it.
     */
    static final long SNAPSHOT_RETRY_MILLIS = 1_000;

    /** The parts of the node the duties look at; {@link ClusterNode} provides them. */
    interface Host {
        /** jraft's node, or null before it runs. */
        Node raft();

        boolean leader();

        /** The time a leader stamps on an entry it proposes now. */
        long stampMillis();

        /** Runs the learner promotion duty. */
        void promote(Node raft);
    }

    private final Host host;
    private final Replica replica;
    private final CacheStateMachine machine;
    private final Readiness readiness;
    private final long snapshotLogBytes;
    private final LongSupplier nanoTime;
    private final AtomicBoolean configInFlight = new AtomicBoolean();
    private final AtomicBoolean tickInFlight = new AtomicBoolean();
    private final AtomicBoolean snapshotRunning = new AtomicBoolean();
    /** When the log-size trigger may ask again after a failed snapshot; 0: it may now. */
    private volatile long snapshotRetryAtNanos;

    Duties(Host host, Replica replica, CacheStateMachine machine, Readiness readiness, long snapshotLogBytes,
            LongSupplier nanoTime) {
        this.host = host;
        this.replica = replica;
        this.machine = machine;
        this.readiness = readiness;
        this.snapshotLogBytes = snapshotLogBytes;
        this.nanoTime = nanoTime;
    }

    /** One round; called every {@link #PERIOD_MILLIS} on the duty thread. */
    void run() {
        Node raft = host.raft();
        if (raft == null) {
            return;
        }
        try {
            if (host.leader() && replica.config() == null) {
                proposeClusterConfig(raft);
            }
            if (host.leader() && nanoTime.getAsLong() - machine.appliedAtNanos() > TimeUnit.MILLISECONDS.toNanos(TICK_IDLE_MILLIS)) {
                proposeTick();
            }
            if (snapshotLogBytes > 0 && machine.bytesSinceSnapshot() > snapshotLogBytes && snapshotRetryDue()
                    && snapshotRunning.compareAndSet(false, true)) {
                raft.snapshot(status -> {
                    snapshotRetryAtNanos = status.isOk() ? 0 : nanoTime.getAsLong() + TimeUnit.MILLISECONDS.toNanos(SNAPSHOT_RETRY_MILLIS);
                    snapshotRunning.set(false);
                });
            }
            confirmLeader(raft);
            host.promote(raft);
        } catch (RuntimeException e) {
            LOG.warn("periodic duty failed", e);
        }
    }

    private boolean snapshotRetryDue() {
        long retryAtNanos = snapshotRetryAtNanos;
        return retryAtNanos == 0 || nanoTime.getAsLong() - retryAtNanos >= 0;
    }

    private void proposeClusterConfig(Node raft) {
        if (!configInFlight.compareAndSet(false, true)) {
            return;
        }
        ClusterConfig config = ClusterConfig.newBuilder().setClusterId(UUID.randomUUID().toString())
                .setFeatureLevel(Replica.FEATURE_LEVEL).setShape(StoreSnapshot.shapeOf(replica.shape())).build();
        raft.apply(new Task(ByteBuffer.wrap(LogEntries.config(host.stampMillis(), config)), status -> configInFlight.set(false)));
    }

    /**
     * Proposes a tick entry unless one is on its way. Also used when a follower's forwarded write
     * committed and nothing else is queued: the tick carries the new commit index out at once
     * instead of at the next heartbeat, so the follower can answer its client sooner.
     */
    void proposeTick() {
        Node raft = host.raft();
        if (raft != null && host.leader() && tickInFlight.compareAndSet(false, true)) {
            raft.apply(new Task(ByteBuffer.wrap(LogEntries.tick(host.stampMillis())), status -> tickInFlight.set(false)));
        }
    }

    /**
     * A ReadIndex round goes through the leader and a quorum: success proves this node is in touch
     * with a live leader (staleness bound) and tells how far it must apply before it is ready.
     */
    private void confirmLeader(Node raft) {
        raft.readIndex(new byte[0], new ReadIndexClosure() {
            @Override
            public void run(Status status, long index, byte[] context) {
                if (status.isOk()) {
                    readiness.leaderConfirmed(index);
                }
            }
        });
    }
}
