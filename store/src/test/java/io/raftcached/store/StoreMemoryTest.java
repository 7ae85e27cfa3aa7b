package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * memcached's memory management at the store's level, each behaviour against the store without
 * it, so a test fails if the behaviour is missing: reads keep a hot set through a stream of new
 * keys (segmented LRU and access hints), pages follow the item sizes written now (slab
 * rebalancing), and memory stays bounded while pages move. The same scenarios against Debian's
 * memcached run in the integration tests.
 */
class StoreMemoryTest {
    private static final long START_MILLIS = 1_790_000_000_000L;

    @Test
    void readsKeepAHotSetThroughAStreamOfNewKeys() {
        int modern = hotKeysKept(LruSettings.MEMCACHED_DEFAULTS);
        int flat = hotKeysKept(LruSettings.FLAT);
        assertTrue(modern >= 1_900, "the modern LRU keeps what is read: " + modern + " of 2000 hot keys");
        assertTrue(flat < 200, "the flat LRU bumps once a minute and loses the hot set: " + flat + " of 2000");
    }

    /**
     * 2 000 hot keys of 1 KB, read all the time, while 150 000 new keys stream through 8 MB over
     * 150 log seconds. Reads go through the read path, whose hints the next entry applies, as a
     * node's hints reach the log.
     */
    private static int hotKeysKept(LruSettings lru) {
        StoreConfig config = StoreConfig.withMemory(8L * StoreConfig.MEGABYTE).withLru(lru);
        String value = "v".repeat(1_000);
        List<byte[]> hinted = new ArrayList<>();
        LocalReads reads = new LocalReads();
        reads.sendHintsTo(key -> hinted.add(key.clone()));
        try (Store store = new Store(config, 3, new ReadEpochs(), reads)) {
            long now = START_MILLIS;
            store.advanceClock(now);
            for (int i = 0; i < 2_000; i++) {
                store.apply(Cmd.set("hot" + i, value), false);
                store.endOfEntry(false);
            }
            int next = 0;
            for (int entry = 0; entry < 15_000; entry++) {
                now += 10;
                store.advanceClock(now);
                for (int i = 0; i < 10; i++) {
                    store.apply(Cmd.set("new" + next++, value), false);
                }
                for (int i = 0; i < 20; i++) {
                    byte[] key = ("hot" + ((entry * 20 + i) % 2_000)).getBytes(StandardCharsets.UTF_8);
                    store.read(key, now, Store.Lookup.live(true), item -> {});
                }
                if (!hinted.isEmpty()) {
                    Command.Builder hints = Command.newBuilder().setOp(Op.ACCESS_HINTS);
                    hinted.forEach(key -> hints.addHintKeys(Cmd.bytes(new String(key, StandardCharsets.UTF_8))));
                    store.apply(hints.build(), false);
                    hinted.clear();
                }
                store.endOfEntry(false);
                store.maintain();
            }
            store.checkInvariants();
            int kept = 0;
            for (int i = 0; i < 2_000; i++) {
                kept += store.read(("hot" + i).getBytes(StandardCharsets.UTF_8), now, Store.Lookup.live(false), item -> {}) == Store.ReadOutcome.HIT ? 1 : 0;
            }
            return kept;
        }
    }

    @Test
    void pagesFollowTheItemSizesWrittenNow() {
        LruSettings noReassign = new LruSettings(true, 20, 40, 0.2, 2.0, false, 61, false, 0, 0.8, 30, true, 0);
        long lostWithMover = smallItemsLost(LruSettings.MEMCACHED_DEFAULTS);
        long lostWithout = smallItemsLost(noReassign);
        assertTrue(lostWithout > 40_000, "without page moves the small class is stuck at its first page: lost " + lostWithout);
        // The automover moves pages by age only once its 30-second window has filled, as memcached's does.
        assertTrue(lostWithMover * 2 < lostWithout, "page moves must keep most small items: lost " + lostWithMover
                + " with slab_automove, " + lostWithout + " without");
    }

    /**
     * 16 MB filled with 40 KB items, then 60 000 items of 200 bytes over 120 log seconds: how many
     * of the small items are gone at the end. Also checks that the pages the mover took were
     * drained and carved again, so physical memory stays near the limit.
     */
    private static long smallItemsLost(LruSettings lru) {
        StoreConfig config = StoreConfig.withMemory(16L * StoreConfig.MEGABYTE).withLru(lru);
        try (Store store = new Store(config, 9)) {
            long now = START_MILLIS;
            store.advanceClock(now);
            String large = "L".repeat(40_000);
            for (int i = 0; i < 600; i++) {
                store.apply(Cmd.set("large" + i, large), false);
                store.endOfEntry(false);
            }
            String small = "s".repeat(200);
            for (int i = 0; i < 60_000; i++) {
                if (i % 500 == 0) {
                    now += 1_000;
                    store.advanceClock(now);
                }
                store.apply(Cmd.set("small" + i, small), false);
                store.endOfEntry(false);
                if (i % 64 == 0) {
                    store.maintain();
                }
            }
            for (int round = 0; round < 10_000 && store.maintenanceStats().slabReassignRunning(); round++) {
                store.maintain();
            }
            store.checkInvariants();
            long pagesMax = config.memoryLimitBytes() / config.slabPageSizeBytes() + store.slabClasses().largestClass();
            assertTrue(store.physicalBytes() <= (pagesMax + SlabAllocator.SLACK_PAGES_MAX) * config.slabPageSizeBytes(),
                    "physical memory " + store.physicalBytes() + " beyond the limit's pages and the slack");
            if (lru.slabReassign()) {
                MaintenanceStats stats = store.maintenanceStats();
                assertTrue(stats.slabsMoved() > 0, "the automover must have moved pages");
                assertEquals(0, stats.physicalPagesSurplus(), "every page moved logically was drained physically");
            }
            long lost = 0;
            for (int i = 0; i < 60_000; i++) {
                lost += store.read(("small" + i).getBytes(StandardCharsets.UTF_8), now, Store.Lookup.live(false), item -> {}) == Store.ReadOutcome.HIT ? 0 : 1;
            }
            return lost;
        }
    }
}
