package io.raftcached.store;

/**
 * Where each field of an item lives in its chunk, and how big an item is.
 *
 * <pre>
 *  0 long lruPrev     handle of the previous item in its class's LRU (replicated order)
 *  8 long lruNext
 * 16 long hashNext    next item in the same index bucket (not replicated: index layout)
 * 24 int  time        last update, store seconds (replicated; flush_all compares it)
 * 28 int  exptime     store seconds, 0 = never (replicated)
 * 32 int  nbytes      value length + 2 for the trailing CRLF kept with the value
 * 36 int  lastAccess  store seconds of the last local read (per node, never read by apply)
 * 40 int  clientFlags
 * 44 byte nkey
 * 45 byte slabClass   the class whose LRU holds the item
 * 46 byte flags       replicated bits: STALE, TOKEN_SENT, CHUNKED, KEY_BINARY
 * 47 byte localFlags  per-node bits: FETCHED
 * 48 long cas         only when CAS is enabled
 *    key, '\0', [4 bytes when clientFlags != 0, as memcached counts them], value, "\r\n"
 * </pre>
 * The size formula is memcached's ({@code ITEM_ntotal}), so an item lands in the slab class it
 * would land in under memcached. A value larger than {@code slab_chunk_max} is "chunked": its
 * header chunk holds, instead of the value, the handle of the first data chunk, and each data
 * chunk starts with {@link #CHUNK_HEADER_BYTES} of chain links.
 */
final class ItemLayout {
    static final int HEADER_BYTES = 48;
    static final int CAS_BYTES = 8;
    static final int CLIENT_FLAGS_SUFFIX_BYTES = 4;
    static final int CRLF_BYTES = 2;
    /** memcached's sizeof(item_chunk): counted for every data chunk and in a chunked header. */
    static final int CHUNK_HEADER_BYTES = 48;

    static final int LRU_PREV = 0;
    static final int LRU_NEXT = 8;
    static final int HASH_NEXT = 16;
    static final int TIME = 24;
    static final int EXPTIME = 28;
    static final int NBYTES = 32;
    static final int LAST_ACCESS = 36;
    static final int CLIENT_FLAGS = 40;
    static final int NKEY = 44;
    static final int SLAB_CLASS = 45;
    static final int FLAGS = 46;
    static final int LOCAL_FLAGS = 47;
    static final int CAS = 48;

    // Replicated flag bits.
    static final byte FLAG_STALE = 1;
    static final byte FLAG_TOKEN_SENT = 2;
    static final byte FLAG_CHUNKED = 4;
    static final byte FLAG_KEY_BINARY = 8;
    /** memcached's ITEM_FETCHED and ITEM_ACTIVE, set at apply time by fetches and access hints. */
    static final byte FLAG_FETCHED = 16;
    static final byte FLAG_ACTIVE = 32;
    static final byte REPLICATED_FLAGS_MASK = FLAG_STALE | FLAG_TOKEN_SENT | FLAG_CHUNKED | FLAG_KEY_BINARY | FLAG_FETCHED
            | FLAG_ACTIVE;
    // Per-node flag bits.
    static final byte LOCAL_FLAG_FETCHED = 1;
    /** This node sent an access hint for the item that apply has not processed yet. */
    static final byte LOCAL_FLAG_HINTED = 2;

    // A data chunk: next chunk handle, its own slab class, the chunk or item header linking to it
    // (so a drained page can move it), then data.
    static final int CHUNK_NEXT = 0;
    static final int CHUNK_CLASS = 8;
    static final int CHUNK_PREV = 16;

    private ItemLayout() {}

    /** memcached's ITEM_ntotal: the size used to choose a slab class and counted in "bytes". */
    static long totalSize(int keyLength, int clientFlags, long valueLength, boolean casEnabled) {
        return HEADER_BYTES + (casEnabled ? CAS_BYTES : 0) + keyLength + 1
                + (clientFlags != 0 ? CLIENT_FLAGS_SUFFIX_BYTES : 0) + valueLength + CRLF_BYTES;
    }

    /** Size of the header chunk of a chunked item (memcached's htotal). */
    static int chunkedHeaderSize(int keyLength, int clientFlags, boolean casEnabled) {
        return HEADER_BYTES + (casEnabled ? CAS_BYTES : 0) + keyLength + 1
                + (clientFlags != 0 ? CLIENT_FLAGS_SUFFIX_BYTES : 0) + CHUNK_HEADER_BYTES;
    }

    static int keyOffset(boolean casEnabled) {
        return HEADER_BYTES + (casEnabled ? CAS_BYTES : 0);
    }

    /** Offset of the value (or, for a chunked item, of the first-chunk handle). */
    static int dataOffset(int keyLength, int clientFlags, boolean casEnabled) {
        return keyOffset(casEnabled) + keyLength + 1 + (clientFlags != 0 ? CLIENT_FLAGS_SUFFIX_BYTES : 0);
    }
}
