package io.raftcached.store;

import io.raftcached.util.Limits;

/**
 * The LRU lists, linked through the items' {@code lruPrev}/{@code lruNext}: head is the most
 * recently linked, tail the next to move down or evict. As in memcached, a list is named by an
 * LRU id, the slab class in the low six bits and the segment in the top two: HOT, WARM, COLD and
 * TEMP of the segmented LRU, or segment 0 alone for the flat LRU. The order is replicated state,
 * so it changes only when an entry is applied. Apply thread only.
 */
final class LruLists {
    static final int HOT = 0;
    static final int WARM = 64;
    static final int COLD = 128;
    static final int TEMP = 192;
    /** Every segment, in the order walks (the digest, snapshots, invariants) visit them. */
    static final int[] SEGMENTS = {HOT, WARM, COLD, TEMP};
    /** Class ids fit six bits ({@link Limits#SLAB_CLASS_IDS}); the segment takes the two above. */
    static final int CLASS_MASK = Limits.SLAB_CLASS_IDS - 1;
    static final int LRU_IDS = 256;

    /** {@link #cursor} value: the walk starts at the head of {@link #cursorLruId}. */
    static final long CURSOR_AT_HEAD = 0;
    /** {@link #cursor} value: the walk of {@link #cursorLruId} is over. */
    static final long CURSOR_DONE = -1;

    private final SlabAllocator slabs;
    private final long[] head = new long[LRU_IDS];
    private final long[] tail = new long[LRU_IDS];
    private final long[] itemCount = new long[LRU_IDS];
    private final long[] requestedBytes = new long[LRU_IDS];

    /**
     * The crawler's place (memcached links a crawler pseudo-item into the list instead): the next
     * item it checks, walking head to tail. Items are linked at the head, so a walk ends. It
     * follows the item it names: unlinking or moving that item steps it on to the next one.
     */
    int cursorLruId;
    long cursor = CURSOR_AT_HEAD;

    LruLists(SlabAllocator slabs, int classCount) {
        if (classCount > CLASS_MASK + 1) {
            throw new IllegalArgumentException(classCount + " slab classes do not fit the LRU id's six bits");
        }
        this.slabs = slabs;
    }

    static int lruId(int classId, int segment) {
        return classId | segment;
    }

    static int segmentOf(int lruId) {
        return lruId & ~CLASS_MASK;
    }

    void linkAtHead(long handle, int lruId, long totalSizeBytes) {
        long address = slabs.writable(handle);
        long oldHead = head[lruId];
        OffHeap.putLong(address + ItemLayout.LRU_PREV, 0);
        OffHeap.putLong(address + ItemLayout.LRU_NEXT, oldHead);
        if (oldHead != 0) {
            OffHeap.putLong(slabs.writable(oldHead) + ItemLayout.LRU_PREV, handle);
        }
        head[lruId] = handle;
        if (tail[lruId] == 0) {
            tail[lruId] = handle;
        }
        itemCount[lruId]++;
        requestedBytes[lruId] += totalSizeBytes;
    }

    void unlink(long handle, int lruId, long totalSizeBytes) {
        long address = slabs.address(handle);
        long prev = OffHeap.getLong(address + ItemLayout.LRU_PREV);
        long next = OffHeap.getLong(address + ItemLayout.LRU_NEXT);
        if (cursor == handle) {
            cursor = next != 0 ? next : CURSOR_DONE;
        }
        if (prev != 0) {
            OffHeap.putLong(slabs.writable(prev) + ItemLayout.LRU_NEXT, next);
        } else {
            assert head[lruId] == handle : "unlinking an item that is not in its LRU";
            head[lruId] = next;
        }
        if (next != 0) {
            OffHeap.putLong(slabs.writable(next) + ItemLayout.LRU_PREV, prev);
        } else {
            tail[lruId] = prev;
        }
        itemCount[lruId]--;
        requestedBytes[lruId] -= totalSizeBytes;
    }

    void moveToHead(long handle, int lruId, long totalSizeBytes) {
        if (head[lruId] != handle) {
            unlink(handle, lruId, totalSizeBytes);
            linkAtHead(handle, lruId, totalSizeBytes);
        }
    }

    /** Puts {@code copy}, whose links were copied from {@code original}, in its place. */
    void swap(long original, long copy, int lruId) {
        if (cursor == original) {
            cursor = copy;
        }
        long copyAddress = slabs.address(copy);
        long prev = OffHeap.getLong(copyAddress + ItemLayout.LRU_PREV);
        long next = OffHeap.getLong(copyAddress + ItemLayout.LRU_NEXT);
        if (prev != 0) {
            OffHeap.putLong(slabs.writable(prev) + ItemLayout.LRU_NEXT, copy);
        } else {
            assert head[lruId] == original;
            head[lruId] = copy;
        }
        if (next != 0) {
            OffHeap.putLong(slabs.writable(next) + ItemLayout.LRU_PREV, copy);
        } else {
            assert tail[lruId] == original;
            tail[lruId] = copy;
        }
    }

    void restore(int lruId, long headHandle, long tailHandle, long items, long bytes) {
        head[lruId] = headHandle;
        tail[lruId] = tailHandle;
        itemCount[lruId] = items;
        requestedBytes[lruId] = bytes;
    }

    long head(int lruId) {
        return head[lruId];
    }

    long tail(int lruId) {
        return tail[lruId];
    }

    long previous(long handle) {
        return OffHeap.getLong(slabs.address(handle) + ItemLayout.LRU_PREV);
    }

    long next(long handle) {
        return OffHeap.getLong(slabs.address(handle) + ItemLayout.LRU_NEXT);
    }

    long itemCount(int lruId) {
        return itemCount[lruId];
    }

    long requestedBytes(int lruId) {
        return requestedBytes[lruId];
    }

    /** Items of a class over all its segments. */
    long classItemCount(int classId) {
        long count = 0;
        for (int segment : SEGMENTS) {
            count += itemCount[classId | segment];
        }
        return count;
    }

    /** Bytes of a class over all its segments (memcached's sizes_bytes summed). */
    long classRequestedBytes(int classId) {
        long bytes = 0;
        for (int segment : SEGMENTS) {
            bytes += requestedBytes[classId | segment];
        }
        return bytes;
    }
}
