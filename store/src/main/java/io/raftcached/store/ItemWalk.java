package io.raftcached.store;

/**
 * The live items of a store as of one moment, one at a time (memcached's {@code lru_crawler
 * metadump}): one store's image ({@link ImageWalk}) or several groups' one after another. Close it
 * when done. Not thread-safe: one walker at a time.
 */
public interface ItemWalk extends AutoCloseable {
    /** What metadump shows of an item. */
    interface ItemLine {
        void item(byte[] key, long exptimeUnixSeconds, long updatedUnixSeconds, long cas, boolean fetched, int classId,
                long totalSizeBytes);
    }

    /** Shows the next live item; false when the walk is over. */
    boolean next(ItemLine line);

    @Override
    void close();
}
