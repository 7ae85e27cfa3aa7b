package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import io.raftcached.proto.Maintenance;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Readers racing the apply thread must only ever see a whole value of the key they asked for —
 * never a half-written value and never another key's bytes — while apply overwrites, deletes,
 * increments, evicts, reuses chunks, grows the index and moves slab pages underneath them (the
 * drained pages' live chunks copied elsewhere and the pages carved again for other classes).
 */
class StoreConcurrencyTest {
    private static final int KEYS = 150_000;   // enough to force index growth past 2^16 buckets
    /** Apply runs until readers have read enough while it evicted and grew the index, or this many commands. */
    private static final int COMMANDS_MAX = 5_000_000;
    private static final long HITS_MIN = 10_000;

    @Test
    void readersNeverSeeTornOrForeignValues() throws Exception {
        StoreConfig config = StoreConfig.withMemory(40L * StoreConfig.MEGABYTE);
        try (Store store = new Store(config, 5)) {
            long now = 1_790_000_000_000L;
            store.advanceClock(now);
            // Close to the index's growth threshold, so it grows while the readers run.
            for (int i = 0; i < 90_000; i++) {
                store.apply(Cmd.set("k" + i, valueFor("k" + i, 10)), false);
            }
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong hits = new AtomicLong();
            List<Thread> readers = new ArrayList<>();
            for (int r = 0; r < 3; r++) {
                long seed = r;
                Thread reader = new Thread(() -> {
                    Random random = new Random(seed);
                    while (running.get() && failure.get() == null) {
                        String key = "k" + random.nextInt(KEYS);
                        byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
                        String[] seen = {null};
                        store.read(keyBytes, Long.MAX_VALUE / 2, Store.Lookup.live(true),
                                item -> seen[0] = new String(item.copyValue(), StandardCharsets.UTF_8));
                        if (seen[0] != null) {
                            hits.incrementAndGet();
                            String problem = check(key, seen[0]);
                            if (problem != null) {
                                failure.compareAndSet(null, problem);
                            }
                        }
                    }
                });
                reader.start();
                readers.add(reader);
            }
            Random random = new Random(99);
            int applied = 0;
            // Bounded by work done, not by time: a busy machine only makes the run longer.
            while (applied < COMMANDS_MAX && failure.get() == null
                    && !(hits.get() > HITS_MIN && evicted(store) > 0 && grown(store)
                            && store.maintenanceStats().slabReassignRescues() > 0)) {
                String key = "k" + random.nextInt(KEYS);
                int roll = random.nextInt(10);
                Command command;
                if (roll < 7) {
                    command = Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET).setKey(Cmd.bytes(key))
                            .setValue(Cmd.bytes(valueFor(key, random.nextInt(10) == 0 ? random.nextInt(3_000) : random.nextInt(60)))).build();
                } else if (roll < 8) {
                    command = Cmd.delete(key);
                } else {
                    command = Cmd.store(StoreMode.MODE_APPEND, key, "", 0, 0);
                }
                store.apply(command, false);
                store.endOfEntry(false);
                if (++applied % 256 == 0) {
                    store.maintain();
                }
                if (applied % 2_000 == 0 && grown(store)) {
                    // A new log second, and a page taken from some class for another (once the
                    // index has grown: moves evict, and the index grows only with enough items).
                    now += 1_000;
                    store.advanceClock(now);
                    store.apply(Command.newBuilder().setOp(Op.MAINTENANCE).setMaintenance(Maintenance.newBuilder()
                            .setKind(Maintenance.Kind.SLABS_REASSIGN).setSourceClass(-1)
                            .setDestinationClass(1 + random.nextInt(12))).build(), false);
                }
            }
            running.set(false);
            for (Thread reader : readers) {
                reader.join();
            }
            assertEquals(null, failure.get());
            assertTrue(hits.get() > HITS_MIN, "readers must actually have read: " + hits.get());
            assertTrue(grown(store),
                    "the index must have grown: applied " + applied + ", items " + store.currentItems());
            assertTrue(evicted(store) > 0, "chunks must have been recycled by eviction");
            assertTrue(store.maintenanceStats().slabReassignRescues() > 0, "live chunks must have been moved off drained pages");
            store.checkInvariants();
        }
    }

    private static boolean grown(Store store) {
        return store.hashBuckets() > 1 << 16 || store.hashExpanding();
    }

    private static long evicted(Store store) {
        long evicted = 0;
        for (int c = 1; c <= store.slabClasses().largestClass(); c++) {
            evicted += store.slabStats(c).evicted;
        }
        return evicted;
    }

    /** A value names its key and length, then repeats a byte derived from both. */
    private static String valueFor(String key, int padding) {
        StringBuilder text = new StringBuilder(key).append('|').append(padding).append('|');
        char fill = (char) ('a' + Math.floorMod((key + padding).hashCode(), 26));
        for (int i = 0; i < padding; i++) {
            text.append(fill);
        }
        return text.toString();
    }

    private static String check(String key, String value) {
        String[] parts = value.split("\\|", 3);
        if (parts.length != 3 || !parts[0].equals(key)) {
            return "read " + key + " but got a value for " + (parts.length > 0 ? parts[0] : "?");
        }
        int padding = Integer.parseInt(parts[1]);
        if (!parts[2].equals(valueFor(key, padding).split("\\|", 3)[2])) {
            return "torn value for " + key;
        }
        return null;
    }
}
