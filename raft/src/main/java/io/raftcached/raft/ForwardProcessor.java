package io.raftcached.raft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import io.prometheus.metrics.core.metrics.Counter;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The leader's side of write forwarding: appends a follower's batch to the log, on a lane of its
 * own. A batch is admitted (or refused with OVERLOADED, and the follower retries later) as soon as
 * it arrives, on bolt's I/O thread, against a byte budget for batches admitted and not yet
 * committed; only admitted batches wait for the lane's one thread, which appends them in the
 * order they arrived and never takes jraft's threads. So the leader holds at most the budget of
 * forwarded bytes, however many followers send and however fast. When the log is full
 * ({@link ClusterNode#propose}) the lane waits, admitted batches queue up behind it until the
 * budget is reached, and the rest are refused: the followers slow down to the pace of the log.
 */
final class ForwardProcessor implements RpcProcessor<ForwardRequest> {
    private final ClusterNode cluster;
    private final long budgetBytes;
    private final Counter received;
    private final AtomicLong admittedBytes = new AtomicLong();
    private final ExecutorService lane = Executors.newSingleThreadExecutor(ClusterNode.daemon("raftcached-forward-in"));

    ForwardProcessor(ClusterNode cluster, long budgetBytes, Counter received) {
        this.cluster = cluster;
        this.received = received;
        this.budgetBytes = budgetBytes;
    }

    @Override
    public String interest() {
        return ForwardRequest.class.getName();
    }

    /** Admission runs where the request was decoded: it only counts bytes and answers. */
    @Override
    public Executor executor() {
        return Runnable::run;
    }

    @Override
    public void handleRequest(RpcContext context, ForwardRequest request) {
        if (!cluster.isLeader()) {
            context.sendResponse(notLeader());
            return;
        }
        received.inc();
        long sizeBytes = request.getBatch().size();
        if (!admit(sizeBytes)) {
            context.sendResponse(ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.OVERLOADED).build());
            return;
        }
        lane.execute(() -> append(context, request, sizeBytes));
    }

    /** A batch larger than the whole budget is admitted when nothing else is, so it is not starved. */
    private boolean admit(long sizeBytes) {
        while (true) {
            long admitted = admittedBytes.get();
            if (admitted > 0 && admitted + sizeBytes > budgetBytes) {
                return false;
            }
            if (admittedBytes.compareAndSet(admitted, admitted + sizeBytes)) {
                return true;
            }
        }
    }

    private void append(RpcContext context, ForwardRequest request, long sizeBytes) {
        Node raft = cluster.raftNode();
        if (!cluster.isLeader() || raft == null) {
            admittedBytes.addAndGet(-sizeBytes);
            context.sendResponse(notLeader());
            return;
        }
        byte[] entry = cluster.logEntryForBatch(request.getBatch());
        boolean proposed = cluster.propose(raft, entry, status -> {
            admittedBytes.addAndGet(-sizeBytes);
            ForwardResponse.Builder response = ForwardResponse.newBuilder();
            if (status.isOk()) {
                response.setStatus(ForwardResponse.Status.OK);
                cluster.announceCommit();
            } else {
                response.setStatus(cluster.isLeader() ? ForwardResponse.Status.FAILED : ForwardResponse.Status.NOT_LEADER)
                        .setLeaderHint(cluster.leaderHint()).setMessage(status.getErrorMsg() == null ? "" : status.getErrorMsg());
            }
            context.sendResponse(response.build());
        });
        if (!proposed) {
            // The log had no room within the write timeout (no quorum?), or this node stopped leading meanwhile.
            admittedBytes.addAndGet(-sizeBytes);
            context.sendResponse(cluster.isLeader()
                    ? ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.OVERLOADED).build() : notLeader());
        }
    }

    private ForwardResponse notLeader() {
        return ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.NOT_LEADER).setLeaderHint(cluster.leaderHint()).build();
    }

    /** Forwarded bytes admitted and not yet committed, for stats. */
    long admittedBytes() {
        return admittedBytes.get();
    }

    void close() {
        lane.shutdownNow();
    }
}
