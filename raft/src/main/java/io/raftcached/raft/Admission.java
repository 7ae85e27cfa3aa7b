package io.raftcached.raft;

import java.util.ArrayList;
import java.util.List;
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

    /**
     * Runs the waiters there are now. One that finds no room again waits for the next leave: were
     * it run again in this loop, a full budget would spin the thread that has to free it.
     */
    private void wakeAll() {
        List<Runnable> woken = new ArrayList<>();
        for (Runnable waiter = waiters.poll(); waiter != null; waiter = waiters.poll()) {
            woken.add(waiter);
        }
        woken.forEach(Runnable::run);
    }

    long inProgress() {
        return inProgress.get();
    }
}
