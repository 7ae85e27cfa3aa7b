package io.raftcached.store;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Copy-on-write for one snapshot's pages. The snapshot is a point-in-time image of every page that
 * existed when it began, dumped by another thread while apply keeps running. Before apply first
 * changes such a page it copies it aside (or, past the copy budget, writes it out itself), so the
 * dump sees every page as it was; pages the dump is writing make apply wait for that one page.
 * Apply therefore stalls for at most one page copy or write per page, never for the whole dump.
 */
final class SnapshotPages {
    /** A page's bytes go to the snapshot through this; must accept calls from two threads. */
    interface PageSink {
        void writePage(int pageNumber, byte[] pageBytes) throws IOException;
    }

    private static final int PENDING = 0;
    private static final int COPYING = 1;   // apply is copying it aside
    private static final int COPIED = 2;    // the original is in copies[page]
    private static final int DUMPING = 3;   // being written as it is; apply must wait
    private static final int DONE = 4;

    private final SlabAllocator slabs;
    private final int pageCount;
    private final int pageBytes;
    private final AtomicIntegerArray state;
    private final long[] copies;
    private final int copiesMax;
    private final PageSink sink;
    private int copiesMade;
    private final ThreadLocal<byte[]> pageBuffers;
    private volatile IOException writeThroughFailure;

    SnapshotPages(SlabAllocator slabs, int pageCount, int pageBytes, int copiesMax, PageSink sink) {
        this.slabs = slabs;
        this.pageCount = pageCount;
        this.pageBytes = pageBytes;
        this.state = new AtomicIntegerArray(pageCount + 1);
        this.copies = new long[pageCount + 1];
        this.copiesMax = copiesMax;
        this.sink = sink;
        this.pageBuffers = ThreadLocal.withInitial(() -> new byte[pageBytes]);
    }

    private void write(int page, long address) throws IOException {
        byte[] buffer = pageBuffers.get();
        OffHeap.copyToArray(address, buffer, 0, pageBytes);
        sink.writePage(page, buffer);
    }

    /** Apply thread, before its first write to {@code page} since the snapshot began. */
    void beforeWrite(int page) {
        if (page > pageCount || state.get(page) == DONE || state.get(page) == COPIED) {
            return;
        }
        if (copiesMade < copiesMax && state.compareAndSet(page, PENDING, COPYING)) {
            long copy = OffHeap.allocate(pageBytes);
            OffHeap.copy(slabs.pageAddress(page), copy, pageBytes);
            copies[page] = copy;
            copiesMade++;
            state.set(page, COPIED);
            return;
        }
        if (state.compareAndSet(page, PENDING, DUMPING)) {
            // Over the copy budget: write the page out now instead of holding a copy.
            try {
                write(page, slabs.pageAddress(page));
            } catch (IOException e) {
                writeThroughFailure = e;
            }
            state.set(page, DONE);
            return;
        }
        awaitDone(page);
    }

    /** The dumping thread: writes every page as it was when the snapshot began. */
    void dump() throws IOException {
        for (int page = 1; page <= pageCount; page++) {
            if (state.compareAndSet(page, PENDING, DUMPING)) {
                write(page, slabs.pageAddress(page));
                state.set(page, DONE);
                continue;
            }
            while (state.get(page) == COPYING) {
                Thread.onSpinWait();
            }
            if (state.get(page) == COPIED) {
                write(page, copies[page]);
                OffHeap.free(copies[page]);
                copies[page] = 0;
                state.set(page, DONE);
            } else {
                awaitDone(page);
            }
        }
        IOException failure = writeThroughFailure;
        if (failure != null) {
            throw failure;
        }
    }

    /** Frees what a failed or abandoned dump left behind. Call once the dump thread is done. */
    void release() {
        for (int page = 1; page <= pageCount; page++) {
            while (true) {
                int current = state.get(page);
                if (current == DONE || current == PENDING && state.compareAndSet(page, PENDING, DONE)) {
                    break;
                }
                if (current == COPIED && state.compareAndSet(page, COPIED, DONE)) {
                    OffHeap.free(copies[page]);
                    copies[page] = 0;
                    break;
                }
                Thread.onSpinWait();   // apply is copying or writing this page right now
            }
        }
    }

    int copiesMade() {
        return copiesMade;
    }

    private void awaitDone(int page) {
        for (int spins = 0; state.get(page) != DONE; spins++) {
            if (spins % 64 == 63) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }
}
