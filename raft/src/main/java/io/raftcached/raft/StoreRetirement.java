package io.raftcached.raft;

import io.raftcached.store.Store;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Frees a store that a snapshot install replaced. Readers fetch the store reference, then read
 * within microseconds; waiting a few seconds before freeing its memory keeps any reader that had
 * picked up the old reference from touching freed memory.
 */
final class StoreRetirement {
    private static final long GRACE_MILLIS = 5_000;
    private static final ScheduledExecutorService CLOSER = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "raftcached-store-retirement");
        thread.setDaemon(true);
        return thread;
    });

    private StoreRetirement() {}

    static void retire(Store store) {
        CLOSER.schedule(store::close, GRACE_MILLIS, TimeUnit.MILLISECONDS);
    }
}
