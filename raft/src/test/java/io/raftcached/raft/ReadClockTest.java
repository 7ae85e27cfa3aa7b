package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The read clock follows the log's time forward at local speed, whatever the stamps of later entries. */
class ReadClockTest {
    private static final long START_MILLIS = 1_790_000_000_000L;
    private static final long AHEAD_MILLIS = 30_000;
    private long monotonicMillis = 5_000;
    private final ReadClock clock = new ReadClock(() -> monotonicMillis);

    @Test
    void entriesStampedBehindTheLogDoNotFreezeTheReadClock() {
        clock.catchUp(START_MILLIS + AHEAD_MILLIS);   // a leader 30 s ahead
        long afterAhead = clock.nowMillis();
        assertEquals(START_MILLIS + AHEAD_MILLIS, afterAhead, "the read clock jumps to the applied now");
        // A new leader with a true clock keeps committing entries stamped behind the log's time.
        for (int i = 0; i < 30; i++) {
            monotonicMillis += 10;
            clock.catchUp(START_MILLIS + i * 10);
        }
        assertEquals(300, clock.nowMillis() - afterAhead, "the read clock advances at local speed meanwhile");
    }

    @Test
    void theReadClockNeverRunsBackwards() {
        long previous = Long.MIN_VALUE;
        for (int i = 0; i < 200; i++) {
            monotonicMillis += i % 3;
            // Stamps jitter around the true time, as stamps from leaders with slightly different clocks do.
            long applied = START_MILLIS + (i % 7) * 3 - 9 + i / 10;
            clock.catchUp(applied);
            long read = clock.nowMillis();
            assertTrue(read >= previous, "read clock went from " + previous + " back to " + read);
            assertTrue(read >= applied, "read clock " + read + " behind applied now " + applied);
            previous = read;
        }
    }
}
