package io.raftcached.store;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * One slab class's figures for {@code stats slabs} and {@code stats items}, read without
 * stopping apply (memcached's stats are not atomic snapshots either).
 */
public final class SlabStats {
    public final int classId;
    public final int chunkSizeBytes;
    public final int chunksPerPage;
    public final long totalPages;
    public final long totalChunks;
    public final long freeChunks;
    public final long items;
    public final long requestedBytes;
    public final long oldestItemAgeSeconds;
    public final long evicted;
    public final long evictedNonzero;
    public final long evictedTimeSeconds;
    public final long outOfMemory;
    public final long reclaimed;
    public final long expiredUnfetched;
    public final long evictedUnfetched;
    public final long directReclaims;
    public final long tailProtected;
    public final long setCommands;
    public final long deleteHits;
    public final long incrHits;
    public final long decrHits;
    public final long casHits;
    public final long casBadValue;
    public final long touchHits;
    /** Items per segment of the segmented LRU (with the flat LRU all are "hot", segment 0). */
    public final long hotItems;
    public final long warmItems;
    public final long coldItems;
    public final long tempItems;
    public final long hotAgeSeconds;
    public final long warmAgeSeconds;
    public final long movesToCold;
    public final long movesToWarm;
    public final long movesWithinLru;
    public final long evictedActive;
    public final long crawlerReclaimed;
    public final long crawlerItemsChecked;

    SlabStats(Items items, int classId) {
        this.classId = classId;
        this.chunkSizeBytes = items.classes.chunkSizeBytes(classId);
        this.chunksPerPage = items.classes.chunksPerPage(classId);
        this.totalPages = items.slabs.logicalPages(classId);
        this.totalChunks = items.slabs.totalChunks(classId);
        this.freeChunks = items.slabs.logicalFreeChunks(classId);
        this.items = items.lru.classItemCount(classId);
        this.requestedBytes = items.lru.classRequestedBytes(classId);
        // memcached's "age" is the COLD tail's (the flat LRU's one list is segment 0)
        long tail = items.lru.tail(LruLists.lruId(classId, items.config.lru().segmented() ? LruLists.COLD : LruLists.HOT));
        this.oldestItemAgeSeconds = tail == 0 ? 0 : Math.max(0, items.nowSeconds - items.time(tail));
        this.hotItems = items.lru.itemCount(LruLists.lruId(classId, LruLists.HOT));
        this.warmItems = items.lru.itemCount(LruLists.lruId(classId, LruLists.WARM));
        this.coldItems = items.lru.itemCount(LruLists.lruId(classId, LruLists.COLD));
        this.tempItems = items.lru.itemCount(LruLists.lruId(classId, LruLists.TEMP));
        this.hotAgeSeconds = age(items, LruLists.lruId(classId, LruLists.HOT));
        this.warmAgeSeconds = age(items, LruLists.lruId(classId, LruLists.WARM));
        ItemStats stats = items.stats;
        this.evicted = stats.evicted[classId];
        this.evictedNonzero = stats.evictedNonzero[classId];
        this.evictedTimeSeconds = stats.evictedTimeSeconds[classId];
        this.outOfMemory = stats.outOfMemory[classId];
        this.reclaimed = stats.reclaimed[classId];
        this.expiredUnfetched = stats.expiredUnfetched[classId];
        this.evictedUnfetched = stats.evictedUnfetched[classId];
        this.directReclaims = stats.directReclaims[classId];
        this.tailProtected = stats.tailProtected[classId];
        this.setCommands = stats.setCommands[classId];
        this.deleteHits = stats.deleteHits[classId];
        this.incrHits = stats.incrHits[classId];
        this.decrHits = stats.decrHits[classId];
        this.casHits = stats.casHits[classId];
        this.casBadValue = stats.casBadValue[classId];
        this.touchHits = stats.touchHits[classId];
        this.movesToCold = stats.movesToCold[classId];
        this.movesToWarm = stats.movesToWarm[classId];
        this.movesWithinLru = stats.movesWithinLru[classId];
        this.evictedActive = stats.evictedActive[classId];
        this.crawlerReclaimed = stats.crawlerReclaimed[classId];
        this.crawlerItemsChecked = stats.crawlerItemsChecked[classId];
    }

    /** One class over several stores (a node's groups): counts summed, ages the oldest. */
    static SlabStats sum(List<SlabStats> parts) {
        return new SlabStats(parts);
    }

    private SlabStats(List<SlabStats> parts) {
        SlabStats first = parts.get(0);
        this.classId = first.classId;
        this.chunkSizeBytes = first.chunkSizeBytes;
        this.chunksPerPage = first.chunksPerPage;
        this.totalPages = total(parts, part -> part.totalPages);
        this.totalChunks = total(parts, part -> part.totalChunks);
        this.freeChunks = total(parts, part -> part.freeChunks);
        this.items = total(parts, part -> part.items);
        this.requestedBytes = total(parts, part -> part.requestedBytes);
        this.oldestItemAgeSeconds = oldest(parts, part -> part.oldestItemAgeSeconds);
        this.evicted = total(parts, part -> part.evicted);
        this.evictedNonzero = total(parts, part -> part.evictedNonzero);
        this.evictedTimeSeconds = total(parts, part -> part.evictedTimeSeconds);
        this.outOfMemory = total(parts, part -> part.outOfMemory);
        this.reclaimed = total(parts, part -> part.reclaimed);
        this.expiredUnfetched = total(parts, part -> part.expiredUnfetched);
        this.evictedUnfetched = total(parts, part -> part.evictedUnfetched);
        this.directReclaims = total(parts, part -> part.directReclaims);
        this.tailProtected = total(parts, part -> part.tailProtected);
        this.setCommands = total(parts, part -> part.setCommands);
        this.deleteHits = total(parts, part -> part.deleteHits);
        this.incrHits = total(parts, part -> part.incrHits);
        this.decrHits = total(parts, part -> part.decrHits);
        this.casHits = total(parts, part -> part.casHits);
        this.casBadValue = total(parts, part -> part.casBadValue);
        this.touchHits = total(parts, part -> part.touchHits);
        this.hotItems = total(parts, part -> part.hotItems);
        this.warmItems = total(parts, part -> part.warmItems);
        this.coldItems = total(parts, part -> part.coldItems);
        this.tempItems = total(parts, part -> part.tempItems);
        this.hotAgeSeconds = oldest(parts, part -> part.hotAgeSeconds);
        this.warmAgeSeconds = oldest(parts, part -> part.warmAgeSeconds);
        this.movesToCold = total(parts, part -> part.movesToCold);
        this.movesToWarm = total(parts, part -> part.movesToWarm);
        this.movesWithinLru = total(parts, part -> part.movesWithinLru);
        this.evictedActive = total(parts, part -> part.evictedActive);
        this.crawlerReclaimed = total(parts, part -> part.crawlerReclaimed);
        this.crawlerItemsChecked = total(parts, part -> part.crawlerItemsChecked);
    }

    private static long total(List<SlabStats> parts, ToLongFunction<SlabStats> counter) {
        return parts.stream().mapToLong(counter).sum();
    }

    private static long oldest(List<SlabStats> parts, ToLongFunction<SlabStats> age) {
        return parts.stream().mapToLong(age).max().orElse(0);
    }

    private static long age(Items items, int lruId) {
        long tail = items.lru.tail(lruId);
        return tail == 0 ? 0 : Math.max(0, items.nowSeconds - items.time(tail));
    }

    public long usedChunks() {
        return totalChunks - freeChunks;
    }
}
