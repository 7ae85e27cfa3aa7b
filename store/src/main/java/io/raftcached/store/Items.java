package io.raftcached.store;

/**
 * Item lifecycle, memcached's items.c: allocate (reclaiming expired tail items and evicting as
 * memcached does), link, unlink, replace, bump, and the header fields. Apply thread only; readers
 * use {@link ItemView}. Every decision here depends on replicated state alone.
 */
final class Items {
    /** memcached's ITEM_UPDATE_INTERVAL: an item is bumped in its LRU at most once a minute. */
    static final int UPDATE_INTERVAL_SECONDS = 60;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final int TAIL_SEARCH_TRIES = 5;
    private static final int ALLOC_ATTEMPTS = 10;

    final StoreConfig config;
    final SlabClasses classes;
    final SlabAllocator slabs;
    final ItemIndex index;
    final LruLists lru;
    final ItemStats stats;
    final boolean casEnabled;
    final int keyOffset;

    // Replicated state besides the items themselves.
    long casCounter;
    long currentItems;
    long totalItems;
    long currentBytes;
    /** Store seconds of the entry being applied. */
    int nowSeconds;
    /** memcached's settings.oldest_live / oldest_cas: the flush_all marker. Read by readers too. */
    volatile int oldestLiveSeconds;
    volatile long oldestCas;

    Items(StoreConfig config, ReadEpochs epochs, long hashSeed, long expectedItems) {
        this.config = config;
        this.classes = new SlabClasses(config);
        this.slabs = new SlabAllocator(config, classes, epochs);
        this.casEnabled = !config.casDisabled();
        this.keyOffset = ItemLayout.keyOffset(casEnabled);
        this.index = new ItemIndex(slabs, epochs, hashSeed, casEnabled, expectedItems);
        this.lru = new LruLists(slabs, classes.largestClass() + 1);
        this.stats = new ItemStats(classes.largestClass() + 1);
    }

    // --- header fields ---------------------------------------------------------------------

    long address(long handle) {
        return slabs.address(handle);
    }

    /** The address for apply to write at: see {@link SlabAllocator#writable}. */
    long writable(long handle) {
        return slabs.writable(handle);
    }

    int keyLength(long handle) {
        return OffHeap.getByte(address(handle) + ItemLayout.NKEY) & 0xFF;
    }

    int valueLength(long handle) {
        return OffHeap.getInt(address(handle) + ItemLayout.NBYTES) - ItemLayout.CRLF_BYTES;
    }

    int clientFlags(long handle) {
        return OffHeap.getInt(address(handle) + ItemLayout.CLIENT_FLAGS);
    }

    int exptime(long handle) {
        return OffHeap.getInt(address(handle) + ItemLayout.EXPTIME);
    }

    void setExptime(long handle, int exptimeSeconds) {
        OffHeap.putInt(writable(handle) + ItemLayout.EXPTIME, exptimeSeconds);
    }

    int time(long handle) {
        return OffHeap.getInt(address(handle) + ItemLayout.TIME);
    }

    int classId(long handle) {
        return OffHeap.getByte(address(handle) + ItemLayout.SLAB_CLASS) & 0xFF;
    }

    byte flags(long handle) {
        return OffHeap.getByte(address(handle) + ItemLayout.FLAGS);
    }

    void setFlags(long handle, byte flags) {
        OffHeap.putByte(writable(handle) + ItemLayout.FLAGS, flags);
    }

    boolean hasFlag(long handle, byte flag) {
        return (flags(handle) & flag) != 0;
    }

    long cas(long handle) {
        return casEnabled ? OffHeap.getLong(address(handle) + ItemLayout.CAS) : 0;
    }

    void setCas(long handle, long cas) {
        if (casEnabled) {
            OffHeap.putLong(writable(handle) + ItemLayout.CAS, cas);
        }
    }

    /** memcached's get_cas_id(): the replicated counter, advanced by every mutation. */
    long nextCas() {
        return casEnabled ? ++casCounter : 0;
    }

    long totalSize(long handle) {
        return ItemLayout.totalSize(keyLength(handle), clientFlags(handle), valueLength(handle), casEnabled);
    }

    boolean chunked(long handle) {
        return hasFlag(handle, ItemLayout.FLAG_CHUNKED);
    }

    long writableData(long handle) {
        return writable(handle) + ItemLayout.dataOffset(keyLength(handle), clientFlags(handle), casEnabled);
    }

    long dataAddress(long handle) {
        return address(handle) + ItemLayout.dataOffset(keyLength(handle), clientFlags(handle), casEnabled);
    }

    long hashOf(long handle) {
        return index.hashAt(address(handle) + keyOffset, keyLength(handle));
    }

    byte[] key(long handle) {
        int length = keyLength(handle);
        byte[] key = new byte[length];
        OffHeap.copyToArray(address(handle) + keyOffset, key, 0, length);
        return key;
    }

    // --- expiry and flush ------------------------------------------------------------------

    boolean expiredAt(long handle, int atSeconds) {
        int exptime = exptime(handle);
        return exptime != 0 && exptime <= atSeconds;
    }

    /** memcached's item_is_flushed(). */
    boolean flushedAt(long handle, int atSeconds) {
        int oldestLive = oldestLiveSeconds;
        if (oldestLive == 0 || oldestLive > atSeconds) {
            return false;
        }
        long cas = cas(handle);
        long flushCas = oldestCas;
        return time(handle) <= oldestLive || (flushCas != 0 && cas != 0 && cas < flushCas);
    }

    /**
     * memcached's do_item_get(DONT_UPDATE) for a write: an expired or flushed item is unlinked
     * right here, at apply time, identically on every replica.
     */
    long getForWrite(byte[] key, long hash) {
        long handle = index.findForWrite(key, key.length, hash);
        if (handle != 0 && (flushedAt(handle, nowSeconds) || expiredAt(handle, nowSeconds))) {
            unlink(handle, hash);
            return 0;
        }
        return handle;
    }

    // --- allocation ------------------------------------------------------------------------

    /** Result of {@link #allocate}: 0 means out of memory. */
    static final long TOO_LARGE = -1;

    /**
     * Allocates an unlinked item with its header and key written and room for the value.
     * {@code protectedHandle} is an item the caller holds (memcached's reference), never evicted.
     */
    long allocate(byte[] key, int clientFlags, int exptimeSeconds, long valueLength, long protectedHandle) {
        long totalSize = ItemLayout.totalSize(key.length, clientFlags, valueLength, casEnabled);
        int classId = classes.classFor(totalSize);
        if (classId == 0) {
            return TOO_LARGE;
        }
        boolean chunked = totalSize > config.slabChunkMaxBytes();
        long handle;
        if (chunked) {
            int headerSize = ItemLayout.chunkedHeaderSize(key.length, clientFlags, casEnabled);
            handle = allocateChunk(headerSize, classes.classFor(headerSize), protectedHandle);
        } else {
            handle = allocateChunk(totalSize, classId, protectedHandle);
        }
        if (handle == 0) {
            stats.outOfMemory[classId]++;
            return 0;
        }
        long address = writable(handle);
        OffHeap.putLong(address + ItemLayout.LRU_PREV, 0);
        OffHeap.putLong(address + ItemLayout.LRU_NEXT, 0);
        OffHeap.putLong(address + ItemLayout.HASH_NEXT, 0);
        OffHeap.putInt(address + ItemLayout.TIME, nowSeconds);
        OffHeap.putInt(address + ItemLayout.EXPTIME, exptimeSeconds);
        OffHeap.putInt(address + ItemLayout.NBYTES, Math.toIntExact(valueLength + ItemLayout.CRLF_BYTES));
        OffHeap.putInt(address + ItemLayout.LAST_ACCESS, nowSeconds);
        OffHeap.putInt(address + ItemLayout.CLIENT_FLAGS, clientFlags);
        OffHeap.putByte(address + ItemLayout.NKEY, (byte) key.length);
        OffHeap.putByte(address + ItemLayout.SLAB_CLASS, (byte) classId);
        OffHeap.putByte(address + ItemLayout.FLAGS, chunked ? ItemLayout.FLAG_CHUNKED : 0);
        OffHeap.putByte(address + ItemLayout.LOCAL_FLAGS, (byte) 0);
        setCas(handle, 0);
        OffHeap.copyFromArray(key, 0, address + keyOffset, key.length);
        OffHeap.putByte(address + keyOffset + key.length, (byte) 0);
        long data = dataAddress(handle);
        if (chunked) {
            OffHeap.putLong(data, 0);
            if (!allocateDataChunks(handle, data, valueLength + ItemLayout.CRLF_BYTES, protectedHandle)) {
                free(handle);
                stats.outOfMemory[classId]++;
                return 0;
            }
            ValueChunks.write(this, handle, valueLength, CRLF, 0, ItemLayout.CRLF_BYTES);
        } else {
            OffHeap.putByte(data + valueLength, (byte) '\r');
            OffHeap.putByte(data + valueLength + 1, (byte) '\n');
        }
        return handle;
    }

    /** memcached's do_item_alloc_chunk loop: chunks sized to what remains, up to slab_chunk_max. */
    private boolean allocateDataChunks(long handle, long firstLinkAddress, long bytes, long protectedHandle) {
        long linkAddress = firstLinkAddress;
        long remaining = bytes;
        while (remaining > 0) {
            long size = Math.min(remaining + ItemLayout.CHUNK_HEADER_BYTES, config.slabChunkMaxBytes());
            int chunkClass = classes.classFor(size);
            long chunk = allocateChunk(size, chunkClass, protectedHandle);
            if (chunk == 0 && size < config.slabChunkMaxBytes()) {
                size = config.slabChunkMaxBytes();
                chunkClass = classes.largestClass();
                chunk = allocateChunk(size, chunkClass, protectedHandle);
            }
            if (chunk == 0) {
                return false;
            }
            long chunkAddress = writable(chunk);
            OffHeap.putLong(chunkAddress + ItemLayout.CHUNK_NEXT, 0);
            OffHeap.putByte(chunkAddress + ItemLayout.CHUNK_CLASS, (byte) chunkClass);
            OffHeap.putLong(linkAddress, chunk);
            linkAddress = chunkAddress + ItemLayout.CHUNK_NEXT;
            remaining -= size - ItemLayout.CHUNK_HEADER_BYTES;
        }
        assert OffHeap.getLong(firstLinkAddress) != 0 || bytes == 0;
        return true;
    }

    /** memcached's do_item_alloc_pull(): reclaim expired tail items, allocate, else evict. */
    private long allocateChunk(long sizeBytes, int classId, long protectedHandle) {
        assert sizeBytes <= classes.chunkSizeBytes(classId);
        long handle = 0;
        int attempt = 0;
        for (; attempt < ALLOC_ATTEMPTS; attempt++) {
            pullTail(classId, false, protectedHandle);
            handle = slabs.allocate(classId);
            if (handle != 0 || pullTail(classId, true, protectedHandle) <= 0) {
                break;
            }
        }
        if (attempt > 0) {
            stats.directReclaims[classId] += attempt;
        }
        return handle;
    }

    /**
     * memcached's lru_pull_tail() for a flat LRU: looks at up to five items from the tail, frees
     * expired or flushed ones, and (when {@code evict}) evicts the first live one unless
     * evictions are disabled ({@code -M}). Returns how many items it removed.
     */
    private int pullTail(int classId, boolean evict, long protectedHandle) {
        int removed = 0;
        long search = lru.tail(classId);
        for (int tries = TAIL_SEARCH_TRIES; tries > 0 && search != 0; tries--) {
            long previous = lru.previous(search);
            if (search == protectedHandle) {
                stats.tailProtected[classId]++;
                search = previous;
                continue;
            }
            boolean fetched = (OffHeap.getByte(address(search) + ItemLayout.LOCAL_FLAGS) & ItemLayout.LOCAL_FLAG_FETCHED) != 0;
            if (expiredStrictlyBefore(search, nowSeconds) || flushedAt(search, nowSeconds)) {
                stats.reclaimed[classId]++;
                if (!fetched) {
                    stats.expiredUnfetched[classId]++;
                }
                unlink(search, hashOf(search));
                removed++;
                search = previous;
                continue;
            }
            if (evict && !config.evictionsDisabled()) {
                stats.evicted[classId]++;
                stats.evictedTimeSeconds[classId] = nowSeconds - time(search);
                if (exptime(search) != 0) {
                    stats.evictedNonzero[classId]++;
                }
                if (!fetched) {
                    stats.evictedUnfetched[classId]++;
                }
                unlink(search, hashOf(search));
                removed++;
            }
            break;
        }
        return removed;
    }

    /** lru_pull_tail compares with '<' where item_get uses '<='; kept as memcached has it. */
    private boolean expiredStrictlyBefore(long handle, int atSeconds) {
        int exptime = exptime(handle);
        return exptime != 0 && exptime < atSeconds;
    }

    // --- the size histogram (memcached's -o track_sizes) ----------------------------------------

    /** memcached's sizes_hist: linked items per 32-byte bucket of total size; null until tracked. */
    private volatile long[] sizeBuckets;
    static final int SIZE_BUCKET_BYTES = 32;

    private void countSize(long totalSizeBytes, int change) {
        long[] buckets = sizeBuckets;
        if (buckets != null) {
            buckets[(int) ((totalSizeBytes + SIZE_BUCKET_BYTES - 1) / SIZE_BUCKET_BYTES)] += change;
        }
    }

    /** Starts keeping the histogram from the items linked now on; link and unlink keep it after. */
    void trackSizes() {
        long largest = ItemLayout.totalSize(ItemLayout.KEY_MAX_BYTES, -1, config.itemSizeMaxBytes(), casEnabled);
        long[] buckets = new long[(int) (largest / SIZE_BUCKET_BYTES) + 2];
        for (int classId = 1; classId <= classes.largestClass(); classId++) {
            for (long item = lru.head(classId); item != 0; item = lru.next(item)) {
                buckets[(int) ((totalSize(item) + SIZE_BUCKET_BYTES - 1) / SIZE_BUCKET_BYTES)]++;
            }
        }
        sizeBuckets = buckets;
    }

    /** The tracked histogram (read racily, as memcached's is), or null when sizes are not tracked. */
    long[] sizeBuckets() {
        return sizeBuckets;
    }

    // --- linking ---------------------------------------------------------------------------

    /** memcached's do_item_link(): time, CAS ({@code explicitCas} or the counter), index, LRU. */
    void link(long handle, long hash, long explicitCas) {
        OffHeap.putInt(writable(handle) + ItemLayout.TIME, nowSeconds);
        setCas(handle, explicitCas != 0 ? explicitCas : nextCas());
        long totalSize = totalSize(handle);
        currentBytes += totalSize;
        currentItems++;
        totalItems++;
        countSize(totalSize, 1);
        lru.linkAtHead(handle, classId(handle), totalSize);
        index.insert(handle, hash);
    }

    void unlink(long handle, long hash) {
        long totalSize = totalSize(handle);
        currentBytes -= totalSize;
        currentItems--;
        countSize(totalSize, -1);
        index.remove(handle, hash);
        lru.unlink(handle, classId(handle), totalSize);
        free(handle);
    }

    /** memcached's item_replace(): the new item takes the old one's place in the index atomically. */
    void replace(long oldHandle, long newHandle, long hash, long explicitCas) {
        long oldSize = totalSize(oldHandle);
        currentBytes -= oldSize;
        currentItems--;
        countSize(oldSize, -1);
        lru.unlink(oldHandle, classId(oldHandle), oldSize);
        OffHeap.putInt(writable(newHandle) + ItemLayout.TIME, nowSeconds);
        setCas(newHandle, explicitCas != 0 ? explicitCas : nextCas());
        long newSize = totalSize(newHandle);
        currentBytes += newSize;
        currentItems++;
        totalItems++;
        countSize(newSize, 1);
        lru.linkAtHead(newHandle, classId(newHandle), newSize);
        index.replace(oldHandle, newHandle, hash);
        free(oldHandle);
    }

    /**
     * Moves a linked item to a fresh physical chunk so it can be changed without a reader seeing
     * a half-written value (memcached changes in place under a refcount check instead). The
     * logical accounting and the LRU position do not change: as far as eviction is concerned
     * this is memcached's in-place update. Returns the new handle; the old one is retired.
     */
    long relocate(long handle) {
        assert !chunked(handle) : "chunked items are never changed in place";
        int classId = classId(handle);
        long fresh = slabs.takeSpareChunk(classId);
        OffHeap.copy(address(handle), writable(fresh), totalSize(handle));
        return fresh;
    }

    /** Publishes a relocated copy in place of the original. */
    void publishRelocated(long oldHandle, long newHandle, long hash) {
        int classId = classId(oldHandle);
        lru.swap(oldHandle, newHandle, classId);
        index.replace(oldHandle, newHandle, hash);
        slabs.retireSpareChunk(oldHandle, classId);
    }

    /** memcached's do_item_update() in flat-LRU mode: bump at most once per interval. */
    void bump(long handle) {
        if (time(handle) < nowSeconds - UPDATE_INTERVAL_SECONDS) {
            OffHeap.putInt(writable(handle) + ItemLayout.TIME, nowSeconds);
            lru.moveToHead(handle, classId(handle), totalSize(handle));
        }
    }

    /** Returns an unlinked item's memory: its header chunk and, if chunked, its data chunks. */
    void free(long handle) {
        if (chunked(handle)) {
            long chunk = OffHeap.getLong(dataAddress(handle));
            while (chunk != 0) {
                long chunkAddress = address(chunk);
                long next = OffHeap.getLong(chunkAddress + ItemLayout.CHUNK_NEXT);
                slabs.free(chunk, OffHeap.getByte(chunkAddress + ItemLayout.CHUNK_CLASS) & 0xFF);
                chunk = next;
            }
            int headerSize = ItemLayout.chunkedHeaderSize(keyLength(handle), clientFlags(handle), casEnabled);
            slabs.free(handle, classes.classFor(headerSize));
        } else {
            slabs.free(handle, classId(handle));
        }
    }

    // --- values ----------------------------------------------------------------------------

    /** Writes {@code length} value bytes at {@code valueOffset} of an unlinked item. */
    void writeValue(long handle, long valueOffset, byte[] source, int sourceOffset, int length) {
        if (!chunked(handle)) {
            OffHeap.copyFromArray(source, sourceOffset, writableData(handle) + valueOffset, length);
            return;
        }
        ValueChunks.write(this, handle, valueOffset, source, sourceOffset, length);
    }

    /** Copies value bytes (not the CRLF) out of an item into an array. */
    void readValue(long handle, long valueOffset, byte[] target, int targetOffset, int length) {
        if (!chunked(handle)) {
            OffHeap.copyToArray(dataAddress(handle) + valueOffset, target, targetOffset, length);
            return;
        }
        ValueChunks.read(this, handle, valueOffset, target, targetOffset, length);
    }

    /** Data bytes a data chunk holds; data starts after the chunk's header. */
    long chunkDataCapacity(long chunkHandle) {
        int chunkClass = OffHeap.getByte(address(chunkHandle) + ItemLayout.CHUNK_CLASS) & 0xFF;
        return classes.chunkSizeBytes(chunkClass) - ItemLayout.CHUNK_HEADER_BYTES;
    }

    void release() {
        index.release();
        slabs.release();
    }

    // --- invariants ------------------------------------------------------------------------

    /**
     * Checks what must hold between applied commands: every LRU list is well linked and matches
     * its counts, every linked item is in the index under its key, the item and byte counters add
     * up, and in every class the chunks in use plus the free ones fill its pages exactly. Walks
     * the whole store: for tests and debug runs. Throws {@link IllegalStateException} naming the
     * first invariant that does not hold.
     */
    void checkInvariants() {
        int classCount = classes.largestClass() + 1;
        long[] chunksUsed = new long[classCount];
        long items = 0;
        long bytes = 0;
        for (int classId = 1; classId < classCount; classId++) {
            long count = 0;
            long requested = 0;
            long previous = 0;
            for (long item = lru.head(classId); item != 0; item = lru.next(item)) {
                require(count <= currentItems, "class " + classId + " LRU has a cycle");
                require(lru.previous(item) == previous, "class " + classId + " LRU back link broken at item " + count);
                require(classId(item) == classId, "an item of class " + classId(item) + " in the LRU of class " + classId);
                byte[] key = new byte[keyLength(item)];
                OffHeap.copyToArray(address(item) + keyOffset, key, 0, key.length);
                require(index.find(key, key.length, index.hash(key, key.length)) == item, "a linked item missing from the index");
                countChunks(item, chunksUsed);
                count++;
                requested += totalSize(item);
                previous = item;
            }
            require(lru.tail(classId) == previous, "class " + classId + " LRU tail is not its last item");
            require(count == lru.itemCount(classId), "class " + classId + " holds " + count + " items, counted "
                    + lru.itemCount(classId));
            require(requested == lru.requestedBytes(classId), "class " + classId + " requested bytes " + requested
                    + ", counted " + lru.requestedBytes(classId));
            items += count;
            bytes += requested;
        }
        require(items == currentItems, "LRUs hold " + items + " items, curr_items says " + currentItems);
        require(bytes == currentBytes, "LRUs hold " + bytes + " bytes, bytes says " + currentBytes);
        require(index.itemCount() == currentItems, "the index holds " + index.itemCount() + " items, curr_items says "
                + currentItems);
        long pages = 0;
        for (int classId = 1; classId < classCount; classId++) {
            require(chunksUsed[classId] + slabs.logicalFreeChunks(classId) == slabs.totalChunks(classId), "class " + classId
                    + ": " + chunksUsed[classId] + " chunks used + " + slabs.logicalFreeChunks(classId) + " free != "
                    + slabs.totalChunks(classId) + " in its pages");
            pages += slabs.logicalPages(classId);
        }
        require(slabs.mallocedBytes() == pages * config.slabPageSizeBytes(), "malloced bytes " + slabs.mallocedBytes()
                + " for " + pages + " pages");
    }

    private void countChunks(long item, long[] chunksUsed) {
        if (!chunked(item)) {
            chunksUsed[classId(item)]++;
            return;
        }
        chunksUsed[classes.classFor(ItemLayout.chunkedHeaderSize(keyLength(item), clientFlags(item), casEnabled))]++;
        for (long chunk = OffHeap.getLong(dataAddress(item)); chunk != 0;
                chunk = OffHeap.getLong(address(chunk) + ItemLayout.CHUNK_NEXT)) {
            chunksUsed[OffHeap.getByte(address(chunk) + ItemLayout.CHUNK_CLASS) & 0xFF]++;
        }
    }

    private static void require(boolean holds, String invariant) {
        if (!holds) {
            throw new IllegalStateException("store invariant broken: " + invariant);
        }
    }
}
