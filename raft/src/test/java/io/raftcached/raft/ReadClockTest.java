package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.Closure;
import com.alipay.sofa.jraft.Iterator;
import com.alipay.sofa.jraft.Status;
import io.raftcached.proto.Batch;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.LogEntry;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** The read clock follows the log's time forward at local speed, whatever the stamps of later entries. */
class ReadClockTest {
    private static final long AHEAD_MILLIS = 30_000;

    @Test
    void entriesStampedBehindTheLogDoNotFreezeTheReadClock() throws Exception {
        try (Store store = new Store(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE), 1)) {
            CacheStateMachine machine = new CacheStateMachine(1, 1, store, 1, new SnapshotFiles(), Runnable::run, new IgnoringListener());
            long start = System.currentTimeMillis();
            machine.onApply(new OneEntry(1, start + AHEAD_MILLIS));   // a leader 30 s ahead
            long afterAhead = machine.readClockMillis();
            assertTrue(afterAhead >= start + AHEAD_MILLIS, "the read clock jumps to the applied now: " + afterAhead);

            // A new leader with a true clock keeps committing entries stamped behind the log's time.
            long pauseMillis = 300;
            for (int i = 0; i < 30; i++) {
                Thread.sleep(pauseMillis / 30);
                machine.onApply(new OneEntry(2 + i, System.currentTimeMillis()));
            }
            long elapsed = machine.readClockMillis() - afterAhead;
            assertTrue(elapsed >= pauseMillis - 5, "the read clock advanced only " + elapsed + " ms over " + pauseMillis + " ms of applies");
        }
    }

    @Test
    void theReadClockNeverRunsBackwards() throws Exception {
        try (Store store = new Store(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE), 1)) {
            CacheStateMachine machine = new CacheStateMachine(1, 1, store, 1, new SnapshotFiles(), Runnable::run, new IgnoringListener());
            long now = System.currentTimeMillis();
            long previous = Long.MIN_VALUE;
            for (int i = 0; i < 200; i++) {
                // Stamps jitter around the true time, as stamps from leaders with slightly different clocks do.
                machine.onApply(new OneEntry(1 + i, now + (i % 7) * 3 - 9 + i / 10));
                long read = machine.readClockMillis();
                assertTrue(read >= previous, "read clock went from " + previous + " back to " + read);
                assertTrue(read >= store.appliedNowMillis(), "read clock " + read + " behind applied now " + store.appliedNowMillis());
                previous = read;
            }
        }
    }

    /** One clock-tick entry stamped {@code stampMillis}: time advances, nothing else. */
    private static final class OneEntry implements Iterator {
        private final long index;
        private final ByteBuffer data;
        private boolean consumed;

        OneEntry(long index, long stampMillis) {
            this.index = index;
            this.data = ByteBuffer.wrap(LogEntry.newBuilder().setFormatVersion(CacheStateMachine.LOG_FORMAT_VERSION)
                    .setLeaderTimeMillis(stampMillis).build().toByteArray());
        }

        @Override public boolean hasNext() { return !consumed; }
        @Override public ByteBuffer next() { consumed = true; return data; }
        @Override public ByteBuffer getData() { return data; }
        @Override public long getIndex() { return index; }
        @Override public long getTerm() { return 1; }
        @Override public Closure done() { return null; }
        @Override public void setAutoCommitPerLog(boolean status) { }
        @Override public boolean commit() { return false; }
        @Override public void commitAndSnapshotSync(Closure done) { }
        @Override public void setErrorAndRollback(long ntail, Status st) { throw new AssertionError("rollback: " + st); }
    }

    private static final class IgnoringListener implements CacheStateMachine.Listener {
        @Override public void onOwnWritesApplied(Batch batch, StoreResult[] results, java.util.function.LongFunction<StoreResult> earlier) { }
        @Override public void onSnapshotLoaded(java.util.function.ToLongFunction<io.raftcached.proto.WriterId> lastSeq,
                java.util.function.BiFunction<io.raftcached.proto.WriterId, Long, StoreResult> firstResult) { }
        @Override public void onClusterConfig(ClusterConfig config) { }
        @Override public void onLeaderChange(boolean leader, long term) { }
        @Override public void onFatalMismatch(String message) { throw new AssertionError(message); }
    }
}
