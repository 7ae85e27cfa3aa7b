package io.raftcached.raft;

import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.conf.ConfigurationEntry;
import com.alipay.sofa.jraft.conf.ConfigurationManager;
import com.alipay.sofa.jraft.entity.EnumOutter.EntryType;
import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.entity.LogId;
import com.alipay.sofa.jraft.entity.codec.LogEntryDecoder;
import com.alipay.sofa.jraft.entity.codec.LogEntryEncoder;
import com.alipay.sofa.jraft.option.LogStorageOptions;
import com.alipay.sofa.jraft.storage.LogStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Raft log in preallocated segment files ({@code --log-store segment}), behind jraft's
 * {@link LogStorage} SPI: one write and at most one fdatasync per batch of entries, on blocks the
 * file system has already allocated (see {@link Segment}), instead of RocksDB's write-ahead log,
 * which grows its file on every synced write.
 *
 * <p>Invariants, each kept durable before the operation returns:
 * <ul>
 *   <li>Entries are {@code [firstIndex, lastIndex]}, consecutive across the segments in order; each
 *       segment but the last ends exactly before the next one's first index.</li>
 *   <li>A segment is appended to only in the life it was created in: after a restart or a suffix
 *       truncation the next append opens a new segment, so nothing that lies past the last valid
 *       record of an older segment — a torn write, or entries truncated away — can be read as part
 *       of the log again: the next segment's first index bounds every scan.</li>
 *   <li>Entries are published to readers only after they are written (and synced, with fsync on).</li>
 * </ul>
 * Appends and truncations come from jraft's log manager thread; reads from any thread.
 */
final class SegmentLogStorage implements LogStorage {
    private static final Logger LOG = LoggerFactory.getLogger(SegmentLogStorage.class);
    private static final long SEGMENT_BYTES_MIN = 4L * 1024 * 1024;
    private static final long SEGMENT_BYTES_MAX = 64L * 1024 * 1024;
    /** A batch larger than this is written (and synced) in parts; entries are at most a write batch (2 MB) each. */
    private static final int WRITE_BUFFER_BYTES_MAX = 8 * 1024 * 1024;

    private final Path path;
    private final boolean sync;
    private final long segmentBytes;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    /** In index order. Guarded by lock (the list; each segment publishes its own entries). */
    private final List<Segment> segments = new ArrayList<>();
    /** Guarded by lock. */
    private long firstIndex = 1;
    /** The segment appends go to; null when the next append must open a new one. Appending thread only. */
    private Segment active;
    private SegmentDirectory directory;
    private LogEntryEncoder encoder;
    private LogEntryDecoder decoder;
    private ByteBuffer writeBuffer = ByteBuffer.allocateDirect(256 * 1024).order(ByteOrder.LITTLE_ENDIAN);
    /** Terms, kinds and end offsets of the records in writeBuffer, published once written. */
    private long[] pendingTerms = new long[256];
    private int[] pendingKinds = new int[256];
    private long[] pendingEnds = new long[256];

    /**
     * A segment holds a quarter of the log between snapshots, 4 to 64 MB: a node keeps about that
     * log plus two or three preallocated segments on disk, so a small cache does not take 200 MB
     * of disk for an idle log, and a large one rolls over to a new file at most every 64 MB.
     */
    static long segmentBytesFor(long snapshotLogBytes) {
        return snapshotLogBytes <= 0 ? SEGMENT_BYTES_MAX : Math.max(SEGMENT_BYTES_MIN, Math.min(SEGMENT_BYTES_MAX, snapshotLogBytes / 4));
    }

    SegmentLogStorage(Path path, boolean sync, long segmentBytes) {
        this.path = path;
        this.sync = sync;
        this.segmentBytes = segmentBytes;
    }

    @Override
    public boolean init(LogStorageOptions options) {
        encoder = options.getLogEntryCodecFactory().encoder();
        decoder = options.getLogEntryCodecFactory().decoder();
        lock.writeLock().lock();
        try {
            directory = new SegmentDirectory(path, segmentBytes);
            recover(options.getConfigurationManager());
            directory.allocateSpareInBackground();
            LOG.info("segment log in {}: entries {} to {} in {} segment(s)", path, firstIndex, lastIndexLocked(),
                    segments.size());
            return true;
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot open the segment log in {}: {}", path, e.getMessage(), e);
            return false;
        } finally {
            lock.writeLock().unlock();
        }
    }

    private void recover(ConfigurationManager configurations) throws IOException {
        firstIndex = directory.readFirstIndex();
        List<Path> files = directory.segmentFiles();
        files.sort(Comparator.comparingLong(SegmentLogStorage::firstIndexOf));
        List<LogEntry> configurationEntries = new ArrayList<>();
        for (int i = 0; i < files.size(); i++) {
            long first = firstIndexOf(files.get(i));
            long lastIndexMax = i + 1 < files.size() ? firstIndexOf(files.get(i + 1)) - 1 : Long.MAX_VALUE;
            Segment segment = Segment.open(files.get(i), lastIndexMax, (index, payload) -> {
                configurationEntries.add(decode(index, payload));
            });
            if (segment == null || segment.firstIndex != first) {
                throw new IOException("log segment " + files.get(i) + " has no valid header: the disk corrupted it");
            }
            segments.add(segment);
            if (lastIndexMax != Long.MAX_VALUE && segment.lastIndex() != lastIndexMax) {
                String gap = "log segment " + files.get(i) + " ends at entry " + segment.lastIndex() + " but the next begins at "
                        + (lastIndexMax + 1);
                if (sync) {
                    throw new IOException(gap + ": entries that were synced are missing (the disk lost or corrupted them)");
                }
                LOG.warn("{}: with fsync off, entries written before a machine crash may be lost; the log ends there", gap);
                for (Path later : files.subList(i + 1, files.size())) {
                    directory.free(later);
                }
                break;
            }
        }
        dropBelow(firstIndex);
        if (!segments.isEmpty() && segments.get(0).firstIndex > firstIndex) {
            LOG.warn("the segment log begins at {} but entries from {} were kept: they are missing", segments.get(0).firstIndex,
                    firstIndex);
            firstIndex = segments.get(0).firstIndex;
        }
        long last = lastIndexLocked();
        for (LogEntry entry : configurationEntries) {
            long index = entry.getId().getIndex();
            if (index >= firstIndex && index <= last && configurations != null) {
                ConfigurationEntry configuration = new ConfigurationEntry();
                configuration.setId(new LogId(index, entry.getId().getTerm()));
                configuration.setConf(new Configuration(entry.getPeers(), entry.getLearners()));
                if (entry.getOldPeers() != null) {
                    configuration.setOldConf(new Configuration(entry.getOldPeers(), entry.getOldLearners()));
                }
                configurations.add(configuration);
            }
        }
        active = null;   // never append to a segment of an earlier life: its tail may hold a torn write
    }

    private static long firstIndexOf(Path segmentFile) {
        return Long.parseLong(segmentFile.getFileName().toString().substring(SegmentDirectory.SEGMENT_PREFIX.length()));
    }

    private LogEntry decode(long index, byte[] payload) throws IOException {
        LogEntry entry = decoder.decode(payload);
        if (entry == null || entry.getId().getIndex() != index) {
            throw new IOException("log entry " + index + " in " + path + " does not decode: the disk corrupted it");
        }
        return entry;
    }

    @Override
    public void shutdown() {
        lock.writeLock().lock();
        try {
            for (Segment segment : segments) {
                segment.close();
            }
            segments.clear();
            active = null;
            if (directory != null) {
                directory.close();
            }
        } catch (IOException e) {
            LOG.warn("closing the segment log in {}: {}", path, e.toString());
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public long getFirstLogIndex() {
        lock.readLock().lock();
        try {
            return firstIndex;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long getLastLogIndex() {
        lock.readLock().lock();
        try {
            return lastIndexLocked();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** firstIndex - 1 when the log is empty, as after a prefix truncation past its end or a reset. */
    private long lastIndexLocked() {
        return segments.isEmpty() ? firstIndex - 1 : Math.max(firstIndex - 1, segments.get(segments.size() - 1).lastIndex());
    }

    @Override
    public LogEntry getEntry(long index) {
        lock.readLock().lock();
        try {
            Segment segment = segmentOf(index);
            return segment == null ? null : decode(index, segment.read(index));
        } catch (IOException e) {
            LOG.error("cannot read log entry {} in {}: {}", index, path, e.getMessage());
            return null;
        } finally {
            lock.readLock().unlock();
        }
    }

    @Override
    public long getTerm(long index) {
        lock.readLock().lock();
        try {
            Segment segment = segmentOf(index);
            return segment == null ? 0 : segment.term(index);
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The segment holding a published entry of the log, or null. Under the lock. */
    private Segment segmentOf(long index) {
        if (index < firstIndex) {
            return null;
        }
        int low = 0;
        int high = segments.size() - 1;
        while (low <= high) {
            int middle = (low + high) >>> 1;
            Segment segment = segments.get(middle);
            if (index < segment.firstIndex) {
                high = middle - 1;
            } else if (index > segment.lastIndex()) {
                low = middle + 1;
            } else {
                return segment;
            }
        }
        return null;
    }

    @Override
    public boolean appendEntry(LogEntry entry) {
        return appendEntries(List.of(entry)) == 1;
    }

    @Override
    public int appendEntries(List<LogEntry> entries) {
        if (entries == null || entries.isEmpty()) {
            return 0;
        }
        try {
            long next = getLastLogIndex() + 1;
            writeBuffer.clear();
            int pending = 0;
            for (LogEntry entry : entries) {
                long index = entry.getId().getIndex();
                if (index != next) {
                    throw new IOException("entry " + index + " appended after entry " + (next - 1));
                }
                byte[] payload = encoder.encode(entry);
                int recordBytes = Segment.recordBytes(payload.length);
                if (active == null || !active.fits(writeBuffer.position(), payload.length)) {
                    flush(pending);
                    pending = 0;
                    rollOver(index, recordBytes);
                }
                if (writeBuffer.remaining() < recordBytes) {
                    pending = makeRoom(pending, recordBytes);
                }
                int kind = entry.getType() == EntryType.ENTRY_TYPE_CONFIGURATION ? Segment.KIND_CONFIGURATION : Segment.KIND_DATA;
                active.encode(writeBuffer, index, entry.getId().getTerm(), kind, payload);
                pending = addPending(pending, entry.getId().getTerm(), kind, active.writePosition() + writeBuffer.position());
                next++;
            }
            flush(pending);
            return entries.size();
        } catch (IOException | RuntimeException e) {
            LOG.error("cannot append {} log entries in {}: {}", entries.size(), path, e.getMessage(), e);
            return 0;
        }
    }

    /**
     * Room in the write buffer for one more record: the buffer grows to hold the whole batch (one
     * write, one sync) up to {@link #WRITE_BUFFER_BYTES_MAX}; past that, what it holds is flushed.
     */
    private int makeRoom(int pending, int recordBytes) throws IOException {
        long wanted = Math.max(2L * writeBuffer.capacity(), (long) writeBuffer.position() + recordBytes);
        if (wanted <= WRITE_BUFFER_BYTES_MAX) {
            ByteBuffer larger = ByteBuffer.allocateDirect((int) wanted).order(ByteOrder.LITTLE_ENDIAN);
            larger.put(writeBuffer.flip());
            writeBuffer = larger;
            return pending;
        }
        flush(pending);
        if (writeBuffer.capacity() < recordBytes) {
            writeBuffer = ByteBuffer.allocateDirect(recordBytes).order(ByteOrder.LITTLE_ENDIAN);
        }
        return 0;
    }

    private int addPending(int pending, long term, int kind, long endPosition) {
        if (pending == pendingTerms.length) {
            pendingTerms = Arrays.copyOf(pendingTerms, pending * 2);
            pendingKinds = Arrays.copyOf(pendingKinds, pending * 2);
            pendingEnds = Arrays.copyOf(pendingEnds, pending * 2);
        }
        pendingTerms[pending] = term;
        pendingKinds[pending] = kind;
        pendingEnds[pending] = endPosition;
        return pending + 1;
    }

    /** Writes the buffered records to the active segment, syncs them (fsync on) and publishes them. */
    private void flush(int pending) throws IOException {
        if (pending == 0) {
            return;
        }
        writeBuffer.flip();
        active.write(writeBuffer);
        writeBuffer.clear();
        if (sync) {
            active.sync();
        }
        for (int i = 0; i < pending; i++) {
            active.publish(pendingTerms[i], pendingKinds[i], pendingEnds[i]);
        }
    }

    /** Opens a new segment whose first entry is {@code first}, after the active one (already synced). */
    private void rollOver(long first, int recordBytes) throws IOException {
        lock.writeLock().lock();
        try {
            startSegment(first, recordBytes);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * A new, empty active segment at {@code first}. Its file is renamed over an empty segment that
     * begins there (left by a suffix truncation, then a restart): that one bounds the segment
     * before it until the instant the new one does. Under the write lock.
     */
    private void startSegment(long first, int recordBytes) throws IOException {
        long generation = ThreadLocalRandom.current().nextLong() | 1;
        Segment segment = Segment.create(directory.newSegment(first, generation, recordBytes), generation, first);
        if (!segments.isEmpty() && segments.get(segments.size() - 1).firstIndex == first) {
            Segment replaced = segments.remove(segments.size() - 1);
            assert replaced.count() == 0 : "replacing a segment that holds entries";
            replaced.close();
        }
        segments.add(segment);
        active = segment;
    }

    @Override
    public boolean truncatePrefix(long firstIndexKept) {
        lock.writeLock().lock();
        try {
            if (firstIndexKept <= firstIndex) {
                return true;
            }
            directory.writeFirstIndex(firstIndexKept);
            firstIndex = firstIndexKept;
            dropBelow(firstIndexKept);
            return true;
        } catch (IOException e) {
            LOG.error("cannot truncate the log in {} before entry {}: {}", path, firstIndexKept, e.getMessage());
            return false;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** Frees the segments whose entries all lie before {@code index}. Under the write lock. */
    private void dropBelow(long index) throws IOException {
        while (!segments.isEmpty() && segments.get(0).lastIndex() < index) {
            release(segments.remove(0));
        }
        directory.syncDirectory();
    }

    /** A segment taken out of the log: closed, its file freed (made durable by the caller's directory sync). */
    private void release(Segment segment) throws IOException {
        if (segment == active) {
            active = null;
        }
        segment.close();
        directory.free(segment.path);
    }

    @Override
    public boolean truncateSuffix(long lastIndexKept) {
        lock.writeLock().lock();
        try {
            if (lastIndexKept >= lastIndexLocked()) {
                return true;
            }
            // Newest first, so what remains at every instant is a prefix of the log.
            while (!segments.isEmpty() && segments.get(segments.size() - 1).firstIndex > lastIndexKept + 1) {
                release(segments.remove(segments.size() - 1));
            }
            directory.syncDirectory();
            for (int i = segments.size() - 1; i >= 0; i--) {
                if (segments.get(i).firstIndex <= lastIndexKept) {
                    segments.get(i).forgetAfter(lastIndexKept);
                    break;
                }
            }
            if (!segments.isEmpty() && segments.get(segments.size() - 1).firstIndex == lastIndexKept + 1) {
                segments.get(segments.size() - 1).forgetAfter(lastIndexKept);   // replaced by an empty one just below
            }
            // What follows lastIndexKept in its segment stays on disk: this new segment bounds it.
            startSegment(lastIndexKept + 1, 0);
            return true;
        } catch (IOException e) {
            LOG.error("cannot truncate the log in {} after entry {}: {}", path, lastIndexKept, e.getMessage());
            return false;
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public boolean reset(long nextLogIndex) {
        if (nextLogIndex <= 0) {
            throw new IllegalArgumentException("next log index " + nextLogIndex);
        }
        lock.writeLock().lock();
        try {
            while (!segments.isEmpty()) {
                release(segments.remove(segments.size() - 1));
            }
            directory.syncDirectory();
            directory.writeFirstIndex(nextLogIndex);
            firstIndex = nextLogIndex;
            return true;
        } catch (IOException e) {
            LOG.error("cannot reset the log in {} to entry {}: {}", path, nextLogIndex, e.getMessage());
            return false;
        } finally {
            lock.writeLock().unlock();
        }
    }
}
