package io.raftcached.raft;

import io.netty.util.internal.PlatformDependent;
import io.raftcached.replica.Replica;
import io.raftcached.store.ImageWalk;
import io.raftcached.store.SnapshotUnderWayException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.LoggerFactory;

/**
 * An image of the store for walks of all of it — {@code stats digest}, {@code lru_crawler
 * metadump} — without holding apply back: apply pauses only to begin a copy-on-write snapshot (as
 * for a Raft snapshot), the pages are written to a scratch file in the data directory, and the
 * walk reads that image in place, mapped. It shows the state at the index where the snapshot
 * began. Costs a disk write of the store's pages; each image has its own scratch directory, so
 * walks may overlap, but the store begins one snapshot at a time (a walk waits out a Raft
 * snapshot's dump).
 */
final class StoreImage implements AutoCloseable {
    /** Pages mapped per region: a mapping is at most 2 GB. */
    private static final int REGION_PAGES = 1024;
    private static final int BEGIN_ATTEMPTS_MAX = 600;
    private static final long BEGIN_RETRY_MILLIS = 50;

    private final Path directory;
    private final Replica.Snapshot snapshot;
    private final List<MappedByteBuffer> regions;
    private final int pageBytes;

    private StoreImage(Path directory, Replica.Snapshot snapshot, List<MappedByteBuffer> regions, int pageBytes) {
        this.directory = directory;
        this.snapshot = snapshot;
        this.regions = regions;
        this.pageBytes = pageBytes;
    }

    /** Takes an image under {@code scratchDirectory}, in a directory of its own. */
    static StoreImage take(CacheStateMachine machine, Path scratchDirectory) throws IOException {
        Path directory = scratchDirectory.resolve(UUID.randomUUID().toString());
        Files.createDirectories(directory);
        List<MappedByteBuffer> regions = new ArrayList<>();
        boolean taken = false;
        try {
            Replica.Snapshot snapshot;
            int pages;
            int pageBytes;
            try (SnapshotFiles.Save save = begin(machine, directory)) {
                save.writePages();
                snapshot = save.snapshot();
                pageBytes = snapshot.store().header().getShape().getSlabPageSize();
                pages = save.pageCount();
            }
            try (FileChannel file = FileChannel.open(directory.resolve(SnapshotFiles.PAGES), StandardOpenOption.READ)) {
                for (int first = 0; first < pages; first += REGION_PAGES) {
                    long bytes = (long) Math.min(REGION_PAGES, pages - first) * pageBytes;
                    regions.add(file.map(FileChannel.MapMode.READ_ONLY, (long) first * pageBytes, bytes));
                }
            }
            taken = true;
            return new StoreImage(directory, snapshot, regions, pageBytes);
        } finally {
            if (!taken) {
                release(directory, regions);
            }
        }
    }

    private long addressOf(int page) {
        return PlatformDependent.directBufferAddress(regions.get((page - 1) / REGION_PAGES))
                + (long) ((page - 1) % REGION_PAGES) * pageBytes;
    }

    String digest() {
        return Replica.digestOf(snapshot, this::addressOf);
    }

    /** A walk over the image's items of the classes in {@code classBits}; closing it closes the image. */
    ImageWalk walk(long classBits) {
        return ImageWalk.over(snapshot.store().header(), this::addressOf, classBits, this::close);
    }

    @Override
    public void close() {
        release(directory, regions);
    }

    private static void release(Path directory, List<MappedByteBuffer> regions) {
        regions.forEach(PlatformDependent::freeDirectBuffer);
        regions.clear();
        try {
            Files.deleteIfExists(directory.resolve(SnapshotFiles.PAGES));
            Files.deleteIfExists(directory.resolve(SnapshotFiles.META));
            Files.deleteIfExists(directory);
        } catch (IOException e) {
            LoggerFactory.getLogger(StoreImage.class).warn("could not remove the store image in {}", directory, e);
        }
    }

    private static SnapshotFiles.Save begin(CacheStateMachine machine, Path directory) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return machine.withApplyPaused(replica -> {
                    try {
                        return SnapshotFiles.beginSave(directory.toString(), replica, false);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (SnapshotUnderWayException snapshotUnderWay) {
                if (attempt == BEGIN_ATTEMPTS_MAX) {
                    throw new IOException("a snapshot was being taken for " + attempt * BEGIN_RETRY_MILLIS + " ms", snapshotUnderWay);
                }
                try {
                    Thread.sleep(BEGIN_RETRY_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while waiting to begin", e);
                }
            }
        }
    }
}
