package io.raftcached.store;

/**
 * The hash index from key to item handle: an off-heap bucket array with chains linked through
 * each item's {@code hashNext}, memcached's assoc.c. One writer (apply), many lock-free readers.
 *
 * <p>Readers never block. A lookup that finds the key is always right: the item it returns was
 * linked at some moment of the lookup and its memory stays valid until the reader leaves its read
 * epoch. A miss is only trusted if no index migration step ran meanwhile ({@code version} is a
 * seqlock that only migration bumps); otherwise the lookup is retried. Writers keep every other
 * change invisible to a concurrent miss: a replacement takes its predecessor's place in the chain
 * with one release store, so a key that exists before and after a write is never missed.
 *
 * <p>The table doubles when it holds 1.5 items per bucket, migrating a few old buckets per insert
 * so no single write pays for the whole rehash. The old table is freed once readers have left.
 */
final class ItemIndex {
    private static final int INITIAL_HASH_POWER = 16;
    private static final int MIGRATE_BUCKETS_PER_INSERT = 4;
    /** A chain longer than this means the reader raced a migration; retry. */
    private static final int READER_HOPS_MAX = 1 << 16;

    private record Tables(long primary, long primaryMask, long old, long oldMask) {}

    private final SlabAllocator slabs;
    private final ReadEpochs epochs;
    private final long seed;
    private final int keyOffset;

    private volatile Tables tables;
    private volatile long migrateCursor;
    private volatile long version;
    private long itemCount;
    // An old table waiting for readers to leave before it is freed.
    private long retiredTable;
    private long retiredEpoch;

    ItemIndex(SlabAllocator slabs, ReadEpochs epochs, long seed, boolean casEnabled, long expectedItems) {
        this.slabs = slabs;
        this.epochs = epochs;
        this.seed = seed;
        this.keyOffset = ItemLayout.keyOffset(casEnabled);
        long buckets = 1L << INITIAL_HASH_POWER;
        while (buckets * 3 / 2 < expectedItems) {
            buckets *= 2;   // sized up front when restoring, so loading does not rehash
        }
        this.tables = new Tables(OffHeap.allocateZeroed(buckets * 8), buckets - 1, 0, 0);
    }

    long hash(byte[] key, int keyLength) {
        return KeyHash.hash(key, keyLength, seed);
    }

    /** The hash of a key already in item memory. */
    long hashAt(long keyAddress, int keyLength) {
        return KeyHash.hashAt(keyAddress, keyLength, seed);
    }

    // --- readers ---------------------------------------------------------------------------------

    /** Finds the item for a key, or 0. Callers must be inside a read epoch. */
    long find(byte[] key, int keyLength, long hash) {
        while (true) {
            long versionBefore = version;
            if ((versionBefore & 1) != 0) {
                Thread.onSpinWait();
                continue;
            }
            long handle = findInChain(OffHeap.getLongAcquire(bucketAddress(tables, migrateCursor, hash)), key, keyLength);
            if (handle > 0 || (handle == 0 && version == versionBefore)) {
                return handle;
            }
        }
    }

    /** Returns the handle, 0 for a miss, or -1 when the chain looked cyclic (a migration race). */
    private long findInChain(long handle, byte[] key, int keyLength) {
        for (int hops = 0; handle != 0; hops++) {
            if (hops > READER_HOPS_MAX) {
                return -1;
            }
            long address = slabs.address(handle);
            if ((OffHeap.getByte(address + ItemLayout.NKEY) & 0xFF) == keyLength
                    && OffHeap.equals(key, address + keyOffset, keyLength)) {
                return handle;
            }
            handle = OffHeap.getLongAcquire(address + ItemLayout.HASH_NEXT);
        }
        return 0;
    }

    private static long bucketAddress(Tables t, long cursor, long hash) {
        if (t.old != 0 && (hash & t.oldMask) >= cursor) {
            return t.old + ((hash & t.oldMask) << 3);
        }
        return t.primary + ((hash & t.primaryMask) << 3);
    }

    // --- the writer (apply thread) -----------------------------------------------------------

    /** Writer-side lookup: no retries needed, nothing changes underneath the writer. */
    long findForWrite(byte[] key, int keyLength, long hash) {
        long handle = OffHeap.getLong(bucketAddress(tables, migrateCursor, hash));
        while (handle != 0) {
            long address = slabs.address(handle);
            if ((OffHeap.getByte(address + ItemLayout.NKEY) & 0xFF) == keyLength
                    && OffHeap.equals(key, address + keyOffset, keyLength)) {
                return handle;
            }
            handle = OffHeap.getLong(address + ItemLayout.HASH_NEXT);
        }
        return 0;
    }

    /** Links a fully written item at the head of its chain. */
    void insert(long handle, long hash) {
        long bucket = bucketAddress(tables, migrateCursor, hash);
        OffHeap.putLong(slabs.writable(handle) + ItemLayout.HASH_NEXT, OffHeap.getLong(bucket));
        OffHeap.putLongRelease(bucket, handle);
        itemCount++;
        maintain();
    }

    /** Puts {@code newHandle} in {@code oldHandle}'s place with one store: readers see one or the other. */
    void replace(long oldHandle, long newHandle, long hash) {
        long slot = slotPointingTo(oldHandle, hash);
        OffHeap.putLong(slabs.writable(newHandle) + ItemLayout.HASH_NEXT,
                OffHeap.getLong(slabs.address(oldHandle) + ItemLayout.HASH_NEXT));
        OffHeap.putLongRelease(slot, newHandle);
        maintain();
    }

    /** Unlinks an item. Its own hashNext is left intact for readers standing on it. */
    void remove(long handle, long hash) {
        long slot = slotPointingTo(handle, hash);
        OffHeap.putLongRelease(slot, OffHeap.getLong(slabs.address(handle) + ItemLayout.HASH_NEXT));
        itemCount--;
    }

    long itemCount() {
        return itemCount;
    }

    long bucketCount() {
        Tables t = tables;
        return t.primaryMask + 1;
    }

    boolean migrating() {
        return tables.old != 0;
    }

    private long slotPointingTo(long handle, long hash) {
        long slot = bucketAddress(tables, migrateCursor, hash);
        long current = OffHeap.getLong(slot);
        while (current != handle) {
            if (current == 0) {
                throw new IllegalStateException("item not in its index chain: " + handle);
            }
            slot = slabs.writable(current) + ItemLayout.HASH_NEXT;
            current = OffHeap.getLong(slot);
        }
        return slot;
    }

    private void maintain() {
        if (retiredTable != 0 && epochs.oldestActive() > retiredEpoch) {
            OffHeap.free(retiredTable);
            retiredTable = 0;
        }
        Tables t = tables;
        if (t.old != 0) {
            migrateSome(t);
        } else if (itemCount > (t.primaryMask + 1) * 3 / 2 && retiredTable == 0) {
            startMigration(t);
        }
    }

    private void startMigration(Tables t) {
        long buckets = (t.primaryMask + 1) * 2;
        long primary = OffHeap.allocateZeroed(buckets * 8);
        version++;
        migrateCursor = 0;
        tables = new Tables(primary, buckets - 1, t.primary, t.primaryMask);
        version++;
    }

    private void migrateSome(Tables t) {
        long cursor = migrateCursor;
        long oldBuckets = t.oldMask + 1;
        long end = Math.min(oldBuckets, cursor + MIGRATE_BUCKETS_PER_INSERT);
        version++;
        for (; cursor < end; cursor++) {
            long bucket = t.old + (cursor << 3);
            long handle = OffHeap.getLong(bucket);
            while (handle != 0) {
                long address = slabs.writable(handle);
                long next = OffHeap.getLong(address + ItemLayout.HASH_NEXT);
                long itemHash = KeyHash.hashAt(address + keyOffset, OffHeap.getByte(address + ItemLayout.NKEY) & 0xFF, seed);
                long target = t.primary + ((itemHash & t.primaryMask) << 3);
                OffHeap.putLong(address + ItemLayout.HASH_NEXT, OffHeap.getLong(target));
                OffHeap.putLongRelease(target, handle);
                handle = next;
            }
            OffHeap.putLong(bucket, 0);
        }
        migrateCursor = cursor;
        if (cursor == oldBuckets) {
            tables = new Tables(t.primary, t.primaryMask, 0, 0);
            retiredTable = t.old;
            retiredEpoch = epochs.current();
            epochs.advance();
        }
        version++;
    }

    void release() {
        Tables t = tables;
        OffHeap.free(t.primary);
        if (t.old != 0) {
            OffHeap.free(t.old);
        }
        if (retiredTable != 0) {
            OffHeap.free(retiredTable);
            retiredTable = 0;
        }
    }
}
