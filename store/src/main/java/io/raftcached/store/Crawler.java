package io.raftcached.store;

/**
 * memcached's LRU crawler (crawler.c, its "expired" module): walks every LRU and reclaims items
 * that expired or were flushed, so their memory returns without anyone reading them or their
 * reaching a tail. memcached crawls on a background thread, scheduled by how many items it
 * expects to find; here a bounded step runs once per second of the log's clock, at the same
 * log index on every replica, resuming where the last one stopped ({@link LruLists#cursor}).
 * Apply thread only.
 */
final class Crawler {
    private final Items items;
    /** Replicated: {@code lru_crawler enable|disable} goes through the log. */
    boolean enabled;
    /** Full passes over every LRU begun (memcached's lru_crawler_starts). */
    long passesStarted;
    /** Classes a {@code lru_crawler crawl} asked for, walked before the rest (bit per class id). */
    long requestedClasses;
    /** Replicated: items checked per log second; {@code lru_crawler tocrawl} changes it through the log. */
    int itemsPerSecond;

    Crawler(Items items) {
        this.items = items;
        this.enabled = items.config.lru().crawler();
        this.itemsPerSecond = items.config.lru().crawlerItemsPerSecond();
    }

    /**
     * Checks up to {@code itemsMax} items from the cursor on, reclaiming the expired and flushed,
     * moving to the next LRU as each walk ends; looks at each LRU at most once per step.
     */
    void step(int itemsMax) {
        if (!enabled) {
            return;
        }
        LruLists lru = items.lru;
        int checked = 0;
        for (int lrusVisited = 0; checked < itemsMax && lrusVisited <= LruLists.LRU_IDS; ) {
            long item = lru.cursor == LruLists.CURSOR_AT_HEAD ? lru.head(lru.cursorLruId) : lru.cursor;
            if (item == 0 || item == LruLists.CURSOR_DONE || !crawlable(lru.cursorLruId)) {
                nextLru();
                lrusVisited++;
                continue;
            }
            long next = lru.next(item);
            lru.cursor = next != 0 ? next : LruLists.CURSOR_DONE;
            checked++;
            int classId = lru.cursorLruId & LruLists.CLASS_MASK;
            items.stats.crawlerItemsChecked[classId]++;
            boolean dead = items.flushedAt(item, items.nowSeconds) || items.expiredStrictlyBefore(item, items.nowSeconds);
            if (dead && !items.answeringThisSecond(item)) {
                items.stats.crawlerReclaimed[classId]++;   // memcached counts it here only, not in reclaimed
                items.unlink(item, items.hashOf(item));
            }
        }
    }

    /** {@code lru_crawler crawl <classes>}: walks those classes first, from their heads. */
    void request(long classBits) {
        requestedClasses |= classBits;
        items.lru.cursorLruId = Long.numberOfTrailingZeros(requestedClasses);
        items.lru.cursor = LruLists.CURSOR_AT_HEAD;
    }

    private boolean crawlable(int lruId) {
        int classId = lruId & LruLists.CLASS_MASK;
        return classId >= 1 && classId <= items.classes.largestClass()
                && (requestedClasses == 0 || (requestedClasses & (1L << classId)) != 0);
    }

    private void nextLru() {
        LruLists lru = items.lru;
        int classId = lru.cursorLruId & LruLists.CLASS_MASK;
        if (lru.cursorLruId + LruLists.WARM >= LruLists.LRU_IDS) {
            // The last segment of a class: on to the next class, or around to a new pass.
            if (requestedClasses != 0) {
                requestedClasses &= ~(1L << classId);
            }
            classId = classId >= items.classes.largestClass() ? 0 : classId + 1;
            if (classId == 0) {
                passesStarted++;
            }
            lru.cursorLruId = classId;
        } else {
            lru.cursorLruId += LruLists.WARM;
        }
        lru.cursor = LruLists.CURSOR_AT_HEAD;
    }
}
