package io.raftcached.protocol;

import java.util.function.IntToLongFunction;

/** A {@link MetaItemView} with settable fields, standing in for the store in writer tests. */
final class FakeItem implements MetaItemView {
    byte[] key = Wire.bytes("k");
    boolean keyBinary;
    int clientFlags;
    int valueLength;
    long cas;
    long ttl = NO_EXPIRY;
    /** Raw exptime to remaining TTL; default: relative seconds, 0 = never. */
    IntToLongFunction ttlFor = raw -> raw == 0 ? NO_EXPIRY : raw;
    long lastAccess;
    boolean fetched;
    boolean created;
    boolean tokenSent;
    boolean stale;
    boolean won;

    static FakeItem of(String key) {
        FakeItem f = new FakeItem();
        f.key = Wire.bytes(key);
        return f;
    }

    FakeItem value(int length) {
        this.valueLength = length;
        return this;
    }

    FakeItem flags(int flags) {
        this.clientFlags = flags;
        return this;
    }

    FakeItem cas(long cas) {
        this.cas = cas;
        return this;
    }

    FakeItem ttl(long ttl) {
        this.ttl = ttl;
        return this;
    }

    @Override
    public byte[] key() {
        return key;
    }

    @Override
    public boolean keyBinary() {
        return keyBinary;
    }

    @Override
    public int clientFlags() {
        return clientFlags;
    }

    @Override
    public int valueLength() {
        return valueLength;
    }

    @Override
    public long casUnique() {
        return cas;
    }

    @Override
    public long ttlSeconds() {
        return ttl;
    }

    @Override
    public long ttlSecondsFor(int rawExptime) {
        return ttlFor.applyAsLong(rawExptime);
    }

    @Override
    public long secondsSinceLastAccess() {
        return lastAccess;
    }

    @Override
    public boolean fetchedBefore() {
        return fetched;
    }

    @Override
    public boolean created() {
        return created;
    }

    @Override
    public boolean winTokenSentBefore() {
        return tokenSent;
    }

    @Override
    public boolean stale() {
        return stale;
    }

    @Override
    public boolean wonToken() {
        return won;
    }
}
