package io.raftcached.raft;

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

/**
 * A snapshot on disk: {@code store.meta} (the store header and the replica's own state, each
 * length-delimited) and {@code store.pages} (every slab page, page N at (N-1) * page size).
 * Saving begins on the apply thread and finishes on another; both files are fsynced before the
 * snapshot is reported done.
 */
final class SnapshotFiles {
    static final String META = "store.meta";
    static final String PAGES = "store.pages";
    static final List<String> FILES = List.of(META, PAGES);

    private SnapshotFiles() {}

    /** A snapshot being saved. */
    static final class Save implements AutoCloseable {
        private final Path directory;
        private final FileChannel pages;
        private final int pageBytes;
        private Replica.Snapshot snapshot;

        private Save(Path directory, FileChannel pages, int pageBytes) {
            this.directory = directory;
            this.pages = pages;
            this.pageBytes = pageBytes;
        }

        /** Writes the pages as they were when the save began (apply may go on). Off the apply thread. */
        void writePages() throws IOException {
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

        int pagesCopiedByApply() {
            return snapshot.store().pagesCopiedByApply();
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

        private void writePage(int pageNumber, byte[] bytes) throws IOException {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            long position = (long) (pageNumber - 1) * pageBytes;
            while (buffer.hasRemaining()) {
                position += pages.write(buffer, position);
            }
        }
    }

    /** Starts saving: captures the replica's state at its applied index. Apply thread only. */
    static Save beginSave(String directory, Replica replica) throws IOException {
        Path dir = Path.of(directory);
        FileChannel pages = FileChannel.open(dir.resolve(PAGES), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Save save = new Save(dir, pages, replica.shape().slabPageSizeBytes());
        try {
            save.snapshot = replica.beginSnapshot(save::writePage);
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
