package io.raftcached.store;

/**
 * The store's shape: every value here changes what applying a command returns, so it is fixed
 * for the whole cluster when it is created and a node with other values refuses to start.
 * Names and defaults are memcached's ({@code -m -M -n -f -I -C}, {@code -o slab_chunk_max}).
 */
public record StoreConfig(
        long memoryLimitBytes,
        boolean evictionsDisabled,
        int chunkSizeMinBytes,
        double growthFactor,
        int itemSizeMaxBytes,
        boolean casDisabled,
        int slabPageSizeBytes,
        int slabChunkMaxBytes,
        LruSettings lru) {

    public static final int MEGABYTE = 1024 * 1024;
    public static final int SLAB_PAGE_SIZE_BYTES = MEGABYTE;

    public StoreConfig {
        java.util.Objects.requireNonNull(lru, "lru");
        if (memoryLimitBytes < MEGABYTE) {
            throw new IllegalArgumentException("memory limit must be at least 1 MB, got " + memoryLimitBytes);
        }
        if (chunkSizeMinBytes <= 0) {
            throw new IllegalArgumentException("chunk size minimum must be positive, got " + chunkSizeMinBytes);
        }
        if (!(growthFactor > 1.0)) {
            throw new IllegalArgumentException("growth factor must be greater than 1.0, got " + growthFactor);
        }
        if (itemSizeMaxBytes < 1024 || itemSizeMaxBytes > 1024 * MEGABYTE) {
            throw new IllegalArgumentException("item size max must be between 1k and 1024m, got " + itemSizeMaxBytes);
        }
        if (slabPageSizeBytes != SLAB_PAGE_SIZE_BYTES) {
            throw new IllegalArgumentException("slab pages are 1 MB, got " + slabPageSizeBytes);
        }
        if (slabChunkMaxBytes <= 0 || slabChunkMaxBytes > slabPageSizeBytes
                || slabPageSizeBytes % slabChunkMaxBytes != 0) {
            throw new IllegalArgumentException("slab chunk max must divide the page size, got " + slabChunkMaxBytes);
        }
    }

    /** The shape in memcached's flags ({@code -m 64 -n 48 ...}), for messages an operator reads. */
    public String flagsText() {
        StringBuilder text = new StringBuilder();
        text.append("-m ").append(memoryLimitBytes / MEGABYTE);
        if (evictionsDisabled) {
            text.append(" -M");
        }
        text.append(" -n ").append(chunkSizeMinBytes);
        text.append(" -f ").append(growthFactor);
        text.append(" -I ").append(itemSizeMaxBytes);
        if (casDisabled) {
            text.append(" -C");
        }
        text.append(" -o slab_chunk_max=").append(slabChunkMaxBytes);
        if (!lru.equals(LruSettings.FLAT)) {
            text.append(' ').append(lru.flagsText());
        }
        return text.toString();
    }

    /**
     * The advice that ends a shape mismatch message, given both shapes' {@link #flagsText}. A
     * cluster created before raftcached had memcached's modern LRU reads as the old flags did,
     * without {@code -o modern}; nodes now default to it, so an upgraded node of such a cluster is
     * told the one flag it needs.
     */
    public static String startWith(String clusterFlags, String nodeFlags) {
        if (!clusterFlags.contains("-o modern") && nodeFlags.contains("-o modern")) {
            return "; the cluster was created before raftcached had memcached's modern LRU: start this node with"
                    + " -o no_modern (and the cluster's other values)";
        }
        return "; start it with the cluster's values";
    }

    /** memcached 1.6's defaults: -m 64 -n 48 -f 1.25 -I 1m, CAS on, evictions on, its modern LRU. */
    public static StoreConfig defaults() {
        return withMemory(64L * MEGABYTE);
    }

    public static StoreConfig withMemory(long memoryLimitBytes) {
        return new StoreConfig(memoryLimitBytes, false, 48, 1.25, MEGABYTE, false,
                SLAB_PAGE_SIZE_BYTES, SLAB_PAGE_SIZE_BYTES / 2, LruSettings.MEMCACHED_DEFAULTS);
    }

    /** This shape with another memory limit (a node's {@code -m} split between its groups). */
    public StoreConfig withMemoryLimit(long bytes) {
        return new StoreConfig(bytes, evictionsDisabled, chunkSizeMinBytes, growthFactor, itemSizeMaxBytes,
                casDisabled, slabPageSizeBytes, slabChunkMaxBytes, lru);
    }

    public StoreConfig withEvictionsDisabled(boolean disabled) {
        return new StoreConfig(memoryLimitBytes, disabled, chunkSizeMinBytes, growthFactor, itemSizeMaxBytes,
                casDisabled, slabPageSizeBytes, slabChunkMaxBytes, lru);
    }

    public StoreConfig withCasDisabled(boolean disabled) {
        return new StoreConfig(memoryLimitBytes, evictionsDisabled, chunkSizeMinBytes, growthFactor,
                itemSizeMaxBytes, disabled, slabPageSizeBytes, slabChunkMaxBytes, lru);
    }

    public StoreConfig withItemSizeMax(int bytes) {
        return new StoreConfig(memoryLimitBytes, evictionsDisabled, chunkSizeMinBytes, growthFactor, bytes,
                casDisabled, slabPageSizeBytes, slabChunkMaxBytes, lru);
    }

    public StoreConfig withSlabClasses(int chunkSizeMin, double factor) {
        return new StoreConfig(memoryLimitBytes, evictionsDisabled, chunkSizeMin, factor, itemSizeMaxBytes,
                casDisabled, slabPageSizeBytes, slabChunkMaxBytes, lru);
    }

    public StoreConfig withLru(LruSettings settings) {
        return new StoreConfig(memoryLimitBytes, evictionsDisabled, chunkSizeMinBytes, growthFactor, itemSizeMaxBytes,
                casDisabled, slabPageSizeBytes, slabChunkMaxBytes, settings);
    }
}
