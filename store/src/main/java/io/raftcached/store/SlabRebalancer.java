package io.raftcached.store;

/**
 * memcached's slab rebalancer (slabs.c, {@code slab_reassign}): moves a page from one class to
 * another, or to the global page pool, so memory follows the item sizes a workload writes now
 * instead of staying where the first items landed ("slab calcification").
 *
 * <p>The move is decided and done logically at one log index ({@link #reassign}): the source
 * class frees a page's worth of chunks (evicting from its LRU tails what free chunks cannot
 * hold, memcached's slab_reassign_evictions_nomem) and the page changes hands in the accounting
 * every eviction decision reads. The physical page follows later and locally ({@link
 * #drainStep}): the live chunks of one of the source's pages are copied elsewhere in their class
 * (memcached's rescues), and the page, once no reader can see it, is carved again. Only the
 * logical half is replicated; the physical half changes where bytes sit, never what any read or
 * apply sees. Apply thread only.
 */
final class SlabRebalancer {
    private final Items items;
    // Replicated.
    /** memcached's slab_automove, which {@code slabs automove} changes through the log. */
    int automoveMode;
    double automoveRatio;
    long slabsMoved;
    long evictionsForMoves;
    /** Moves refused because the source's free chunks were held by other classes' items. */
    long movesAbandoned;
    /** One move per log second, as memcached's rebalancer thread takes its time over one. */
    int lastMoveSeconds;
    /** memcached's slabs_reassign_pick_any() cursor (a static there). */
    int pickAnyCursor;
    // Per node: the physical half.
    long chunksRescued;
    long dataChunksRescued;
    long drainStalls;
    private int relocationsLeft;

    SlabRebalancer(Items items) {
        this.items = items;
        this.automoveMode = items.config.lru().slabAutomove();
        this.automoveRatio = items.config.lru().slabAutomoveRatio();
    }

    /** memcached's slabs_reassign(src, dst); {@code sourceClass} -1 picks any class with a spare page. */
    MaintenanceReply reassign(int sourceClass, int destinationClass) {
        if (lastMoveSeconds == items.nowSeconds) {
            return MaintenanceReply.REASSIGN_BUSY;
        }
        if (sourceClass == destinationClass) {
            return MaintenanceReply.REASSIGN_SAME;
        }
        int largest = items.classes.largestClass();
        if (sourceClass == -1) {
            sourceClass = pickAny(destinationClass);
        }
        if (sourceClass < 0 || sourceClass > largest || destinationClass < 0 || destinationClass > largest) {
            return MaintenanceReply.REASSIGN_BADCLASS;
        }
        SlabAllocator slabs = items.slabs;
        int sourcePages = sourceClass == SlabAllocator.POOLED ? slabs.logicalPoolPages() : slabs.logicalPages(sourceClass);
        if (sourcePages < 2) {
            return MaintenanceReply.REASSIGN_NOSPARE;
        }
        if (sourceClass != SlabAllocator.POOLED && !freeAPage(sourceClass)) {
            movesAbandoned++;
            return MaintenanceReply.REASSIGN_BUSY;
        }
        slabs.movePage(sourceClass, destinationClass);
        slabsMoved++;
        lastMoveSeconds = items.nowSeconds;
        return MaintenanceReply.OK;
    }

    private int pickAny(int destinationClass) {
        int largest = items.classes.largestClass();
        for (int tries = largest; tries > 0; tries--) {
            pickAnyCursor = pickAnyCursor >= largest ? 1 : pickAnyCursor + 1;
            if (pickAnyCursor != destinationClass && items.slabs.logicalPages(pickAnyCursor) > 1) {
                return pickAnyCursor;
            }
        }
        return -1;
    }

    /** Evicts from the class's LRU tails, oldest segment first, until a page's worth of chunks is free. */
    private boolean freeAPage(int classId) {
        long perPage = items.classes.chunksPerPage(classId);
        int[] segments = items.config.lru().segmented()
                ? new int[] {LruLists.COLD, LruLists.TEMP, LruLists.WARM, LruLists.HOT} : new int[] {LruLists.HOT};
        for (int segment : segments) {
            int lruId = LruLists.lruId(classId, segment);
            for (long evictionsMax = perPage; items.slabs.logicalFreeChunks(classId) < perPage && evictionsMax > 0;
                    evictionsMax--) {
                long tail = items.lru.tail(lruId);
                if (tail == 0) {
                    break;
                }
                evictionsForMoves++;
                items.unlink(tail, items.hashOf(tail));
            }
        }
        return items.slabs.logicalFreeChunks(classId) >= perPage;
    }

    /**
     * Physical follow-up, between batches: drains a surplus page of some class by copying up to
     * {@code relocationsMax} live chunks off it, and pools it once it is empty and unread.
     */
    void drainStep(int relocationsMax) {
        SlabAllocator slabs = items.slabs;
        if (slabs.drainingPage() == 0) {
            int classId = slabs.classWithSurplusPage();
            if (classId == 0) {
                return;
            }
            slabs.startDraining(classId);
        }
        relocationsLeft = relocationsMax;
        slabs.forEachLiveChunkOfDrainingPage((handle, dataChunk) -> {
            if (relocationsLeft == 0) {
                return false;
            }
            if (!items.relocateChunk(handle, dataChunk)) {
                drainStalls++;   // no free chunk in the class right now: limbo drains, try again later
                return false;
            }
            relocationsLeft--;
            if (dataChunk) {
                dataChunksRescued++;
            } else {
                chunksRescued++;
            }
            return true;
        });
        slabs.reclaim();
        slabs.finishDrainingIfEmpty();
    }
}
