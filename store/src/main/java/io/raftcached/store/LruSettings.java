package io.raftcached.store;

/**
 * memcached's LRU, slab mover and crawler settings ({@code -o lru_segmented, hot_lru_pct,
 * warm_lru_pct, hot_max_factor, warm_max_factor, temporary_ttl, slab_reassign, slab_automove,
 * slab_automove_ratio, slab_automove_window, lru_crawler, lru_crawler_tocrawl}). They decide which
 * item is evicted and when pages move, so they are part of the store's shape: the same on every
 * replica, fixed when the cluster is created.
 *
 * @param slabAutomove 0 off; 1 moves a page when a window of evictions and ages calls for it; 2 on
 *                     every eviction
 * @param crawlerToCrawl memcached's lru_crawler_tocrawl: items the crawler checks per run, 0 for
 *                       its default. A run here is one log second's step, bounded so apply never
 *                       stalls on a crawl ({@link #crawlerItemsPerSecond})
 */
public record LruSettings(boolean segmented, int hotLruPercent, int warmLruPercent, double hotMaxFactor,
        double warmMaxFactor, boolean tempLru, int temporaryTtlSeconds, boolean slabReassign, int slabAutomove,
        double slabAutomoveRatio, int slabAutomoveWindow, boolean crawler, int crawlerToCrawl) {

    /** Items the crawler checks per log second unless lru_crawler_tocrawl says otherwise: about 1 ms of apply. */
    static final int CRAWLER_ITEMS_PER_SECOND_DEFAULT = 10_000;

    /** memcached 1.6's defaults. */
    public static final LruSettings MEMCACHED_DEFAULTS = new LruSettings(true, 20, 40, 0.2, 2.0, false, 61, true, 1, 0.8,
            30, true, 0);

    /**
     * The flat LRU of clusters created before these settings existed (and memcached's {@code
     * no_modern}): one LRU per class bumped at most once a minute, no slab mover, no crawler.
     */
    public static final LruSettings FLAT = new LruSettings(false, 20, 40, 0.2, 2.0, false, 61, false, 0, 0.8, 30, false, 0);

    public LruSettings {
        if (hotLruPercent < 1 || hotLruPercent >= 80) {
            throw new IllegalArgumentException("hot_lru_pct must be > 1 and < 80");
        }
        if (warmLruPercent < 1 || warmLruPercent >= 80) {
            throw new IllegalArgumentException("warm_lru_pct must be > 1 and < 80");
        }
        if (!(hotMaxFactor > 0)) {
            throw new IllegalArgumentException("hot_max_factor must be > 0");
        }
        if (!(warmMaxFactor > 0)) {
            throw new IllegalArgumentException("warm_max_factor must be > 0");
        }
        if (slabAutomove < 0 || slabAutomove > 2) {
            throw new IllegalArgumentException("slab_automove must be 0, 1 or 2");
        }
        if (hotLruPercent + warmLruPercent > 80) {
            throw new IllegalArgumentException("hot_lru_pct + warm_lru_pct cannot be more than 80% combined");
        }
        if (tempLru && !segmented) {
            throw new IllegalArgumentException("temporary_ttl requires lru_maintainer to be enabled");
        }
        if (!(slabAutomoveRatio > 0 && slabAutomoveRatio <= 1)) {
            throw new IllegalArgumentException("slab_automove_ratio must be > 0 and < 1");
        }
        if (slabAutomoveWindow < 3) {
            throw new IllegalArgumentException("slab_automove_window must be > 2");
        }
        if (crawlerToCrawl < 0) {
            throw new IllegalArgumentException("lru_crawler_tocrawl takes a numeric 32bit value");
        }
    }

    int crawlerItemsPerSecond() {
        return crawlerToCrawl == 0 ? CRAWLER_ITEMS_PER_SECOND_DEFAULT : crawlerToCrawl;
    }

    /**
     * As the flags that give them, for messages and the identity a node records: nothing for
     * {@link #FLAT} (clusters created before these settings read as they did), {@code -o modern}
     * for memcached's defaults, and {@code -o modern,...} with each setting that differs.
     */
    public String flagsText() {
        if (equals(FLAT)) {
            return "";
        }
        LruSettings d = MEMCACHED_DEFAULTS;
        StringBuilder text = new StringBuilder("-o modern");
        appendIf(text, segmented != d.segmented, "no_lru_maintainer");
        appendIf(text, hotLruPercent != d.hotLruPercent, "hot_lru_pct=" + hotLruPercent);
        appendIf(text, warmLruPercent != d.warmLruPercent, "warm_lru_pct=" + warmLruPercent);
        appendIf(text, hotMaxFactor != d.hotMaxFactor, "hot_max_factor=" + hotMaxFactor);
        appendIf(text, warmMaxFactor != d.warmMaxFactor, "warm_max_factor=" + warmMaxFactor);
        appendIf(text, tempLru, "temporary_ttl=" + temporaryTtlSeconds);
        appendIf(text, slabReassign != d.slabReassign, "no_slab_reassign");
        appendIf(text, slabAutomove != d.slabAutomove, "slab_automove=" + slabAutomove);
        appendIf(text, slabAutomoveRatio != d.slabAutomoveRatio, "slab_automove_ratio=" + slabAutomoveRatio);
        appendIf(text, slabAutomoveWindow != d.slabAutomoveWindow, "slab_automove_window=" + slabAutomoveWindow);
        appendIf(text, crawler != d.crawler, "no_lru_crawler");
        appendIf(text, crawlerToCrawl != d.crawlerToCrawl, "lru_crawler_tocrawl=" + crawlerToCrawl);
        return text.toString();
    }

    private static void appendIf(StringBuilder text, boolean condition, String option) {
        if (condition) {
            text.append(',').append(option);
        }
    }
}
