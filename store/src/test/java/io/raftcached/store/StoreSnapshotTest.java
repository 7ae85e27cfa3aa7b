package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import io.raftcached.proto.StoreSnapshotHeader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * A snapshot is the state at the moment it began even though apply keeps changing pages while it
 * is written; the restored store has the same digest and then behaves identically.
 */
class StoreSnapshotTest {
    private static final long NOW = 1_790_000_000_000L;

    /** Pages held in memory, written and read the way a file would be. */
    private static final class MemoryPages implements StoreSnapshot.PageSink, StoreSnapshot.PageSource {
        final ConcurrentHashMap<Integer, byte[]> pages = new ConcurrentHashMap<>();
        final CountDownLatch firstPageWritten = new CountDownLatch(1);
        /** A slow disk, so that apply runs while pages are still being written. */
        final long delayPerPageMillis;

        MemoryPages(long delayPerPageMillis) {
            this.delayPerPageMillis = delayPerPageMillis;
        }

        @Override
        public void writePage(int pageNumber, byte[] pageBytes) {
            byte[] copy = pageBytes.clone();
            if (pages.putIfAbsent(pageNumber, copy) != null) {
                throw new IllegalStateException("page " + pageNumber + " written twice");
            }
            firstPageWritten.countDown();
            try {
                Thread.sleep(delayPerPageMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void readPage(int pageNumber, byte[] pageBytes) {
            System.arraycopy(pages.get(pageNumber), 0, pageBytes, 0, pageBytes.length);
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
            MemoryPages pages = new MemoryPages(20);
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
            assertTrue(snapshot.pagesCopiedByApply() > 0, "apply must have copied pages aside: pages " + snapshot.pageCount() + " dumped " + pages.pages.size() + " items " + store.currentItems());
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

    /** The digest of an image whose pages sit in native memory, as a mapped file's do. */
    private static String digestInPlace(StoreSnapshotHeader header, MemoryPages pages) {
        int pageBytes = header.getShape().getSlabPageSize();
        long[] addresses = new long[header.getPhysicalPages() + 1];
        try {
            for (int page = 1; page <= header.getPhysicalPages(); page++) {
                addresses[page] = OffHeap.allocate(pageBytes);
                OffHeap.copyFromArray(pages.pages.get(page), 0, addresses[page], pageBytes);
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
    void snapshotPastTheCopyBudgetWritesPagesThroughFromApply() throws Exception {
        // A budget of 8 pages for a 30-page store: apply must write the rest out itself.
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
            StoreSnapshot snapshot = store.beginSnapshot(pages, 8);
            Thread dumper = new Thread(() -> {
                try {
                    snapshot.writePages();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                } finally {
                    snapshot.close();
                }
            });
            dumper.start();
            pages.firstPageWritten.await();
            for (int i = 0; i < keys; i++) {
                store.apply(Cmd.set("key" + i, "w"), false);   // touches every page
            }
            assertEquals(8, snapshot.pagesCopiedByApply(), "the copy budget must have run out");
            dumper.join();
            assertEquals(snapshot.pageCount(), pages.pages.size());
            try (Store restored = StoreSnapshot.restore(snapshot.header(), pages, 9, new ReadEpochs(), new LocalReads())) {
                assertEquals(digestAtSnapshot, restored.digest());
            }
        }
    }
}
