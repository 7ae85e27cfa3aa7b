package io.raftcached.raft;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The files of the segment log and every change to their names, each made durable before it is
 * relied on: {@code segment-<first index>} files in use, {@code spare-<n>} files allocated ahead
 * (zeros written and synced, by a background thread, so a segment roll-over does not wait for
 * them), and {@code first-index}, the first index kept after a prefix truncation.
 *
 * <p>A file freed by a prefix truncation becomes a spare again (up to {@link #SPARES_MAX}): its
 * blocks stay allocated, and a new generation in its next header makes its old records invalid.
 */
final class SegmentDirectory {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentDirectory.class);
    static final String SEGMENT_PREFIX = "segment-";
    static final String SPARE_PREFIX = "spare-";
    private static final String FIRST_INDEX_FILE = "first-index";
    /** Spare files kept: one for the next roll-over, one more for a suffix truncation meanwhile. */
    static final int SPARES_MAX = 2;
    private static final int ZEROS_BYTES = 1024 * 1024;

    final Path directory;
    final long segmentBytes;
    /** Spares ready to use, oldest first. Guarded by this. */
    private final ArrayDeque<Path> spares = new ArrayDeque<>();
    private long nextSpareNumber;
    private final ExecutorService allocator;
    private Future<?> allocating;

    SegmentDirectory(Path directory, long segmentBytes) throws IOException {
        if (segmentBytes < Segment.HEADER_BYTES + Segment.RECORD_HEADER_BYTES || segmentBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("segment size " + segmentBytes + " bytes is out of range");
        }
        this.directory = Files.createDirectories(directory);
        this.segmentBytes = segmentBytes;
        this.allocator = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "raft-log-spare-allocator");
            thread.setDaemon(true);
            return thread;
        });
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : (Iterable<Path>) files.sorted()::iterator) {
                String name = file.getFileName().toString();
                if (name.endsWith(".tmp")) {
                    Files.deleteIfExists(file);   // an allocation or a first-index write a crash cut short
                } else if (name.startsWith(SPARE_PREFIX)) {
                    nextSpareNumber = Math.max(nextSpareNumber, Long.parseLong(name.substring(SPARE_PREFIX.length())) + 1);
                    if (Files.size(file) == segmentBytes && spares.size() < SPARES_MAX) {
                        spares.add(file);
                    } else {
                        Files.delete(file);
                    }
                }
            }
        }
    }

    /** The segment files, in no particular order (their headers say where each begins). */
    List<Path> segmentFiles() throws IOException {
        List<Path> segments = new ArrayList<>();
        try (Stream<Path> files = Files.list(directory)) {
            files.filter(file -> file.getFileName().toString().startsWith(SEGMENT_PREFIX)).forEach(segments::add);
        }
        return segments;
    }

    Path segmentPath(long firstIndex) {
        return directory.resolve(String.format("%s%020d", SEGMENT_PREFIX, firstIndex));
    }

    /**
     * A new segment's file: its header written and synced, then named, then the name synced. A file
     * named as a segment thus always carries its own header, never a reused file's old one.
     */
    Path newSegment(long firstIndex, long generation, int recordBytes) throws IOException {
        long sizeBytes = Segment.HEADER_BYTES + (long) recordBytes;
        Path file = sizeBytes <= segmentBytes ? takeSpare() : allocate(sizeBytes);
        Segment.writeHeader(file, generation, firstIndex);
        Path segment = segmentPath(firstIndex);
        Files.move(file, segment, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
        return segment;
    }

    /** A segment no longer needed: kept as a spare if there is room and it is of the usual size, else deleted. */
    void free(Path segment) throws IOException {
        synchronized (this) {
            if (spares.size() < SPARES_MAX && Files.size(segment) == segmentBytes) {
                Path spare = directory.resolve(SPARE_PREFIX + nextSpareNumber++);
                Files.move(segment, spare, StandardCopyOption.ATOMIC_MOVE);
                spares.add(spare);
                return;
            }
        }
        Files.delete(segment);
    }

    /** A spare ready now; allocated here and now if the background thread has none ready. */
    private Path takeSpare() throws IOException {
        Path spare;
        synchronized (this) {
            spare = spares.poll();
        }
        if (spare == null) {
            LOG.info("no spare log segment ready: allocating {} MB now", segmentBytes >> 20);
            spare = allocateSpare();
        }
        allocateSpareInBackground();
        return spare;
    }

    /** Keeps one spare ready, allocating it on the background thread. */
    synchronized void allocateSpareInBackground() {
        if (!spares.isEmpty() || allocating != null && !allocating.isDone()) {
            return;
        }
        allocating = allocator.submit(() -> {
            try {
                Path spare = allocateSpare();
                synchronized (this) {
                    if (spares.size() < SPARES_MAX) {
                        spares.add(spare);
                        return;
                    }
                }
                Files.delete(spare);
            } catch (IOException e) {
                if (allocator.isShutdown()) {
                    return;   // the log closed meanwhile
                }
                // The roll-over that needs it allocates in line and reports the error there.
                LOG.warn("could not allocate a spare log segment in {}: {}", directory, e.toString());
            }
        });
    }

    private Path allocateSpare() throws IOException {
        Path spare;
        synchronized (this) {
            spare = directory.resolve(SPARE_PREFIX + nextSpareNumber++);
        }
        Path allocated = allocate(segmentBytes);
        Files.move(allocated, spare, StandardCopyOption.ATOMIC_MOVE);
        syncDirectory();
        return spare;
    }

    /** A file of {@code sizeBytes} zeros, written and synced (an allocated, written extent: no journal work on overwrite). */
    private Path allocate(long sizeBytes) throws IOException {
        Path file = Files.createTempFile(directory, "allocating-", ".tmp");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer zeros = ByteBuffer.allocateDirect(ZEROS_BYTES);
            for (long at = 0; at < sizeBytes; at += ZEROS_BYTES) {
                zeros.clear().limit((int) Math.min(ZEROS_BYTES, sizeBytes - at));
                Segment.writeFully(channel, zeros, at);
            }
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return file;
    }

    /** The first index kept, as the last prefix truncation or reset recorded it; 1 if none did. */
    long readFirstIndex() throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(directory.resolve(FIRST_INDEX_FILE));
        } catch (NoSuchFileException e) {
            return 1;
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length != 12 || buffer.getInt(8) != crc(bytes, 8)) {
            throw new IOException(directory.resolve(FIRST_INDEX_FILE) + " is corrupted");
        }
        return buffer.getLong(0);
    }

    void writeFirstIndex(long firstIndex) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putLong(firstIndex);
        buffer.putInt(crc(buffer.array(), 8));
        Path temporary = directory.resolve(FIRST_INDEX_FILE + ".tmp");
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            Segment.writeFully(channel, buffer.flip(), 0);
            channel.force(true);
        }
        Files.move(temporary, directory.resolve(FIRST_INDEX_FILE), StandardCopyOption.ATOMIC_MOVE,
                StandardCopyOption.REPLACE_EXISTING);
        syncDirectory();
    }

    /** Makes the directory's names durable (a rename is not, until its directory is synced). */
    void syncDirectory() throws IOException {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Stops the background allocation (an allocation under way is abandoned, its file deleted on next open). */
    void close() {
        allocator.shutdownNow();
        try {
            if (!allocator.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("the spare log segment allocator in {} did not stop within 10 s", directory);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int crc(byte[] bytes, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int) crc.getValue();
    }
}
