package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.store.StoreResult.Status;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** memcached's command semantics, one rule at a time, with time driven by the test. */
class StoreTest {
    private static final long START_MILLIS = 1_790_000_000_000L;   // 2026-09
    private Store store;
    private long nowMillis = START_MILLIS;

    @BeforeEach
    void open() {
        store = new Store(StoreConfig.defaults(), 42);
        store.advanceClock(nowMillis);
    }

    @AfterEach
    void close() {
        store.close();
    }

    private StoreResult apply(Command command) {
        return store.apply(command, true);
    }

    private void advanceSeconds(long seconds) {
        nowMillis += seconds * 1000;
        store.advanceClock(nowMillis);
    }

    private String get(String key) {
        String[] found = {null};
        store.read(key.getBytes(StandardCharsets.UTF_8), nowMillis, Store.Lookup.live(false),
                item -> found[0] = new String(item.copyValue(), StandardCharsets.UTF_8));
        return found[0];
    }

    private long casOf(String key) {
        long[] cas = {-1};
        store.read(key.getBytes(StandardCharsets.UTF_8), nowMillis, Store.Lookup.live(false), item -> cas[0] = item.cas());
        return cas[0];
    }

    @Test
    void setThenGetAndCasValuesComeFromOneCounter() {
        assertEquals(Status.STORED, apply(Cmd.set("a", "1")).status);
        assertEquals(Status.STORED, apply(Cmd.set("b", "2")).status);
        assertEquals("1", get("a"));
        assertEquals(1, casOf("a"));
        assertEquals(2, casOf("b"));
        apply(Cmd.set("a", "3"));
        assertEquals(3, casOf("a"));
        assertEquals(2, store.currentItems());
        assertEquals(3, store.totalItems());
    }

    @Test
    void addReplaceAppendPrepend() {
        assertEquals(Status.NOT_STORED, apply(Cmd.store(StoreMode.MODE_REPLACE, "k", "x", 0, 0)).status);
        assertEquals(Status.STORED, apply(Cmd.store(StoreMode.MODE_ADD, "k", "mid", 5, 0)).status);
        assertEquals(Status.NOT_STORED, apply(Cmd.store(StoreMode.MODE_ADD, "k", "other", 0, 0)).status);
        assertEquals(Status.STORED, apply(Cmd.store(StoreMode.MODE_APPEND, "k", ">", 9, 0)).status);
        assertEquals(Status.STORED, apply(Cmd.store(StoreMode.MODE_PREPEND, "k", "<", 9, 0)).status);
        assertEquals("<mid>", get("k"));
        int[] flags = {-1};
        store.read("k".getBytes(StandardCharsets.UTF_8), nowMillis, Store.Lookup.live(false), item -> flags[0] = item.clientFlags());
        assertEquals(5, flags[0], "append/prepend keep the original flags");
        assertEquals(Status.NOT_STORED, apply(Cmd.store(StoreMode.MODE_APPEND, "missing", "x", 0, 0)).status);
    }

    @Test
    void casMatchesMismatchesAndMisses() {
        apply(Cmd.set("k", "v"));
        long cas = casOf("k");
        assertEquals(Status.EXISTS, apply(Cmd.cas("k", "w", cas + 100)).status);
        assertEquals(Status.STORED, apply(Cmd.cas("k", "w", cas)).status);
        assertEquals("w", get("k"));
        assertEquals(Status.EXISTS, apply(Cmd.cas("k", "z", cas)).status);
        assertEquals(Status.NOT_FOUND, apply(Cmd.cas("nope", "z", 1)).status);
    }

    @Test
    void incrementWrapsAt64BitsAndDecrementStopsAtZero() {
        apply(Cmd.set("n", "18446744073709551615"));
        StoreResult wrapped = apply(Cmd.incr("n", 2));
        assertEquals(Status.NUMBER, wrapped.status);
        assertEquals("1", Long.toUnsignedString(wrapped.number));
        // memcached rewrites in place and pads with spaces when the number gets shorter.
        assertEquals("1                   ", get("n"));
        apply(Cmd.set("d", "10"));
        assertEquals(0, apply(Cmd.decr("d", 11)).number);
        assertEquals("0 ", get("d"));
        apply(Cmd.set("t", "12abc"));
        assertEquals(Status.NON_NUMERIC, apply(Cmd.incr("t", 1)).status);
        apply(Cmd.set("grow", "99"));
        assertEquals(100, apply(Cmd.incr("grow", 1)).number);
        assertEquals("100", get("grow"));
        assertEquals(Status.NOT_FOUND, apply(Cmd.incr("absent", 1)).status);
    }

    @Test
    void relativeAbsoluteAndNegativeExptimes() {
        apply(Cmd.set("rel", "v", 0, 10));
        apply(Cmd.set("abs", "v", 0, nowMillis / 1000 + 20));
        apply(Cmd.set("neg", "v", 0, -1));
        apply(Cmd.set("past", "v", 0, 1_000_000_000L));   // absolute, in 2001
        assertEquals(null, get("neg"));
        assertEquals(null, get("past"));
        advanceSeconds(9);
        assertEquals("v", get("rel"));
        advanceSeconds(1);
        assertEquals(null, get("rel"), "expired exactly at its exptime");
        assertEquals("v", get("abs"));
        advanceSeconds(10);
        assertEquals(null, get("abs"));
    }

    @Test
    void readsNeverChangeReplicatedState() {
        apply(Cmd.set("a", "1", 0, 5));
        String before = store.digest();
        for (int i = 0; i < 10; i++) {
            get("a");
            store.read("a".getBytes(StandardCharsets.UTF_8), nowMillis + 60_000, Store.Lookup.live(true), item -> { });
        }
        assertEquals(before, store.digest());
    }

    @Test
    void touchAndGatChangeExptimeButKeepCas() {
        apply(Cmd.set("k", "v", 0, 5));
        long cas = casOf("k");
        assertEquals(Status.TOUCHED, apply(Cmd.touch("k", 100)).status);
        StoreResult gat = apply(Cmd.gat("k", 200));
        assertEquals(Status.HIT, gat.status);
        assertEquals(cas, gat.cas);
        assertEquals(1, gat.valueLength);
        assertEquals(null, gat.value, "gat's value is read from the item version, not copied at apply time");
        advanceSeconds(150);
        assertEquals("v", get("k"));
        assertEquals(Status.NOT_FOUND, apply(Cmd.touch("nope", 1)).status);
        // A gat that expires the item still returns it, as memcached does: its version is read past expiry.
        StoreResult expiring = apply(Cmd.gat("k", -1));
        assertEquals(Status.HIT, expiring.status);
        assertEquals(null, get("k"));
        byte[][] value = {null};
        assertEquals(Store.ReadOutcome.HIT, store.read("k".getBytes(StandardCharsets.UTF_8), nowMillis, Store.Lookup.version(expiring.cas),
                item -> value[0] = item.copyValue()));
        assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), value[0]);
    }

    @Test
    void flushAllNowAndWithDelay() {
        apply(Cmd.set("a", "1"));
        assertEquals(Status.OK, apply(Cmd.flushAll(0)).status);
        assertEquals(null, get("a"));
        apply(Cmd.set("b", "2"));
        assertEquals("2", get("b"), "items stored after the flush survive it");
        apply(Cmd.flushAll(10));
        advanceSeconds(5);
        apply(Cmd.set("c", "3"));
        assertEquals("2", get("b"));
        advanceSeconds(6);
        assertEquals(null, get("b"));
        assertEquals(null, get("c"), "a delayed flush also drops items stored before its deadline");
    }

    @Test
    void evictsFromTheTailOfTheNeededClassWhenFull() {
        store.close();
        store = new Store(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE), 7);
        store.advanceClock(nowMillis);
        String value = "x".repeat(1000);
        for (int i = 0; i < 5000; i++) {
            assertEquals(Status.STORED, apply(Cmd.set("key" + i, value)).status);
        }
        SlabStats stats = store.slabStats(store.slabClasses().classFor(ItemLayout.totalSize(7, 0, 1000, true)));
        assertTrue(stats.evicted > 0);
        assertEquals(null, get("key0"), "the oldest key went first");
        assertEquals(value, get("key4999"));
        assertTrue(store.mallocedBytes() <= 2L * StoreConfig.MEGABYTE + StoreConfig.MEGABYTE);
    }

    @Test
    void outOfMemoryWithEvictionsDisabled() {
        store.close();
        store = new Store(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE).withEvictionsDisabled(true), 7);
        store.advanceClock(nowMillis);
        String value = "x".repeat(1000);
        Status last = Status.STORED;
        int stored = 0;
        for (int i = 0; i < 5000 && last == Status.STORED; i++) {
            last = apply(Cmd.set("key" + i, value)).status;
            stored += last == Status.STORED ? 1 : 0;
        }
        assertEquals(Status.OUT_OF_MEMORY, last);
        assertEquals(value, get("key0"));
        assertTrue(stored > 1000);
    }

    @Test
    void largeValuesAreChunkedAndReadBack() {
        byte[] big = new byte[900_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i * 31);
        }
        Command set = Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET).setKey(Cmd.bytes("big"))
                .setValue(com.google.protobuf.ByteString.copyFrom(big)).build();
        assertEquals(Status.STORED, apply(set).status);
        byte[][] read = {null};
        store.read("big".getBytes(StandardCharsets.UTF_8), nowMillis, Store.Lookup.live(false), item -> read[0] = item.copyValue());
        assertArrayEquals(big, read[0]);
        apply(Cmd.store(StoreMode.MODE_APPEND, "big", "tail", 0, 0));
        store.read("big".getBytes(StandardCharsets.UTF_8), nowMillis, Store.Lookup.live(false), item -> read[0] = item.copyValue());
        assertEquals(big.length + 4, read[0].length);
        assertEquals(Status.NON_NUMERIC, apply(Cmd.incr("big", 1)).status);
        assertEquals(Status.DELETED, apply(Cmd.delete("big")).status);
        Command tooBig = set.toBuilder().setValue(com.google.protobuf.ByteString.copyFrom(new byte[2_000_000])).build();
        assertEquals(Status.TOO_LARGE, apply(tooBig).status);
    }

    @Test
    void failedSetDropsTheOldValueAsMemcachedDoes() {
        apply(Cmd.set("k", "old"));
        Command tooLarge = Cmd.set("k", "").toBuilder().setOptions(CommandOption.VALUE_TOO_LARGE_VALUE).build();
        assertEquals(Status.TOO_LARGE, apply(tooLarge).status);
        assertEquals(null, get("k"));
    }

    @Test
    void metaDeleteInvalidateThenMetaGetHandsOutOneWinToken() {
        apply(Cmd.set("k", "v", 0, 100));
        long cas = casOf("k");
        Command invalidate = Cmd.delete("k").toBuilder().setOptions(CommandOption.INVALIDATE_VALUE).build();
        assertEquals(Status.DELETED, apply(invalidate).status);
        assertNotEquals(cas, casOf("k"));
        Command metaGet = Command.newBuilder().setOp(Op.META_GET).setKey(Cmd.bytes("k")).build();
        StoreResult first = apply(metaGet);
        assertTrue(first.stale && first.won && !first.tokenAlreadySent);
        StoreResult second = apply(metaGet);
        assertTrue(second.stale && !second.won && second.tokenAlreadySent);
    }

    @Test
    void metaGetVivifiesOnMiss() {
        Command vivify = Command.newBuilder().setOp(Op.META_GET).setKey(Cmd.bytes("v"))
                .setOptions(CommandOption.HAS_VIVIFY_VALUE).setVivifyExptime(30).setFlagOrder("N").build();
        StoreResult first = apply(vivify);
        assertTrue(first.created && first.won);
        assertEquals(30, first.ttlAfterSeconds);
        StoreResult second = apply(vivify);
        assertTrue(!second.created && !second.won && second.tokenAlreadySent);
        assertEquals("", get("v"));
    }

    @Test
    void clockNeverRunsBackwards() {
        apply(Cmd.set("k", "v", 0, 10));
        store.advanceClock(nowMillis - 3_600_000);   // a new leader whose clock is an hour behind
        assertEquals(nowMillis, store.appliedNowMillis());
        advanceSeconds(10);
        assertEquals(null, get("k"));
    }

    @Test
    void invariantCheckHoldsThroughWorkAndNoticesACountOff() {
        try (Store store = new Store(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE), 3)) {
            store.advanceClock(1_790_000_000_000L);
            for (int i = 0; i < 2_000; i++) {
                store.apply(Cmd.set("k" + (i % 300), "x".repeat(i % 2_000)), false);
                if (i % 7 == 0) {
                    store.apply(Cmd.delete("k" + (i % 11)), false);
                }
            }
            store.checkInvariants();
            store.items().currentItems++;
            IllegalStateException broken = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    store::checkInvariants);
            assertTrue(broken.getMessage().contains("curr_items"), broken.getMessage());
            store.items().currentItems--;
        }
    }

    @Test
    void trackedSizeHistogramFollowsLinksAndUnlinksAsAFreshWalkWould() {
        assertTrue(store.sizeHistogram().isEmpty(), "nothing is tracked before -o track_sizes");
        apply(Cmd.set("before", "x".repeat(100)));
        store.trackSizes();
        for (int i = 0; i < 500; i++) {
            apply(Cmd.set("k" + (i % 97), "v".repeat(i % 700)));
            if (i % 5 == 0) {
                apply(Cmd.delete("k" + (i % 13)));
            }
            if (i % 7 == 0) {
                apply(Cmd.store(io.raftcached.proto.StoreMode.MODE_APPEND, "k" + (i % 11), "tail", 0, 0));
            }
        }
        java.util.SortedMap<Long, Long> incremental = store.sizeHistogram();
        store.trackSizes();
        assertEquals(store.sizeHistogram(), incremental);
        assertEquals(store.currentItems(), incremental.values().stream().mapToLong(Long::longValue).sum());
    }
}
