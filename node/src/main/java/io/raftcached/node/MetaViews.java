package io.raftcached.node;

import io.raftcached.protocol.MetaItemView;
import io.raftcached.store.ItemView;
import io.raftcached.store.Store;
import io.raftcached.store.StoreResult;

/** {@link MetaItemView}s over what the store returned, for the meta reply writer. */
final class MetaViews {
    private MetaViews() {}

    private static long ttl(long storeTtl) {
        return storeTtl == -1 ? MetaItemView.NO_EXPIRY : storeTtl;
    }

    /** Over an item found by a local read, valid only while the read's visitor runs. */
    static MetaItemView of(byte[] key, ItemView item, long readClockMillis) {
        return new MetaItemView() {
            @Override public byte[] key() { return key; }
            @Override public boolean keyBinary() { return item.keyBinary(); }
            @Override public int clientFlags() { return item.clientFlags(); }
            @Override public int valueLength() { return item.valueLength(); }
            @Override public long casUnique() { return item.cas(); }
            @Override public long ttlSeconds() { return ttl(item.ttlSeconds()); }
            @Override public long ttlSecondsFor(int rawExptime) { return ttl(Store.ttlSecondsFor(rawExptime, readClockMillis)); }
            @Override public long secondsSinceLastAccess() { return item.secondsSinceLastAccess(); }
            @Override public boolean fetchedBefore() { return item.fetched(); }
            @Override public boolean created() { return false; }
            @Override public boolean winTokenSentBefore() { return item.tokenSent(); }
            @Override public boolean stale() { return item.stale(); }
            @Override public boolean wonToken() { return false; }
        };
    }

    /** Per-node facts an mg reports from before the command: hit before, seconds since last access. */
    record LocalFacts(boolean fetched, long secondsSinceLastAccess) {
        static final LocalFacts NONE = new LocalFacts(false, 0);
    }

    /** Over the result of a meta command applied through the log. */
    static MetaItemView of(byte[] key, StoreResult result, LocalFacts facts) {
        return new MetaItemView() {
            @Override public byte[] key() { return key; }
            @Override public boolean keyBinary() { return result.keyBinary; }
            @Override public int clientFlags() { return result.clientFlags; }
            @Override public int valueLength() { return result.valueLength; }
            @Override public long casUnique() { return result.cas; }
            @Override public long ttlSeconds() { return ttl(result.ttlBeforeSeconds); }
            @Override public long ttlSecondsFor(int rawExptime) { return ttl(Store.ttlSecondsFor(rawExptime, result.appliedNowMillis)); }
            @Override public long secondsSinceLastAccess() { return facts.secondsSinceLastAccess(); }
            @Override public boolean fetchedBefore() { return facts.fetched(); }
            @Override public boolean created() { return result.created; }
            @Override public boolean winTokenSentBefore() { return result.tokenAlreadySent; }
            @Override public boolean stale() { return result.stale; }
            @Override public boolean wonToken() { return result.won; }
        };
    }
}
