package io.raftcached.store;

import java.util.Arrays;

/**
 * Slab memory: 1 MB pages carved into chunks of one class, memcached's {@code -m} limit.
 *
 * <p>Two views are kept apart on purpose. The <em>logical</em> view — pages per class, free
 * chunks per class, bytes malloced — is exactly memcached's accounting and is a pure function
 * of the applied log, so every replica makes the same eviction choices. The <em>physical</em>
 * view is which chunk address backs an allocation: a chunk freed by apply may still be read by a
 * concurrent reader, so it waits in limbo until {@link ReadEpochs} says no reader can see it; if
 * none is reusable yet, a slack page beyond the limit backs the allocation. Slack is bounded and
 * never counted logically, so readers change physical placement only, never results.
 *
 * <p>Pages move between classes (memcached's slab_reassign) in the same two views. Logically a
 * page leaves its class, for another class or memcached's global page pool, at one log index on
 * every replica ({@link #movePage}). Physically the class then holds a page more than it may: one
 * of its pages is drained (its live chunks relocated by {@link SlabRebalancer}) and, once no
 * reader can see any of its chunks, waits empty in a pool of pages that any class carves again.
 *
 * <p>A chunk is named by a handle: page number in the high bits, byte offset in the low 20 bits.
 * Handles (not addresses) make pages position independent, e.g. for snapshots. Apply thread only,
 * except {@link #address}, which readers call.
 */
final class SlabAllocator {
    static final int PAGE_SHIFT = 20;
    static final long OFFSET_MASK = (1L << PAGE_SHIFT) - 1;
    /** Physical pages beyond the logical ones, for chunks still held by readers. */
    static final int SLACK_PAGES_MAX = 64;
    private static final int LIMBO_INITIAL_CAPACITY = 1024;

    private final StoreConfig config;
    private final SlabClasses classes;
    private final ReadEpochs epochs;

    /** The class of an empty physical page waiting in the pool. */
    static final int POOLED = 0;

    // Physical pages. Index 0 is unused so that handle 0 means "none".
    private final long[] pageAddress;
    private final byte[] pageClass;
    /** Per page: chunks held, that is live or in limbo (neither on a free list nor drained). */
    private final int[] pageChunksHeld;
    /** Per page: the chunks that hold a live item or data chunk, and which of those are data chunks. */
    private final long[][] liveChunks;
    private final long[][] dataChunks;
    private final int[] physicalPagesOfClass;
    /** Empty pages, carved again before new memory is allocated. */
    private final int[] pooledPages;
    private int pooledPageCount;
    /** The page being drained, or 0; its chunks never return to the free list. */
    private int drainingPage;
    private int physicalPageCount;
    private int logicalPagesTotal;
    /** The pages are someone else's memory (a view over a snapshot image): never freed here. */
    private boolean pagesMapped;
    /** The snapshot whose pages are being dumped, if any. */
    private volatile SnapshotPages snapshot;

    // Logical accounting, memcached's slabclass_t.
    private final int[] logicalPages;
    private final long[] logicalFreeChunks;
    private long mallocedBytes;
    /** memcached's global page pool (slab class 0): pages malloced that no class holds. */
    private int logicalPoolPages;

    // Physical free lists, linked through the first word of each free chunk.
    private final long[] freeListHead;
    private final long[] freeListLength;

    // Limbo: freed chunks waiting for readers, FIFO by epoch.
    private long[] limboHandle = new long[LIMBO_INITIAL_CAPACITY];
    private long[] limboEpoch = new long[LIMBO_INITIAL_CAPACITY];
    private byte[] limboClass = new byte[LIMBO_INITIAL_CAPACITY];
    private int limboStart;
    private int limboSize;

    SlabAllocator(StoreConfig config, SlabClasses classes, ReadEpochs epochs) {
        this.config = config;
        this.classes = classes;
        this.epochs = epochs;
        int classCount = classes.largestClass() + 1;
        long logicalPagesMax = config.memoryLimitBytes() / config.slabPageSizeBytes() + classCount;
        // Room for pages a class gave up but has not drained yet, beside the logical and slack ones.
        int pagesMax = Math.toIntExact(2 * logicalPagesMax + SLACK_PAGES_MAX + 1);
        this.pageAddress = new long[pagesMax];
        this.pageClass = new byte[pagesMax];
        this.pageChunksHeld = new int[pagesMax];
        this.liveChunks = new long[pagesMax][];
        this.dataChunks = new long[pagesMax][];
        this.pooledPages = new int[pagesMax];
        this.physicalPagesOfClass = new int[classCount];
        this.logicalPages = new int[classCount];
        this.logicalFreeChunks = new long[classCount];
        this.freeListHead = new long[classCount];
        this.freeListLength = new long[classCount];
    }

    /**
     * The address to write a chunk at, for the apply thread. Every write to page memory by apply
     * goes through here, so a snapshot in progress can save the chunk's bytes before their first change.
     */
    long writable(long handle) {
        SnapshotPages snapshot = this.snapshot;
        if (snapshot != null) {
            int page = (int) (handle >>> PAGE_SHIFT);
            snapshot.beforeWrite(page, (int) (handle & OFFSET_MASK), classes.chunkSizeBytes(pageClass(page)));
        }
        return address(handle);
    }

    /** Translates a handle to an address. Safe for readers: page slots are written before use. */
    long address(long handle) {
        assert handle != 0 : "null handle";
        return pageAddress[(int) (handle >>> PAGE_SHIFT)] + (handle & OFFSET_MASK);
    }

    /**
     * Takes a chunk of {@code classId} if the logical accounting allows it (a free chunk, or a new
     * page within the memory limit). Returns 0 when the caller must reclaim or evict first.
     */
    long allocate(int classId, boolean dataChunk) {
        if (logicalFreeChunks[classId] == 0 && !addLogicalPage(classId)) {
            return 0;
        }
        logicalFreeChunks[classId]--;
        return markLive(takePhysicalChunk(classId), dataChunk);
    }

    /** Returns a chunk. It is reused only after every reader that might still see it has left. */
    void free(long handle, int classId) {
        logicalFreeChunks[classId]++;
        retireSpareChunk(handle, classId);
    }

    /**
     * A physical chunk outside the logical accounting, for a copy that will replace a live item
     * of the same class ({@link Items#relocate}). Pair with {@link #retireSpareChunk}.
     */
    long takeSpareChunk(int classId) {
        return markLive(takePhysicalChunk(classId), false);
    }

    /**
     * A free chunk for a drained chunk's copy, or 0 when the class has none free right now: the
     * copy never adds a page to the class it is shrinking.
     */
    long takeChunkForDrain(int classId, boolean dataChunk) {
        if (freeListLength[classId] == 0) {
            reclaim();
        }
        return freeListLength[classId] == 0 ? 0 : markLive(popFree(classId), dataChunk);
    }

    /** Retires a chunk whose contents live elsewhere now, without changing the logical accounting. */
    void retireSpareChunk(long handle, int classId) {
        int page = pageOf(handle);
        int chunk = chunkIndex(handle);
        liveChunks[page][chunk >>> 6] &= ~(1L << chunk);
        pushLimbo(handle, classId, epochs.current());
    }

    private long markLive(long handle, boolean dataChunk) {
        int page = pageOf(handle);
        int chunk = chunkIndex(handle);
        liveChunks[page][chunk >>> 6] |= 1L << chunk;
        if (dataChunk) {
            dataChunks[page][chunk >>> 6] |= 1L << chunk;
        } else {
            dataChunks[page][chunk >>> 6] &= ~(1L << chunk);
        }
        return handle;
    }

    boolean isDataChunk(long handle) {
        int chunk = chunkIndex(handle);
        return (dataChunks[pageOf(handle)][chunk >>> 6] & (1L << chunk)) != 0;
    }

    static int pageOf(long handle) {
        return (int) (handle >>> PAGE_SHIFT);
    }

    private int chunkIndex(long handle) {
        return (int) ((handle & OFFSET_MASK) / classes.chunkSizeBytes(pageClass(pageOf(handle))));
    }

    /** Moves limbo chunks that no reader can see any more onto the free lists. */
    void reclaim() {
        if (limboSize == 0) {
            return;
        }
        epochs.advance();
        long oldestActive = epochs.oldestActive();
        while (limboSize > 0 && limboEpoch[limboStart] < oldestActive) {
            long handle = limboHandle[limboStart];
            int page = pageOf(handle);
            pageChunksHeld[page]--;
            if (page != drainingPage) {
                pushFree(handle, limboClass[limboStart] & 0xFF);
            }
            limboStart = (limboStart + 1) % limboHandle.length;
            limboSize--;
        }
    }

    /** memcached's do_slabs_newslab(): a page from the global pool, else a new one within the limit. */
    private boolean addLogicalPage(int classId) {
        int pageBytes = config.slabPageSizeBytes();
        if (logicalPoolPages > 0) {
            logicalPoolPages--;
        } else if (mallocedBytes + pageBytes > config.memoryLimitBytes() && logicalPages[classId] > 0) {
            // memcached grants every class its first page even past the limit.
            return false;
        } else {
            mallocedBytes += pageBytes;
        }
        logicalPages[classId]++;
        logicalPagesTotal++;
        logicalFreeChunks[classId] += classes.chunksPerPage(classId);
        if (physicalPagesOfClass[classId] < logicalPages[classId]) {
            addPhysicalPage(classId);
        }
        return true;
    }

    /**
     * Gives one page's worth of a class's free chunks to another class, or to the global pool
     * when {@code toClass} is {@link #POOLED}: memcached's slab_rebalance_finish(), in logical
     * terms. The caller has freed the chunks. The physical page follows once one is drained.
     */
    void movePage(int fromClass, int toClass) {
        int perPage = classes.chunksPerPage(fromClass);
        if (logicalPages[fromClass] < 2 || logicalFreeChunks[fromClass] < perPage) {
            throw new IllegalStateException("class " + fromClass + " has no free page to give");
        }
        logicalPages[fromClass]--;
        logicalFreeChunks[fromClass] -= perPage;
        if (toClass == POOLED) {
            logicalPoolPages++;
            logicalPagesTotal--;
            return;
        }
        logicalPages[toClass]++;
        logicalFreeChunks[toClass] += classes.chunksPerPage(toClass);
    }

    // --- draining ------------------------------------------------------------------------------

    /** A class with more physical pages than logical ones (after a page move, or slack), or 0. */
    int classWithSurplusPage() {
        for (int classId = 1; classId < physicalPagesOfClass.length; classId++) {
            if (physicalPagesOfClass[classId] > Math.max(1, logicalPages[classId])) {
                return classId;
            }
        }
        return 0;
    }

    int drainingPage() {
        return drainingPage;
    }

    /** Starts draining the page of {@code classId} holding the fewest chunks; its free chunks leave the free list. */
    void startDraining(int classId) {
        assert drainingPage == 0 : "one page drains at a time";
        int emptiest = 0;
        for (int page = 1; page <= physicalPageCount; page++) {
            if (pageClass(page) == classId && (emptiest == 0 || pageChunksHeld[page] < pageChunksHeld[emptiest])) {
                emptiest = page;
            }
        }
        drainingPage = emptiest;
        long keptHead = 0;
        long keptTail = 0;
        long keptLength = 0;
        long handle = freeListHead[classId];
        for (long i = freeListLength[classId]; i > 0; i--) {
            long next = OffHeap.getLong(address(handle) + ItemLayout.LRU_NEXT);
            if (pageOf(handle) != emptiest) {
                if (keptTail == 0) {
                    keptHead = handle;
                } else {
                    OffHeap.putLong(writable(keptTail) + ItemLayout.LRU_NEXT, handle);
                }
                keptTail = handle;
                keptLength++;
            }
            handle = next;
        }
        if (keptTail != 0) {
            OffHeap.putLong(writable(keptTail) + ItemLayout.LRU_NEXT, 0);
        }
        freeListHead[classId] = keptHead;
        freeListLength[classId] = keptLength;
    }

    /** The live chunks of the draining page, with whether each is a data chunk; visits stop when it returns false. */
    interface LiveChunkVisitor {
        boolean visit(long handle, boolean dataChunk);
    }

    void forEachLiveChunkOfDrainingPage(LiveChunkVisitor visitor) {
        int page = drainingPage;
        int chunkBytes = classes.chunkSizeBytes(pageClass(page));
        long[] live = liveChunks[page];
        for (int word = 0; word < live.length; word++) {
            for (long bits = live[word]; bits != 0; bits &= bits - 1) {
                int chunk = word * 64 + Long.numberOfTrailingZeros(bits);
                long handle = ((long) page << PAGE_SHIFT) | ((long) chunk * chunkBytes);
                if (!visitor.visit(handle, (dataChunks[page][word] & (1L << chunk)) != 0)) {
                    return;
                }
            }
        }
    }

    /** Pools the draining page once no chunk of it is live or in limbo. Returns whether it did. */
    boolean finishDrainingIfEmpty() {
        int page = drainingPage;
        if (page == 0 || pageChunksHeld[page] > 0) {
            return false;
        }
        physicalPagesOfClass[pageClass(page)]--;
        pageClass[page] = POOLED;
        liveChunks[page] = null;
        dataChunks[page] = null;
        pooledPages[pooledPageCount++] = page;
        drainingPage = 0;
        return true;
    }

    private long takePhysicalChunk(int classId) {
        if (freeListLength[classId] == 0) {
            reclaim();
        }
        int waits = 0;
        while (freeListLength[classId] == 0) {
            if (physicalPageCount - pooledPageCount - logicalPagesTotal < SLACK_PAGES_MAX) {
                addPhysicalPage(classId);
                break;
            }
            // Every slack page is in use: readers leave within microseconds, so wait for them.
            waits++;
            if (waits % 64 == 0) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
            reclaim();
        }
        return popFree(classId);
    }

    private long popFree(int classId) {
        long handle = freeListHead[classId];
        freeListHead[classId] = OffHeap.getLong(address(handle) + ItemLayout.LRU_NEXT);
        freeListLength[classId]--;
        pageChunksHeld[pageOf(handle)]++;
        return handle;
    }

    /** Carves a page for {@code classId}: a pooled one if any, else new memory. */
    private void addPhysicalPage(int classId) {
        int page;
        if (pooledPageCount > 0) {
            page = pooledPages[--pooledPageCount];
        } else {
            page = ++physicalPageCount;
            if (page >= pageAddress.length) {
                throw new IllegalStateException("page table full: " + page + " pages, of which " + pooledPageCount + " pooled");
            }
            pageAddress[page] = OffHeap.allocate(config.slabPageSizeBytes());
        }
        carve(page, classId);
    }

    private void carve(int page, int classId) {
        assignClass(page, classId);
        int chunkBytes = classes.chunkSizeBytes(classId);
        int perPage = classes.chunksPerPage(classId);
        // Push in reverse so the page is handed out front to back.
        for (int i = perPage - 1; i >= 0; i--) {
            pushFree(((long) page << PAGE_SHIFT) | ((long) i * chunkBytes), classId);
        }
    }

    private void pushFree(long handle, int classId) {
        OffHeap.putLong(writable(handle) + ItemLayout.LRU_NEXT, freeListHead[classId]);
        freeListHead[classId] = handle;
        freeListLength[classId]++;
    }

    private void pushLimbo(long handle, int classId, long epoch) {
        if (limboSize == limboHandle.length) {
            growLimbo();
        }
        int slot = (limboStart + limboSize) % limboHandle.length;
        limboHandle[slot] = handle;
        limboEpoch[slot] = epoch;
        limboClass[slot] = (byte) classId;
        limboSize++;
    }

    private void growLimbo() {
        int capacity = limboHandle.length * 2;
        long[] handles = new long[capacity];
        long[] epochTags = new long[capacity];
        byte[] classIds = new byte[capacity];
        for (int i = 0; i < limboSize; i++) {
            int slot = (limboStart + i) % limboHandle.length;
            handles[i] = limboHandle[slot];
            epochTags[i] = limboEpoch[slot];
            classIds[i] = limboClass[slot];
        }
        limboHandle = handles;
        limboEpoch = epochTags;
        limboClass = classIds;
        limboStart = 0;
    }

    // --- snapshots -------------------------------------------------------------------------

    long pageAddress(int page) {
        return pageAddress[page];
    }

    int pageClass(int page) {
        return pageClass[page] & 0xFF;
    }

    /** Arms copy-on-write for the pages that exist now. Apply thread. */
    SnapshotPages beginSnapshot(long copyBudgetBytes, SnapshotPages.PageSink sink) {
        if (snapshot != null) {
            throw new SnapshotUnderWayException();
        }
        SnapshotPages pages = new SnapshotPages(this, physicalPageCount, config.slabPageSizeBytes(), copyBudgetBytes, sink);
        snapshot = pages;
        return pages;
    }

    /** Disarms copy-on-write; any thread, once the dump is over. */
    void endSnapshot(SnapshotPages pages) {
        if (snapshot == pages) {
            snapshot = null;
        }
        pages.release();
    }

    /** Restores a page at a snapshot's page number; pages must be restored 1, 2, 3... */
    long restorePage(int page, int classId) {
        placePage(page, classId, OffHeap.allocate(config.slabPageSizeBytes()));
        return pageAddress[page];
    }

    /**
     * Uses memory someone else owns for a page (a mapped snapshot image), for a read-only view of
     * a store: the allocator then never frees its pages.
     */
    void mapPage(int page, int classId, long address) {
        pagesMapped = true;
        placePage(page, classId, address);
    }

    private void placePage(int page, int classId, long address) {
        if (page != physicalPageCount + 1) {
            throw new IllegalStateException("pages must be restored in order, got " + page);
        }
        physicalPageCount = page;
        pageAddress[page] = address;
        if (classId == POOLED) {
            pageClass[page] = POOLED;
            pooledPages[pooledPageCount++] = page;
            return;
        }
        assignClass(page, classId);
    }

    private void assignClass(int page, int classId) {
        pageClass[page] = (byte) classId;
        physicalPagesOfClass[classId]++;
        int words = (classes.chunksPerPage(classId) + 63) / 64;
        liveChunks[page] = new long[words];
        dataChunks[page] = new long[words];
    }

    /** Restores the logical accounting that a snapshot recorded. */
    void restoreAccounting(int classId, int pages, long freeChunks) {
        logicalPagesTotal += pages - logicalPages[classId];
        logicalPages[classId] = pages;
        logicalFreeChunks[classId] = freeChunks;
    }

    void restoreTotals(long malloced, int poolPages) {
        mallocedBytes = malloced;
        logicalPoolPages = poolPages;
    }

    /** After a restore, for every chunk a live item uses; then {@link #rebuildFreeLists}. */
    void markRestoredLive(long handle, boolean dataChunk) {
        markLive(handle, dataChunk);
        pageChunksHeld[pageOf(handle)]++;
    }

    /** After a restore: every chunk that no live item uses becomes free. */
    void rebuildFreeLists() {
        for (int page = 1; page <= physicalPageCount; page++) {
            int classId = pageClass(page);
            if (classId == POOLED) {
                continue;
            }
            int chunkBytes = classes.chunkSizeBytes(classId);
            long[] live = liveChunks[page];
            for (int i = classes.chunksPerPage(classId) - 1; i >= 0; i--) {
                if ((live[i >>> 6] & (1L << i)) == 0) {
                    pushFree(((long) page << PAGE_SHIFT) | ((long) i * chunkBytes), classId);
                }
            }
        }
    }

    // --- accounting, for stats and the digest -------------------------------------------------

    /** Chunks marked live in the class's physical pages (for the invariant check). */
    long liveChunkCount(int classId) {
        long count = 0;
        for (int page = 1; page <= physicalPageCount; page++) {
            if (pageClass(page) == classId) {
                for (long word : liveChunks[page]) {
                    count += Long.bitCount(word);
                }
            }
        }
        return count;
    }

    int logicalPages(int classId) {
        return logicalPages[classId];
    }

    long logicalFreeChunks(int classId) {
        return logicalFreeChunks[classId];
    }

    long totalChunks(int classId) {
        return (long) logicalPages[classId] * classes.chunksPerPage(classId);
    }

    long mallocedBytes() {
        return mallocedBytes;
    }

    int physicalPageCount() {
        return physicalPageCount;
    }

    /** Physical pages in use beyond the logical ones: slack for readers, and pages not drained yet. */
    int surplusPages() {
        return physicalPageCount - pooledPageCount - logicalPagesTotal;
    }

    int pooledPageCount() {
        return pooledPageCount;
    }

    int logicalPoolPages() {
        return logicalPoolPages;
    }

    long physicalBytes() {
        return (long) physicalPageCount * config.slabPageSizeBytes();
    }

    int limboSize() {
        return limboSize;
    }

    /** Frees all native memory. The allocator must not be used afterwards. */
    void release() {
        for (int page = 1; page <= physicalPageCount; page++) {
            if (!pagesMapped) {
                OffHeap.free(pageAddress[page]);
            }
            pageAddress[page] = 0;
        }
        physicalPageCount = 0;
        Arrays.fill(freeListHead, 0);
        Arrays.fill(freeListLength, 0);
    }
}
