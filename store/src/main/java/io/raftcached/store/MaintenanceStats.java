package io.raftcached.store;

import java.util.List;
import java.util.function.ToLongFunction;

/**
 * The figures of memcached's background work for {@code stats} and {@code stats settings}, read
 * without stopping apply (as memcached's are). The rescue counts, whether a page is draining and
 * the empty pages held for reuse describe this node's physical memory; the rest is replicated.
 */
public record MaintenanceStats(
        long slabsMoved,
        long slabReassignRescues,
        long slabReassignChunkRescues,
        long slabReassignEvictionsNomem,
        long slabReassignBusyItems,
        boolean slabReassignRunning,
        int physicalPagesPooled,
        int physicalPagesSurplus,
        int slabGlobalPagePool,
        int slabAutomove,
        double slabAutomoveRatio,
        boolean lruCrawlerEnabled,
        boolean lruCrawlerRunning,
        long lruCrawlerStarts,
        long lruMaintainerJuggles,
        long crawlerReclaimed,
        long crawlerItemsChecked,
        long movesToCold,
        long movesToWarm,
        long movesWithinLru,
        long evictedActive) {

    static MaintenanceStats of(Items items, Maintainer maintainer) {
        SlabRebalancer rebalancer = maintainer.rebalancer;
        ItemStats stats = items.stats;
        return new MaintenanceStats(rebalancer.slabsMoved, rebalancer.chunksRescued, rebalancer.dataChunksRescued,
                rebalancer.evictionsForMoves, rebalancer.movesAbandoned + rebalancer.drainStalls,
                items.slabs.drainingPage() != 0, items.slabs.pooledPageCount(), items.slabs.surplusPages(),
                items.slabs.logicalPoolPages(), rebalancer.automoveMode,
                rebalancer.automoveRatio, maintainer.crawler.enabled, maintainer.crawler.requestedClasses != 0,
                maintainer.crawler.passesStarted, maintainer.juggles,
                sum(stats.crawlerReclaimed), sum(stats.crawlerItemsChecked), sum(stats.movesToCold), sum(stats.movesToWarm),
                sum(stats.movesWithinLru), sum(stats.evictedActive));
    }

    /** Several stores' figures as one node's: counts summed, a flag set if any store's is; settings the first's. */
    static MaintenanceStats sum(List<MaintenanceStats> parts) {
        MaintenanceStats first = parts.get(0);
        return new MaintenanceStats(total(parts, MaintenanceStats::slabsMoved), total(parts, MaintenanceStats::slabReassignRescues),
                total(parts, MaintenanceStats::slabReassignChunkRescues), total(parts, MaintenanceStats::slabReassignEvictionsNomem),
                total(parts, MaintenanceStats::slabReassignBusyItems), parts.stream().anyMatch(MaintenanceStats::slabReassignRunning),
                (int) total(parts, MaintenanceStats::physicalPagesPooled), (int) total(parts, MaintenanceStats::physicalPagesSurplus),
                (int) total(parts, MaintenanceStats::slabGlobalPagePool), first.slabAutomove(), first.slabAutomoveRatio(),
                first.lruCrawlerEnabled(), parts.stream().anyMatch(MaintenanceStats::lruCrawlerRunning),
                total(parts, MaintenanceStats::lruCrawlerStarts), total(parts, MaintenanceStats::lruMaintainerJuggles),
                total(parts, MaintenanceStats::crawlerReclaimed), total(parts, MaintenanceStats::crawlerItemsChecked),
                total(parts, MaintenanceStats::movesToCold), total(parts, MaintenanceStats::movesToWarm),
                total(parts, MaintenanceStats::movesWithinLru), total(parts, MaintenanceStats::evictedActive));
    }

    private static long total(List<MaintenanceStats> parts, ToLongFunction<MaintenanceStats> counter) {
        return parts.stream().mapToLong(counter).sum();
    }

    private static long sum(long[] perClass) {
        long total = 0;
        for (long count : perClass) {
            total += count;
        }
        return total;
    }
}
