package io.raftcached.raft;

import java.util.function.LongSupplier;

/**
 * The time local reads use: the log's applied now, carried forward by this node's monotonic clock
 * between entries. It never runs backwards and only jumps forward to the applied now: entries
 * stamped no later than it (a leader whose clock is behind, or the commit latency between
 * stamping and applying) must not pull it back, or it would stand still while entries keep
 * arriving and TTLs would stop expiring on this node.
 */
final class ReadClock {
    private final LongSupplier monotonicMillis;
    /** The read clock is this plus monotonic milliseconds: one field, so readers never see it torn. */
    private volatile long offsetMillis;

    ReadClock(LongSupplier monotonicMillis) {
        this.monotonicMillis = monotonicMillis;
        this.offsetMillis = -monotonicMillis.getAsLong();
    }

    static ReadClock system() {
        return new ReadClock(() -> System.nanoTime() / 1_000_000);
    }

    /** Any thread. */
    long nowMillis() {
        return offsetMillis + monotonicMillis.getAsLong();
    }

    /** Apply thread only (the one writer): the applied now may have moved. */
    void catchUp(long appliedNowMillis) {
        long monotonic = monotonicMillis.getAsLong();
        if (appliedNowMillis > offsetMillis + monotonic) {
            offsetMillis = appliedNowMillis - monotonic;
        }
    }
}
