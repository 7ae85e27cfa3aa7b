package io.raftcached.raft;

import com.sun.nio.file.ExtendedOpenOption;
import io.raftcached.proto.MachineState;
import io.raftcached.proto.StoreSnapshotHeader;
import io.raftcached.replica.Replica;
import io.raftcached.store.StoreSnapshot;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A snapshot on disk: {@code store.meta} (the store header and the replica's own state, each
 * length-delimited) and {@code store.pages} (every slab page, page N at (N-1) * page size).
 * Saving begins on the apply thread and finishes on another; both files are fsynced before the
 * snapshot is reported done. A Raft snapshot's pages are written with direct I/O: through the
 * page cache, a whole store's pages would sit dirty and reach the disk in bursts that every log
 * fsync queues behind (ext4's ordered journal even makes a log fsync wait for the snapshot's newly
 * allocated blocks), and would push the cache's own memory out for pages nobody reads soon.
 */
final class SnapshotFiles {
    static final String META = "store.meta";
    static final String PAGES = "store.pages";
    static final List<String> FILES = List.of(META, PAGES);
    /**
     * Page bytes written between two syncs when a file system refuses direct I/O (tmpfs before
     * Linux 6.6): the bursts are then kept to a few milliseconds of disk time.
     */
    static final long BUFFERED_SYNC_STEP_BYTES = 8L * 1024 * 1024;
    private static final Logger LOG = LoggerFactory.getLogger(SnapshotFiles.class);

    private SnapshotFiles() {}

    /** A snapshot being saved. */
    static final class Save implements AutoCloseable {
        private final Path directory;
        private final FileChannel pages;
        private final long syncStepBytes;
        private final AtomicLong unsyncedBytes = new AtomicLong();
        private volatile Thread dumpThread;
        private Replica.Snapshot snapshot;

        private Save(Path directory, FileChannel pages, long syncStepBytes) {
            this.directory = directory;
            this.pages = pages;
            this.syncStepBytes = syncStepBytes;
        }

        /** Writes the pages as they were when the save began (apply may go on). Off the apply thread. */
        void writePages() throws IOException {
            dumpThread = Thread.currentThread();
            snapshot.store().writePages();
        }

        /** Writes the pages and the meta file and syncs both. Off the apply thread. */
        void finish() throws IOException {
            writePages();
            pages.force(true);
            Path meta = directory.resolve(META);
            try (OutputStream out = Files.newOutputStream(meta)) {
                snapshot.store().header().writeDelimitedTo(out);
                snapshot.machine().writeDelimitedTo(out);
            }
            try (FileChannel channel = FileChannel.open(meta, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        }

        int pageCount() {
            return snapshot.store().pageCount();
        }

        Replica.Snapshot snapshot() {
            return snapshot;
        }

        /** What copy-on-write cost apply during this save. */
        String applyShare() {
            StoreSnapshot store = snapshot.store();
            return String.format("apply copied %d KB aside (%d KB held at most) and wrote %d KB out itself",
                    store.bytesCopiedByApply() / 1024, store.copyBytesHeldMax() / 1024, store.bytesWrittenByApply() / 1024);
        }

        @Override
        public void close() {
            snapshot.store().close();
            try {
                pages.close();
            } catch (IOException ignored) {
                // nothing more to release
            }
        }

        private void write(long offsetBytes, ByteBuffer bytes) throws IOException {
            int lengthBytes = bytes.remaining();
            long position = offsetBytes;
            while (bytes.hasRemaining()) {
                position += pages.write(bytes, position);
            }
            // Apply writes pages too (past its copy budget); only the dumping thread waits for a sync.
            long unsynced = unsyncedBytes.addAndGet(lengthBytes);
            if (syncStepBytes > 0 && unsynced >= syncStepBytes && Thread.currentThread() == dumpThread) {
                unsyncedBytes.set(0);
                pages.force(false);
            }
        }
    }

    /**
     * Starts saving: captures the replica's state at its applied index. Apply thread only.
     * {@code durable}: a Raft snapshot, written with direct I/O where the file system allows it;
     * otherwise a scratch image that is read back at once, through the page cache and never synced.
     */
    static Save beginSave(String directory, Replica replica, boolean durable) throws IOException {
        Path dir = Path.of(directory);
        Path file = dir.resolve(PAGES);
        FileChannel pages = null;
        long syncStepBytes = 0;
        if (durable) {
            try {
                pages = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                        StandardOpenOption.TRUNCATE_EXISTING, ExtendedOpenOption.DIRECT);
            } catch (IOException | UnsupportedOperationException noDirectIo) {
                LOG.warn("{} refuses direct I/O ({}); writing the snapshot through the page cache", dir, noDirectIo.toString());
                syncStepBytes = BUFFERED_SYNC_STEP_BYTES;
            }
        }
        if (pages == null) {
            pages = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        }
        Save save = new Save(dir, pages, syncStepBytes);
        try {
            save.snapshot = replica.beginSnapshot(save::write);
        } catch (RuntimeException e) {
            pages.close();
            throw e;
        }
        return save;
    }

    /** What a loader gets: the header and replica state, and the pages to read while it runs. */
    interface Loader<T> {
        T load(StoreSnapshotHeader header, StoreSnapshot.PageSource pages, MachineState machine) throws IOException;
    }

    static <T> T load(String directory, Loader<T> loader) throws IOException {
        Path dir = Path.of(directory);
        StoreSnapshotHeader header;
        MachineState machine;
        try (InputStream in = new BufferedInputStream(Files.newInputStream(dir.resolve(META)))) {
            header = StoreSnapshotHeader.parseDelimitedFrom(in);
            machine = MachineState.parseDelimitedFrom(in);
        }
        if (header == null || machine == null) {
            throw new IOException("truncated snapshot meta in " + dir);
        }
        int pageBytes = header.getShape().getSlabPageSize();
        try (FileChannel pages = FileChannel.open(dir.resolve(PAGES), StandardOpenOption.READ)) {
            long expectedBytes = (long) header.getPhysicalPages() * pageBytes;
            if (pages.size() != expectedBytes) {
                throw new IOException("store.pages holds " + pages.size() + " bytes, expected " + expectedBytes);
            }
            return loader.load(header, (pageNumber, bytes) -> {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                long position = (long) (pageNumber - 1) * pageBytes;
                while (buffer.hasRemaining()) {
                    int read = pages.read(buffer, position);
                    if (read < 0) {
                        throw new IOException("store.pages ends early at page " + pageNumber);
                    }
                    position += read;
                }
            }, machine);
        }
    }
}
