package io.raftcached.store;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * SHA-256 over every piece of replicated state, in a fixed order: the maintainer's state (the
 * crawler, the slab mover), the shape, the clock, the CAS
 * counter, the flush marker, the item counters, the slab accounting and, class by class and
 * segment by segment in LRU order, every item's key, flags, exptime, update time, CAS, replicated
 * flag bits (with FETCHED and ACTIVE) and value.
 * Per-node facts (last access, fetched) and the index layout are left out. Two replicas at the
 * same applied index must produce the same digest.
 */
final class StoreDigest {
    private static final int COPY_BUFFER_BYTES = 64 * 1024;

    private final MessageDigest sha;
    private final byte[] buffer = new byte[COPY_BUFFER_BYTES];

    private StoreDigest() {
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required by the Java platform", e);
        }
    }

    static String of(Store store, Items items) {
        StoreDigest digest = new StoreDigest();
        digest.addStore(store, items);
        return digest.hex();
    }

    private void addStore(Store store, Items items) {
        addMaintainer(store.maintainer(), items);
        StoreConfig config = items.config;
        addLong(config.memoryLimitBytes());
        addLong(config.evictionsDisabled() ? 1 : 0);
        addLong(config.chunkSizeMinBytes());
        addLong(Double.doubleToLongBits(config.growthFactor()));
        addLong(config.itemSizeMaxBytes());
        addLong(config.casDisabled() ? 1 : 0);
        addLong(config.slabChunkMaxBytes());
        sha.update(StoreSnapshot.shapeOf(config).getLru().toByteArray());
        addLong(store.nowMillisForDigest());
        addLong(items.casCounter);
        addLong(items.oldestLiveSeconds);
        addLong(items.oldestCas);
        addLong(items.currentItems);
        addLong(items.totalItems);
        addLong(items.currentBytes);
        addLong(items.slabs.mallocedBytes());
        for (long[] counters : items.stats.replicated()) {
            for (long counter : counters) {
                addLong(counter);
            }
        }
        int largest = items.classes.largestClass();
        for (int classId = 1; classId <= largest; classId++) {
            addLong(items.slabs.logicalPages(classId));
            addLong(items.slabs.logicalFreeChunks(classId));
            for (int segment : LruLists.SEGMENTS) {
                int lruId = classId | segment;
                addLong(items.lru.itemCount(lruId));
                addLong(items.lru.requestedBytes(lruId));
                for (long item = items.lru.head(lruId); item != 0; item = items.lru.next(item)) {
                    addItem(items, item);
                }
            }
        }
    }

    /** The maintainer's state, with the crawler's place as the key it names (a handle is physical). */
    private void addMaintainer(Maintainer maintainer, Items items) {
        if (items.config.lru().equals(LruSettings.FLAT)) {
            return;
        }
        sha.update(maintainer.toProto(false).toByteArray());
        long cursor = items.lru.cursor;
        addLong(cursor == LruLists.CURSOR_AT_HEAD || cursor == LruLists.CURSOR_DONE ? cursor : 1);
        if (cursor != LruLists.CURSOR_AT_HEAD && cursor != LruLists.CURSOR_DONE) {
            addLong(items.keyLength(cursor));
            addNative(items.address(cursor) + items.keyOffset, items.keyLength(cursor));
        }
    }

    private void addItem(Items items, long item) {
        long address = items.address(item);
        int keyLength = items.keyLength(item);
        addLong(keyLength);
        addNative(address + items.keyOffset, keyLength);
        addLong(items.clientFlags(item));
        addLong(items.exptime(item));
        addLong(items.time(item));
        addLong(items.cas(item));
        addLong(items.flags(item) & ItemLayout.REPLICATED_FLAGS_MASK);
        int valueLength = items.valueLength(item);
        addLong(valueLength);
        for (int offset = 0; offset < valueLength; offset += COPY_BUFFER_BYTES) {
            int length = Math.min(COPY_BUFFER_BYTES, valueLength - offset);
            items.readValue(item, offset, buffer, 0, length);
            sha.update(buffer, 0, length);
        }
    }

    private void addNative(long address, int length) {
        OffHeap.copyToArray(address, buffer, 0, length);
        sha.update(buffer, 0, length);
    }

    private void addLong(long value) {
        for (int shift = 56; shift >= 0; shift -= 8) {
            sha.update((byte) (value >>> shift));
        }
    }

    private String hex() {
        StringBuilder text = new StringBuilder(64);
        for (byte b : sha.digest()) {
            text.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return text.toString();
    }
}
