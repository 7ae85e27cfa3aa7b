package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * The digest must cover every piece of replicated state: changing any one of them alone changes
 * it. Per-node facts must not. Each case below builds the same store twice and tampers with one
 * part directly, so a part the digest forgot would show up as equal digests.
 */
class StoreDigestTest {
    private static final long NOW = 1_790_000_000_000L;

    private static Store build() {
        Store store = new Store(StoreConfig.withMemory(8L * StoreConfig.MEGABYTE), 3);
        store.advanceClock(NOW);
        store.apply(Cmd.set("alpha", "one", 7, 100), false);
        store.apply(Cmd.set("beta", "two", 0, 0), false);
        store.apply(Cmd.set("gamma", "three", 0, 0), false);
        return store;
    }

    private static long handle(Store store, String key) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        return store.items().index.findForWrite(k, k.length, store.items().index.hash(k, k.length));
    }

    private static void assertChanges(String part, Consumer<Store> tamper) {
        try (Store reference = build(); Store tampered = build()) {
            assertEquals(reference.digest(), tampered.digest(), "identical stores, identical digests");
            tamper.accept(tampered);
            assertNotEquals(reference.digest(), tampered.digest(), part + " is not covered by the digest");
        }
    }

    @Test
    void everyReplicatedPartChangesTheDigest() {
        assertChanges("a value byte", s -> OffHeap.putByte(s.items().dataAddress(handle(s, "beta")), (byte) 'T'));
        assertChanges("a key byte", s -> OffHeap.putByte(s.items().address(handle(s, "beta")) + s.items().keyOffset, (byte) 'B'));
        assertChanges("client flags", s -> OffHeap.putInt(s.items().address(handle(s, "alpha")) + ItemLayout.CLIENT_FLAGS, 8));
        assertChanges("exptime", s -> s.items().setExptime(handle(s, "alpha"), 12345));
        assertChanges("update time", s -> OffHeap.putInt(s.items().address(handle(s, "beta")) + ItemLayout.TIME, 1));
        assertChanges("an item's CAS", s -> s.items().setCas(handle(s, "gamma"), 999));
        assertChanges("stale flag", s -> s.items().setFlags(handle(s, "beta"), ItemLayout.FLAG_STALE));
        assertChanges("LRU order", s -> {
            long beta = handle(s, "beta");
            s.items().lru.moveToHead(beta, s.items().classId(beta), s.items().totalSize(beta));
        });
        assertChanges("slab accounting", s -> s.items().slabs.allocate(5, false));
        assertChanges("the CAS counter", s -> s.items().casCounter++);
        assertChanges("the flush marker", s -> s.items().oldestLiveSeconds = 77);
        assertChanges("the flush CAS", s -> s.items().oldestCas = 2);
        assertChanges("the applied now", s -> s.advanceClock(NOW + 1));
        assertChanges("item counters", s -> s.items().totalItems++);
        assertChanges("eviction counters", s -> s.items().stats.evicted[3]++);
    }

    @Test
    void perNodeFactsDoNotChangeTheDigest() {
        try (Store reference = build(); Store local = build()) {
            local.read("alpha".getBytes(StandardCharsets.UTF_8), NOW + 50_000, Store.Lookup.live(true), item -> { });
            assertEquals(reference.digest(), local.digest(), "reads mark fetched/last access, which is not replicated");
        }
    }
}
