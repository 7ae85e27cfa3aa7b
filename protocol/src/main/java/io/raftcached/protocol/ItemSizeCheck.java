package io.raftcached.protocol;

/**
 * Decides, before the data block is read, whether an item fits the store's largest item, the
 * check memcached 1.6.18 makes with {@code item_size_ok} when it allocates the item for
 * set/add/replace/append/prepend/cas/ms. Supplied by the node because the answer depends on the
 * store's item header size and slab settings ({@code -I}, {@code -n}, {@code -f}, slab_chunk_max).
 *
 * <p>When it answers false the decoder replies "SERVER_ERROR object too large for cache" and
 * discards the data block as it streams in, without buffering it.
 */
@FunctionalInterface
public interface ItemSizeCheck {
    /**
     * @param keyLength   key bytes (for ms with {@code b}, after base64 decoding)
     * @param clientFlags the client flags (memcached stores 4 bytes for them unless they are 0)
     * @param valueLength declared data length, without the trailing "\r\n"; memcached's
     *                    {@code item_size_ok(nkey, flags, nbytes)} receives {@code valueLength + 2}
     * @return true if the item can be allocated
     */
    boolean fits(int keyLength, int clientFlags, int valueLength);
}
