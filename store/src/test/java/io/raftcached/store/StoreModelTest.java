package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.store.StoreResult.Status;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The store against {@link ReferenceModel} under seeded random command streams. With room for
 * everything the two must agree exactly — statuses, numbers, CAS values, values, flags — while
 * TTLs expire and flushes happen. With a small memory limit the model forgets a key only when the
 * store evicted it (an eviction happened since the key was last written, and the store really lost
 * it), and from then on the two agree exactly again, key by key. The store's invariants
 * ({@link Store#checkInvariants}) are checked throughout.
 */
class StoreModelTest {
    private static final long START_MILLIS = 1_790_000_000_000L;
    private static final int OPERATIONS = 40_000;
    /** Operations between two full walks (invariants, every key against the model). */
    private static final int INVARIANT_CHECK_EVERY = 2_000;

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
        Map<String, Long> evictionsAtWrite = new HashMap<>();
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
                String key = command.getKey().toStringUtf8();
                String context = "op " + i + " " + command.getOp() + " " + command.getMode() + " " + key;
                boolean keyed = command.getOp() != Op.FLUSH_ALL;
                if (keyed) {
                    forgetIfEvicted(store, model, key, now, evictionsAtWrite, context);
                }
                ReferenceModel.Entry before = model.entries.get(key);
                long casBefore = model.casCounter;
                long evictedBefore = totalEvicted(store);
                StoreResult expected = model.apply(command);
                StoreResult actual = store.apply(command, true);
                if (keyed && totalEvicted(store) > evictedBefore && !sameOutcome(expected, actual) && before != null) {
                    // The command's own allocation evicted its key, as memcached's can: then the
                    // store must answer exactly what the model answers for a key that is gone.
                    model.entries.remove(key);
                    model.casCounter = casBefore;
                    expected = model.apply(command);
                }
                assertEquals(expected.status, actual.status, context);
                assertEquals(expected.cas, actual.cas, context + " cas");
                assertEquals(Long.toUnsignedString(expected.number), Long.toUnsignedString(actual.number), context);
                if (expected.status == Status.HIT) {
                    byte[] value = actual.value;
                    if (command.getOp() == Op.GET_TOUCH) {
                        // gat's value is read from the item version the touch returned, as the node does.
                        byte[][] read = {null};
                        store.read(command.getKey().toByteArray(), now, Store.Lookup.version(actual.cas), item -> read[0] = item.copyValue());
                        value = read[0];
                    }
                    assertArrayEquals(expected.value, value, context);
                    assertEquals(expected.clientFlags, actual.clientFlags, context);
                }
                if (keyed) {
                    evictionsAtWrite.put(key, totalEvicted(store));
                }
                if (i % INVARIANT_CHECK_EVERY == 0) {
                    store.checkInvariants();
                    compareAll(store, model, now, keySpace, evictionsAtWrite);
                }
            }
            store.checkInvariants();
            compareAll(store, model, now, keySpace, evictionsAtWrite);
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

    private record Seen(byte[] value, int flags, long cas) {}

    private static Seen read(Store store, String key, long nowMillis) {
        Seen[] seen = {null};
        store.read(key.getBytes(StandardCharsets.UTF_8), nowMillis, Store.Lookup.live(false),
                item -> seen[0] = new Seen(item.copyValue(), item.clientFlags(), item.cas()));
        return seen[0];
    }

    /**
     * A key the model holds but the store does not must have been evicted since it was last
     * written (anything else is a lost write): the model forgets it, and from there on the two
     * must agree exactly again.
     */
    private static void forgetIfEvicted(Store store, ReferenceModel model, String key, long nowMillis,
            Map<String, Long> evictionsAtWrite, String context) {
        if (model.read(key, model.nowSeconds) == null || read(store, key, nowMillis) != null) {
            return;
        }
        assertTrue(totalEvicted(store) > evictionsAtWrite.getOrDefault(key, Long.MAX_VALUE),
                context + ": " + key + " vanished from the store with no eviction since it was written");
        model.entries.remove(key);
    }

    /** Every key: the same value, flags and CAS, or gone from the store by eviction. */
    private static void compareAll(Store store, ReferenceModel model, long nowMillis, int keySpace,
            Map<String, Long> evictionsAtWrite) {
        for (int k = 0; k < keySpace; k++) {
            String key = "key:" + k;
            ReferenceModel.Entry expected = model.read(key, nowMillis / 1000);
            Seen actual = read(store, key, nowMillis);
            if (expected == null) {
                assertNull(actual, key + " should be gone");
                continue;
            }
            if (actual == null) {
                assertTrue(totalEvicted(store) > evictionsAtWrite.getOrDefault(key, Long.MAX_VALUE),
                        key + " vanished from the store with no eviction since it was written");
                continue;
            }
            assertArrayEquals(expected.value, actual.value(), key);
            assertEquals(expected.flags, actual.flags(), key);
            assertEquals(expected.cas, actual.cas(), key);
        }
    }
}
