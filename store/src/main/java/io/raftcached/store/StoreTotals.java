package io.raftcached.store;

import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.ToLongFunction;

/**
 * The stores of a node's groups counted as one, as memcached's {@code stats} counts one process:
 * counts and bytes summed, ages the oldest. Every store has the same shape but its memory limit.
 */
public final class StoreTotals implements StoreCounters {
    private final List<? extends StoreCounters> stores;

    public StoreTotals(List<? extends StoreCounters> stores) {
        if (stores.isEmpty()) {
            throw new IllegalArgumentException("no stores to total");
        }
        this.stores = List.copyOf(stores);
    }

    private long sum(ToLongFunction<StoreCounters> counter) {
        return stores.stream().mapToLong(counter).sum();
    }

    @Override
    public StoreConfig config() {
        return stores.get(0).config().withMemoryLimit(sum(store -> store.config().memoryLimitBytes()));
    }

    @Override
    public SlabClasses slabClasses() {
        return stores.get(0).slabClasses();
    }

    @Override
    public long currentItems() {
        return sum(StoreCounters::currentItems);
    }

    @Override
    public long totalItems() {
        return sum(StoreCounters::totalItems);
    }

    @Override
    public long currentBytes() {
        return sum(StoreCounters::currentBytes);
    }

    @Override
    public long mallocedBytes() {
        return sum(StoreCounters::mallocedBytes);
    }

    @Override
    public long hashBuckets() {
        return sum(StoreCounters::hashBuckets);
    }

    @Override
    public boolean hashExpanding() {
        return stores.stream().anyMatch(StoreCounters::hashExpanding);
    }

    @Override
    public MaintenanceStats maintenanceStats() {
        return MaintenanceStats.sum(stores.stream().map(StoreCounters::maintenanceStats).toList());
    }

    @Override
    public long hits(int classId, int segmentIndex) {
        return sum(store -> store.hits(classId, segmentIndex));
    }

    @Override
    public SlabStats slabStats(int classId) {
        return SlabStats.sum(stores.stream().map(store -> store.slabStats(classId)).toList());
    }

    @Override
    public SortedMap<Long, Long> sizeHistogram() {
        SortedMap<Long, Long> total = new TreeMap<>();
        for (StoreCounters store : stores) {
            store.sizeHistogram().forEach((bucket, count) -> total.merge(bucket, count, Long::sum));
        }
        return total;
    }
}
