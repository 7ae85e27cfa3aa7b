package io.raftcached.store;

import java.util.ArrayList;
import java.util.List;

/**
 * The items the replica evicted while applying an entry, recorded only while someone watches
 * ({@code watch evictions}) and handed out after each entry on the apply thread. A local side
 * output: recording reads the evicted item before it is unlinked and changes nothing replicated.
 * Bounded: past {@link #RECORDS_MAX} evictions in one entry the rest are only counted.
 */
public final class EvictionLog {
    /** Evictions kept per entry; one entry batches many writes, each of which may evict several items. */
    public static final int RECORDS_MAX = 1_000;

    /** One evicted item, with memcached's eviction line fields. */
    public record Evicted(byte[] key, boolean fetched, long ttlSeconds, long lastAccessSecondsAgo, int slabClass,
            int valueLength) {
    }

    /** Receives evictions on the apply thread; must not block. */
    public interface Sink {
        void evicted(Evicted evicted);
    }

    private volatile boolean recording;
    /** Written and drained on the apply thread only. */
    private final List<Evicted> records = new ArrayList<>();
    private long dropped;

    /** Starts or stops recording (any thread); takes effect from the next eviction. */
    public void record(boolean on) {
        recording = on;
    }

    boolean recording() {
        return recording;
    }

    void add(Evicted evicted) {
        if (records.size() < RECORDS_MAX) {
            records.add(evicted);
        } else {
            dropped++;
        }
    }

    /** On the apply thread: hands out what was recorded since the last drain; returns how many were dropped. */
    public long drain(Sink sink) {
        for (Evicted evicted : records) {
            sink.evicted(evicted);
        }
        records.clear();
        long droppedNow = dropped;
        dropped = 0;
        return droppedNow;
    }
}
