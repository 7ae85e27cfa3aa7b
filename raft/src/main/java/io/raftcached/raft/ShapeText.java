package io.raftcached.raft;

import io.raftcached.store.StoreConfig;

/** The store shape in the terms of memcached's flags, for messages an operator reads. */
public final class ShapeText {
    private ShapeText() {}

    public static String describe(StoreConfig config) {
        StringBuilder text = new StringBuilder();
        text.append("-m ").append(config.memoryLimitBytes() / StoreConfig.MEGABYTE);
        if (config.evictionsDisabled()) {
            text.append(" -M");
        }
        text.append(" -n ").append(config.chunkSizeMinBytes());
        text.append(" -f ").append(config.growthFactor());
        text.append(" -I ").append(config.itemSizeMaxBytes());
        if (config.casDisabled()) {
            text.append(" -C");
        }
        text.append(" -o slab_chunk_max=").append(config.slabChunkMaxBytes());
        return text.toString();
    }
}
