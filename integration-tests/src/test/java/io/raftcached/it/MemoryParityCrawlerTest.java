package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, "expired items reclaimed without being read": memcached's LRU crawler frees expired
 * items in the background, so they stop holding memory (and counting in curr_items) although no
 * client ever touches them again. Both servers must do it, in the same run.
 *
 * <p>The scenario: 1 000 items without expiry, then 50 000 items with a 10 s TTL, all 100 B values in
 * one slab class, none ever read. The items without expiry are written first so that they sit at
 * the LRU tails: memcached's LRU maintainer also reclaims expired items, but only those it meets at
 * a tail, and it stops at the live ones; what is left is the crawler's work. memcached 1.6.18's
 * crawler runs at start-up, finds nothing to reclaim and waits 60 + 5 s before its next pass, so
 * the expired items go about 66 s after the server started (measured while writing this:
 * crawler_reclaimed 50 000 after 66 s). A cache that frees them only when a read or the LRU tail
 * meets them keeps all 51 000.
 */
class MemoryParityCrawlerTest {
    static final int LIVE_ITEMS = 1_000;
    static final int EXPIRING_ITEMS = 50_000;
    /** Long enough that writing everything ends before the first item expires, even on a busy machine. */
    static final int TTL_SECONDS = 10;
    static final int VALUE_BYTES = 100;
    static final int WINDOW = 500;
    /** At most 1 % of the expired items may still be counted once reclaiming is due. */
    static final int LEFT_OVER_MAX = EXPIRING_ITEMS / 100;
    /** memcached needs about 66 s (see above); the rest is margin for a busy machine. */
    static final Duration RECLAIM_DEADLINE = Duration.ofSeconds(90);
    static final long POLL_MILLIS = 1_000;

    record Outcome(String server, long itemsAfterWriting, long itemsAtEnd, long secondsToReclaim, long crawlerReclaimed,
            long crawlerReclaimedPerClass, long reclaimed) {
        String describe() {
            return String.format(Locale.ROOT, "%s curr_items %d -> %d %s, crawler_reclaimed %d (stats items: %d), reclaimed %d",
                    server, itemsAfterWriting, itemsAtEnd, secondsToReclaim >= 0 ? "after " + secondsToReclaim + " s"
                            : "(still after " + RECLAIM_DEADLINE.toSeconds() + " s)", crawlerReclaimed, crawlerReclaimedPerClass, reclaimed);
        }
    }

    @Test
    void expiredItemsAreReclaimedWithoutBeingRead() throws Exception {
        try (DropInServers servers = MemoryParity.start("crawler")) {
            List<Outcome> outcomes = MemoryParity.sideBySide(RECLAIM_DEADLINE.plusSeconds(60),
                    () -> run("memcached", servers.memcached().port()), () -> run("raftcached", servers.raftcached().port()));
            String line = "expired items: " + outcomes.get(0).describe() + "; " + outcomes.get(1).describe();
            MemoryParity.report(line);
            // memcached first: the scenario must be one its crawler handles, or it checks nothing.
            for (Outcome outcome : outcomes) {
                assertEquals(LIVE_ITEMS + EXPIRING_ITEMS, outcome.itemsAfterWriting(), "every item stored before any expired: " + line);
                assertTrue(outcome.itemsAtEnd() <= LIVE_ITEMS + LEFT_OVER_MAX, outcome.server() + " kept expired items that no one read: " + line);
                assertTrue(outcome.crawlerReclaimed() > 0, outcome.server() + "'s crawler reclaimed nothing: " + line);
                assertEquals(outcome.crawlerReclaimed(), outcome.crawlerReclaimedPerClass(),
                        "stats and stats items agree on crawler_reclaimed: " + line);
                assertTrue(outcome.crawlerReclaimed() + outcome.reclaimed() >= EXPIRING_ITEMS - LEFT_OVER_MAX,
                        outcome.server() + "'s counters account for the reclaimed items: " + line);
            }
        }
    }

    private static Outcome run(String server, int port) throws Exception {
        try (CacheTraffic traffic = new CacheTraffic(server, port, 0)) {
            byte[] value = CacheTraffic.value(VALUE_BYTES, 'e');
            traffic.set(CacheTraffic.keys("live-", 0, LIVE_ITEMS), value, 0);
            for (int from = 0; from < EXPIRING_ITEMS; from += WINDOW) {
                traffic.set(CacheTraffic.keys("expiring-", from, Math.min(EXPIRING_ITEMS, from + WINDOW)), value, TTL_SECONDS);
            }
            long writtenNanos = System.nanoTime();
            long itemsAfterWriting = traffic.stat("curr_items");
            long deadlineNanos = writtenNanos + RECLAIM_DEADLINE.toNanos();
            long items = itemsAfterWriting;
            long secondsToReclaim = -1;
            while (System.nanoTime() < deadlineNanos) {
                Thread.sleep(POLL_MILLIS);
                items = traffic.stat("curr_items");
                if (items <= LIVE_ITEMS + LEFT_OVER_MAX) {
                    secondsToReclaim = Duration.ofNanos(System.nanoTime() - writtenNanos).toSeconds();
                    break;
                }
            }
            return new Outcome(server, itemsAfterWriting, items, secondsToReclaim, traffic.stat("crawler_reclaimed"),
                    traffic.itemsStatSum("crawler_reclaimed"), traffic.stat("reclaimed"));
        }
    }
}
