package io.raftcached.raft;

import io.netty.util.internal.PlatformDependent;
import io.raftcached.replica.Replica;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code stats digest} without holding apply back for a walk of the whole store: apply pauses only
 * to begin a copy-on-write snapshot (as for a Raft snapshot), the pages are written to a scratch
 * file in the data directory, and the digest is computed by walking that image in place, mapped.
 * The result is the digest of the state at the index where the snapshot began. Costs a disk write
 * of the store's pages; one at a time (the caller runs them on one thread).
 */
final class DigestImage {
    /** Pages mapped per region: a mapping is at most 2 GB. */
    private static final int REGION_PAGES = 1024;
    /** The store takes one copy-on-write image at a time: a digest waits out a Raft snapshot's dump. */
    private static final int BEGIN_ATTEMPTS_MAX = 600;
    private static final long BEGIN_RETRY_MILLIS = 50;

    private DigestImage() {}

    static String take(CacheStateMachine machine, Path scratchDirectory) throws IOException {
        Files.createDirectories(scratchDirectory);
        SnapshotFiles.Save save = begin(machine, scratchDirectory);
        List<MappedByteBuffer> regions = new ArrayList<>();
        try (save) {
            save.writePages();
            int pageBytes = save.snapshot().store().header().getShape().getSlabPageSize();
            int pages = save.pageCount();
            try (FileChannel file = FileChannel.open(scratchDirectory.resolve(SnapshotFiles.PAGES), StandardOpenOption.READ)) {
                for (int first = 0; first < pages; first += REGION_PAGES) {
                    long bytes = (long) Math.min(REGION_PAGES, pages - first) * pageBytes;
                    regions.add(file.map(FileChannel.MapMode.READ_ONLY, (long) first * pageBytes, bytes));
                }
            }
            return Replica.digestOf(save.snapshot(), page -> PlatformDependent.directBufferAddress(
                    regions.get((page - 1) / REGION_PAGES)) + (long) ((page - 1) % REGION_PAGES) * pageBytes);
        } finally {
            regions.forEach(PlatformDependent::freeDirectBuffer);
            Files.deleteIfExists(scratchDirectory.resolve(SnapshotFiles.PAGES));
        }
    }

    private static SnapshotFiles.Save begin(CacheStateMachine machine, Path scratchDirectory) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                return machine.withApplyPaused(replica -> {
                    try {
                        return SnapshotFiles.beginSave(scratchDirectory.toString(), replica);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            } catch (IllegalStateException snapshotUnderWay) {
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
