package io.raftcached.store;

/**
 * memcached's slab_automove.c (slab_automove=1): once a second it samples, per class, whether
 * the class evicted, ran out of memory or grew (a "dirty" window slot), its share of the
 * evictions and the age of its COLD tail, over a window of the last {@code
 * slab_automove_window} samples. A class holding more than 2.5 pages of free chunks with a clean
 * window gives a page to the global pool; otherwise, once the window has filled, the oldest
 * class gives a page to the youngest evicting one when the youngest's age is below {@code
 * slab_automove_ratio} of the oldest's. Every input is replicated state and the samples are taken
 * at log seconds, so every replica decides the same move at the same index. Apply thread only.
 */
final class SlabAutomove {
    /** memcached's MIN_PAGES_FOR_SOURCE and MIN_PAGES_FOR_RECLAIM. */
    private static final int MIN_PAGES_FOR_SOURCE = 2;
    private static final double MIN_PAGES_FOR_RECLAIM = 2.5;

    /** A decision: move a page from {@code sourceClass} to {@code destinationClass} (0: the pool). */
    record Move(int sourceClass, int destinationClass) {}

    private final Items items;
    final int windowSize;
    // The window, class-major: slot (classId * windowSize + n).
    final long[] windowAge;
    final boolean[] windowDirty;
    final float[] windowEvictedRatio;
    final boolean[] windowEvictedSeen;
    // The counters as the previous sample saw them.
    final long[] evictedBefore;
    final long[] outOfMemoryBefore;
    final long[] pagesBefore;
    long windowCursor;

    SlabAutomove(Items items) {
        this.items = items;
        this.windowSize = items.config.lru().slabAutomoveWindow();
        int classCount = items.classes.largestClass() + 1;
        windowAge = new long[classCount * windowSize];
        windowDirty = new boolean[classCount * windowSize];
        windowEvictedRatio = new float[classCount * windowSize];
        windowEvictedSeen = new boolean[classCount * windowSize];
        evictedBefore = new long[classCount];
        outOfMemoryBefore = new long[classCount];
        pagesBefore = new long[classCount];
    }

    /** memcached's slab_automove_run(): one sample; returns the move it calls for, or null. */
    Move run(double maxAgeRatio) {
        int largest = items.classes.largestClass();
        ItemStats stats = items.stats;
        long evictedTotal = 0;
        for (int classId = 1; classId <= largest; classId++) {
            evictedTotal += stats.evicted[classId] - evictedBefore[classId];
        }
        windowCursor++;
        Move move = null;
        int oldest = -1;
        long oldestAge = 0;
        int youngest = -1;
        long youngestAge = Long.MAX_VALUE;
        boolean youngestEvicting = false;
        for (int classId = 1; classId <= largest; classId++) {
            int base = classId * windowSize;
            int slot = base + (int) (windowCursor % windowSize);
            long evictedDelta = stats.evicted[classId] - evictedBefore[classId];
            windowEvictedRatio[slot] = evictedDelta > 0 ? (float) evictedDelta / evictedTotal : 0f;
            windowEvictedSeen[slot] = evictedDelta > 0;
            windowDirty[slot] = evictedDelta > 0 || stats.outOfMemory[classId] - outOfMemoryBefore[classId] > 0
                    || items.slabs.logicalPages(classId) - pagesBefore[classId] > 0;
            windowAge[slot] = coldTailAge(classId);
            long ageSum = 0;
            boolean dirty = false;
            float evictedRatioSum = 0f;
            int evictedSeen = 0;
            for (int n = base; n < base + windowSize; n++) {
                ageSum += windowAge[n];
                dirty |= windowDirty[n];
                evictedRatioSum += windowEvictedRatio[n];
                evictedSeen += windowEvictedSeen[n] ? 1 : 0;
            }
            long age = ageSum / windowSize;
            long freeChunks = items.slabs.logicalFreeChunks(classId);
            if (freeChunks > items.classes.chunksPerPage(classId) * MIN_PAGES_FOR_RECLAIM && !dirty) {
                move = new Move(classId, SlabAllocator.POOLED);
                oldest = -1;
                youngest = -1;
                break;
            }
            if (age > oldestAge && items.slabs.logicalPages(classId) > MIN_PAGES_FOR_SOURCE) {
                oldest = classId;
                oldestAge = age;
            }
            if (age < youngestAge && (evictedSeen > windowSize / 2 || evictedRatioSum / windowSize > 0.25)) {
                youngest = classId;
                youngestAge = age;
                youngestEvicting = windowEvictedSeen[slot];
            }
        }
        for (int classId = 1; classId <= largest; classId++) {
            evictedBefore[classId] = stats.evicted[classId];
            outOfMemoryBefore[classId] = stats.outOfMemory[classId];
            pagesBefore[classId] = items.slabs.logicalPages(classId);
        }
        if (youngest != -1 && oldest != -1 && windowCursor > windowSize && youngestEvicting
                && youngestAge < oldestAge * maxAgeRatio) {
            move = new Move(oldest, youngest);
        }
        return move;
    }

    private long coldTailAge(int classId) {
        int lruId = LruLists.lruId(classId, items.config.lru().segmented() ? LruLists.COLD : LruLists.HOT);
        long tail = items.lru.tail(lruId);
        return tail == 0 ? 0 : Math.max(0, items.nowSeconds - items.time(tail));
    }
}
