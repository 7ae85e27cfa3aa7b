package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, "slab calcification": once large items have taken every page, small items can only
 * live in what the rebalancer moves over to their class. raftcached must lose at most 1.5× as many
 * small items as memcached, whose slab_automove is on by default.
 *
 * <p>The scenario, on memcached 1.6.18's defaults (slab_automove=1, a 30-sample window, one sample a
 * second): 1 400 values of 50 000 B (70 MB, more than -m 64) are written at once, so the class
 * of 50 KB chunks takes all 64 pages and evicts. Then 100 000 small items (100 B values) are written
 * at 1 250 a second for 80 s and never read. Their class gets its first page even past the limit (as
 * memcached gives any empty class one) and evicts inside that page (~5 400 items) from then on. Once
 * the window has filled, 30 s after the server started, the automover sees the small class evicting
 * in over half the window with a young tail while the large class is idle and old, and moves a page
 * from large to small every few seconds; without it the small class keeps its one page for good.
 * Pages only move by age here, not by free space: the large class has no free chunks, so the
 * "more than 2.5 pages free" path cannot help, and the 30 s window is the wait we must pay.
 * Measured while sizing this: memcached lost 39 000–42 300 of the 100 000 over four runs (10 or 11
 * pages moved; a second memcached in raftcached's place scored 0.97), memcached with
 * slab_automove=0 lost 94 539 every time — so the test runs that baseline too and requires the
 * rebalancer to make a clear difference, which keeps the comparison from passing trivially.
 */
class MemoryParitySlabsTest {
    static final int LARGE_ITEMS = 1_400;
    static final int LARGE_VALUE_BYTES = 50_000;
    static final int LARGE_WINDOW = 20;
    static final int SMALL_ITEMS = 100_000;
    static final int SMALL_VALUE_BYTES = 100;
    static final long TICK_MILLIS = 50;
    /** 1 600 ticks of 50 ms: 80 s, 62 or 63 small sets each. */
    static final int STEPS = 1_600;
    static final double LOSS_RATIO_MAX = 1.5;
    /** memcached with its rebalancer must lose at most this share of what it loses without. */
    static final double REBALANCER_EFFECT_MAX = 0.75;
    static final Duration SCENARIO_TIMEOUT = Duration.ofSeconds(200);

    record Outcome(String server, int lost, long refusedSets, String lastRefusal, long slabsMoved, long evictions,
            long elapsedMillis) {
        String describe() {
            return String.format(Locale.ROOT, "%s lost %d (%d pages moved)", server, lost, slabsMoved);
        }

        String details() {
            return String.format(Locale.ROOT, "%s: %d evictions, %d sets refused%s, small items took %.1f s", server, evictions,
                    refusedSets, lastRefusal.isEmpty() ? "" : " (last: " + lastRefusal + ")", elapsedMillis / 1000.0);
        }
    }

    @Test
    void smallItemsGetPagesBackFromLargeOnes() throws Exception {
        try (DropInServers servers = MemoryParity.start("slab-calcification");
                MemcachedProcess noAutomove = MemcachedProcess.start("-m", MemoryParity.MEMORY_MEGABYTES, "-o", "slab_automove=0")) {
            List<Outcome> outcomes = MemoryParity.sideBySide(SCENARIO_TIMEOUT,
                    () -> run("memcached", servers.memcached().port()),
                    () -> run("memcached slab_automove=0", noAutomove.port),
                    () -> run("raftcached", servers.raftcached().port()));
            Outcome memcached = outcomes.get(0);
            Outcome baseline = outcomes.get(1);
            Outcome raftcached = outcomes.get(2);
            double ratio = MemoryParity.ratio(raftcached.lost(), memcached.lost());
            String line = String.format(Locale.ROOT, "slab calcification: of %d small items %s, %s, %s (ratio to memcached %.2f,"
                    + " need <= %.2f)", SMALL_ITEMS, memcached.describe(), baseline.describe(), raftcached.describe(), ratio,
                    LOSS_RATIO_MAX);
            MemoryParity.report(line + "\n  " + memcached.details() + "\n  " + baseline.details() + "\n  " + raftcached.details());

            assertTrue(baseline.lost() > SMALL_ITEMS / 2, "without its rebalancer memcached should lose most small items: " + line);
            assertTrue(memcached.lost() < REBALANCER_EFFECT_MAX * baseline.lost(),
                    "memcached's rebalancer made too little difference for this scenario to test one: " + line);
            assertTrue(raftcached.lost() <= LOSS_RATIO_MAX * memcached.lost(), line + "; " + raftcached.details());
        }
    }

    private static Outcome run(String server, int port) throws Exception {
        try (CacheTraffic traffic = new CacheTraffic(server, port, 0)) {
            byte[] large = CacheTraffic.value(LARGE_VALUE_BYTES, 'L');
            for (int from = 0; from < LARGE_ITEMS; from += LARGE_WINDOW) {
                traffic.set(CacheTraffic.keys("large-", from, Math.min(LARGE_ITEMS, from + LARGE_WINDOW)), large, 0);
            }
            byte[] small = CacheTraffic.value(SMALL_VALUE_BYTES, 's');
            long elapsedMillis = CacheTraffic.paced(STEPS, TICK_MILLIS, step -> traffic.set(
                    CacheTraffic.keys("small-", step * SMALL_ITEMS / STEPS, (step + 1) * SMALL_ITEMS / STEPS), small, 0));
            int present = traffic.countPresent(CacheTraffic.keys("small-", 0, SMALL_ITEMS));
            return new Outcome(server, SMALL_ITEMS - present, traffic.refusedSets(), traffic.lastRefusal(),
                    traffic.stat("slabs_moved"), traffic.stat("evictions"), elapsedMillis);
        }
    }
}
