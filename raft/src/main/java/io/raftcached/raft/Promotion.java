package io.raftcached.raft;

import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import io.raftcached.proto.PromoteRequest;
import io.raftcached.proto.PromoteResponse;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A learner that replaced a lost identity asks the leader to make it a voter once it has caught
 * up. Failed attempts back off from {@link #RETRY_MIN_MILLIS} to {@link #RETRY_MAX_MILLIS}, and
 * where things stand is part of the node's status, so an operator sees a promotion that does not
 * happen instead of a silent retry loop.
 */
final class Promotion {
    private static final Logger LOG = LoggerFactory.getLogger(Promotion.class);
    static final long RETRY_MIN_MILLIS = 2_000;
    static final long RETRY_MAX_MILLIS = 60_000;
    private static final int PROMOTE_TIMEOUT_MILLIS = 10_000;

    private final RaftRpc rpc;
    private final Executor executor;
    private final LongSupplier nanoTime;
    private volatile boolean inFlight;
    private volatile long nextAttemptNanos;
    private volatile long retryMillis = RETRY_MIN_MILLIS;
    private volatile int failedAttempts;
    private volatile String lastFailure = "";

    private final RaftEvents events;

    Promotion(RaftRpc rpc, Executor executor, LongSupplier nanoTime, RaftEvents events) {
        this.events = events;
        this.rpc = rpc;
        this.executor = executor;
        this.nanoTime = nanoTime;
    }

    /**
     * One duty round: asks for promotion if this node is a learner (or a replacement not yet in
     * the voters) that is ready, knows a leader, and is not waiting out a backoff.
     */
    void maybeRequest(PeerId self, int incarnation, String raftGroup, Configuration conf, boolean ready, String leader) {
        if (!ready || inFlight || leader.isEmpty() || nanoTime.getAsLong() < nextAttemptNanos) {
            return;
        }
        boolean learner = conf.getLearners().contains(self) || !conf.getPeers().contains(self) && incarnation > 0;
        if (!learner) {
            return;
        }
        inFlight = true;
        executor.execute(() -> {
            PromoteResponse response = rpc.call(leader, PromoteRequest.newBuilder().setPeerId(self.toString()).setRaftGroup(raftGroup).build(),
                    PromoteResponse.class, PROMOTE_TIMEOUT_MILLIS);
            if (response == null || !response.getOk()) {
                failedAttempts++;
                lastFailure = response == null ? "no answer from " + leader : response.getMessage();
                nextAttemptNanos = nanoTime.getAsLong() + TimeUnit.MILLISECONDS.toNanos(retryMillis);
                LOG.info("promotion of {} not done yet (attempt {}): {}; next try in {} ms", self, failedAttempts,
                        lastFailure, retryMillis);
                events.emit("type=raft_promotion member=" + self + " status=refused attempt=" + failedAttempts
                        + " next_try_ms=" + retryMillis);
                retryMillis = Math.min(RETRY_MAX_MILLIS, retryMillis * 2);
            } else {
                failedAttempts = 0;
                retryMillis = RETRY_MIN_MILLIS;
                LOG.info("promoted {} to voter", self);
                events.emit("type=raft_promotion member=" + self + " status=promoted");
            }
            inFlight = false;
        });
    }

    /** For status: empty unless a promotion is pending or failing. */
    String describe() {
        if (failedAttempts == 0) {
            return "";
        }
        return "awaiting promotion to voter: " + failedAttempts + " attempts failed, last: " + lastFailure;
    }
}
