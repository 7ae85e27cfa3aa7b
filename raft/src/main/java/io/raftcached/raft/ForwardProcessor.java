package io.raftcached.raft;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import io.prometheus.metrics.core.datapoints.CounterDataPoint;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's side of write forwarding: appends a follower's batch to the log. A batch is admitted
 * (or refused with OVERLOADED, and the follower retries later) as soon as it arrives, on bolt's I/O
 * thread, against a byte budget for batches admitted and not yet committed. An admitted batch is
 * appended right there when the log has room and no earlier batch waits; otherwise it waits for the
 * lane's one thread, which appends batches in the order they arrived and never takes jraft's
 * threads. So the leader holds at most the budget of forwarded bytes, however many followers send
 * and however fast. When the log is full ({@link ClusterNode#propose}) the lane waits, admitted
 * batches queue up behind it until the budget is reached, and the rest are refused: the followers
 * slow down to the pace of the log.
 *
 * <p>A batch from a node of another Raft group (another cluster whose node sits at an address this
 * cluster reused) is refused with WRONG_GROUP, counted and logged once per sender host. A batch
 * without a group comes from a node older than the field: accepted, so a rolling upgrade keeps
 * its followers' writes; peer TLS is what keeps strangers out altogether.
 */
final class ForwardProcessor implements RpcProcessor<ForwardRequest> {
    private static final Logger LOG = LoggerFactory.getLogger(ForwardProcessor.class);
    private final ClusterNode cluster;
    private final long budgetBytes;
    private final CounterDataPoint received;
    private final AtomicLong admittedBytes = new AtomicLong();
    private final ExecutorService lane = Executors.newSingleThreadExecutor(ClusterNode.daemon("raftcached-forward-in"));
    /** Batches handed to the lane and not yet appended: while any are, later ones queue behind them. */
    private final AtomicInteger laneBacklog = new AtomicInteger();
    private final LongAdder refusedOtherGroup = new LongAdder();
    private final OncePerHost refusalsLogged = new OncePerHost(System::nanoTime);

    ForwardProcessor(ClusterNode cluster, long budgetBytes, CounterDataPoint received) {
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
        String group = cluster.raftGroup();
        if (!request.getRaftGroup().isEmpty() && !group.isEmpty() && !request.getRaftGroup().equals(group)) {
            context.sendResponse(refuseOtherGroup(context.getRemoteAddress(), request.getRaftGroup(), group));
            return;
        }
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
        // Appended here, on the I/O thread, when nothing waits on the lane (arrival order holds) and
        // the log has room now: one thread hand-off fewer per batch. Otherwise the lane waits for room.
        byte[] entry = null;
        if (laneBacklog.get() == 0) {
            Node raft = cluster.raftNode();
            if (!cluster.isLeader() || raft == null) {
                admittedBytes.addAndGet(-sizeBytes);
                context.sendResponse(notLeader());
                return;
            }
            entry = cluster.logEntryForBatch(request.getBatch());
            if (cluster.proposeIfRoom(raft, entry, committed(context, sizeBytes))) {
                return;
            }
        }
        byte[] built = entry;
        laneBacklog.incrementAndGet();
        lane.execute(() -> {
            try {
                append(context, request, sizeBytes, built);
            } finally {
                laneBacklog.decrementAndGet();
            }
        });
    }

    ForwardResponse refuseOtherGroup(String remoteAddress, String theirGroup, String ourGroup) {
        refusedOtherGroup.increment();
        String host = remoteAddress == null ? "?" : remoteAddress.substring(0, Math.max(0, remoteAddress.lastIndexOf(':')));
        String message = "this node runs Raft group " + ourGroup + ", the sender " + theirGroup
                + ": it belongs to another cluster; not appended";
        if (refusalsLogged.first(host)) {
            LOG.warn("refused writes forwarded from {}: {} (counted in stats raft_forwards_refused_other_group;"
                    + " logged once per host, next after {} minutes)", remoteAddress, message, OncePerHost.REPEAT_AFTER_MINUTES);
        }
        return ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.WRONG_GROUP).setMessage(message).build();
    }

    /** Forwarded batches refused because their sender runs another group, since start. */
    long refusedOtherGroup() {
        return refusedOtherGroup.sum();
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

    /** On the lane: appends the batch ({@code entry} if the I/O thread already built it), waiting for room in the log. */
    private void append(RpcContext context, ForwardRequest request, long sizeBytes, byte[] entry) {
        Node raft = cluster.raftNode();
        if (!cluster.isLeader() || raft == null) {
            admittedBytes.addAndGet(-sizeBytes);
            context.sendResponse(notLeader());
            return;
        }
        boolean proposed = cluster.propose(raft, entry != null ? entry : cluster.logEntryForBatch(request.getBatch()),
                committed(context, sizeBytes));
        if (!proposed) {
            // The log had no room within the write timeout (no quorum?), or this node stopped leading meanwhile.
            admittedBytes.addAndGet(-sizeBytes);
            context.sendResponse(cluster.isLeader()
                    ? ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.OVERLOADED).build() : notLeader());
        }
    }

    /** Answers the follower once its batch is committed (or failed), and gives its bytes back to the budget. */
    private Closure committed(RpcContext context, long sizeBytes) {
        return status -> {
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
        };
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
