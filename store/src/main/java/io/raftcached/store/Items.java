package io.raftcached.store;

import io.raftcached.util.Limits;

/**
 * Item lifecycle, memcached's items.c: allocate (reclaiming expired tail items and evicting as
 * memcached does), link, unlink, replace, bump, the segmented LRU's moves between HOT, WARM and
 * COLD (memcached's LRU maintainer, run at deterministic points of the log instead of on a
 * background thread), and the header fields. Apply thread only; readers use {@link ItemView}.
 * Every decision here depends on replicated state alone.
 */
final class Items {
    /** memcached's ITEM_UPDATE_INTERVAL: an item is bumped in its LRU at most once a minute. */
    static final int UPDATE_INTERVAL_SECONDS = 60;
    private static final byte[] CRLF = {'\r', '\n'};
    private static final int TAIL_SEARCH_TRIES = 5;
    /** How long a dead item stays for the node to read it into a reply ({@link #answering}). */
    private static final int ANSWERING_SECONDS = 3;
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
    /** The class that last evicted during the entry being applied, for slab_automove=2; 0 if none. */
    int lastEvictedClass;
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
        return lruId(handle) & LruLists.CLASS_MASK;
    }

    /** The LRU the item is linked in: its class and, with the segmented LRU, its segment. */
    int lruId(long handle) {
        return OffHeap.getByte(address(handle) + ItemLayout.SLAB_CLASS) & 0xFF;
    }

    private void setLruId(long handle, int lruId) {
        OffHeap.putByte(writable(handle) + ItemLayout.SLAB_CLASS, (byte) lruId);
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
            handle = allocateChunk(headerSize, classes.classFor(headerSize), protectedHandle, false);
        } else {
            handle = allocateChunk(totalSize, classId, protectedHandle, false);
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
        OffHeap.putByte(address + ItemLayout.SLAB_CLASS, (byte) LruLists.lruId(classId, newItemSegment(exptimeSeconds)));
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
        long linkOwner = handle;
        long remaining = bytes;
        while (remaining > 0) {
            long size = Math.min(remaining + ItemLayout.CHUNK_HEADER_BYTES, config.slabChunkMaxBytes());
            int chunkClass = classes.classFor(size);
            long chunk = allocateChunk(size, chunkClass, protectedHandle, true);
            if (chunk == 0 && size < config.slabChunkMaxBytes()) {
                size = config.slabChunkMaxBytes();
                chunkClass = classes.largestClass();
                chunk = allocateChunk(size, chunkClass, protectedHandle, true);
            }
            if (chunk == 0) {
                return false;
            }
            long chunkAddress = writable(chunk);
            OffHeap.putLong(chunkAddress + ItemLayout.CHUNK_NEXT, 0);
            OffHeap.putByte(chunkAddress + ItemLayout.CHUNK_CLASS, (byte) chunkClass);
            OffHeap.putLong(chunkAddress + ItemLayout.CHUNK_PREV, linkOwner);
            OffHeap.putLong(linkAddress, chunk);
            linkAddress = chunkAddress + ItemLayout.CHUNK_NEXT;
            linkOwner = chunk;
            remaining -= size - ItemLayout.CHUNK_HEADER_BYTES;
        }
        assert OffHeap.getLong(firstLinkAddress) != 0 || bytes == 0;
        return true;
    }

    /**
     * memcached's segment for a new item: TEMP for a short TTL when temp_lru is on, else HOT; the
     * flat LRU has one list per class (segment 0).
     */
    private int newItemSegment(int exptimeSeconds) {
        LruSettings settings = config.lru();
        if (!settings.segmented()) {
            return LruLists.HOT;
        }
        if (settings.tempLru() && exptimeSeconds != 0 && exptimeSeconds - nowSeconds <= settings.temporaryTtlSeconds()) {
            return LruLists.TEMP;
        }
        return LruLists.HOT;
    }

    /** memcached's do_item_alloc_pull(): reclaim expired tail items, allocate, else evict. */
    private long allocateChunk(long sizeBytes, int classId, long protectedHandle, boolean dataChunk) {
        assert sizeBytes <= classes.chunkSizeBytes(classId);
        boolean segmented = config.lru().segmented();
        int evictFrom = LruLists.lruId(classId, segmented ? LruLists.COLD : LruLists.HOT);
        long handle = 0;
        int attempt = 0;
        for (; attempt < ALLOC_ATTEMPTS; attempt++) {
            if (!segmented) {
                pullTail(evictFrom, 0, 0, PULL_NONE, protectedHandle);
            }
            handle = slabs.allocate(classId, dataChunk);
            if (handle != 0) {
                break;
            }
            if (pullTail(evictFrom, 0, 0, PULL_EVICT, protectedHandle) <= 0) {
                if (!segmented) {
                    break;
                }
                pullTail(LruLists.lruId(classId, LruLists.HOT), 0, 0, PULL_NONE, protectedHandle);
            }
        }
        if (attempt > 0) {
            stats.directReclaims[classId] += attempt;
        }
        dirtyClasses |= 1L << classId;
        return handle;
    }

    private static final int PULL_NONE = 0;
    /** lru_pull_tail's LRU_PULL_EVICT: the COLD (or flat) tail may be evicted. */
    private static final int PULL_EVICT = 1;

    /**
     * memcached's lru_pull_tail(): looks at up to five items from the tail of one LRU; frees
     * expired or flushed ones; in HOT and WARM moves the tail down to COLD when the segment holds
     * more than its share of the class's bytes ({@code totalBytes}) or its item is older than
     * {@code maxAgeSeconds} (an ACTIVE item is rescued instead: HOT to WARM, WARM to its head);
     * in COLD evicts the tail ({@link #PULL_EVICT}) or moves an ACTIVE one up to WARM. Returns how
     * many items it removed or moved.
     */
    private int pullTail(int lruId, long totalBytes, long maxAgeSeconds, int flags, long protectedHandle) {
        int classId = lruId & LruLists.CLASS_MASK;
        int segment = LruLists.segmentOf(lruId);
        boolean segmented = config.lru().segmented();
        int removed = 0;
        long search = lru.tail(lruId);
        for (int tries = TAIL_SEARCH_TRIES; tries > 0 && search != 0; tries--) {
            long previous = lru.previous(search);
            if (search == protectedHandle) {
                stats.tailProtected[classId]++;
                search = previous;
                continue;
            }
            boolean fetchedHere = (OffHeap.getByte(address(search) + ItemLayout.LOCAL_FLAGS) & ItemLayout.LOCAL_FLAG_FETCHED) != 0;
            boolean dead = expiredStrictlyBefore(search, nowSeconds) || flushedAt(search, nowSeconds);
            if (dead && answering(search)) {
                stats.tailProtected[classId]++;   // memcached's lrutail_reflocked: a client still holds it
                search = previous;
                continue;
            }
            if (dead) {
                stats.reclaimed[classId]++;
                if (!fetchedHere) {
                    stats.expiredUnfetched[classId]++;
                }
                unlink(search, hashOf(search));
                removed++;
                search = previous;
                continue;
            }
            if (!segmented) {
                if ((flags & PULL_EVICT) != 0 && !config.evictionsDisabled()) {
                    evict(search, classId, fetchedHere);
                    removed++;
                }
                break;
            }
            boolean active = hasFlag(search, ItemLayout.FLAG_ACTIVE);
            if (segment == LruLists.HOT || segment == LruLists.WARM) {
                int percent = segment == LruLists.HOT ? config.lru().hotLruPercent() : config.lru().warmLruPercent();
                long limit = totalBytes * percent / 100;
                if (active) {
                    setFlags(search, (byte) (flags(search) & ~ItemLayout.FLAG_ACTIVE));
                    removed++;
                    if (segment == LruLists.WARM) {
                        stats.movesWithinLru[classId]++;
                        lru.moveToHead(search, lruId, totalSize(search));
                    } else {
                        stats.movesToWarm[classId]++;
                        moveTo(search, LruLists.lruId(classId, LruLists.WARM));
                    }
                } else if (lru.requestedBytes(lruId) > limit || nowSeconds - time(search) > maxAgeSeconds) {
                    stats.movesToCold[classId]++;
                    moveTo(search, LruLists.lruId(classId, LruLists.COLD));
                    removed++;
                }
                break;
            }
            if (segment == LruLists.COLD) {
                if ((flags & PULL_EVICT) != 0) {
                    if (!config.evictionsDisabled()) {
                        if (active) {
                            stats.evictedActive[classId]++;
                        }
                        evict(search, classId, fetchedHere);
                        removed++;
                    }
                } else if (active) {
                    stats.movesToWarm[classId]++;
                    setFlags(search, (byte) (flags(search) & ~ItemLayout.FLAG_ACTIVE));
                    moveTo(search, LruLists.lruId(classId, LruLists.WARM));
                    removed++;
                }
            }
            break;   // TEMP: only reclaims
        }
        return removed;
    }

    /** Where evictions are recorded while watched; null in stores no replica serves (views, tests). */
    EvictionLog evictionLog;

    private void evict(long handle, int classId, boolean fetchedHere) {
        if (evictionLog != null && evictionLog.recording()) {
            int exptime = exptime(handle);
            evictionLog.add(new EvictionLog.Evicted(key(handle), fetchedHere, exptime != 0 ? exptime - nowSeconds : -1,
                    nowSeconds - time(handle), classId, valueLength(handle)));
        }
        lastEvictedClass = classId;
        stats.evicted[classId]++;
        stats.evictedTimeSeconds[classId] = nowSeconds - time(handle);
        if (exptime(handle) != 0) {
            stats.evictedNonzero[classId]++;
        }
        if (!fetchedHere) {
            stats.evictedUnfetched[classId]++;
        }
        unlink(handle, hashOf(handle));
    }

    /** Relinks an item at the head of another segment of its class. */
    private void moveTo(long handle, int toLruId) {
        clearHinted(handle);
        long size = totalSize(handle);
        lru.unlink(handle, lruId(handle), size);
        setLruId(handle, toLruId);
        lru.linkAtHead(handle, toLruId, size);
    }

    // --- the LRU maintainer (segmented LRU) ------------------------------------------------------

    /** memcached's juggle loop bound per class and pass. */
    private static final int JUGGLE_ROUNDS_MAX = 500;
    /** Classes that linked an item since they were last juggled (bit per class id). */
    private long dirtyClasses;

    /**
     * memcached's lru_maintainer_juggle() for every class that allocated since the last call (or
     * every class, on a tick): TEMP reclaims, then HOT and WARM drain to their shares and ages and
     * active items are rescued from COLD. memcached runs it on a background thread; here it runs
     * at the end of each applied entry, so every replica moves the same items at the same index.
     */
    void juggle(boolean allClasses) {
        if (!config.lru().segmented()) {
            return;
        }
        long classesToJuggle = allClasses ? -1L : dirtyClasses;
        dirtyClasses = 0;
        for (int classId = 1; classId <= classes.largestClass(); classId++) {
            if ((classesToJuggle & (1L << classId)) != 0) {
                juggleClass(classId);
            }
        }
    }

    private void juggleClass(int classId) {
        LruSettings settings = config.lru();
        if (settings.tempLru()) {
            for (int i = 0; i < JUGGLE_ROUNDS_MAX; i++) {
                if (pullTail(LruLists.lruId(classId, LruLists.TEMP), 0, 0, PULL_NONE, 0) <= 0) {
                    break;
                }
            }
        }
        int cold = LruLists.lruId(classId, LruLists.COLD);
        long coldTail = lru.tail(cold);
        long coldAge = coldTail == 0 ? 0 : nowSeconds - time(coldTail);
        long hotAge = (long) (coldAge * settings.hotMaxFactor());
        long warmAge = (long) (coldAge * settings.warmMaxFactor());
        long totalBytes = lru.requestedBytes(cold) + lru.requestedBytes(LruLists.lruId(classId, LruLists.HOT))
                + lru.requestedBytes(LruLists.lruId(classId, LruLists.WARM));
        for (int i = 0; i < JUGGLE_ROUNDS_MAX; i++) {
            int moved = pullTail(LruLists.lruId(classId, LruLists.HOT), totalBytes, hotAge, PULL_NONE, 0);
            if (moved == 0) {
                moved = pullTail(LruLists.lruId(classId, LruLists.WARM), totalBytes, warmAge, PULL_NONE, 0);
            }
            moved += pullTail(cold, totalBytes, 0, PULL_NONE, 0);
            if (moved == 0) {
                break;
            }
        }
    }

    /**
     * Whether a dead item may still be read for a reply: memcached never reclaims an item a client
     * holds (its refcount), and a gat that expired the item it touched still returns it. Here a
     * node reads a gat's item after the entry is applied, and later entries may apply before it
     * does, so the maintainer and the crawler leave alone dead items written or touched in the
     * last {@link #ANSWERING_SECONDS} log seconds. (The flat LRU of old clusters keeps reclaiming
     * as it always did.)
     */
    boolean answering(long handle) {
        return config.lru().segmented() && time(handle) > nowSeconds - ANSWERING_SECONDS;
    }

    /** lru_pull_tail compares with '<' where item_get uses '<='; kept as memcached has it. */
    boolean expiredStrictlyBefore(long handle, int atSeconds) {
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
        long largest = ItemLayout.totalSize(Limits.KEY_MAX_BYTES, -1, config.itemSizeMaxBytes(), casEnabled);
        long[] buckets = new long[(int) (largest / SIZE_BUCKET_BYTES) + 2];
        for (int classId = 1; classId <= classes.largestClass(); classId++) {
            for (int segment : LruLists.SEGMENTS) {
                for (long item = lru.head(classId | segment); item != 0; item = lru.next(item)) {
                    buckets[(int) ((totalSize(item) + SIZE_BUCKET_BYTES - 1) / SIZE_BUCKET_BYTES)]++;
                }
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
        lru.linkAtHead(handle, lruId(handle), totalSize);
        index.insert(handle, hash);
    }

    void unlink(long handle, long hash) {
        long totalSize = totalSize(handle);
        currentBytes -= totalSize;
        currentItems--;
        countSize(totalSize, -1);
        index.remove(handle, hash);
        lru.unlink(handle, lruId(handle), totalSize);
        free(handle);
    }

    /** memcached's item_replace(): the new item takes the old one's place in the index atomically. */
    void replace(long oldHandle, long newHandle, long hash, long explicitCas) {
        long oldSize = totalSize(oldHandle);
        currentBytes -= oldSize;
        currentItems--;
        countSize(oldSize, -1);
        lru.unlink(oldHandle, lruId(oldHandle), oldSize);
        OffHeap.putInt(writable(newHandle) + ItemLayout.TIME, nowSeconds);
        setCas(newHandle, explicitCas != 0 ? explicitCas : nextCas());
        long newSize = totalSize(newHandle);
        currentBytes += newSize;
        currentItems++;
        totalItems++;
        countSize(newSize, 1);
        lru.linkAtHead(newHandle, lruId(newHandle), newSize);
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
        lru.swap(oldHandle, newHandle, lruId(oldHandle));
        index.replace(oldHandle, newHandle, hash);
        slabs.retireSpareChunk(oldHandle, classId(oldHandle));
    }

    /**
     * Copies a live chunk of a page being drained to a free chunk of its class and points
     * everything at the copy: an item (or a chunked item's header) through its LRU neighbours,
     * the index and its first data chunk; a data chunk through the chunk or header linking to it
     * and the chunk after it. Readers that found the old chunk keep reading it intact: it is
     * retired through limbo. Returns false when the class has no free chunk right now.
     */
    boolean relocateChunk(long handle, boolean dataChunk) {
        int chunkClass = slabs.pageClass(SlabAllocator.pageOf(handle));
        long fresh = slabs.takeChunkForDrain(chunkClass, dataChunk);
        if (fresh == 0) {
            return false;
        }
        OffHeap.copy(address(handle), writable(fresh), classes.chunkSizeBytes(chunkClass));
        if (dataChunk) {
            long owner = OffHeap.getLong(address(fresh) + ItemLayout.CHUNK_PREV);
            long link = slabs.isDataChunk(owner) ? writable(owner) + ItemLayout.CHUNK_NEXT : writableData(owner);
            assert OffHeap.getLong(link) == handle : "a data chunk's back link does not lead to it";
            OffHeap.putLongRelease(link, fresh);
            long next = OffHeap.getLong(address(fresh) + ItemLayout.CHUNK_NEXT);
            if (next != 0) {
                OffHeap.putLong(writable(next) + ItemLayout.CHUNK_PREV, fresh);
            }
        } else {
            if (chunked(fresh)) {
                long first = OffHeap.getLong(dataAddress(fresh));
                if (first != 0) {
                    OffHeap.putLong(writable(first) + ItemLayout.CHUNK_PREV, fresh);
                }
            }
            lru.swap(handle, fresh, lruId(fresh));
            index.replace(handle, fresh, hashOf(fresh));
        }
        slabs.retireSpareChunk(handle, chunkClass);
        return true;
    }

    /**
     * memcached's do_item_bump(), for a fetch (get, touch, gat, mg, or a read another node
     * reported through an access hint): with the segmented LRU the first fetch marks the item
     * FETCHED and the second ACTIVE, which keeps it in WARM and lifts it out of COLD; with the flat
     * LRU the item moves to the head, at most once a minute.
     */
    void fetched(long handle) {
        clearHinted(handle);
        if (!config.lru().segmented()) {
            update(handle);
            return;
        }
        byte itemFlags = flags(handle);
        if ((itemFlags & ItemLayout.FLAG_ACTIVE) != 0) {
            return;
        }
        if ((itemFlags & ItemLayout.FLAG_FETCHED) == 0) {
            setFlags(handle, (byte) (itemFlags | ItemLayout.FLAG_FETCHED));
            return;
        }
        setFlags(handle, (byte) (itemFlags | ItemLayout.FLAG_ACTIVE));
        if (LruLists.segmentOf(lruId(handle)) != LruLists.COLD) {
            OffHeap.putInt(writable(handle) + ItemLayout.TIME, nowSeconds);
        } else {
            update(handle);   // memcached's asynchronous bump, done at once
        }
    }

    /**
     * memcached's do_item_update(): with the segmented LRU an ACTIVE item in COLD moves to WARM and
     * any other item only has its time bumped; with the flat LRU the item moves to the head, at
     * most once a minute.
     */
    void update(long handle) {
        if (config.lru().segmented()) {
            int lruId = lruId(handle);
            OffHeap.putInt(writable(handle) + ItemLayout.TIME, nowSeconds);
            if (LruLists.segmentOf(lruId) == LruLists.COLD && hasFlag(handle, ItemLayout.FLAG_ACTIVE)) {
                setFlags(handle, (byte) (flags(handle) & ~ItemLayout.FLAG_ACTIVE));
                stats.movesToWarm[lruId & LruLists.CLASS_MASK]++;
                moveTo(handle, LruLists.lruId(lruId & LruLists.CLASS_MASK, LruLists.WARM));
            }
            return;
        }
        if (time(handle) < nowSeconds - UPDATE_INTERVAL_SECONDS) {
            clearHinted(handle);
            OffHeap.putInt(writable(handle) + ItemLayout.TIME, nowSeconds);
            lru.moveToHead(handle, lruId(handle), totalSize(handle));
        }
    }

    /**
     * Whether a read this node served should reach the replicated LRU as an access hint: with the
     * segmented LRU while the item is not ACTIVE yet (a hint makes it FETCHED, a second one
     * ACTIVE; later reads change nothing until the maintainer clears ACTIVE), with the flat LRU
     * once its minute-long bump interval has passed. Claims the item (HINTED) so the node sends
     * one hint per step, not one per read; apply clears the claim when it fetches or moves the
     * item, so a lost hint is sent again after the item's next move. Reader threads; the flag
     * byte is per node and written racily, as memcached's fetched bit is: the worst a lost write
     * does is one hint more or less.
     */
    boolean claimHint(long handle, int readNowSeconds) {
        long address = address(handle);
        byte local = OffHeap.getByte(address + ItemLayout.LOCAL_FLAGS);
        if ((local & ItemLayout.LOCAL_FLAG_HINTED) != 0) {
            return false;
        }
        boolean wanted = config.lru().segmented() ? !hasFlag(handle, ItemLayout.FLAG_ACTIVE)
                : time(handle) < readNowSeconds - UPDATE_INTERVAL_SECONDS;
        if (wanted) {
            OffHeap.putByte(address + ItemLayout.LOCAL_FLAGS, (byte) (local | ItemLayout.LOCAL_FLAG_HINTED));
        }
        return wanted;
    }

    private void clearHinted(long handle) {
        long address = address(handle);
        byte local = OffHeap.getByte(address + ItemLayout.LOCAL_FLAGS);
        if ((local & ItemLayout.LOCAL_FLAG_HINTED) != 0) {
            OffHeap.putByte(writable(handle) + ItemLayout.LOCAL_FLAGS, (byte) (local & ~ItemLayout.LOCAL_FLAG_HINTED));
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
            for (int segment : LruLists.SEGMENTS) {
                int lruId = classId | segment;
                long count = 0;
                long requested = 0;
                long previous = 0;
                for (long item = lru.head(lruId); item != 0; item = lru.next(item)) {
                    require(count <= currentItems, "LRU " + lruId + " has a cycle");
                    require(lru.previous(item) == previous, "LRU " + lruId + " back link broken at item " + count);
                    require(lruId(item) == lruId, "an item of LRU " + lruId(item) + " in LRU " + lruId);
                    byte[] key = new byte[keyLength(item)];
                    OffHeap.copyToArray(address(item) + keyOffset, key, 0, key.length);
                    require(index.find(key, key.length, index.hash(key, key.length)) == item, "a linked item missing from the index");
                    countChunks(item, chunksUsed);
                    count++;
                    requested += totalSize(item);
                    previous = item;
                }
                require(!config.lru().segmented() ? segment == LruLists.HOT || count == 0 : true,
                        "the flat LRU linked an item in segment " + segment);
                require(lru.tail(lruId) == previous, "LRU " + lruId + " tail is not its last item");
                require(count == lru.itemCount(lruId), "LRU " + lruId + " holds " + count + " items, counted " + lru.itemCount(lruId));
                require(requested == lru.requestedBytes(lruId), "LRU " + lruId + " requested bytes " + requested + ", counted "
                        + lru.requestedBytes(lruId));
                items += count;
                bytes += requested;
            }
        }
        require(items == currentItems, "LRUs hold " + items + " items, curr_items says " + currentItems);
        require(bytes == currentBytes, "LRUs hold " + bytes + " bytes, bytes says " + currentBytes);
        require(index.itemCount() == currentItems, "the index holds " + index.itemCount() + " items, curr_items says "
                + currentItems);
        long pages = slabs.logicalPoolPages();
        for (int classId = 1; classId < classCount; classId++) {
            require(chunksUsed[classId] + slabs.logicalFreeChunks(classId) == slabs.totalChunks(classId), "class " + classId
                    + ": " + chunksUsed[classId] + " chunks used + " + slabs.logicalFreeChunks(classId) + " free != "
                    + slabs.totalChunks(classId) + " in its pages");
            require(chunksUsed[classId] == slabs.liveChunkCount(classId), "class " + classId + ": " + chunksUsed[classId]
                    + " chunks used, " + slabs.liveChunkCount(classId) + " marked live in its pages");
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
