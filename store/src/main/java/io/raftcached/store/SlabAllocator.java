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

    // Physical pages. Index 0 is unused so that handle 0 means "none".
    private final long[] pageAddress;
    private final byte[] pageClass;
    private int physicalPageCount;
    private int slackPageCount;
    /** The pages are someone else's memory (a view over a snapshot image): never freed here. */
    private boolean pagesMapped;
    /** The snapshot whose pages are being dumped, if any. */
    private volatile SnapshotPages snapshot;

    // Logical accounting, memcached's slabclass_t.
    private final int[] logicalPages;
    private final long[] logicalFreeChunks;
    private long mallocedBytes;

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
        int pagesMax = Math.toIntExact(logicalPagesMax + SLACK_PAGES_MAX + 1);
        this.pageAddress = new long[pagesMax];
        this.pageClass = new byte[pagesMax];
        this.logicalPages = new int[classCount];
        this.logicalFreeChunks = new long[classCount];
        this.freeListHead = new long[classCount];
        this.freeListLength = new long[classCount];
    }

    /**
     * The address to write a chunk at, for the apply thread. Every write to page memory by apply
     * goes through here, so a snapshot in progress can copy a page before its first change.
     */
    long writable(long handle) {
        SnapshotPages snapshot = this.snapshot;
        if (snapshot != null) {
            snapshot.beforeWrite((int) (handle >>> PAGE_SHIFT));
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
    long allocate(int classId) {
        if (logicalFreeChunks[classId] == 0 && !addLogicalPage(classId)) {
            return 0;
        }
        logicalFreeChunks[classId]--;
        return takePhysicalChunk(classId);
    }

    /** Returns a chunk. It is reused only after every reader that might still see it has left. */
    void free(long handle, int classId) {
        logicalFreeChunks[classId]++;
        pushLimbo(handle, classId, epochs.current());
    }

    /**
     * A physical chunk outside the logical accounting, for a copy that will replace a live item
     * of the same class ({@link Items#relocate}). Pair with {@link #retireSpareChunk}.
     */
    long takeSpareChunk(int classId) {
        return takePhysicalChunk(classId);
    }

    /** Retires the chunk a relocated item left, without changing the logical accounting. */
    void retireSpareChunk(long handle, int classId) {
        pushLimbo(handle, classId, epochs.current());
    }

    /** Moves limbo chunks that no reader can see any more onto the free lists. */
    void reclaim() {
        if (limboSize == 0) {
            return;
        }
        epochs.advance();
        long oldestActive = epochs.oldestActive();
        while (limboSize > 0 && limboEpoch[limboStart] < oldestActive) {
            pushFree(limboHandle[limboStart], limboClass[limboStart] & 0xFF);
            limboStart = (limboStart + 1) % limboHandle.length;
            limboSize--;
        }
    }

    private boolean addLogicalPage(int classId) {
        int pageBytes = config.slabPageSizeBytes();
        // memcached grants every class its first page even past the limit.
        if (mallocedBytes + pageBytes > config.memoryLimitBytes() && logicalPages[classId] > 0) {
            return false;
        }
        logicalPages[classId]++;
        logicalFreeChunks[classId] += classes.chunksPerPage(classId);
        mallocedBytes += pageBytes;
        addPhysicalPage(classId);
        return true;
    }

    private long takePhysicalChunk(int classId) {
        if (freeListLength[classId] == 0) {
            reclaim();
        }
        int waits = 0;
        while (freeListLength[classId] == 0) {
            if (slackPageCount < SLACK_PAGES_MAX) {
                slackPageCount++;
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
        long handle = freeListHead[classId];
        long address = address(handle);
        freeListHead[classId] = OffHeap.getLong(address + ItemLayout.LRU_NEXT);
        freeListLength[classId]--;
        return handle;
    }

    private void addPhysicalPage(int classId) {
        int page = ++physicalPageCount;
        if (page >= pageAddress.length) {
            throw new IllegalStateException("page table full: " + page);
        }
        pageAddress[page] = OffHeap.allocate(config.slabPageSizeBytes());
        pageClass[page] = (byte) classId;
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
    SnapshotPages beginSnapshot(int copiesMax, SnapshotPages.PageSink sink) {
        if (snapshot != null) {
            throw new IllegalStateException("a snapshot is already being taken");
        }
        SnapshotPages pages = new SnapshotPages(this, physicalPageCount, config.slabPageSizeBytes(), copiesMax, sink);
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
        if (page != physicalPageCount + 1) {
            throw new IllegalStateException("pages must be restored in order, got " + page);
        }
        physicalPageCount = page;
        pageAddress[page] = OffHeap.allocate(config.slabPageSizeBytes());
        pageClass[page] = (byte) classId;
        return pageAddress[page];
    }

    /**
     * Uses memory someone else owns for a page (a mapped snapshot image), for a read-only view of
     * a store: the allocator then never frees its pages.
     */
    void mapPage(int page, int classId, long address) {
        if (page != physicalPageCount + 1) {
            throw new IllegalStateException("pages must be mapped in order, got " + page);
        }
        pagesMapped = true;
        physicalPageCount = page;
        pageAddress[page] = address;
        pageClass[page] = (byte) classId;
    }

    /** Restores the logical accounting that a snapshot recorded. */
    void restoreAccounting(int classId, int pages, long freeChunks) {
        logicalPages[classId] = pages;
        logicalFreeChunks[classId] = freeChunks;
    }

    void restoreTotals(long malloced, int slackPages) {
        mallocedBytes = malloced;
        slackPageCount = slackPages;
    }

    /** After a restore: every chunk that no live item uses becomes free. */
    void rebuildFreeLists(java.util.function.LongPredicate inUse) {
        for (int page = 1; page <= physicalPageCount; page++) {
            int classId = pageClass(page);
            int chunkBytes = classes.chunkSizeBytes(classId);
            for (int i = classes.chunksPerPage(classId) - 1; i >= 0; i--) {
                long handle = ((long) page << PAGE_SHIFT) | ((long) i * chunkBytes);
                if (!inUse.test(handle)) {
                    pushFree(handle, classId);
                }
            }
        }
    }

    // --- accounting, for stats and the digest -------------------------------------------------

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

    int slackPageCount() {
        return slackPageCount;
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
