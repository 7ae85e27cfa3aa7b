package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, "hot set under a stream of new keys": memcached evicts what is not read, so keys read
 * continuously outlive a stream of keys that are only written; raftcached must keep at least 0.9×
 * as many of them.
 *
 * <p>The issue measured 50 000 hot keys read by 8 clients (8 000 gets/s) while 600 000 new keys were
 * written at 10 000 sets/s (60 s). Sized down for CI, with the proportions that decide the outcome
 * kept: the hot set is 40 % of -m 64 (12 500 keys of 2 000 B), the new keys write 4× the memory
 * (128 000), and each hot key is read about every 3 s while 11 MB/s of new keys stream in (4 000
 * gets/s uniformly over the hot set on 4 connections, 5 500 sets/s), about 23 s in all. memcached
 * 1.6.18 then keeps about a third of the hot keys — its WARM segment holds the ones read while
 * they sat in COLD — and the figure is stable run to run (4 081–4 111 over five runs while sizing
 * this, one of them against a second memcached in raftcached's place: ratio 1.00); a cache evicting
 * in write order keeps none.
 */
class MemoryParityHotSetTest {
    static final int HOT_KEYS = 12_500;
    static final int NEW_KEYS = 128_000;
    static final int VALUE_BYTES = 2_000;
    static final long TICK_MILLIS = 20;
    static final int SETS_PER_TICK = 110;
    static final int GETS_PER_TICK = 80;
    static final int READER_CONNECTIONS = 4;
    static final int FILL_WINDOW = 500;
    /** The same seed for both servers: the same hot keys read in the same order. */
    static final long SEED = 15;
    static final Duration SCENARIO_TIMEOUT = Duration.ofSeconds(150);

    record Outcome(String server, int kept, long hits, long gets, long refusedSets, String lastRefusal,
            long evictions, long elapsedMillis) {
        String describe() {
            return String.format(Locale.ROOT, "%s kept %d/%d", server, kept, HOT_KEYS);
        }

        String details() {
            return String.format(Locale.ROOT, "%s: %.1f%% of the %d gets during the stream hit, %d evictions, %d sets refused%s,"
                    + " stream took %.1f s", server, 100.0 * hits / gets, gets, evictions, refusedSets,
                    lastRefusal.isEmpty() ? "" : " (last: " + lastRefusal + ")", elapsedMillis / 1000.0);
        }
    }

    @Test
    void keysThatAreReadOutliveKeysThatAreOnlyWritten() throws Exception {
        try (DropInServers servers = MemoryParity.start("hot-set")) {
            List<Outcome> outcomes = MemoryParity.sideBySide(SCENARIO_TIMEOUT,
                    () -> run("memcached", servers.memcached().port()), () -> run("raftcached", servers.raftcached().port()));
            Outcome memcached = outcomes.get(0);
            Outcome raftcached = outcomes.get(1);
            double ratio = MemoryParity.ratio(raftcached.kept(), memcached.kept());
            String line = String.format(Locale.ROOT, "hot-set: %s, %s (ratio %.2f, need >= 0.90)", memcached.describe(),
                    raftcached.describe(), ratio);
            MemoryParity.report(line + "\n  " + memcached.details() + "\n  " + raftcached.details());

            // The scenario is valid only if the new keys overflowed memory and memcached kept a clear share.
            assertTrue(memcached.evictions() >= NEW_KEYS / 2, "memcached evicted too little for a stream past memory: " + line);
            assertTrue(memcached.kept() >= HOT_KEYS / 10, "memcached kept too few hot keys for a comparison: " + line);
            assertTrue(raftcached.kept() >= 0.9 * memcached.kept(), line + "; " + raftcached.details());
        }
    }

    private static Outcome run(String server, int port) throws Exception {
        byte[] value = CacheTraffic.value(VALUE_BYTES, 'h');
        try (CacheTraffic traffic = new CacheTraffic(server, port, READER_CONNECTIONS)) {
            List<String> hotKeys = CacheTraffic.keys("hot-", 0, HOT_KEYS);
            for (int from = 0; from < HOT_KEYS; from += FILL_WINDOW) {
                traffic.set(hotKeys.subList(from, Math.min(HOT_KEYS, from + FILL_WINDOW)), value, 0);
            }
            SplittableRandom random = new SplittableRandom(SEED);
            long[] hits = new long[1];
            int steps = (NEW_KEYS + SETS_PER_TICK - 1) / SETS_PER_TICK;
            long elapsedMillis = CacheTraffic.paced(steps, TICK_MILLIS, step -> {
                int from = step * SETS_PER_TICK;
                traffic.set(CacheTraffic.keys("new-", from, Math.min(NEW_KEYS, from + SETS_PER_TICK)), value, 0);
                List<String> reads = new ArrayList<>(GETS_PER_TICK);
                for (int i = 0; i < GETS_PER_TICK; i++) {
                    reads.add(hotKeys.get(random.nextInt(HOT_KEYS)));
                }
                hits[0] += traffic.get(reads);
            });
            int kept = traffic.countPresent(hotKeys);
            return new Outcome(server, kept, hits[0], (long) steps * GETS_PER_TICK, traffic.refusedSets(), traffic.lastRefusal(),
                    traffic.stat("evictions"), elapsedMillis);
        }
    }
}
