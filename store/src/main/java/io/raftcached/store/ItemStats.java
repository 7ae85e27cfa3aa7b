package io.raftcached.store;

/**
 * Per-class counters behind {@code stats items} and {@code stats slabs}. The replicated ones are
 * functions of the applied log (the same on every replica, covered by the digest); the two
 * "unfetched" ones depend on which items this node served, a per-node fact, so they are kept
 * apart and never feed back into apply.
 */
final class ItemStats {
    // Replicated: decided by apply alone.
    final long[] evicted;
    final long[] evictedNonzero;
    final long[] evictedTimeSeconds;
    final long[] outOfMemory;
    final long[] reclaimed;
    final long[] directReclaims;
    final long[] tailProtected;
    final long[] setCommands;
    final long[] deleteHits;
    final long[] incrHits;
    final long[] decrHits;
    final long[] casHits;
    final long[] casBadValue;
    final long[] touchHits;
    final long[] movesToCold;
    final long[] movesToWarm;
    final long[] movesWithinLru;
    final long[] evictedActive;
    final long[] crawlerReclaimed;
    final long[] crawlerItemsChecked;
    // Per node.
    final long[] expiredUnfetched;
    final long[] evictedUnfetched;

    ItemStats(int classCount) {
        evicted = new long[classCount];
        evictedNonzero = new long[classCount];
        evictedTimeSeconds = new long[classCount];
        outOfMemory = new long[classCount];
        reclaimed = new long[classCount];
        directReclaims = new long[classCount];
        tailProtected = new long[classCount];
        setCommands = new long[classCount];
        deleteHits = new long[classCount];
        incrHits = new long[classCount];
        decrHits = new long[classCount];
        casHits = new long[classCount];
        casBadValue = new long[classCount];
        touchHits = new long[classCount];
        movesToCold = new long[classCount];
        movesToWarm = new long[classCount];
        movesWithinLru = new long[classCount];
        evictedActive = new long[classCount];
        crawlerReclaimed = new long[classCount];
        crawlerItemsChecked = new long[classCount];
        expiredUnfetched = new long[classCount];
        evictedUnfetched = new long[classCount];
    }

    /** The replicated counters in a fixed order, for the digest and snapshots. */
    long[][] replicated() {
        return new long[][] {evicted, evictedNonzero, evictedTimeSeconds, outOfMemory, reclaimed, directReclaims,
            tailProtected, setCommands, deleteHits, incrHits, decrHits, casHits, casBadValue, touchHits, movesToCold,
            movesToWarm, movesWithinLru, evictedActive, crawlerReclaimed, crawlerItemsChecked};
    }
}
