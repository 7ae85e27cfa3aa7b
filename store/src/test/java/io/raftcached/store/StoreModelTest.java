package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import io.raftcached.store.StoreResult.Status;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The store against {@link ReferenceModel} under seeded random command streams. With room for
 * everything the two must agree exactly — statuses, numbers, CAS values, values, flags — while
 * TTLs expire and flushes happen; with a small memory limit they may differ only where the store
 * evicted a key, and then the store must really have lost it.
 */
class StoreModelTest {
    private static final long START_MILLIS = 1_790_000_000_000L;
    private static final int OPERATIONS = 40_000;

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3})
    void agreesExactlyWhenNothingIsEvicted(long seed) {
        run(seed, StoreConfig.withMemory(256L * StoreConfig.MEGABYTE), 300, 600_000, false);
    }

    @ParameterizedTest
    @ValueSource(longs = {11, 12})
    void differsOnlyByEvictionsWhenMemoryIsTight(long seed) {
        run(seed, StoreConfig.withMemory(StoreConfig.MEGABYTE), 20_000, 20_000, true);
    }

    private void run(long seed, StoreConfig config, int keySpace, int valueSizeMax, boolean evictions) {
        ReferenceModel model = new ReferenceModel();
        try (Store store = new Store(config, seed * 31)) {
            long now = START_MILLIS;
            RandomCommands commands = new RandomCommands(seed, keySpace, valueSizeMax, evictions, key -> {
                ReferenceModel.Entry e = model.read(key, model.nowSeconds);
                return e == null ? 0 : e.cas;
            });
            for (int i = 0; i < OPERATIONS; i++) {
                now += commands.nextStepMillis();
                store.advanceClock(now);
                model.setNow(now);
                Command command = commands.next(now / 1000);
                StoreResult expected = model.apply(command);
                StoreResult actual = store.apply(command, true);
                long evicted = totalEvicted(store);
                String context = "op " + i + " " + command.getOp() + " " + command.getMode() + " " + command.getKey().toStringUtf8();
                if (evictions && evicted > 0 && !sameOutcome(expected, actual)) {
                    // Only an eviction may explain a difference: resync the model from the store.
                    resync(store, model, command.getKey().toStringUtf8(), now);
                    continue;
                }
                assertEquals(expected.status, actual.status, context);
                assertEquals(expected.cas, actual.cas, context + " cas");
                assertEquals(Long.toUnsignedString(expected.number), Long.toUnsignedString(actual.number), context);
                if (expected.status == Status.HIT) {
                    assertArrayEquals(expected.value, actual.value, context);
                    assertEquals(expected.clientFlags, actual.clientFlags, context);
                }
                if (i % 2_000 == 0) {
                    compareAll(store, model, now, keySpace, evictions);
                }
            }
            compareAll(store, model, now, keySpace, evictions);
            if (evictions) {
                assertTrue(totalEvicted(store) > 0, "the tight configuration must actually evict");
            } else {
                assertEquals(0, totalEvicted(store));
            }
            assertTrue(store.totalItems() > OPERATIONS / 4);
        }
    }

    private static boolean sameOutcome(StoreResult a, StoreResult b) {
        return a.status == b.status && a.cas == b.cas && a.number == b.number;
    }

    private static long totalEvicted(Store store) {
        long total = 0;
        for (int c = 1; c <= store.slabClasses().largestClass(); c++) {
            total += store.slabStats(c).evicted;
        }
        return total;
    }

    private static void resync(Store store, ReferenceModel model, String key, long nowMillis) {
        byte[][] value = {null};
        int[] flags = {0};
        long[] cas = {0};
        store.read(key.getBytes(StandardCharsets.UTF_8), nowMillis, false, item -> {
            value[0] = item.copyValue();
            flags[0] = item.clientFlags();
            cas[0] = item.cas();
        });
        model.entries.remove(key);
        model.casCounter = store.casCounter();
        if (value[0] != null) {
            ReferenceModel.Entry e = new ReferenceModel.Entry();
            e.value = value[0];
            e.flags = flags[0];
            e.cas = cas[0];
            e.time = model.nowSeconds;
            long[] ttl = {-1};
            store.read(key.getBytes(StandardCharsets.UTF_8), nowMillis, false, item -> ttl[0] = item.ttlSeconds());
            e.exptime = ttl[0] == -1 ? 0 : model.nowSeconds + ttl[0];
            model.entries.put(key, e);
        }
    }

    private static void compareAll(Store store, ReferenceModel model, long nowMillis, int keySpace, boolean evictions) {
        for (int k = 0; k < keySpace; k++) {
            String key = "key:" + k;
            ReferenceModel.Entry expected = model.read(key, nowMillis / 1000);
            byte[][] value = {null};
            int[] flags = {0};
            long[] cas = {0};
            store.read(key.getBytes(StandardCharsets.UTF_8), nowMillis, false, item -> {
                value[0] = item.copyValue();
                flags[0] = item.clientFlags();
                cas[0] = item.cas();
            });
            if (evictions && value[0] == null) {
                continue;   // may have been evicted
            }
            if (expected == null) {
                assertNull(value[0], key + " should be gone");
                continue;
            }
            assertNotNull(value[0], key + " should be present");
            assertArrayEquals(expected.value, value[0], key);
            assertEquals(expected.flags, flags[0], key);
            assertEquals(expected.cas, cas[0], key);
        }
    }
}
