package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import io.raftcached.proto.StoreSnapshotHeader;
import io.raftcached.testing.MemoryImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A snapshot is the state at the moment it began even though apply keeps changing pages while it
 * is written; the restored store has the same digest and then behaves identically.
 */
class StoreSnapshotTest {
    private static final long NOW = 1_790_000_000_000L;

    /**
     * Pages held in memory, written and read the way a file would be; writes are slow. The first
     * write from apply (the thread that made the sink) is held until the dump has returned, or 2 s:
     * if the dump returned meanwhile, it did not wait for apply's write.
     */
    private static final class MemoryPages implements StoreSnapshot.PageSink, StoreSnapshot.PageSource {
        final MemoryImage image = new MemoryImage();
        final CountDownLatch firstPageWritten = new CountDownLatch(1);
        final CountDownLatch dumpReturned = new CountDownLatch(1);
        /** A slow disk, so that apply runs while pages are still being written. */
        final long delayPerWriteMillis;
        final Thread applyThread = Thread.currentThread();
        boolean applyHasWritten;
        volatile boolean applyWroteAfterTheDumpReturned;

        MemoryPages(long delayPerWriteMillis) {
            this.delayPerWriteMillis = delayPerWriteMillis;
        }

        @Override
        public void write(long offsetBytes, ByteBuffer bytes) {
            if (Thread.currentThread() == applyThread && !applyHasWritten) {
                applyHasWritten = true;
                try {
                    dumpReturned.await(2, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                applyWroteAfterTheDumpReturned = dumpReturned.getCount() == 0;
            }
            image.write(offsetBytes, bytes);
            firstPageWritten.countDown();
            try {
                Thread.sleep(delayPerWriteMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void readPage(int pageNumber, byte[] pageBytes) {
            image.readPage(pageNumber, pageBytes);
        }
    }

    private static List<Command> workload(long seed, int count) {
        RandomCommands random = new RandomCommands(seed, 5_000, 700_000, true, key -> 0);
        List<Command> commands = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            commands.add(random.next(NOW / 1000));
        }
        return commands;
    }

    @Test
    void snapshotIsPointInTimeWhileApplyContinues() throws Exception {
        try (Store store = new Store(StoreConfig.withMemory(12L * StoreConfig.MEGABYTE), 1)) {
            store.advanceClock(NOW);
            for (Command command : workload(1, 20_000)) {
                store.apply(command, false);
            }
            String digestAtSnapshot = store.digest();
            List<Command> later = workload(2, 20_000);
            MemoryPages pages = new MemoryPages(5);
            StoreSnapshot snapshot = store.beginSnapshot(pages);
            StoreSnapshotHeader header = snapshot.header();
            AtomicReference<Throwable> dumpFailure = new AtomicReference<>();
            Thread dumper = new Thread(() -> {
                try {
                    snapshot.writePages();
                } catch (Throwable t) {
                    dumpFailure.set(t);
                } finally {
                    snapshot.close();
                }
            });
            dumper.start();
            pages.firstPageWritten.await();
            // Apply keeps going while the slow dump is under way.
            for (Command command : later) {
                store.apply(command, false);
            }
            assertTrue(snapshot.bytesCopiedByApply() > 0, "apply must have copied units aside: pages " + snapshot.pageCount()
                    + " dumped " + pages.image.bytesWritten() + " B, items " + store.currentItems());
            dumper.join();
            assertEquals(null, dumpFailure.get());
            assertNotEquals(digestAtSnapshot, store.digest());

            assertEquals(digestAtSnapshot, digestInPlace(header, pages),
                    "the image, walked in place while apply went on, has the digest of the state when it began");
            try (Store restored = StoreSnapshot.restore(header, pages, 12345, new ReadEpochs(), new LocalReads())) {
                assertEquals(digestAtSnapshot, restored.digest(), "the snapshot is the state when it began");
                for (Command command : later) {
                    restored.apply(command, false);
                }
                assertEquals(store.digest(), restored.digest(), "the restored store behaves identically");
                byte[] key = "key:1".getBytes(StandardCharsets.UTF_8);
                String[] fromOriginal = {null};
                String[] fromRestored = {null};
                store.read(key, NOW, Store.Lookup.live(false), item -> fromOriginal[0] = new String(item.copyValue(), StandardCharsets.UTF_8));
                restored.read(key, NOW, Store.Lookup.live(false), item -> fromRestored[0] = new String(item.copyValue(), StandardCharsets.UTF_8));
                assertEquals(fromOriginal[0], fromRestored[0]);
            }
        }
    }

    /** Writes the snapshot's pages on a thread of its own, then closes it. */
    private static Thread startDump(StoreSnapshot snapshot, MemoryPages pages) {
        Thread dumper = new Thread(() -> {
            try {
                snapshot.writePages();
                pages.dumpReturned.countDown();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            } finally {
                snapshot.close();
            }
        });
        dumper.start();
        return dumper;
    }

    /** The digest of an image whose pages sit in native memory, as a mapped file's do. */
    private static String digestInPlace(StoreSnapshotHeader header, MemoryPages pages) {
        int pageBytes = header.getShape().getSlabPageSize();
        long[] addresses = new long[header.getPhysicalPages() + 1];
        byte[] buffer = new byte[pageBytes];
        try {
            for (int page = 1; page <= header.getPhysicalPages(); page++) {
                addresses[page] = OffHeap.allocate(pageBytes);
                pages.readPage(page, buffer);
                OffHeap.copyFromArray(buffer, 0, addresses[page], pageBytes);
            }
            return StoreSnapshot.digestOf(header, page -> addresses[page]);
        } finally {
            for (long address : addresses) {
                if (address != 0) {
                    OffHeap.free(address);
                }
            }
        }
    }

    @Test
    void pastTheCopyBudgetApplyWritesPagesOutItself() throws Exception {
        // A budget of 8 units for a 30-page store that apply rewrites whole: apply must write pages out.
        try (Store store = new Store(StoreConfig.withMemory(30L * StoreConfig.MEGABYTE), 1)) {
            store.advanceClock(NOW);
            String value = "v".repeat(4_000);
            int keys = 6_000;
            for (int i = 0; i < keys; i++) {
                store.apply(Cmd.set("key" + i, value), false);
            }
            String digestAtSnapshot = store.digest();
            List<Command> later = workload(2, 20_000);
            MemoryPages pages = new MemoryPages(20);
            StoreSnapshot snapshot = store.beginSnapshot(pages, 8L * SnapshotPages.UNIT_BYTES);
            Thread dumper = startDump(snapshot, pages);
            pages.firstPageWritten.await();
            for (int i = 0; i < keys; i++) {
                store.apply(Cmd.set("key" + i, "w"), false);   // touches every page
            }
            dumper.join();
            assertEquals(8L * SnapshotPages.UNIT_BYTES, snapshot.copyBytesHeldMax(), "the copy budget is the most held at once");
            assertTrue(snapshot.bytesWrittenByApply() > 0, "apply wrote pages out itself");
            assertFalse(pages.applyWroteAfterTheDumpReturned, "the dump returned before apply's write of a unit it skipped");
            assertEquals((long) snapshot.pageCount() * StoreConfig.SLAB_PAGE_SIZE_BYTES, pages.image.bytesWritten());
            try (Store restored = StoreSnapshot.restore(snapshot.header(), pages, 9, new ReadEpochs(), new LocalReads())) {
                assertEquals(digestAtSnapshot, restored.digest());
            }
        }
    }

    @Test
    void aSmallWriteDuringASnapshotCopiesUnitsNotPages() throws Exception {
        try (Store store = new Store(StoreConfig.withMemory(30L * StoreConfig.MEGABYTE), 1)) {
            store.advanceClock(NOW);
            for (int i = 0; i < 6_000; i++) {
                store.apply(Cmd.set("key" + i, "v".repeat(4_000)), false);
            }
            String digestAtSnapshot = store.digest();
            MemoryPages pages = new MemoryPages(50);
            StoreSnapshot snapshot = store.beginSnapshot(pages);
            Thread dumper = startDump(snapshot, pages);
            pages.firstPageWritten.await();
            store.apply(Cmd.set("key5999", "w"), false);   // replaces an item on the last page: not dumped yet
            long copied = snapshot.bytesCopiedByApply();
            assertTrue(copied > 0 && copied <= 8L * SnapshotPages.UNIT_BYTES && copied < StoreConfig.SLAB_PAGE_SIZE_BYTES,
                    "one small set copies the few units it touches, not whole pages: " + copied + " B");
            dumper.join();
            try (Store restored = StoreSnapshot.restore(snapshot.header(), pages, 9, new ReadEpochs(), new LocalReads())) {
                assertEquals(digestAtSnapshot, restored.digest());
            }
        }
    }

    @Test
    void unitsGrowWithTheStoreSoTheirTableStaysBounded() {
        StoreSnapshot.PageSink unused = (offsetBytes, bytes) -> { };
        int pageBytes = StoreConfig.SLAB_PAGE_SIZE_BYTES;
        assertEquals(SnapshotPages.UNIT_BYTES, new SnapshotPages(null, 16_384, pageBytes, 0, unused).unitBytes(),
                "16 GB of pages in 4 KB units");
        SnapshotPages large = new SnapshotPages(null, 40_000, pageBytes, 0, unused);
        assertEquals(4 * SnapshotPages.UNIT_BYTES, large.unitBytes(), "40 GB: the smallest unit within the table's bound");
        assertTrue(40_000L * (pageBytes / large.unitBytes()) <= SnapshotPages.UNITS_MAX);
    }
}
