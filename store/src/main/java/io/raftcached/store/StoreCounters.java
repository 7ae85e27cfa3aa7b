package io.raftcached.store;

import java.util.SortedMap;

/**
 * What {@code stats} reads of a store: one {@link Store}, or the sum of a node's groups'
 * ({@link StoreTotals}). Read on any thread, without stopping apply.
 */
public interface StoreCounters {
    /** The store's shape; for several stores, their common shape with their memory limits summed. */
    StoreConfig config();

    SlabClasses slabClasses();

    long currentItems();

    long totalItems();

    long currentBytes();

    long mallocedBytes();

    long hashBuckets();

    boolean hashExpanding();

    MaintenanceStats maintenanceStats();

    /** Hits served from one segment of a class; segment 0..3: hot, warm, cold, temp. */
    long hits(int classId, int segmentIndex);

    SlabStats slabStats(int classId);

    /** memcached's {@code stats sizes} histogram: bucket size to count. */
    SortedMap<Long, Long> sizeHistogram();
}
