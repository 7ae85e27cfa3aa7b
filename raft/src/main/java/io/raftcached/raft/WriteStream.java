package io.raftcached.raft;

import io.raftcached.proto.Batch;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.WriterId;
import io.raftcached.store.StoreResult;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.LongFunction;
import java.util.function.LongSupplier;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's stream of writes into the Raft log. Every write a client sends through this node
 * gets the next seq of the stream, so a connection's writes apply in the order it sent them.
 * A sender thread packs queued writes into batches (many writes per log entry when busy, one when
 * idle) and sends them to the leader, keeping one or two unapplied ({@link Route}): writes that
 * arrive meanwhile gather into the next batch. A write completes when
 * this node applies it. If a batch may have been lost (leader change, timeout, refusal), every
 * unapplied batch is resent in order: the replicated dedupe table answers duplicates with their
 * first result and refuses batches that arrive ahead of a gap. A write still unapplied after the
 * write timeout fails with "outcome unknown" (or "not written" if it never left this node), and
 * the stream is abandoned for a fresh one so later writes never wait behind it.
 */
final class WriteStream implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WriteStream.class);
    /** Writes queued or in flight (not yet applied) at most; more fail at once. */
    static final int WRITES_PENDING_MAX = 8_192;
    /**
     * Writes admitted before connections are asked to wait ({@link #admits}); the rest of the
     * count absorbs requests (gat with many keys) that are already past that check.
     */
    static final int WRITES_ADMITTED_MAX = WRITES_PENDING_MAX / 2;
    static final int BATCH_COMMANDS_MAX = 256;
    static final int BATCH_BYTES_MAX = 2 * 1024 * 1024;
    private static final long RESEND_BACKOFF_MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    private static final long RESEND_BACKOFF_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    /**
     * Where batches go now, and how many may be unapplied before the sender holds new writes back.
     * Every batch is a log entry that wakes each of jraft's pipeline stages (apply queue, log
     * manager, FSM caller) and the sender, and on a 2-core machine those wake-ups cost more than
     * the writes: a batch sent while the previous one is still in the log would only split what
     * the next one can carry. Held writes lose nothing, since they could not be appended before the
     * batch ahead anyway; a full batch ({@link #BATCH_COMMANDS_MAX}, {@link #BATCH_BYTES_MAX}) goes
     * regardless. One node, sets from 50 connections: a fifth less CPU and 0.6 times the wake-ups
     * per set of sending every batch at once (README, Performance).
     */
    enum Route {
        /** No leader known: nothing is sent. */
        NONE(0),
        /** This node leads: one batch at a time through its own append, fsync and apply. */
        LOCAL(1),
        /** Another node leads: two, so the link carries the next batch while the previous one's answer is on its way. */
        FORWARDED(2);

        final int unappliedBatchesMax;

        Route(int unappliedBatchesMax) {
            this.unappliedBatchesMax = unappliedBatchesMax;
        }
    }

    /** How batches reach the leader. */
    interface Transport {
        /**
         * Called without this stream's lock: it may wait on jraft's node lock, and the lock is
         * taken by answers on bolt's I/O thread, which must never wait on jraft (see {@link InFlightBudget#acquire}).
         */
        Route route();

        /** Sends a serialized {@link Batch}; calls {@code onFailure} if it surely or possibly was not appended. */
        void send(byte[] batch, Runnable onFailure);

        /** {@code count} writes were given up after the write timeout (for watch raft). */
        default void abandoned(int count, long timeoutMillis) {
        }
    }

    private static final class Pending {
        /** Dropped once serialized into its batch, so the value is held once: in the batch. */
        Command command;
        final int sizeBytes;
        /** A meta get's reply needs the item the apply returned, which the dedupe table does not keep. */
        final boolean needsFullResult;
        final CompletableFuture<StoreResult> future = new CompletableFuture<>();
        final long submittedNanos;
        boolean sent;

        Pending(Command command, long submittedNanos) {
            this.command = command;
            this.sizeBytes = command.getSerializedSize();
            this.needsFullResult = command.getOp() == Op.META_GET;
            this.submittedNanos = submittedNanos;
        }
    }

    private static final class Flight {
        final long firstSeq;
        final List<Pending> writes;
        final byte[] batch;

        Flight(long firstSeq, List<Pending> writes, byte[] batch) {
            this.firstSeq = firstSeq;
            this.writes = writes;
            this.batch = batch;
        }

        long lastSeq() {
            return firstSeq + writes.size() - 1;
        }
    }

    private final int nodeId;
    private final long incarnation;
    private final long writeTimeoutNanos;
    private final long admittedBytesMax;
    private final Transport transport;
    private final LongSupplier nanoTime;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private final Thread sender;

    // Guarded by lock.
    private long stream = 1;
    private long nextSeq = 1;
    private long appliedSeq;
    private final ArrayDeque<Pending> queued = new ArrayDeque<>();
    private long queuedBytes;
    /** The sender's last {@link Route#unappliedBatchesMax}: whether a new write is worth waking it for. */
    private int unappliedBatchesMax = Route.LOCAL.unappliedBatchesMax;
    private final ArrayDeque<Flight> inFlight = new ArrayDeque<>();
    private int commandsInFlight;
    /** Writes queued or in flight that this node has not applied yet, and their serialized bytes. */
    private int pendingCount;
    private long pendingBytes;
    private boolean resendNeeded;
    private long resendNotBeforeNanos;
    private long resendBackoffNanos = RESEND_BACKOFF_MIN_NANOS;
    private boolean running = true;
    private long abandonedStreams;
    /** Callers waiting for room, run once the writes in flight drop below half the admission bound. */
    private final java.util.concurrent.ConcurrentLinkedQueue<Runnable> roomWaiters = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * @param nanoTime the monotonic clock for write timeouts and resend backoff; tests pass their own
     *                 and drive the stream with {@link #pump} instead of {@link #start}ing its thread
     */
    WriteStream(int nodeId, long incarnation, long writeTimeoutMillis, long admittedBytesMax, Transport transport,
            LongSupplier nanoTime) {
        this.nodeId = nodeId;
        this.incarnation = incarnation;
        this.writeTimeoutNanos = TimeUnit.MILLISECONDS.toNanos(writeTimeoutMillis);
        this.admittedBytesMax = admittedBytesMax;
        this.transport = transport;
        this.nanoTime = nanoTime;
        this.sender = new Thread(this::sendLoop, "raftcached-write-stream");
        this.sender.setDaemon(true);
    }

    void start() {
        sender.start();
    }

    /**
     * Whether a write of {@code sizeBytes} may be submitted now: fewer than
     * {@link #WRITES_ADMITTED_MAX} writes and at most the byte budget are unapplied (a write larger
     * than the whole budget is admitted alone). When not, {@code onRoom} runs (on the apply thread
     * or the sender) once pending writes have drained to half: callers stop reading instead of failing.
     */
    boolean admits(long sizeBytes, Runnable onRoom) {
        lock.lock();
        try {
            if (hasRoom(sizeBytes)) {
                return true;
            }
            roomWaiters.add(onRoom);
            return false;
        } finally {
            lock.unlock();
        }
    }

    /** {@link #admits} for a write that is dropped rather than waits (access hints). */
    boolean admitsNow(long sizeBytes) {
        lock.lock();
        try {
            return hasRoom(sizeBytes);
        } finally {
            lock.unlock();
        }
    }

    private boolean hasRoom(long sizeBytes) {
        return pendingCount < WRITES_ADMITTED_MAX && (pendingBytes == 0 || pendingBytes + sizeBytes <= admittedBytesMax);
    }

    private void wakeRoomWaitersIfDrained() {
        if (roomWaiters.isEmpty()) {
            return;
        }
        boolean drained;
        lock.lock();
        try {
            drained = pendingCount < WRITES_ADMITTED_MAX / 2 && pendingBytes <= admittedBytesMax / 2;
        } finally {
            lock.unlock();
        }
        if (drained) {
            for (Runnable waiter = roomWaiters.poll(); waiter != null; waiter = roomWaiters.poll()) {
                waiter.run();
            }
        }
    }

    /** Queues a write; the future completes with its result once this node has applied it. */
    CompletableFuture<StoreResult> submit(Command command) {
        Pending pending = new Pending(command, nanoTime.getAsLong());
        lock.lock();
        try {
            if (!running) {
                pending.future.completeExceptionally(new WriteFailedException("node is shutting down", false));
            } else if (pendingCount >= WRITES_PENDING_MAX) {
                pending.future.completeExceptionally(new WriteFailedException("too many writes in flight", false));
            } else {
                queued.add(pending);
                queuedBytes += pending.sizeBytes;
                pendingCount++;
                pendingBytes += pending.sizeBytes;
                if (queued.size() == 1 && inFlight.size() < unappliedBatchesMax || fullBatchQueued()) {
                    wake.signal();
                }
            }
        } finally {
            lock.unlock();
        }
        return pending.future;
    }

    private WriterId writerIdLocked() {
        return WriterId.newBuilder().setNodeId(nodeId).setIncarnation(incarnation).setStream(stream).build();
    }

    /**
     * Completes the writes that a snapshot installed over this node applied without it seeing them
     * one by one, from their first results in the replicated dedupe table.
     */
    void catchUp(ToLongFunction<WriterId> lastSeq, BiFunction<WriterId, Long, StoreResult> firstResult) {
        List<Pending> completed = new ArrayList<>();
        List<StoreResult> completedResults = new ArrayList<>();
        lock.lock();
        try {
            WriterId writer = writerIdLocked();
            completeThrough(lastSeq.applyAsLong(writer), seq -> firstResult.apply(writer, seq), completed, completedResults);
        } finally {
            lock.unlock();
        }
        deliver(completed, completedResults);
        wakeRoomWaitersIfDrained();
    }

    /** Under the lock: marks seqs up to {@code lastSeq} applied, collecting what to complete. */
    private void completeThrough(long lastSeq, LongFunction<StoreResult> firstResult, List<Pending> completed,
            List<StoreResult> completedResults) {
        while (appliedSeq < lastSeq && !inFlight.isEmpty()) {
            long seq = appliedSeq + 1;
            Flight head = inFlight.peekFirst();
            Pending write = head.writes.get((int) (seq - head.firstSeq));
            completed.add(write);
            completedResults.add(firstResult.apply(seq));
            applied(write);
            appliedSeq = seq;
            if (seq == head.lastSeq()) {
                inFlight.removeFirst();
                commandsInFlight -= head.writes.size();
                wake.signal();
            }
        }
    }

    /** Under the lock: a pending write was applied (or given up on). */
    private void applied(Pending write) {
        pendingCount--;
        pendingBytes -= write.sizeBytes;
        assert pendingCount >= 0 && pendingBytes >= 0 : "pending writes went negative";
    }

    private static void deliver(List<Pending> completed, List<StoreResult> results) {
        for (int i = 0; i < completed.size(); i++) {
            StoreResult result = results.get(i);
            // A result recovered from the dedupe table keeps only status, CAS and number: a meta
            // get that went through the log cannot be answered from it, though it was applied.
            if (result == null || result.status == StoreResult.Status.HIT && completed.get(i).needsFullResult) {
                completed.get(i).future.completeExceptionally(new WriteFailedException(
                        "write applied, but its reply was lost while this node installed a snapshot", true));
            } else {
                completed.get(i).future.complete(result);
            }
        }
    }

    /**
     * Called on the apply thread with the results of one of this node's batches, in seq order;
     * {@code results == null} means the batch was refused because an earlier one is missing.
     */
    void onApplied(WriterId writer, long firstSeq, StoreResult[] results, LongFunction<StoreResult> earlier) {
        List<Pending> completed = new ArrayList<>();
        List<StoreResult> completedResults = new ArrayList<>();
        List<Pending> recovered = new ArrayList<>();
        List<StoreResult> recoveredResults = new ArrayList<>();
        lock.lock();
        try {
            if (!running || writer.getStream() != stream) {
                return;   // closed (its writes already failed), or an abandoned stream's late batch
            }
            if (results == null) {
                LOG.debug("batch from seq {} refused: an earlier batch is missing", firstSeq);
                requestResendLocked(0);
                return;
            }
            long seq = firstSeq;
            if (results.length > 0) {
                completeThrough(seq - 1, earlier, recovered, recoveredResults);
            }
            for (StoreResult result : results) {
                if (seq == appliedSeq + 1) {
                    Flight head = inFlight.peekFirst();
                    assert head != null && head.firstSeq <= seq && seq <= head.lastSeq() : "applied an unknown seq";
                    Pending write = head.writes.get((int) (seq - head.firstSeq));
                    completed.add(write);
                    completedResults.add(result);
                    applied(write);
                    appliedSeq = seq;
                    if (seq == head.lastSeq()) {
                        inFlight.removeFirst();
                        commandsInFlight -= head.writes.size();
                        wake.signal();
                    }
                }
                seq++;
            }
            if (!completed.isEmpty()) {
                resendBackoffNanos = RESEND_BACKOFF_MIN_NANOS;
            }
        } finally {
            lock.unlock();
        }
        deliver(recovered, recoveredResults);
        for (int i = 0; i < completed.size(); i++) {
            completed.get(i).future.complete(completedResults.get(i));
        }
        wakeRoomWaitersIfDrained();
    }

    /** Something may have been lost on the way to the leader: resend everything unapplied. */
    void requestResend(long delayNanos) {
        lock.lock();
        try {
            requestResendLocked(delayNanos);
        } finally {
            lock.unlock();
        }
    }

    private void requestResendLocked(long delayNanos) {
        if (!resendNeeded) {
            resendNeeded = true;
            resendNotBeforeNanos = nanoTime.getAsLong() + Math.max(delayNanos, resendBackoffNanos);
            resendBackoffNanos = Math.min(RESEND_BACKOFF_MAX_NANOS, resendBackoffNanos * 2);
            wake.signal();
        }
    }

    /** A new leader is known: resend what is unapplied to it now, without the backoff. */
    void leaderChanged() {
        lock.lock();
        try {
            resendNeeded = true;
            resendBackoffNanos = RESEND_BACKOFF_MIN_NANOS;
            resendNotBeforeNanos = nanoTime.getAsLong();
            wake.signal();
        } finally {
            lock.unlock();
        }
    }

    long abandonedStreams() {
        lock.lock();
        try {
            return abandonedStreams;
        } finally {
            lock.unlock();
        }
    }

    int pendingWrites() {
        lock.lock();
        try {
            return pendingCount;
        } finally {
            lock.unlock();
        }
    }

    private void sendLoop() {
        List<Flight> toSend = new ArrayList<>();
        while (true) {
            Route route = transport.route();
            lock.lock();
            try {
                if (!running) {
                    return;
                }
                long waitNanos = takeSendable(toSend, route);
                if (toSend.isEmpty()) {
                    wake.awaitNanos(waitNanos);
                    continue;
                }
            } catch (InterruptedException e) {
                return;
            } finally {
                lock.unlock();
            }
            send(toSend);
        }
    }

    /** One round of the sender, for tests that drive the stream with their own clock. */
    void pump() {
        List<Flight> toSend = new ArrayList<>();
        Route route = transport.route();
        lock.lock();
        try {
            takeSendable(toSend, route);
        } finally {
            lock.unlock();
        }
        send(toSend);
    }

    /**
     * Under the lock: fails writes past the timeout, then collects what to send now (every
     * unapplied batch when a resend is due, else new batches while {@code route} allows). Returns
     * how long the sender may sleep when there is nothing to send.
     */
    private long takeSendable(List<Flight> toSend, Route route) {
        expireTimedOut();
        toSend.clear();
        unappliedBatchesMax = route.unappliedBatchesMax;
        boolean leader = route != Route.NONE;
        long now = nanoTime.getAsLong();
        if (leader && resendNeeded && now >= resendNotBeforeNanos) {
            resendNeeded = false;
            toSend.addAll(inFlight);
            if (!inFlight.isEmpty()) {
                LOG.debug("resending {} batches from seq {}", inFlight.size(), inFlight.peekFirst().firstSeq);
            }
        }
        if (leader && !resendNeeded) {
            while (!queued.isEmpty() && commandsInFlight < WRITES_PENDING_MAX
                    && (inFlight.size() < unappliedBatchesMax || fullBatchQueued())) {
                Flight flight = nextBatch();
                inFlight.addLast(flight);
                commandsInFlight += flight.writes.size();
                toSend.add(flight);
            }
        }
        for (Flight flight : toSend) {
            flight.writes.forEach(write -> write.sent = true);
        }
        return resendNeeded ? Math.max(1, resendNotBeforeNanos - now) : IDLE_WAIT_NANOS;
    }

    private boolean fullBatchQueued() {
        return queued.size() >= BATCH_COMMANDS_MAX || queuedBytes >= BATCH_BYTES_MAX;
    }

    private void send(List<Flight> toSend) {
        for (Flight flight : toSend) {
            transport.send(flight.batch, () -> requestResend(0));
        }
    }

    private Flight nextBatch() {
        List<Pending> writes = new ArrayList<>();
        Batch.Builder batch = Batch.newBuilder()
                .setWriter(WriterId.newBuilder().setNodeId(nodeId).setIncarnation(incarnation).setStream(stream))
                .setFirstSeq(nextSeq);
        long bytes = 0;
        while (!queued.isEmpty() && writes.size() < BATCH_COMMANDS_MAX
                && (writes.isEmpty() || bytes + queued.peekFirst().sizeBytes <= BATCH_BYTES_MAX)) {
            Pending pending = queued.pollFirst();
            queuedBytes -= pending.sizeBytes;
            bytes += pending.sizeBytes;
            batch.addCommands(pending.command);
            pending.command = null;
            writes.add(pending);
        }
        Flight flight = new Flight(nextSeq, writes, batch.build().toByteArray());
        nextSeq += writes.size();
        return flight;
    }

    /** Gives up on a stream whose oldest write has waited longer than the write timeout. */
    private void expireTimedOut() {
        Pending oldest = !inFlight.isEmpty() ? inFlight.peekFirst().writes.get((int) (appliedSeq + 1 - inFlight.peekFirst().firstSeq))
                : queued.peekFirst();
        if (oldest == null || nanoTime.getAsLong() - oldest.submittedNanos < writeTimeoutNanos) {
            return;
        }
        List<Pending> failed = new ArrayList<>();
        for (Flight flight : inFlight) {
            failed.addAll(flight.writes.subList((int) Math.max(0, appliedSeq + 1 - flight.firstSeq), flight.writes.size()));
        }
        failed.addAll(queued);
        LOG.warn("{} writes not applied within {} ms (no quorum or no leader?); abandoning write stream {}",
                failed.size(), TimeUnit.NANOSECONDS.toMillis(writeTimeoutNanos), stream);
        transport.abandoned(failed.size(), TimeUnit.NANOSECONDS.toMillis(writeTimeoutNanos));
        inFlight.clear();
        queued.clear();
        queuedBytes = 0;
        commandsInFlight = 0;
        pendingCount = 0;
        pendingBytes = 0;
        stream++;
        nextSeq = 1;
        appliedSeq = 0;
        resendNeeded = false;
        resendBackoffNanos = RESEND_BACKOFF_MIN_NANOS;
        abandonedStreams++;
        for (Pending write : failed) {
            write.future.completeExceptionally(write.sent
                    ? new WriteFailedException("write outcome unknown: no quorum confirmed it in time", true)
                    : new WriteFailedException("not written: no leader reachable in time", false));
        }
        for (Runnable waiter = roomWaiters.poll(); waiter != null; waiter = roomWaiters.poll()) {
            waiter.run();
        }
    }

    @Override
    public void close() {
        List<Pending> failed = new ArrayList<>();
        lock.lock();
        try {
            running = false;
            inFlight.forEach(flight -> failed.addAll(flight.writes));
            failed.addAll(queued);
            inFlight.clear();
            queued.clear();
            queuedBytes = 0;
            pendingCount = 0;
            pendingBytes = 0;
            wake.signal();
        } finally {
            lock.unlock();
        }
        for (Pending write : failed) {
            write.future.completeExceptionally(new WriteFailedException("node is shutting down", write.sent));
        }
        try {
            sender.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
