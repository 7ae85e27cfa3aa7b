package io.raftcached.store;

/**
 * A reader's view of one live item, valid only inside {@link Store#read}'s visitor call: the
 * memory behind it is guaranteed to stay this item's until the read returns, never after.
 */
public final class ItemView {
    /** Receives value bytes straight from item memory (no intermediate copy). */
    public interface NativeSink {
        void write(long address, int lengthBytes);
    }

    private final Items items;
    /** This reader thread's hits per LRU id (see {@link LocalReads}). */
    private final long[] hitsPerLru;
    private long handle;
    private int nowSeconds;

    ItemView(Items items, long[] hitsPerLru) {
        this.items = items;
        this.hitsPerLru = hitsPerLru;
    }

    void reset(long handle, int nowSeconds) {
        this.handle = handle;
        this.nowSeconds = nowSeconds;
    }

    /** Counts a hit in the item's LRU and tells whether the replicated LRU should hear of it. */
    boolean countHitAndClaimHint() {
        hitsPerLru[items.lruId(handle)]++;
        return items.claimHint(handle, nowSeconds);
    }

    public int clientFlags() {
        return items.clientFlags(handle);
    }

    public long cas() {
        return items.cas(handle);
    }

    public int valueLength() {
        return items.valueLength(handle);
    }

    /** Seconds until expiry, or -1 if the item never expires. */
    public long ttlSeconds() {
        int exptime = items.exptime(handle);
        return exptime == 0 ? -1 : Integer.toUnsignedLong(exptime - nowSeconds);
    }

    public long secondsSinceLastAccess() {
        return Integer.toUnsignedLong(nowSeconds - OffHeap.getInt(items.address(handle) + ItemLayout.LAST_ACCESS));
    }

    public boolean fetched() {
        return (OffHeap.getByte(items.address(handle) + ItemLayout.LOCAL_FLAGS) & ItemLayout.LOCAL_FLAG_FETCHED) != 0;
    }

    public boolean stale() {
        return items.hasFlag(handle, ItemLayout.FLAG_STALE);
    }

    public boolean tokenSent() {
        return items.hasFlag(handle, ItemLayout.FLAG_TOKEN_SENT);
    }

    public boolean keyBinary() {
        return items.hasFlag(handle, ItemLayout.FLAG_KEY_BINARY);
    }

    public int slabClass() {
        return items.classId(handle);
    }

    public long totalSizeBytes() {
        return items.totalSize(handle);
    }

    /** Streams the value followed by its CRLF, in one piece unless the item is chunked. */
    public void writeValueWithCrlf(NativeSink sink) {
        int length = items.valueLength(handle) + ItemLayout.CRLF_BYTES;
        if (!items.chunked(handle)) {
            sink.write(items.dataAddress(handle), length);
        } else {
            ValueChunks.forEachPiece(items, handle, 0, length, (address, done, pieceLength) -> sink.write(address, pieceLength));
        }
    }

    public byte[] copyValue() {
        byte[] value = new byte[items.valueLength(handle)];
        items.readValue(handle, 0, value, 0, value.length);
        return value;
    }
}
