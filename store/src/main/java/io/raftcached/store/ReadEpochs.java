package io.raftcached.store;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Epoch-based reclamation between the single apply thread and concurrent readers.
 *
 * <p>A reader announces the epoch it started in before it touches the index or item memory and
 * clears it when done; memory that apply unlinks is tagged with the epoch current at that moment
 * and reused only once every active reader started in a later epoch. So a reader that found an
 * item keeps seeing that item's own bytes until it leaves, and never another key's: memcached's
 * reference counts, without readers ever writing shared counters. Which chunks are reusable
 * depends on readers, so only physical placement waits on it — never a logical decision such as
 * which item to evict (see {@link SlabAllocator}).
 */
public final class ReadEpochs {
    static final int MAX_READERS = 512;
    private static final int PADDING_LONGS = 16;   // one cache line pair per slot, no false sharing
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] slots = new long[MAX_READERS * PADDING_LONGS];
    /** The thread each slot belongs to; the slot of a thread that ended is given to the next newcomer. */
    private final AtomicReferenceArray<Thread> owners = new AtomicReferenceArray<>(MAX_READERS);
    /** Slots ever handed out (the scan bound). */
    private final AtomicInteger readerCount = new AtomicInteger();
    private final ThreadLocal<Reader> threadReaders = ThreadLocal.withInitial(this::register);
    private volatile long globalEpoch = 1;

    /** A reader slot owned by one thread. */
    public final class Reader {
        private final int slotIndex;

        private Reader(int slotIndex) {
            this.slotIndex = slotIndex;
        }

        /** Must be followed by {@link #exit()} in a finally block; does not nest. */
        public void enter() {
            assert (long) SLOTS.getOpaque(slots, slotIndex) == 0 : "nested read section";
            // Volatile store: full fence, so apply sees this slot before we read anything shared.
            SLOTS.setVolatile(slots, slotIndex, globalEpoch);
        }

        public void exit() {
            SLOTS.setRelease(slots, slotIndex, 0L);
        }

        /** Whether this thread is between {@link #enter} and {@link #exit} (for assertions). */
        public boolean inSection() {
            return (long) SLOTS.getOpaque(slots, slotIndex) != 0;
        }
    }

    /** The calling thread's reader, registered on first use. */
    public Reader reader() {
        return threadReaders.get();
    }

    /**
     * A slot for the calling thread: one whose thread has ended if there is one (such a thread left
     * its last section, so the slot reads 0), else a new one. At most {@link #MAX_READERS} threads
     * read at once; the server bounds its worker threads well below that.
     */
    private Reader register() {
        Thread me = Thread.currentThread();
        int handedOut = Math.min(readerCount.get(), MAX_READERS);
        for (int i = 0; i < handedOut; i++) {
            Thread owner = owners.get(i);
            if (owner != null && !owner.isAlive() && owners.compareAndSet(i, owner, me)) {
                return new Reader(i * PADDING_LONGS);
            }
        }
        int index = readerCount.getAndIncrement();
        if (index >= MAX_READERS) {
            readerCount.decrementAndGet();
            throw new IllegalStateException("more than " + MAX_READERS + " threads read the store at once");
        }
        owners.set(index, me);
        return new Reader(index * PADDING_LONGS);
    }

    /** Slots handed out so far (threads that ever read, less those whose slot was reused). */
    int slotsHandedOut() {
        return Math.min(readerCount.get(), MAX_READERS);
    }

    /** The epoch to tag memory unlinked now. Apply thread only. */
    public long current() {
        return globalEpoch;
    }

    /** Starts a new epoch so memory tagged so far can become reusable. Apply thread only. */
    public void advance() {
        globalEpoch = globalEpoch + 1;   // volatile store orders earlier unlinks before slot scans
    }

    /** Memory tagged with an epoch below this is no longer visible to any reader. */
    public long oldestActive() {
        long oldest = Long.MAX_VALUE;
        int count = Math.min(readerCount.get(), MAX_READERS);
        for (int i = 0; i < count; i++) {
            long epoch = (long) SLOTS.getVolatile(slots, i * PADDING_LONGS);
            if (epoch != 0 && epoch < oldest) {
                oldest = epoch;
            }
        }
        return oldest;
    }
}
