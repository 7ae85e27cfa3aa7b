package io.raftcached.raft;

import com.google.protobuf.UnsafeByteOperations;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A follower's side of write forwarding: sends this node's batches to the leader within a window
 * of bytes sent and not yet answered ({@link ForwardProcessor} is the leader's side). The window
 * is a share of the leader's forward budget, so that followers sending at full speed are not
 * refused: a refused batch costs a resend of every unapplied batch after it. A batch waits for
 * room before it is sent, which holds this node's write stream back; its room comes back exactly
 * once, at the first of: the leader answers (OK or not), the call fails or times out, the leader
 * changes (the write stream then resends every unapplied batch to the new one, which must not
 * wait for a dead leader's calls to time out), and — should the transport never call back —
 * twice the timeout after it was sent.
 */
final class ForwardSender {
    private static final Logger LOG = LoggerFactory.getLogger(ForwardSender.class);

    /** How a request reaches the leader: {@code done} gets its answer, or null on failure or timeout. */
    interface Rpc {
        void forward(String target, ForwardRequest request, long timeoutMillis, Consumer<ForwardResponse> done);
    }

    private final InFlightBudget window;
    private final Rpc rpc;
    private final ScheduledExecutorService scheduler;
    private final long timeoutMillis;
    private final Set<Call> outstanding = ConcurrentHashMap.newKeySet();

    /**
     * @param scheduler runs the last-resort release; cancelled tasks should be removed from it
     *                  ({@link java.util.concurrent.ScheduledThreadPoolExecutor#setRemoveOnCancelPolicy})
     * @param timeoutMillis how long a batch waits for room, and for its answer
     */
    ForwardSender(InFlightBudget window, Rpc rpc, ScheduledExecutorService scheduler, long timeoutMillis) {
        this.window = window;
        this.rpc = rpc;
        this.scheduler = scheduler;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * Sends {@code batch} to {@code target} once the window has room, waiting at most the timeout
     * and while {@code stillWanted} (the target still leads, the node is not closing). Calls
     * {@code onFailure} with why ({@code no_room}, {@code no_answer} or the leader's status) if it
     * was not sent or the leader did not answer OK.
     */
    void send(String target, byte[] batch, BooleanSupplier stillWanted, Consumer<String> onFailure) {
        int sizeBytes = batch.length;
        try {
            if (!window.acquire(sizeBytes, TimeUnit.MILLISECONDS.toNanos(timeoutMillis), stillWanted)) {
                onFailure.accept("no_room");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            onFailure.accept("no_room");
            return;
        }
        Call call = new Call(sizeBytes);
        outstanding.add(call);
        ScheduledFuture<?> backstop = scheduleBackstop(call);
        AtomicBoolean answered = new AtomicBoolean();
        // The batch is never changed once built, so the request wraps it instead of copying it.
        rpc.forward(target, ForwardRequest.newBuilder().setBatch(UnsafeByteOperations.unsafeWrap(batch)).build(), timeoutMillis,
                response -> {
                    if (!answered.compareAndSet(false, true)) {
                        return;
                    }
                    if (backstop != null) {
                        backstop.cancel(false);
                    }
                    call.release();
                    if (response == null || response.getStatus() != ForwardResponse.Status.OK) {
                        LOG.debug("forward to {} failed: {}", target,
                                response == null ? "no answer" : response.getStatus() + " " + response.getMessage());
                        onFailure.accept(response == null ? "no_answer" : response.getStatus().name().toLowerCase(Locale.ROOT));
                    }
                });
    }

    /** Null when the scheduler is shut down: the node is closing and nothing will wait for room again. */
    private ScheduledFuture<?> scheduleBackstop(Call call) {
        try {
            return scheduler.schedule(call::release, 2 * timeoutMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            return null;
        }
    }

    /**
     * Another node leads now: the calls in flight are moot (what they carried is resent), so their
     * room comes back at once. What they hold until they end is bounded by one window per change.
     */
    void leaderChanged() {
        for (Call call : outstanding) {
            call.release();
        }
    }

    /** One batch sent and not yet given back. Holds its size, not the batch: a forgotten call keeps no value bytes alive. */
    private final class Call {
        final int sizeBytes;
        final AtomicBoolean held = new AtomicBoolean(true);

        Call(int sizeBytes) {
            this.sizeBytes = sizeBytes;
        }

        void release() {
            if (held.compareAndSet(true, false)) {
                outstanding.remove(this);
                window.release(sizeBytes);
            }
        }
    }
}
