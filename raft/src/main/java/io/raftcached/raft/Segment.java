package io.raftcached.raft;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One file of the segment log: a header, then records of consecutive log indexes written one after
 * another. The file is allocated to its full size before it is used (zeros written, or an earlier
 * segment's bytes), so an append overwrites blocks the file system already has and fdatasync has
 * no file size or extent to journal: that is what makes a synced append cheap.
 *
 * <p>Header, at offset 0 (within the first sector, so it is written whole): magic, version,
 * generation, first index, CRC-32C of those. Record: payload length, CRC-32C (of everything after
 * it), generation, index, term, kind, payload. A record is valid only with this file's generation
 * (a fresh random number each time the file is reused), the next expected index and a matching
 * CRC: what lies past the last append — zeros, a torn record, or records of the file's earlier life
 * — fails one of these, and a scan stops there.
 *
 * <p>The index of what the file holds (offset and term per entry) is kept in memory. Appends come
 * from one thread; reads from any, for entries already published ({@link #count}).
 */
final class Segment {
    static final int HEADER_BYTES = 64;
    static final int RECORD_HEADER_BYTES = 40;
    static final int KIND_DATA = 0;
    static final int KIND_CONFIGURATION = 1;
    private static final int MAGIC = 0x52434c47;   // "RCLG"
    private static final int VERSION = 1;
    private static final int HEADER_CRC_OFFSET = 24;

    final Path path;
    final FileChannel channel;
    final long generation;
    final long firstIndex;
    final long capacityBytes;
    /** Offsets of the records, by index - firstIndex; offsets[count] is where the next record goes. */
    private int[] offsets = new int[64];
    private long[] terms = new long[64];
    private int[] kinds = new int[64];
    /** Entries published to readers. Written by the appending thread only. */
    private volatile int count;

    private Segment(Path path, FileChannel channel, long generation, long firstIndex, long capacityBytes) {
        this.path = path;
        this.channel = channel;
        this.generation = generation;
        this.firstIndex = firstIndex;
        this.capacityBytes = capacityBytes;
        offsets[0] = HEADER_BYTES;
    }

    /** Writes and syncs a new segment's header into an allocated file (a spare, before it is named). */
    static void writeHeader(Path file, long generation, long firstIndex) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            header.putInt(MAGIC).putInt(VERSION).putLong(generation).putLong(firstIndex);
            header.putInt(HEADER_CRC_OFFSET, crc(header.array(), 0, HEADER_CRC_OFFSET));
            header.position(0).limit(HEADER_BYTES);
            writeFully(channel, header, 0);
            channel.force(false);
        }
    }

    /** Opens a segment whose header was just written: it holds no entries yet. */
    static Segment create(Path path, long generation, long firstIndex) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        return new Segment(path, channel, generation, firstIndex, channel.size());
    }

    private static ByteBuffer readHeader(FileChannel channel) throws IOException {
        if (channel.size() < HEADER_BYTES) {
            return null;
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, header, 0);
        if (header.getInt(0) != MAGIC || header.getInt(4) != VERSION
                || header.getInt(HEADER_CRC_OFFSET) != crc(header.array(), 0, HEADER_CRC_OFFSET)) {
            return null;
        }
        return header;
    }

    /** What a scan found: the entries before the first invalid record, and what to do with each. */
    interface ScanVisitor {
        /** A configuration record's payload, for jraft's configuration manager. */
        void configuration(long index, byte[] payload) throws IOException;
    }

    /**
     * Opens a segment file and indexes its valid records from its first index on, stopping at the
     * first invalid one or after {@code lastIndexMax}. Null if the header is not valid.
     */
    static Segment open(Path path, long lastIndexMax, ScanVisitor visitor) throws IOException {
        FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            ByteBuffer header = readHeader(channel);
            if (header == null) {
                channel.close();
                return null;
            }
            Segment segment = new Segment(path, channel, header.getLong(8), header.getLong(16), channel.size());
            segment.scan(lastIndexMax, visitor);
            return segment;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private void scan(long lastIndexMax, ScanVisitor visitor) throws IOException {
        ByteBuffer recordHeader = ByteBuffer.allocate(RECORD_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        long position = HEADER_BYTES;
        while (firstIndex + count <= lastIndexMax && position + RECORD_HEADER_BYTES <= capacityBytes) {
            recordHeader.clear();
            readFully(channel, recordHeader, position);
            int payloadBytes = recordHeader.getInt(0);
            if (payloadBytes < 0 || position + RECORD_HEADER_BYTES + payloadBytes > capacityBytes
                    || recordHeader.getLong(8) != generation || recordHeader.getLong(16) != firstIndex + count) {
                return;
            }
            ByteBuffer record = ByteBuffer.allocate(RECORD_HEADER_BYTES + payloadBytes).order(ByteOrder.LITTLE_ENDIAN);
            readFully(channel, record, position);
            if (record.getInt(4) != crc(record.array(), 8, record.capacity() - 8)) {
                return;
            }
            int kind = record.getInt(32);
            if (kind == KIND_CONFIGURATION) {
                visitor.configuration(firstIndex + count,
                        Arrays.copyOfRange(record.array(), RECORD_HEADER_BYTES, record.capacity()));
            }
            position += record.capacity();
            publish(record.getLong(24), kind, position);
        }
    }

    /** Bytes a record of this payload takes. */
    static int recordBytes(int payloadBytes) {
        return RECORD_HEADER_BYTES + payloadBytes;
    }

    /** Whether a record of this payload fits after what the segment holds (and what is buffered for it). */
    boolean fits(long bufferedBytes, int payloadBytes) {
        return writePosition() + bufferedBytes + recordBytes(payloadBytes) <= capacityBytes;
    }

    long writePosition() {
        return offsets[count];
    }

    /** Appends one record to {@code buffer} (little-endian), for the entry after those already buffered. */
    void encode(ByteBuffer buffer, long index, long term, int kind, byte[] payload) {
        int start = buffer.position();
        buffer.putInt(payload.length).putInt(0).putLong(generation).putLong(index).putLong(term).putInt(kind).putInt(0)
                .put(payload);
        CRC32C crc = new CRC32C();
        ByteBuffer covered = buffer.duplicate();
        covered.position(start + 8).limit(buffer.position());
        crc.update(covered);
        buffer.putInt(start + 4, (int) crc.getValue());
    }

    /** Writes buffered records at the write position (not synced, not yet published). */
    void write(ByteBuffer buffer) throws IOException {
        writeFully(channel, buffer, writePosition());
    }

    /** Makes one more written record visible to readers. */
    void publish(long term, int kind, long endPosition) {
        if (count + 1 >= offsets.length) {
            offsets = Arrays.copyOf(offsets, offsets.length * 2);
            terms = Arrays.copyOf(terms, terms.length * 2);
            kinds = Arrays.copyOf(kinds, kinds.length * 2);
        }
        assert endPosition > offsets[count] && endPosition <= capacityBytes;
        terms[count] = term;
        kinds[count] = kind;
        offsets[count + 1] = (int) endPosition;
        count++;
    }

    int count() {
        return count;
    }

    long lastIndex() {
        return firstIndex + count - 1;
    }

    long term(long index) {
        return terms[(int) (index - firstIndex)];
    }

    boolean isConfiguration(long index) {
        return kinds[(int) (index - firstIndex)] == KIND_CONFIGURATION;
    }

    /** The payload of a published record, its CRC checked again (the disk may have rotted since). */
    byte[] read(long index) throws IOException {
        int slot = (int) (index - firstIndex);
        int start = offsets[slot];
        int end = offsets[slot + 1];
        ByteBuffer record = ByteBuffer.allocate(end - start).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, record, start);
        if (record.getInt(4) != crc(record.array(), 8, record.capacity() - 8) || record.getLong(16) != index) {
            throw new IOException("log record " + index + " in " + path + " fails its checksum: the disk corrupted it");
        }
        return Arrays.copyOfRange(record.array(), RECORD_HEADER_BYTES, record.capacity());
    }

    /** Forgets the entries after {@code lastIndexKept} (in memory; the caller makes it durable). */
    void forgetAfter(long lastIndexKept) {
        count = (int) Math.max(0, Math.min(count, lastIndexKept - firstIndex + 1));
    }

    void sync() throws IOException {
        channel.force(false);
    }

    void close() throws IOException {
        channel.close();
    }

    private static int crc(byte[] bytes, int offset, int length) {
        CRC32C crc = new CRC32C();
        crc.update(bytes, offset, length);
        return (int) crc.getValue();
    }

    static void writeFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            at += channel.write(buffer, at);
        }
    }

    static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, at);
            if (read < 0) {
                throw new IOException("unexpected end of " + channel + " at " + at);
            }
            at += read;
        }
    }
}
