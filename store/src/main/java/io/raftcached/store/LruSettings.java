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
 * @param crawlerItemsPerRun items of each LRU the crawler looks at per run (memcached's
 *                           lru_crawler_tocrawl, which there means unlimited when 0; here a run is
 *                           bounded so apply never stalls on a crawl)
 */
public record LruSettings(boolean segmented, int hotLruPercent, int warmLruPercent, double hotMaxFactor,
        double warmMaxFactor, boolean tempLru, int temporaryTtlSeconds, boolean slabReassign, int slabAutomove,
        double slabAutomoveRatio, int slabAutomoveWindow, boolean crawler, int crawlerItemsPerRun) {

    /** memcached 1.6's defaults. */
    public static final LruSettings MEMCACHED_DEFAULTS = new LruSettings(true, 20, 40, 0.2, 2.0, false, 61, true, 1, 0.8,
            30, true, 1_000);

    /**
     * The flat LRU of clusters created before these settings existed (and memcached's {@code
     * no_modern}): one LRU per class bumped at most once a minute, no slab mover, no crawler.
     */
    public static final LruSettings FLAT = new LruSettings(false, 20, 40, 0.2, 2.0, false, 61, false, 0, 0.8, 30, false,
            1_000);

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
        if (slabAutomove > 0 && !slabReassign) {
            throw new IllegalArgumentException("slab_automove needs slab_reassign");
        }
        if (slabAutomoveWindow < 1) {
            throw new IllegalArgumentException("slab_automove_window must be at least 1");
        }
        if (crawlerItemsPerRun < 1) {
            throw new IllegalArgumentException("lru_crawler_tocrawl must be at least 1");
        }
    }

    /** As the flags that give them ({@code -o no_modern} for {@link #FLAT}). */
    public String flagsText() {
        if (equals(FLAT)) {
            return "-o no_modern";
        }
        return (segmented ? "" : "-o no_lru_maintainer ") + "-o hot_lru_pct=" + hotLruPercent + ",warm_lru_pct=" + warmLruPercent
                + ",hot_max_factor=" + hotMaxFactor + ",warm_max_factor=" + warmMaxFactor
                + (tempLru ? ",temporary_ttl=" + temporaryTtlSeconds : "")
                + (slabReassign ? ",slab_reassign" : ",no_slab_reassign") + ",slab_automove=" + slabAutomove
                + ",slab_automove_ratio=" + slabAutomoveRatio + ",slab_automove_window=" + slabAutomoveWindow
                + (crawler ? ",lru_crawler,lru_crawler_tocrawl=" + crawlerItemsPerRun : ",no_lru_crawler");
    }
}
