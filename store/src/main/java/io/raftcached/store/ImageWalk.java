package io.raftcached.store;

import io.raftcached.proto.StoreSnapshotHeader;

/**
 * The live items of a snapshot image, one at a time, class by class and segment by segment,
 * oldest first as memcached's crawler walks (memcached's {@code lru_crawler metadump}). The image does not change, so a walk may
 * stop and go on later from any thread without holding apply back; expired and flushed items
 * are skipped as of the moment the image was taken. Not thread-safe: one walker at a time.
 */
public final class ImageWalk implements ItemWalk {
    private final Store view;
    private final Items items;
    private final long classBits;
    private final Runnable onClose;
    private int classId = 1;
    private int segment;
    private long next;
    private boolean started;

    private ImageWalk(Store view, long classBits, Runnable onClose) {
        this.view = view;
        this.items = view.items();
        this.classBits = classBits;
        this.onClose = onClose;
    }

    /**
     * Walks the image whose pages are at {@code pages}, over the classes in {@code classBits} (bit
     * per class id); {@code onClose} releases the pages once the walk is closed.
     */
    public static ImageWalk over(StoreSnapshotHeader header, StoreSnapshot.PageAddresses pages, long classBits,
            Runnable onClose) {
        return new ImageWalk(StoreSnapshot.viewOf(header, pages), classBits, onClose);
    }

    @Override
    public boolean next(ItemLine line) {
        int now = items.nowSeconds;
        while (advance()) {
            long item = next;
            next = items.lru.previous(item);
            if (items.expiredStrictlyBefore(item, now) || items.flushedAt(item, now)) {
                continue;
            }
            int exptime = items.exptime(item);
            boolean fetched = items.hasFlag(item, ItemLayout.FLAG_FETCHED)
                    || (OffHeap.getByte(items.address(item) + ItemLayout.LOCAL_FLAGS) & ItemLayout.LOCAL_FLAG_FETCHED) != 0;
            line.item(items.key(item), exptime == 0 ? -1 : exptime + Store.EPOCH_UNIX_SECONDS,
                    items.time(item) + Store.EPOCH_UNIX_SECONDS, items.cas(item), fetched, items.classId(item), items.totalSize(item));
            return true;
        }
        return false;
    }

    /** Moves {@link #next} to an item, across lists and classes; false at the end. */
    private boolean advance() {
        int largest = items.classes.largestClass();
        while (classId <= largest) {
            if (!started) {
                started = true;
                next = (classBits & (1L << classId)) != 0 ? items.lru.tail(classId | LruLists.SEGMENTS[segment]) : 0;
            }
            if (next != 0) {
                return true;
            }
            started = false;
            if (++segment == LruLists.SEGMENTS.length) {
                segment = 0;
                classId++;
            }
        }
        return false;
    }

    @Override
    public void close() {
        view.close();
        onClose.run();
    }
}
