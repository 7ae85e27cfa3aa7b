package io.raftcached.raft;

import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import java.nio.ByteBuffer;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * The leader's side of write forwarding: appends a follower's batch to the log. It runs on one
 * thread of its own, so batches from one follower are appended in the order they arrived and
 * forwarding never takes jraft's threads; a bounded number of batches may wait for commit, past
 * which the follower is told to retry later instead of the leader queueing without limit.
 */
final class ForwardProcessor implements RpcProcessor<ForwardRequest> {
    static final int BATCHES_PENDING_MAX = 1_024;

    private final ClusterNode cluster;
    private final Semaphore pending = new Semaphore(BATCHES_PENDING_MAX);
    private final ExecutorService executor = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "raftcached-forward-in");
        thread.setDaemon(true);
        return thread;
    });

    ForwardProcessor(ClusterNode cluster) {
        this.cluster = cluster;
    }

    @Override
    public String interest() {
        return ForwardRequest.class.getName();
    }

    @Override
    public Executor executor() {
        return executor;
    }

    @Override
    public void handleRequest(RpcContext context, ForwardRequest request) {
        if (!cluster.isLeader()) {
            context.sendResponse(ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.NOT_LEADER)
                    .setLeaderHint(cluster.leaderHint()).build());
            return;
        }
        if (!pending.tryAcquire()) {
            context.sendResponse(ForwardResponse.newBuilder().setStatus(ForwardResponse.Status.OVERLOADED).build());
            return;
        }
        byte[] entry = cluster.logEntryForBatch(request.getBatch());
        cluster.raftNode().apply(new Task(ByteBuffer.wrap(entry), status -> {
            pending.release();
            ForwardResponse.Builder response = ForwardResponse.newBuilder();
            if (status.isOk()) {
                response.setStatus(ForwardResponse.Status.OK);
                cluster.announceCommit();
            } else {
                response.setStatus(cluster.isLeader() ? ForwardResponse.Status.FAILED : ForwardResponse.Status.NOT_LEADER)
                        .setLeaderHint(cluster.leaderHint()).setMessage(status.getErrorMsg() == null ? "" : status.getErrorMsg());
            }
            context.sendResponse(response.build());
        }));
    }

    void close() {
        executor.shutdownNow();
    }
}
