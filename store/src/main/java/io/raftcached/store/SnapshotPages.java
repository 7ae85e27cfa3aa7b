package io.raftcached.store;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Copy-on-write for one snapshot's pages. The snapshot is a point-in-time image of every page that
 * existed when it began, dumped in page order by another thread while apply keeps running. Pages
 * are tracked in units of {@link #UNIT_BYTES}: before apply first changes a unit the dump has not
 * reached, it copies that unit aside, so a write to a small item costs it one 4 KB copy. Past
 * the copy budget it writes the unit's whole page out itself instead (one aligned 1 MB write,
 * which also frees that page's copies), so memory stays bounded and apply never waits for the
 * dump, whose pace depends on the disk and on the CPU left to it.
 */
final class SnapshotPages {
    /**
     * Where page bytes go: {@code offsetBytes} counts from page 1's first byte; {@code bytes}, from
     * its position to its limit, is direct memory aligned to {@link #ALIGNMENT_BYTES} (so the sink
     * may write it with O_DIRECT), valid during the call only. Called from two threads.
     */
    interface PageSink {
        void write(long offsetBytes, ByteBuffer bytes) throws IOException;
    }

    /**
     * The copy-on-write unit of stores up to {@link #UNITS_MAX} units (16 GB): a disk block, so a
     * small item's write copies 4 KB. Measured against 16 KB and 64 KB units (a 1 GB store under
     * random sets): apply copied 100-180 MB instead of 420-590 MB and stayed within its budget.
     * Larger stores use larger units, to keep the unit table within 32 MB of heap.
     */
    static final int UNIT_BYTES = 4096;
    static final int UNITS_MAX = 4 << 20;
    /** Alignment of what reaches the sink, in memory and in the file: a disk block for direct I/O. */
    static final int ALIGNMENT_BYTES = 4096;
    /** Copy memory the dump keeps touched and ready for apply, and the most kept for reuse. */
    static final int SPARES_READY_BYTES = 4 << 20;
    static final int SPARES_MAX_BYTES = 16 << 20;

    // A unit's entry in the table: one of these, or the address of apply's copy of it.
    private static final long PENDING = 0;
    private static final long COPYING = 1;   // apply is copying it aside
    private static final long CLAIMED = 2;   // being gathered for a write by the dump or apply; others wait
    private static final long DONE = 3;      // gathered by the dump, or written by apply
    private static final VarHandle UNITS = MethodHandles.arrayElementVarHandle(long[].class);

    private final SlabAllocator slabs;
    private final int pageCount;
    private final int pageBytes;
    private final int unitBytes;
    private final int unitsPerPage;
    private final long[] units;   // unit 0 = page 1's first; accessed through UNITS
    private final long copiesMax;
    private final PageSink sink;
    private final AtomicLong copiesHeld = new AtomicLong();
    /**
     * Copy memory already touched: freed copies, and units the dump allocates ahead. A first touch
     * of fresh memory costs more than the copy itself (on a VM, many times more), and apply makes
     * most of its copies in the first moments of a snapshot, so that cost lands on apply otherwise.
     */
    private final ConcurrentLinkedQueue<Long> spares = new ConcurrentLinkedQueue<>();
    private final AtomicInteger spareCount = new AtomicInteger();
    private long copiesMade;
    private long copiesHeldMax;
    private long unitsWrittenByApply;
    private ByteBuffer applyBuffer;
    private volatile IOException applyWriteFailure;

    SnapshotPages(SlabAllocator slabs, int pageCount, int pageBytes, long copyBudgetBytes, PageSink sink) {
        int unit = UNIT_BYTES;
        while ((long) pageCount * (pageBytes / unit) > UNITS_MAX && unit < pageBytes) {
            unit *= 2;
        }
        assert pageBytes % unit == 0 : "pages are whole units: " + pageBytes;
        this.slabs = slabs;
        this.pageCount = pageCount;
        this.pageBytes = pageBytes;
        this.unitBytes = unit;
        this.unitsPerPage = pageBytes / unit;
        this.units = new long[pageCount * unitsPerPage];
        this.copiesMax = copyBudgetBytes / unit;
        this.sink = sink;
    }

    private long liveAddress(int unit) {
        return slabs.pageAddress(unit / unitsPerPage + 1) + (long) (unit % unitsPerPage) * unitBytes;
    }

    private long get(int unit) {
        return (long) UNITS.getVolatile(units, unit);
    }

    private void set(int unit, long value) {
        UNITS.setVolatile(units, unit, value);
    }

    private boolean swap(int unit, long expected, long value) {
        return UNITS.compareAndSet(units, unit, expected, value);
    }

    /** Whether a unit's entry is the address of apply's copy. */
    private static boolean isCopy(long entry) {
        return entry > DONE;
    }

    int unitBytes() {
        return unitBytes;
    }

    /**
     * Apply thread, before it writes to the chunk at {@code offsetBytes} of {@code page}, which
     * spans {@code chunkBytes}: every unit the chunk overlaps is saved first.
     */
    void beforeWrite(int page, int offsetBytes, int chunkBytes) {
        if (page > pageCount) {
            return;   // a page added since the snapshot began
        }
        int first = (page - 1) * unitsPerPage + offsetBytes / unitBytes;
        int last = (page - 1) * unitsPerPage + (Math.min(offsetBytes + chunkBytes, pageBytes) - 1) / unitBytes;
        for (int unit = first; unit <= last; unit++) {
            beforeWriteUnit(unit);
        }
    }

    private void beforeWriteUnit(int unit) {
        long current = get(unit);
        if (current == DONE || isCopy(current)) {
            return;
        }
        if (current == PENDING && copiesHeld.get() < copiesMax && swap(unit, PENDING, COPYING)) {
            long copy = takeCopyMemory();
            OffHeap.copy(liveAddress(unit), copy, unitBytes);
            copiesMade++;
            copiesHeldMax = Math.max(copiesHeldMax, copiesHeld.incrementAndGet());
            set(unit, copy);
            return;
        }
        if (get(unit) == PENDING) {
            if (applyBuffer == null) {
                applyBuffer = alignedBuffer(pageBytes);
            }
            try {
                unitsWrittenByApply += writePage(unit / unitsPerPage, applyBuffer, false);
            } catch (IOException e) {
                applyWriteFailure = e;   // the dump reports it: the snapshot fails, apply goes on
            }
        }
        awaitDone(unit);
    }

    /** The dumping thread: writes every page as it was when the snapshot began. */
    void dump() throws IOException {
        ByteBuffer buffer = alignedBuffer(pageBytes);
        for (int page = 0; page < pageCount; page++) {
            readySpares();
            writePage(page, buffer, true);
        }
        // Units apply claimed to write itself were skipped above: the file is complete (and may
        // be synced) only once apply's writes of them are done.
        for (int unit = 0; unit < units.length; unit++) {
            awaitDone(unit);
        }
        IOException failure = applyWriteFailure;
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * Gathers the units of page {@code page} (from 0) that nobody else has claimed, from the live
     * page or from apply's copy (freed then), and writes them in contiguous runs. The dump marks
     * its units DONE once gathered (it syncs the file only after its last write); apply only once
     * written, so the dump cannot finish before apply's write. Returns the units it wrote.
     */
    private int writePage(int page, ByteBuffer buffer, boolean byDump) throws IOException {
        long bufferAddress = OffHeap.addressOf(buffer);
        int firstUnit = page * unitsPerPage;
        int runStart = -1;
        int unitsWritten = 0;
        for (int u = 0; u <= unitsPerPage; u++) {
            boolean claimed = u < unitsPerPage && claim(firstUnit + u, bufferAddress + (long) u * unitBytes);
            if (claimed && byDump) {
                set(firstUnit + u, DONE);
            }
            if (claimed) {
                unitsWritten++;
            }
            if (claimed && runStart < 0) {
                runStart = u;
            } else if (!claimed && runStart >= 0) {
                try {
                    sink.write((long) (firstUnit + runStart) * unitBytes,
                            buffer.slice(runStart * unitBytes, (u - runStart) * unitBytes));
                } finally {
                    if (!byDump) {
                        for (int written = runStart; written < u; written++) {
                            set(firstUnit + written, DONE);
                        }
                    }
                }
                runStart = -1;
            }
        }
        return unitsWritten;
    }

    /** Takes a unit for writing and copies its snapshot bytes to {@code toAddress}; false if another has it. */
    private boolean claim(int unit, long toAddress) {
        while (true) {
            long current = get(unit);
            if (current == PENDING && swap(unit, PENDING, CLAIMED)) {
                OffHeap.copy(liveAddress(unit), toAddress, unitBytes);
                return true;
            }
            if (isCopy(current) && swap(unit, current, CLAIMED)) {
                OffHeap.copy(current, toAddress, unitBytes);
                giveCopyMemory(current);
                copiesHeld.decrementAndGet();
                return true;
            }
            if (current == CLAIMED || current == DONE) {
                return false;
            }
            Thread.onSpinWait();   // apply is copying it aside: a few microseconds
        }
    }

    private long takeCopyMemory() {
        Long spare = spares.poll();
        if (spare == null) {
            return OffHeap.allocate(unitBytes);
        }
        spareCount.decrementAndGet();
        return spare;
    }

    private void giveCopyMemory(long address) {
        if (spareCount.incrementAndGet() <= SPARES_MAX_BYTES / unitBytes) {
            spares.offer(address);
        } else {
            spareCount.decrementAndGet();
            OffHeap.free(address);
        }
    }

    /**
     * The dumping thread: tops the touched spares up while apply is copying (no more than it has
     * copied so far, so a snapshot of a store nobody writes allocates nothing).
     */
    private void readySpares() {
        long ready = Math.min(SPARES_READY_BYTES / unitBytes, copiesMade);
        while (spareCount.get() < ready && copiesHeld.get() + spareCount.get() < copiesMax) {
            giveCopyMemory(OffHeap.allocateZeroed(unitBytes));
        }
    }

    private static ByteBuffer alignedBuffer(int bytes) {
        return ByteBuffer.allocateDirect(bytes + ALIGNMENT_BYTES).alignedSlice(ALIGNMENT_BYTES);
    }

    /** Frees what a failed or abandoned dump left behind. Call once the dump thread is done. */
    void release() {
        for (int unit = 0; unit < units.length; unit++) {
            while (true) {
                long current = get(unit);
                if (current == DONE || current == PENDING && swap(unit, PENDING, DONE)) {
                    break;
                }
                if (isCopy(current) && swap(unit, current, DONE)) {
                    OffHeap.free(current);
                    copiesHeld.decrementAndGet();
                    break;
                }
                Thread.onSpinWait();   // apply is copying or writing this unit right now
            }
        }
        for (Long spare = spares.poll(); spare != null; spare = spares.poll()) {
            OffHeap.free(spare);
        }
    }

    /** Units apply copied aside. */
    long copiesMade() {
        return copiesMade;
    }

    /** The most copies apply held at once (at most the budget). */
    long copiesHeldMax() {
        return copiesHeldMax;
    }

    /** Units apply wrote out itself, past its copy budget. */
    long unitsWrittenByApply() {
        return unitsWrittenByApply;
    }

    private void awaitDone(int unit) {
        for (int spins = 0; get(unit) != DONE; spins++) {
            if (spins % 64 == 63) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }
}
