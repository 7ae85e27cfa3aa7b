package io.raftcached.store;

/**
 * One LRU list per slab class, linked through the items' {@code lruPrev}/{@code lruNext}: head is
 * the most recently written, tail the next to evict. The order is replicated state, so it changes
 * only when an entry is applied — a local read never bumps an item. Apply thread only.
 */
final class LruLists {
    private final SlabAllocator slabs;
    private final long[] head;
    private final long[] tail;
    private final long[] itemCount;
    private final long[] requestedBytes;

    LruLists(SlabAllocator slabs, int classCount) {
        this.slabs = slabs;
        this.head = new long[classCount];
        this.tail = new long[classCount];
        this.itemCount = new long[classCount];
        this.requestedBytes = new long[classCount];
    }

    void linkAtHead(long handle, int classId, long totalSizeBytes) {
        long address = slabs.writable(handle);
        long oldHead = head[classId];
        OffHeap.putLong(address + ItemLayout.LRU_PREV, 0);
        OffHeap.putLong(address + ItemLayout.LRU_NEXT, oldHead);
        if (oldHead != 0) {
            OffHeap.putLong(slabs.writable(oldHead) + ItemLayout.LRU_PREV, handle);
        }
        head[classId] = handle;
        if (tail[classId] == 0) {
            tail[classId] = handle;
        }
        itemCount[classId]++;
        requestedBytes[classId] += totalSizeBytes;
    }

    void unlink(long handle, int classId, long totalSizeBytes) {
        long address = slabs.address(handle);
        long prev = OffHeap.getLong(address + ItemLayout.LRU_PREV);
        long next = OffHeap.getLong(address + ItemLayout.LRU_NEXT);
        if (prev != 0) {
            OffHeap.putLong(slabs.writable(prev) + ItemLayout.LRU_NEXT, next);
        } else {
            assert head[classId] == handle : "unlinking an item that is not in its LRU";
            head[classId] = next;
        }
        if (next != 0) {
            OffHeap.putLong(slabs.writable(next) + ItemLayout.LRU_PREV, prev);
        } else {
            tail[classId] = prev;
        }
        itemCount[classId]--;
        requestedBytes[classId] -= totalSizeBytes;
    }

    void moveToHead(long handle, int classId, long totalSizeBytes) {
        if (head[classId] != handle) {
            unlink(handle, classId, totalSizeBytes);
            linkAtHead(handle, classId, totalSizeBytes);
        }
    }

    /** Puts {@code copy}, whose links were copied from {@code original}, in its place. */
    void swap(long original, long copy, int classId) {
        long copyAddress = slabs.address(copy);
        long prev = OffHeap.getLong(copyAddress + ItemLayout.LRU_PREV);
        long next = OffHeap.getLong(copyAddress + ItemLayout.LRU_NEXT);
        if (prev != 0) {
            OffHeap.putLong(slabs.writable(prev) + ItemLayout.LRU_NEXT, copy);
        } else {
            assert head[classId] == original;
            head[classId] = copy;
        }
        if (next != 0) {
            OffHeap.putLong(slabs.writable(next) + ItemLayout.LRU_PREV, copy);
        } else {
            assert tail[classId] == original;
            tail[classId] = copy;
        }
    }

    void restore(int classId, long headHandle, long tailHandle, long items, long bytes) {
        head[classId] = headHandle;
        tail[classId] = tailHandle;
        itemCount[classId] = items;
        requestedBytes[classId] = bytes;
    }

    long head(int classId) {
        return head[classId];
    }

    long tail(int classId) {
        return tail[classId];
    }

    long previous(long handle) {
        return OffHeap.getLong(slabs.address(handle) + ItemLayout.LRU_PREV);
    }

    long next(long handle) {
        return OffHeap.getLong(slabs.address(handle) + ItemLayout.LRU_NEXT);
    }

    long itemCount(int classId) {
        return itemCount[classId];
    }

    long requestedBytes(int classId) {
        return requestedBytes[classId];
    }
}
