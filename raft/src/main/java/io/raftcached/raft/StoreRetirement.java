package io.raftcached.raft;

import io.raftcached.store.Store;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Frees a store that a snapshot install replaced, once the read epochs say no reader can still
 * hold it (readers enter a section before they fetch the current store and leave it within one
 * request's read). A fixed grace period would free memory under a reader that was descheduled
 * for longer; waiting on the epochs cannot.
 */
final class StoreRetirement {
    private static final Logger LOG = LoggerFactory.getLogger(StoreRetirement.class);
    private static final long POLL_MILLIS = 10;
    /** A reader is never expected to hold a store this long; say so if one does (and keep waiting). */
    private static final long WARN_AFTER_MILLIS = 10_000;

    private final ScheduledExecutorService scheduler;

    StoreRetirement(ScheduledExecutorService scheduler) {
        this.scheduler = scheduler;
    }

    void retire(Store store, BooleanSupplier unread) {
        long retiredNanos = System.nanoTime();
        Runnable check = new Runnable() {
            private boolean warned;

            @Override
            public void run() {
                if (unread.getAsBoolean()) {
                    store.close();
                    return;
                }
                long heldMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - retiredNanos);
                if (!warned && heldMillis > WARN_AFTER_MILLIS) {
                    warned = true;
                    LOG.warn("a reader has held the store replaced by a snapshot install for {} ms; its memory"
                            + " ({} MB) stays allocated until the reader leaves", heldMillis, store.physicalBytes() >> 20);
                }
                scheduler.schedule(this, POLL_MILLIS, TimeUnit.MILLISECONDS);
            }
        };
        scheduler.execute(check);
    }
}
