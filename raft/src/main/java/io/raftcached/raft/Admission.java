package io.raftcached.raft;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A count of things in progress with a bound: callers ask before they start one, and those told
 * to wait are called back once the count has drained to half the bound. Thread-safe.
 */
final class Admission {
    private final int max;
    private final AtomicInteger inProgress = new AtomicInteger();
    private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();

    Admission(int max) {
        this.max = max;
    }

    /** True if one more may start now; else {@code onRoom} runs later, once there is room. */
    boolean admits(Runnable onRoom) {
        if (inProgress.get() < max) {
            return true;
        }
        waiters.add(onRoom);
        // Everything in progress may have left between the check and the add: nobody else would wake us.
        if (inProgress.get() < max) {
            wakeAll();
        }
        return false;
    }

    void enter() {
        inProgress.incrementAndGet();
    }

    void leave() {
        if (inProgress.decrementAndGet() <= max / 2 && !waiters.isEmpty()) {
            wakeAll();
        }
    }

    private void wakeAll() {
        for (Runnable waiter = waiters.poll(); waiter != null; waiter = waiters.poll()) {
            waiter.run();
        }
    }

    int inProgress() {
        return inProgress.get();
    }
}
