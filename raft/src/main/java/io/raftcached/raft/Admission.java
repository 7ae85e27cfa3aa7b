package io.raftcached.raft;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Units of things in progress (a count, or bytes) with a bound: callers ask before they start one,
 * and those told to wait are called back once the units have drained to half the bound. A thing
 * is admitted while the units are below the bound, so the most in progress is the bound plus one
 * thing. Thread-safe.
 */
final class Admission {
    private final long max;
    private final AtomicLong inProgress = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();

    Admission(long max) {
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

    void enter(long units) {
        inProgress.addAndGet(units);
    }

    void leave(long units) {
        if (inProgress.addAndGet(-units) <= max / 2 && !waiters.isEmpty()) {
            wakeAll();
        }
    }

    private void wakeAll() {
        for (Runnable waiter = waiters.poll(); waiter != null; waiter = waiters.poll()) {
            waiter.run();
        }
    }

    long inProgress() {
        return inProgress.get();
    }
}
