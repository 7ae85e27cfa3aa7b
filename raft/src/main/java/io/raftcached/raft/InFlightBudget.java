package io.raftcached.raft;

import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * Bytes (and a number) of things in flight that their senders wait for room to send, in the order
 * they asked, so no sender starves another: the leader's entries in jraft (from {@code Node.apply}
 * until applied here, see {@link ClusterNode#propose}) and a follower's batches forwarded to the
 * leader and not yet answered. A thing larger than the whole budget goes when nothing else is in
 * flight, so it is never refused for its size. Thread-safe.
 */
final class InFlightBudget {
    /** How often a waiting sender checks whether it still wants to send (it may have lost or found a leader). */
    private static final long RECHECK_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

    private final long maxBytes;
    private final int maxCount;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    // Guarded by lock.
    private long heldBytes;
    private int heldCount;
    /** Senders waiting for room, first come first served. */
    private final ArrayDeque<Object> waiting = new ArrayDeque<>();

    InFlightBudget(long maxBytes, int maxCount) {
        if (maxBytes <= 0 || maxCount <= 0) {
            throw new IllegalArgumentException("a budget needs room, got " + maxBytes + " bytes, " + maxCount + " things");
        }
        this.maxBytes = maxBytes;
        this.maxCount = maxCount;
    }

    /**
     * Takes room for {@code sizeBytes}, waiting behind earlier senders for at most
     * {@code timeoutNanos} and only while {@code stillWanted} holds (checked every few ms).
     * Returns false, holding nothing, if it gave up; then the thing must not be sent.
     *
     * <p>{@code stillWanted} runs without this budget's lock: it asks jraft who leads, under
     * jraft's node lock, and {@link #release} runs on bolt's I/O thread, which must never wait on
     * a thread that waits on jraft. (A node that held its lock while connecting to a peer waited
     * on that I/O thread for good: the connect's timeout runs on it.)
     */
    boolean acquire(long sizeBytes, long timeoutNanos, BooleanSupplier stillWanted) throws InterruptedException {
        Object me = new Object();
        long deadline = System.nanoTime() + timeoutNanos;
        lock.lock();
        try {
            if (waiting.isEmpty() && fits(sizeBytes)) {
                take(sizeBytes);
                return true;
            }
            waiting.addLast(me);
        } finally {
            lock.unlock();
        }
        try {
            while (true) {
                lock.lock();
                try {
                    if (waiting.peekFirst() == me && fits(sizeBytes)) {
                        take(sizeBytes);
                        return true;
                    }
                    long leftNanos = deadline - System.nanoTime();
                    if (leftNanos <= 0) {
                        return false;
                    }
                    changed.awaitNanos(Math.min(leftNanos, RECHECK_NANOS));
                } finally {
                    lock.unlock();
                }
                if (!stillWanted.getAsBoolean()) {
                    return false;
                }
            }
        } finally {
            lock.lock();
            try {
                waiting.remove(me);
                // The next in line may fit now, or be first now that this one left.
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void take(long sizeBytes) {
        heldBytes += sizeBytes;
        heldCount++;
    }

    private boolean fits(long sizeBytes) {
        return heldCount == 0 || heldCount < maxCount && heldBytes + sizeBytes <= maxBytes;
    }

    /** What {@link #acquire} took room for is no longer in flight. */
    void release(long sizeBytes) {
        lock.lock();
        try {
            heldBytes -= sizeBytes;
            heldCount--;
            assert heldBytes >= 0 && heldCount >= 0 : "released more than was taken";
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    long heldBytes() {
        lock.lock();
        try {
            return heldBytes;
        } finally {
            lock.unlock();
        }
    }
}
