package io.raftcached.store;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What this node's own reads did, kept across the stores a replica replaces on snapshot installs:
 * hits per LRU (memcached's per-thread {@code lru_hits}, summed for {@code stats items}) and where
 * to report a read that the replicated LRU should hear about. Reads are local, so a read changes
 * nothing replicated; a node reports the reads that matter (see {@link Items#claimHint}) through
 * {@link HintSink} and the log carries them to every replica as access hints.
 */
public final class LocalReads {
    /** Receives the key of a served item the replicated LRU has not heard of yet. */
    public interface HintSink {
        /** Called on a reader thread; must not block. The array is the caller's: copy to keep it. */
        void hint(byte[] key);
    }

    private final List<long[]> hitsPerThread = new CopyOnWriteArrayList<>();
    private volatile HintSink hintSink = key -> {};

    /** This reader thread's hit counters, one per LRU id; written by that thread alone. */
    long[] countersForCurrentThread() {
        long[] counters = new long[LruLists.LRU_IDS];
        hitsPerThread.add(counters);
        return counters;
    }

    /** Hits served from one LRU (class and segment), summed over reader threads (racy, as memcached's). */
    long hits(int lruId) {
        long total = 0;
        for (long[] counters : hitsPerThread) {
            total += counters[lruId];
        }
        return total;
    }

    public void sendHintsTo(HintSink sink) {
        hintSink = sink;
    }

    void hint(byte[] key) {
        hintSink.hint(key);
    }
}
