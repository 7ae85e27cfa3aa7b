package io.raftcached.node;

import io.raftcached.protocol.DataBlockBudget;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes held node-wide on one path (client input, client output), with a limit. A holder that is
 * refused waits: its callback runs once memory was released, and it asks again. A request larger than the whole limit is granted when nothing else is held, so
 * it is never refused for good. Waiters are all woken whenever usage is below the limit and race
 * for the room like newcomers, so none is starved by a steady stream of new holders. Thread-safe;
 * callbacks run on the releasing thread.
 */
final class ByteBudget implements DataBlockBudget {
    private final String name;
    private final long limitBytes;
    private final AtomicLong usedBytes = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();

    ByteBudget(String name, long limitBytes) {
        this.name = name;
        this.limitBytes = limitBytes;
    }

    @Override
    public boolean tryReserve(long sizeBytes, Runnable onAvailable) {
        if (reserve(sizeBytes)) {
            return true;
        }
        waiters.add(onAvailable);
        // What was held may have been released between the refusal and the add: wake ourselves.
        long used = usedBytes.get();
        if (used == 0 || used + sizeBytes <= limitBytes) {
            wakeAll();
        }
        return false;
    }

    private boolean reserve(long sizeBytes) {
        while (true) {
            long used = usedBytes.get();
            if (used > 0 && used + sizeBytes > limitBytes) {
                return false;
            }
            if (usedBytes.compareAndSet(used, used + sizeBytes)) {
                return true;
            }
        }
    }

    /** Counts bytes that are held whatever the limit says (they exist already). */
    void add(long sizeBytes) {
        usedBytes.addAndGet(sizeBytes);
    }

    @Override
    public void release(long sizeBytes) {
        if (sizeBytes == 0) {
            return;
        }
        long used = usedBytes.addAndGet(-sizeBytes);
        assert used >= 0 : name + " budget released more than it held";
        if (used < limitBytes && !waiters.isEmpty()) {
            wakeAll();
        }
    }

    /** Whether a holder may take more now (it is asked again through {@code onAvailable} if not). */
    boolean hasRoom(Runnable onAvailable) {
        if (usedBytes.get() < limitBytes) {
            return true;
        }
        waiters.add(onAvailable);
        if (usedBytes.get() < limitBytes) {
            wakeAll();
        }
        return false;
    }

    private void wakeAll() {
        for (Runnable waiter = waiters.poll(); waiter != null; waiter = waiters.poll()) {
            waiter.run();
        }
    }

    long usedBytes() {
        return usedBytes.get();
    }

    long limitBytes() {
        return limitBytes;
    }

    @Override
    public String toString() {
        return name + " " + usedBytes.get() + "/" + limitBytes + " bytes";
    }
}
