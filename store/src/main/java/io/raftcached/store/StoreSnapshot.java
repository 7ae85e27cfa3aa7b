package io.raftcached.store;

import com.google.protobuf.ByteString;
import io.raftcached.proto.LruShape;
import io.raftcached.proto.LruState;
import io.raftcached.proto.SlabClassState;
import io.raftcached.proto.StoreShape;
import io.raftcached.proto.StoreSnapshotHeader;
import java.io.IOException;

/**
 * A point-in-time image of the store: a small header captured on the apply thread when it begins,
 * and the slab pages, written afterwards by any thread under copy-on-write
 * ({@link SnapshotPages}). Restoring loads the pages as they were — items, values, LRU links —
 * and rebuilds what is derived: the index, the free lists, the per-node access facts.
 */
public final class StoreSnapshot {
    /**
     * Where pages go: page {@code n} belongs at offset {@code (n-1) * page size}; a page may
     * arrive in parts, in any order, each part once. Called from the dumping thread and from apply.
     */
    public interface PageSink extends SnapshotPages.PageSink {}

    /** Fills page bytes when restoring. */
    public interface PageSource {
        void readPage(int pageNumber, byte[] pageBytes) throws IOException;
    }

    /** Format 1: the flat LRU, nothing of memcached's background threads. */
    static final int FORMAT_FLAT = 1;
    /** Format 2: adds the maintainer's state. Flat stores still write format 1, which older nodes read. */
    static final int FORMAT_MAINTAINED = 2;
    /** Bytes of copies apply may hold at once; past it, apply writes pages out itself. */
    static final long COPY_BUDGET_BYTES = 256L * StoreConfig.MEGABYTE;

    private final StoreSnapshotHeader header;
    private final SlabAllocator slabs;
    private final SnapshotPages pages;

    private StoreSnapshot(StoreSnapshotHeader header, SlabAllocator slabs, SnapshotPages pages) {
        this.header = header;
        this.slabs = slabs;
        this.pages = pages;
    }

    static StoreSnapshot begin(Items items, Maintainer maintainer, long nowMillis, PageSink sink, long copyBudgetBytes) {
        SlabAllocator slabs = items.slabs;
        StoreConfig config = items.config;
        boolean flat = config.lru().equals(LruSettings.FLAT);
        StoreSnapshotHeader.Builder header = StoreSnapshotHeader.newBuilder()
                .setFormatVersion(flat ? FORMAT_FLAT : FORMAT_MAINTAINED)
                .setShape(shapeOf(config))
                .setNowMillis(nowMillis)
                .setCasCounter(items.casCounter)
                .setOldestLiveSeconds(items.oldestLiveSeconds)
                .setOldestCas(items.oldestCas)
                .setCurrentItems(items.currentItems)
                .setTotalItems(items.totalItems)
                .setCurrentBytes(items.currentBytes)
                .setMallocedBytes(slabs.mallocedBytes())
                .setPhysicalPages(slabs.physicalPageCount())
                .setSlackPages(slabs.surplusPages());
        if (!flat) {
            header.setMaintainer(maintainer.toProto(true));
        }
        long[][] counters = items.stats.replicated();
        for (int classId = 1; classId <= items.classes.largestClass(); classId++) {
            SlabClassState.Builder state = SlabClassState.newBuilder()
                    .setLogicalPages(slabs.logicalPages(classId))
                    .setLogicalFreeChunks(slabs.logicalFreeChunks(classId))
                    .setLruHead(items.lru.head(classId))
                    .setLruTail(items.lru.tail(classId))
                    .setItemCount(items.lru.itemCount(classId))
                    .setRequestedBytes(items.lru.requestedBytes(classId));
            if (config.lru().segmented()) {
                for (int s = 1; s < LruLists.SEGMENTS.length; s++) {
                    int lruId = classId | LruLists.SEGMENTS[s];
                    state.addOtherSegments(LruState.newBuilder().setHead(items.lru.head(lruId)).setTail(items.lru.tail(lruId))
                            .setItemCount(items.lru.itemCount(lruId)).setRequestedBytes(items.lru.requestedBytes(lruId)));
                }
            }
            for (long[] counter : counters) {
                state.addCounters(counter[classId]);
            }
            header.addClasses(state);
        }
        byte[] pageClasses = new byte[slabs.physicalPageCount()];
        for (int page = 1; page <= pageClasses.length; page++) {
            pageClasses[page - 1] = (byte) slabs.pageClass(page);
        }
        header.setPageClasses(ByteString.copyFrom(pageClasses));
        return new StoreSnapshot(header.build(), slabs, slabs.beginSnapshot(copyBudgetBytes, sink));
    }

    public static StoreShape shapeOf(StoreConfig config) {
        LruSettings lru = config.lru();
        return StoreShape.newBuilder()
                .setLru(LruShape.newBuilder().setSegmented(lru.segmented()).setHotLruPct(lru.hotLruPercent())
                        .setWarmLruPct(lru.warmLruPercent()).setHotMaxFactor(lru.hotMaxFactor())
                        .setWarmMaxFactor(lru.warmMaxFactor()).setTempLru(lru.tempLru())
                        .setTemporaryTtl(lru.temporaryTtlSeconds()).setSlabReassign(lru.slabReassign())
                        .setSlabAutomove(lru.slabAutomove()).setSlabAutomoveRatio(lru.slabAutomoveRatio())
                        .setSlabAutomoveWindow(lru.slabAutomoveWindow()).setLruCrawler(lru.crawler())
                        .setLruCrawlerTocrawl(lru.crawlerToCrawl()))
                .setMemoryLimitBytes(config.memoryLimitBytes())
                .setEvictionsDisabled(config.evictionsDisabled())
                .setChunkSizeMin(config.chunkSizeMinBytes())
                .setGrowthFactor(config.growthFactor())
                .setItemSizeMax(config.itemSizeMaxBytes())
                .setCasDisabled(config.casDisabled())
                .setSlabPageSize(config.slabPageSizeBytes())
                .setSlabChunkMax(config.slabChunkMaxBytes())
                .build();
    }

    public static StoreConfig configOf(StoreShape shape) {
        LruSettings lru = LruSettings.FLAT;
        if (shape.hasLru()) {
            LruShape l = shape.getLru();
            lru = new LruSettings(l.getSegmented(), l.getHotLruPct(), l.getWarmLruPct(), l.getHotMaxFactor(),
                    l.getWarmMaxFactor(), l.getTempLru(), l.getTemporaryTtl(), l.getSlabReassign(), l.getSlabAutomove(),
                    l.getSlabAutomoveRatio(), l.getSlabAutomoveWindow(), l.getLruCrawler(), l.getLruCrawlerTocrawl());
        }
        return new StoreConfig(shape.getMemoryLimitBytes(), shape.getEvictionsDisabled(), shape.getChunkSizeMin(),
                shape.getGrowthFactor(), shape.getItemSizeMax(), shape.getCasDisabled(), shape.getSlabPageSize(),
                shape.getSlabChunkMax(), lru);
    }

    public StoreSnapshotHeader header() {
        return header;
    }

    public int pageCount() {
        return header.getPhysicalPages();
    }

    /** Writes every page through the sink; apply may run meanwhile. Call {@link #close} after. */
    public void writePages() throws IOException {
        pages.dump();
    }

    /** Bytes apply copied aside during this snapshot (for stall measurements). */
    public long bytesCopiedByApply() {
        return pages.copiesMade() * pages.unitBytes();
    }

    /** The most bytes of copies held at once during this snapshot (at most the copy budget). */
    public long copyBytesHeldMax() {
        return pages.copiesHeldMax() * pages.unitBytes();
    }

    /** Bytes apply wrote out itself, past its copy budget. */
    public long bytesWrittenByApply() {
        return pages.unitsWrittenByApply() * pages.unitBytes();
    }

    public void close() {
        slabs.endSnapshot(pages);
    }

    /** Rebuilds a store from a snapshot's header and pages. */
    public static Store restore(StoreSnapshotHeader header, PageSource source, long hashSeed, ReadEpochs epochs,
            LocalReads localReads)
            throws IOException {
        if (header.getFormatVersion() != FORMAT_FLAT && header.getFormatVersion() != FORMAT_MAINTAINED) {
            throw new IOException("unsupported store snapshot format " + header.getFormatVersion());
        }
        StoreConfig config = configOf(header.getShape());
        Store store = new Store(config, hashSeed, header.getCurrentItems(), epochs, localReads);
        boolean restored = false;
        try {
            restoreInto(header, source, store);
            store.restoreClock(header.getNowMillis());
            restored = true;
            return store;
        } finally {
            if (!restored) {
                store.close();
            }
        }
    }

    /** Where the pages of a snapshot image already are in memory (a mapped file): page number to address. */
    public interface PageAddresses {
        long addressOf(int pageNumber);
    }

    /**
     * The digest ({@link Store#digest}) of the store a snapshot image holds, walked in place over
     * {@code pages} (read only; nothing is copied or allocated per page). It equals the digest of
     * the store the snapshot was taken of, at the moment it began.
     */
    public static String digestOf(StoreSnapshotHeader header, PageAddresses pages) {
        try (Store view = viewOf(header, pages)) {
            return view.digest();
        }
    }

    /** A read-only store over a snapshot image already in memory; the caller closes it, then the pages. */
    static Store viewOf(StoreSnapshotHeader header, PageAddresses pages) {
        Store view = new Store(configOf(header.getShape()), 0, 0, new ReadEpochs(), new LocalReads());
        Items items = view.items();
        byte[] pageClasses = header.getPageClasses().toByteArray();
        for (int page = 1; page <= header.getPhysicalPages(); page++) {
            items.slabs.mapPage(page, pageClasses[page - 1] & 0xFF, pages.addressOf(page));
        }
        restoreState(header, view);
        view.restoreClock(header.getNowMillis());
        return view;
    }

    private static void restoreInto(StoreSnapshotHeader header, PageSource source, Store store) throws IOException {
        Items items = store.items();
        SlabAllocator slabs = items.slabs;
        int pageBytes = items.config.slabPageSizeBytes();
        byte[] pageClasses = header.getPageClasses().toByteArray();
        byte[] buffer = new byte[pageBytes];
        for (int page = 1; page <= header.getPhysicalPages(); page++) {
            long address = slabs.restorePage(page, pageClasses[page - 1] & 0xFF);
            source.readPage(page, buffer);
            OffHeap.copyFromArray(buffer, 0, address, pageBytes);
        }
        restoreState(header, store);
        rebuildDerived(items);
    }

    /** The replicated state the header records, over pages already in place. */
    private static void restoreState(StoreSnapshotHeader header, Store store) {
        Items items = store.items();
        SlabAllocator slabs = items.slabs;
        long[][] counters = items.stats.replicated();
        for (int classId = 1; classId <= items.classes.largestClass(); classId++) {
            SlabClassState state = header.getClasses(classId - 1);
            slabs.restoreAccounting(classId, state.getLogicalPages(), state.getLogicalFreeChunks());
            items.lru.restore(classId, state.getLruHead(), state.getLruTail(), state.getItemCount(), state.getRequestedBytes());
            for (int s = 0; s < state.getOtherSegmentsCount(); s++) {
                LruState segment = state.getOtherSegments(s);
                items.lru.restore(classId | LruLists.SEGMENTS[s + 1], segment.getHead(), segment.getTail(), segment.getItemCount(),
                        segment.getRequestedBytes());
            }
            for (int c = 0; c < counters.length && c < state.getCountersCount(); c++) {
                counters[c][classId] = state.getCounters(c);   // counters added later start at 0
            }
        }
        slabs.restoreTotals(header.getMallocedBytes(), header.getMaintainer().getPoolPages());
        if (header.hasMaintainer()) {
            store.maintainer().restore(header.getMaintainer());
        }
        items.casCounter = header.getCasCounter();
        items.oldestLiveSeconds = header.getOldestLiveSeconds();
        items.oldestCas = header.getOldestCas();
        items.currentItems = header.getCurrentItems();
        items.totalItems = header.getTotalItems();
        items.currentBytes = header.getCurrentBytes();
        items.nowSeconds = Store.toStoreSeconds(header.getNowMillis());
    }

    /**
     * What a store derives from its items: the index, which chunks are live (and the back links
     * of data chunks), the free lists, the per-node access facts.
     */
    private static void rebuildDerived(Items items) {
        SlabAllocator slabs = items.slabs;
        for (int classId = 1; classId <= items.classes.largestClass(); classId++) {
            for (int segment : LruLists.SEGMENTS) {
                for (long item = items.lru.head(classId | segment); item != 0; item = items.lru.next(item)) {
                    slabs.markRestoredLive(item, false);
                    if (items.chunked(item)) {
                        long owner = item;
                        for (long chunk = OffHeap.getLong(items.dataAddress(item)); chunk != 0;
                                chunk = OffHeap.getLong(items.address(chunk) + ItemLayout.CHUNK_NEXT)) {
                            slabs.markRestoredLive(chunk, true);
                            OffHeap.putLong(items.address(chunk) + ItemLayout.CHUNK_PREV, owner);
                            owner = chunk;
                        }
                    }
                    long address = items.address(item);
                    OffHeap.putInt(address + ItemLayout.LAST_ACCESS, items.nowSeconds);
                    OffHeap.putByte(address + ItemLayout.LOCAL_FLAGS, (byte) 0);
                    items.index.insert(item, items.hashOf(item));
                }
            }
        }
        slabs.rebuildFreeLists();
    }
}
