package io.raftcached.store;

import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.proto.Maintenance;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One replica's run for {@link DeterminismTest}, in its own JVM: applies a seeded stream of every
 * kind of write (classic and meta, with TTLs, evictions, incr, append, cas, access hints, slab
 * moves and crawls), whose item sizes shift halfway so the slab automover moves pages, with the
 * maintainer's end-of-entry work and this replica's own page drains, while reader threads —
 * seeded differently per replica and reading with a skewed local clock — hammer the store, then
 * prints the digest. Replicas given the same command seed must print the same digest whatever
 * their other seeds and clocks.
 *
 * <p>Arguments: commandSeed hashSeed readerSeed clockOffsetMillis.
 */
public final class DeterminismWorkload {
    private static final int OPERATIONS = 60_000;
    private static final int KEY_SPACE = 20_000;

    public static void main(String[] args) throws InterruptedException {
        long commandSeed = Long.parseLong(args[0]);
        long hashSeed = Long.parseLong(args[1]);
        long readerSeed = Long.parseLong(args[2]);
        long clockOffsetMillis = Long.parseLong(args[3]);
        StoreConfig config = StoreConfig.withMemory(8L * StoreConfig.MEGABYTE).withSlabClasses(48, 2.0);   // few classes, several pages each
        try (Store store = new Store(config, hashSeed)) {
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> readers = startReaders(store, readerSeed, clockOffsetMillis, running);
            Random random = new Random(commandSeed);
            RandomCommands large = new RandomCommands(commandSeed, KEY_SPACE, 3_000, true, key -> casOf(store, key));
            RandomCommands small = new RandomCommands(commandSeed + 1, KEY_SPACE, 100, true, key -> casOf(store, key));
            long leaderMillis = 1_790_000_000_000L;
            for (int i = 0; i < OPERATIONS; i++) {
                RandomCommands classic = i < OPERATIONS / 2 ? large : small;
                leaderMillis += classic.nextStepMillis();
                // A new leader with a slower clock: apply must keep time monotonic regardless.
                store.advanceClock(random.nextInt(500) == 0 ? leaderMillis - 60_000 : leaderMillis);
                int kind = random.nextInt(1000);
                Command command = kind < 100 ? metaCommand(random, store) : kind < 150 ? hints(random)
                        : kind < 152 ? maintenance(random, store) : classic.next(leaderMillis / 1000);
                store.apply(command, random.nextBoolean());
                store.endOfEntry(random.nextInt(50) == 0);
                if (i % 100 == 0) {
                    store.maintain();
                }
            }
            store.checkInvariants();
            running.set(false);
            for (Thread reader : readers) {
                reader.join();
            }
            System.out.println("digest " + store.digest() + " items " + store.currentItems() + " evictions "
                    + evictions(store) + " cas " + store.casCounter() + " slabs_moved " + store.maintenanceStats().slabsMoved());
        }
    }

    private static long casOf(Store store, String key) {
        long[] cas = {0};
        store.read(key.getBytes(StandardCharsets.UTF_8), Long.MAX_VALUE / 4, Store.Lookup.live(false), item -> cas[0] = item.cas());
        return cas[0];
    }

    private static long evictions(Store store) {
        long total = 0;
        for (int c = 1; c <= store.slabClasses().largestClass(); c++) {
            total += store.slabStats(c).evicted;
        }
        return total;
    }

    private static List<Thread> startReaders(Store store, long seed, long clockOffsetMillis, AtomicBoolean running) {
        List<Thread> readers = new ArrayList<>();
        for (int r = 0; r < 2; r++) {
            Random random = new Random(seed + r);
            Thread reader = new Thread(() -> {
                while (running.get()) {
                    byte[] key = ("key:" + random.nextInt(KEY_SPACE)).getBytes(StandardCharsets.UTF_8);
                    long readNow = store.appliedNowMillis() + clockOffsetMillis;
                    store.read(key, readNow, Store.Lookup.live(random.nextBoolean()), item -> item.copyValue());
                }
            });
            reader.start();
            readers.add(reader);
        }
        return readers;
    }

    /** Reads another node served. */
    private static Command hints(Random random) {
        Command.Builder hints = Command.newBuilder().setOp(Op.ACCESS_HINTS);
        for (int i = random.nextInt(10); i >= 0; i--) {
            hints.addHintKeys(Cmd.bytes("key:" + random.nextInt(KEY_SPACE)));
        }
        return hints.build();
    }

    /** slabs reassign (any class, the pool, bad ones), slabs automove, lru_crawler. */
    private static Command maintenance(Random random, Store store) {
        int largest = store.slabClasses().largestClass();
        Maintenance.Builder maintenance = Maintenance.newBuilder();
        switch (random.nextInt(4)) {
            case 0, 1 -> maintenance.setKind(Maintenance.Kind.SLABS_REASSIGN).setSourceClass(random.nextInt(largest + 2) - 1)
                    .setDestinationClass(random.nextInt(largest + 1));
            case 2 -> maintenance.setKind(Maintenance.Kind.SLABS_AUTOMOVE).setAutomoveMode(random.nextInt(3));
            default -> maintenance.setKind(Maintenance.Kind.CRAWLER_CRAWL).setCrawlClasses(store.allClassBits());
        }
        return Command.newBuilder().setOp(Op.MAINTENANCE).setMaintenance(maintenance).build();
    }

    /** ms/md/ma/mg with the flags that change items: I, E, N, J, T, R, C. */
    private static Command metaCommand(Random random, Store store) {
        String key = "key:" + random.nextInt(KEY_SPACE);
        Command.Builder b = Command.newBuilder().setKey(Cmd.bytes(key));
        int options = CommandOption.META_COMMAND_VALUE;
        switch (random.nextInt(5)) {
            case 0 -> {
                b.setOp(Op.STORE).setMode(random.nextBoolean() ? StoreMode.MODE_CAS : StoreMode.MODE_SET)
                        .setValue(Cmd.bytes("meta" + random.nextInt(1000))).setExptime(random.nextInt(30));
                if (random.nextBoolean()) {
                    options |= CommandOption.HAS_COMPARE_CAS_VALUE | CommandOption.INVALIDATE_VALUE;
                    b.setCompareCas(Math.max(1, casOf(store, key) - random.nextInt(2)));
                }
                if (random.nextInt(4) == 0) {
                    options |= CommandOption.HAS_EXPLICIT_CAS_VALUE;
                    b.setExplicitCas(1_000_000 + random.nextInt(1000));
                }
            }
            case 1 -> {
                b.setOp(Op.DELETE);
                if (random.nextBoolean()) {
                    options |= CommandOption.INVALIDATE_VALUE | CommandOption.HAS_EXPTIME_VALUE;
                    b.setExptime(random.nextInt(20));
                }
            }
            case 2 -> {
                b.setOp(Op.ARITH).setDelta(random.nextInt(10)).setFlagOrder("NJT");
                options |= CommandOption.HAS_VIVIFY_VALUE;
                b.setVivifyExptime(random.nextInt(30)).setInitial(random.nextInt(100));
                if (random.nextBoolean()) {
                    options |= CommandOption.HAS_EXPTIME_VALUE;
                    b.setExptime(random.nextInt(60));
                }
            }
            default -> {
                b.setOp(Op.META_GET).setFlagOrder(random.nextBoolean() ? "TNR" : "RNT");
                options |= CommandOption.HAS_VIVIFY_VALUE | CommandOption.HAS_RECACHE_VALUE;
                b.setVivifyExptime(random.nextInt(30)).setRecacheExptime(random.nextInt(30));
                if (random.nextBoolean()) {
                    options |= CommandOption.HAS_EXPTIME_VALUE;
                    b.setExptime(random.nextInt(60));
                }
                if (random.nextBoolean()) {
                    options |= CommandOption.NO_LRU_BUMP_VALUE;
                }
            }
        }
        return b.setOptions(options).build();
    }
}
