package io.raftcached.raft;

import io.raftcached.proto.MachineState;
import io.raftcached.proto.StoreSnapshotHeader;
import io.raftcached.store.Store;
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
 * A snapshot on disk: {@code store.meta} (the store header and the state machine's own state,
 * each length-delimited) and {@code store.pages} (every slab page, page N at (N-1) * page size).
 * Saving begins on the apply thread and finishes on another; both files are fsynced before the
 * snapshot is reported done.
 */
final class SnapshotFiles {
    static final String META = "store.meta";
    static final String PAGES = "store.pages";
    static final List<String> FILES = List.of(META, PAGES);

    /** A snapshot being saved. */
    static final class Save {
        private final Path directory;
        private final StoreSnapshot snapshot;
        private final MachineState machine;
        private final FileChannel pages;
        private final int pageBytes;

        private Save(Path directory, StoreSnapshot snapshot, MachineState machine, FileChannel pages, int pageBytes) {
            this.directory = directory;
            this.snapshot = snapshot;
            this.machine = machine;
            this.pages = pages;
            this.pageBytes = pageBytes;
        }

        /** Writes the pages and the meta file and syncs both. Off the apply thread. */
        void finish() throws IOException {
            snapshot.writePages();
            pages.force(true);
            Path meta = directory.resolve(META);
            try (OutputStream out = Files.newOutputStream(meta)) {
                snapshot.header().writeDelimitedTo(out);
                machine.writeDelimitedTo(out);
            }
            try (FileChannel channel = FileChannel.open(meta, StandardOpenOption.WRITE)) {
                channel.force(true);
            }
        }

        int pageCount() {
            return snapshot.pageCount();
        }

        int pagesCopiedByApply() {
            return snapshot.pagesCopiedByApply();
        }

        void close() {
            snapshot.close();
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

    record Loaded(Store store, MachineState machine) {}

    /** Starts saving: captures the state at this applied index. Apply thread only. */
    Save beginSave(String directory, Store store, MachineState machine) throws IOException {
        Path dir = Path.of(directory);
        FileChannel pages = FileChannel.open(dir.resolve(PAGES), StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING);
        Save[] save = new Save[1];
        StoreSnapshot snapshot = store.beginSnapshot((pageNumber, bytes) -> save[0].writePage(pageNumber, bytes));
        save[0] = new Save(dir, snapshot, machine, pages, store.config().slabPageSizeBytes());
        return save[0];
    }

    Loaded load(String directory, long hashSeed) throws IOException {
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
        if (machine.getFormatVersion() > CacheStateMachine.MACHINE_STATE_FORMAT_VERSION) {
            throw new IOException("snapshot state format " + machine.getFormatVersion() + " is newer than this binary");
        }
        int pageBytes = header.getShape().getSlabPageSize();
        try (FileChannel pages = FileChannel.open(dir.resolve(PAGES), StandardOpenOption.READ)) {
            long expectedBytes = (long) header.getPhysicalPages() * pageBytes;
            if (pages.size() != expectedBytes) {
                throw new IOException("store.pages holds " + pages.size() + " bytes, expected " + expectedBytes);
            }
            Store store = StoreSnapshot.restore(header, (pageNumber, bytes) -> {
                ByteBuffer buffer = ByteBuffer.wrap(bytes);
                long position = (long) (pageNumber - 1) * pageBytes;
                while (buffer.hasRemaining()) {
                    int read = pages.read(buffer, position);
                    if (read < 0) {
                        throw new IOException("store.pages ends early at page " + pageNumber);
                    }
                    position += read;
                }
            }, hashSeed);
            return new Loaded(store, machine);
        }
    }
}
