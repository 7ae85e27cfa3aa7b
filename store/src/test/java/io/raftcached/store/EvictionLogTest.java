package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The store's eviction side log (watch evictions): it records the items evicted, in eviction
 * order, with memcached's eviction line fields, only while recording, bounded per drain; and
 * recording changes nothing replicated (the digest is the same with and without it).
 */
class EvictionLogTest {
    private static final long START_MILLIS = 1_790_000_000_000L;
    private static final String VALUE = "x".repeat(1000);

    /** Fills a 2 MB store with 1 KB items, recording evictions into {@code log} from item {@code recordFrom} on. */
    private static String fill(EvictionLog log, int recordFrom, List<EvictionLog.Evicted> evicted, long[] dropped) {
        try (Store store = new Store(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE), 7)) {
            store.recordEvictionsInto(log);
            store.advanceClock(START_MILLIS);
            for (int i = 0; i < 5000; i++) {
                log.record(i >= recordFrom);
                store.apply(Cmd.set("key" + i, VALUE), false);
                dropped[0] += log.drain(evicted::add);   // after each entry, as the apply thread does
            }
            return store.digest();
        }
    }

    @Test
    void recordsWhatWasEvictedOnlyWhileRecordingAndChangesNothing() {
        List<EvictionLog.Evicted> none = new ArrayList<>();
        long[] dropped = {0};
        String digestUnwatched = fill(new EvictionLog(), Integer.MAX_VALUE, none, dropped);
        assertEquals(List.of(), none, "nothing is recorded while nobody watches");

        List<EvictionLog.Evicted> evicted = new ArrayList<>();
        String digestWatched = fill(new EvictionLog(), 0, evicted, dropped);
        assertEquals(digestUnwatched, digestWatched, "recording evictions changes no replicated state");
        assertEquals(0, dropped[0]);
        assertTrue(evicted.size() > 1000, "a 2 MB store evicts most of 5 MB: " + evicted.size());
        EvictionLog.Evicted first = evicted.get(0);
        assertEquals("key0", new String(first.key(), StandardCharsets.US_ASCII), "the oldest item goes first");
        assertEquals(-1, first.ttlSeconds(), "never expires");
        assertEquals(1000, first.valueLength());
        assertTrue(first.slabClass() > 0 && !first.fetched(), first.toString());
        for (int i = 1; i < evicted.size(); i++) {
            assertEquals("key" + i, new String(evicted.get(i).key(), StandardCharsets.US_ASCII), "LRU order");
        }
    }

    @Test
    void aDrainHoldsAtMostRecordsMax() {
        EvictionLog log = new EvictionLog();
        log.record(true);
        for (int i = 0; i < EvictionLog.RECORDS_MAX + 5; i++) {
            log.add(new EvictionLog.Evicted(new byte[] {'k'}, false, -1, 0, 1, 1));
        }
        List<EvictionLog.Evicted> drained = new ArrayList<>();
        assertEquals(5, log.drain(drained::add), "the rest are counted as dropped");
        assertEquals(EvictionLog.RECORDS_MAX, drained.size());
        assertEquals(0, log.drain(drained::add), "a drain empties the log");
    }
}
