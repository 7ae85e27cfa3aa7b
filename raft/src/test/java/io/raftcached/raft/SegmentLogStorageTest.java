package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.conf.ConfigurationManager;
import com.alipay.sofa.jraft.entity.EnumOutter.EntryType;
import com.alipay.sofa.jraft.entity.LogEntry;
import com.alipay.sofa.jraft.entity.LogId;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.codec.v2.LogEntryV2CodecFactory;
import com.alipay.sofa.jraft.option.LogStorageOptions;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The segment log against what jraft relies on: entries read back as appended across segment
 * roll-overs and restarts; prefix and suffix truncation and reset, each durable; configuration
 * entries handed to jraft on open; a torn or corrupted tail cut off at the last whole record and
 * nothing truncated ever coming back; a corrupted middle refused; and, in a real process killed
 * -9 while it appends, no entry it reported synced lost.
 */
class SegmentLogStorageTest {
    /** Small segments, so a few hundred entries cross several roll-overs. */
    private static final long SEGMENT_BYTES = 16 * 1024;

    @TempDir
    Path directory;

    private SegmentLogStorage open(Path path, ConfigurationManager configurations) {
        SegmentLogStorage storage = new SegmentLogStorage(path, true, SEGMENT_BYTES);
        assertTrue(storage.init(options(configurations)), "the log opens");
        return storage;
    }

    /** What jraft hands a log storage: its configuration manager and entry codec. */
    static LogStorageOptions options(ConfigurationManager configurations) {
        LogStorageOptions options = new LogStorageOptions();
        options.setConfigurationManager(configurations);
        options.setLogEntryCodecFactory(LogEntryV2CodecFactory.getInstance());
        return options;
    }

    private SegmentLogStorage open() {
        return open(directory, new ConfigurationManager());
    }

    /** An entry whose contents follow from its index and term, 1 to 1000 bytes long. */
    static LogEntry entry(long index, long term) {
        LogEntry entry = new LogEntry(EntryType.ENTRY_TYPE_DATA);
        entry.setId(new LogId(index, term));
        entry.setData(ByteBuffer.wrap(payload(index, term)));
        return entry;
    }

    static byte[] payload(long index, long term) {
        Random random = new Random(index * 31 + term);
        byte[] data = new byte[1 + random.nextInt(1000)];
        random.nextBytes(data);
        return data;
    }

    private static LogEntry configuration(long index, long term, String... peers) {
        LogEntry entry = new LogEntry(EntryType.ENTRY_TYPE_CONFIGURATION);
        entry.setId(new LogId(index, term));
        List<PeerId> list = new ArrayList<>();
        for (String peer : peers) {
            list.add(PeerId.parsePeer(peer));
        }
        entry.setPeers(list);
        return entry;
    }

    private static void append(SegmentLogStorage storage, long from, long to, long term) {
        List<LogEntry> batch = new ArrayList<>();
        for (long index = from; index <= to; index++) {
            batch.add(entry(index, term));
            if (batch.size() == 7 || index == to) {
                assertEquals(batch.size(), storage.appendEntries(batch));
                batch = new ArrayList<>();
            }
        }
    }

    /** Every entry of [from, to] reads back with the term given for it. */
    private static void assertEntries(SegmentLogStorage storage, long from, long to, java.util.function.LongUnaryOperator term) {
        assertEquals(from, storage.getFirstLogIndex());
        assertEquals(to, storage.getLastLogIndex());
        for (long index = from; index <= to; index++) {
            LogEntry read = storage.getEntry(index);
            assertNotNull(read, "entry " + index);
            assertEquals(term.applyAsLong(index), read.getId().getTerm(), "term of " + index);
            assertEquals(term.applyAsLong(index), storage.getTerm(index));
            assertArrayEquals(payload(index, term.applyAsLong(index)), bytes(read.getData()), "entry " + index);
        }
        assertNull(storage.getEntry(to + 1));
        assertEquals(0, storage.getTerm(to + 1));
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private List<Path> segmentFiles() throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.getFileName().toString().startsWith("segment-")).sorted().toList();
        }
    }

    @Test
    void entriesReadBackAcrossRollOversAndRestarts() throws IOException {
        SegmentLogStorage storage = open();
        assertEquals(1, storage.getFirstLogIndex());
        assertEquals(0, storage.getLastLogIndex());
        append(storage, 1, 300, 1);
        assertEntries(storage, 1, 300, index -> 1);
        assertTrue(segmentFiles().size() > 5, "300 entries of up to 1 KB fill several 16 KB segments");
        storage.shutdown();

        storage = open();
        assertEntries(storage, 1, 300, index -> 1);
        append(storage, 301, 320, 2);
        storage.shutdown();
        storage = open();
        assertEntries(storage, 1, 320, index -> index <= 300 ? 1 : 2);
        storage.shutdown();
    }

    @Test
    void anEntryLargerThanASegmentGetsAFileOfItsOwn() throws IOException {
        SegmentLogStorage storage = open();
        append(storage, 1, 3, 1);
        LogEntry large = new LogEntry(EntryType.ENTRY_TYPE_DATA);
        large.setId(new LogId(4, 1));
        byte[] data = new byte[(int) SEGMENT_BYTES * 3];
        new Random(4).nextBytes(data);
        large.setData(ByteBuffer.wrap(data));
        assertEquals(1, storage.appendEntries(List.of(large)));
        assertEquals(1, storage.appendEntries(List.of(entry(5, 1))));
        storage.shutdown();
        storage = open();
        assertArrayEquals(data, bytes(storage.getEntry(4).getData()));
        assertArrayEquals(payload(5, 1), bytes(storage.getEntry(5).getData()));
        storage.shutdown();
    }

    @Test
    void configurationEntriesAreHandedToJraftOnOpen() {
        SegmentLogStorage storage = open();
        append(storage, 1, 10, 1);
        assertEquals(1, storage.appendEntries(List.of(configuration(11, 1, "127.0.0.1:1", "127.0.0.1:2"))));
        append(storage, 12, 40, 1);
        assertEquals(1, storage.appendEntries(List.of(configuration(41, 2, "127.0.0.1:1", "127.0.0.1:3"))));
        storage.shutdown();

        ConfigurationManager configurations = new ConfigurationManager();
        storage = open(directory, configurations);
        assertEquals(41, configurations.getLastConfiguration().getId().getIndex());
        assertTrue(configurations.getLastConfiguration().getConf().contains(PeerId.parsePeer("127.0.0.1:3")));
        assertEquals(11, configurations.get(20).getId().getIndex());
        assertEquals(EntryType.ENTRY_TYPE_CONFIGURATION, storage.getEntry(11).getType());
        storage.shutdown();
    }

    @Test
    void prefixTruncationFreesWholeSegmentsAndIsDurable() throws IOException {
        SegmentLogStorage storage = open();
        append(storage, 1, 300, 1);
        int before = segmentFiles().size();
        assertTrue(storage.truncatePrefix(200));
        assertEntries(storage, 200, 300, index -> 1);
        assertNull(storage.getEntry(150));
        assertTrue(segmentFiles().size() < before, "segments wholly before 200 are freed");
        storage.shutdown();
        storage = open();
        assertEntries(storage, 200, 300, index -> 1);

        // past the end: an empty log that goes on at the first index kept
        assertTrue(storage.truncatePrefix(400));
        assertEquals(400, storage.getFirstLogIndex());
        assertEquals(399, storage.getLastLogIndex());
        storage.shutdown();
        storage = open();
        assertEquals(400, storage.getFirstLogIndex());
        assertEquals(399, storage.getLastLogIndex());
        append(storage, 400, 410, 3);
        storage.shutdown();
        storage = open();
        assertEntries(storage, 400, 410, index -> 3);
        storage.shutdown();
    }

    @Test
    void resetEmptiesTheLogAtTheNextIndex() {
        SegmentLogStorage storage = open();
        append(storage, 1, 100, 1);
        assertTrue(storage.reset(51));
        assertEquals(51, storage.getFirstLogIndex());
        assertEquals(50, storage.getLastLogIndex());
        assertNull(storage.getEntry(51));
        storage.shutdown();
        storage = open();
        assertEquals(51, storage.getFirstLogIndex());
        assertEquals(50, storage.getLastLogIndex());
        append(storage, 51, 60, 4);
        storage.shutdown();
        storage = open();
        assertEntries(storage, 51, 60, index -> 4);
        storage.shutdown();
    }

    /**
     * The case a segment log can get wrong: after a suffix truncation, entries of the same size are
     * appended where the truncated ones were; the truncated ones after them must never come back,
     * whatever their checksums say.
     */
    @Test
    void truncatedEntriesNeverComeBack() {
        SegmentLogStorage storage = open();
        append(storage, 1, 60, 1);
        assertTrue(storage.truncateSuffix(40));
        assertEntries(storage, 1, 40, index -> 1);
        LogEntry sameSize = entry(41, 1);   // the very bytes of the old 41: a scan could not tell them apart
        assertEquals(1, storage.appendEntries(List.of(sameSize)));
        storage.shutdown();   // as if the node died right after

        storage = open();
        assertEntries(storage, 1, 41, index -> 1);
        append(storage, 42, 45, 2);
        storage.shutdown();
        storage = open();
        assertEntries(storage, 1, 45, index -> index <= 41 ? 1 : 2);
        storage.shutdown();
    }

    /**
     * Random appends, truncations, resets and restarts against a model (the term of each index kept):
     * after every step the log holds exactly the model's entries.
     */
    @Test
    void randomOperationsMatchAModel() {
        for (int seed = 1; seed <= 6; seed++) {
            randomOperationsMatchAModel(seed);
        }
    }

    private void randomOperationsMatchAModel(int seed) {
        Random random = new Random(seed);
        Path seedDirectory = directory.resolve("seed-" + seed);
        SegmentLogStorage storage = open(seedDirectory, new ConfigurationManager());
        long first = 1;
        List<Long> terms = new ArrayList<>();   // terms.get(i) is the term of entry first + i
        long term = 1;
        for (int step = 0; step < 400; step++) {
            long last = first + terms.size() - 1;
            int operation = random.nextInt(20);
            if (operation < 11) {
                int count = 1 + random.nextInt(random.nextInt(10) == 0 ? 60 : 8);
                append(storage, last + 1, last + count, term);
                for (int i = 0; i < count; i++) {
                    terms.add(term);
                }
            } else if (operation < 14) {
                long keep = last - random.nextInt((int) Math.min(terms.size(), 40) + 1);
                assertTrue(storage.truncateSuffix(keep));
                terms.subList((int) (keep - first + 1), terms.size()).clear();
                term++;   // as after a leader change
            } else if (operation < 17) {
                long firstKept = first + random.nextInt(terms.size() + 3);
                assertTrue(storage.truncatePrefix(firstKept));
                if (firstKept > first) {
                    terms.subList(0, (int) Math.min(terms.size(), firstKept - first)).clear();
                    first = firstKept;
                }
            } else if (operation < 18) {
                long next = last + 1 + random.nextInt(5);
                assertTrue(storage.reset(next));
                terms.clear();
                first = next;
            } else {
                storage.shutdown();
                storage = open(seedDirectory, new ConfigurationManager());
            }
            long expectedFirst = first;
            List<Long> expectedTerms = terms;
            assertEntries(storage, first, first + terms.size() - 1, index -> expectedTerms.get((int) (index - expectedFirst)));
        }
        storage.shutdown();
    }

    /** A torn or corrupted tail (a write the crash cut short) is cut off at the last whole record; appends go on after it. */
    @Test
    void aTornOrCorruptedTailIsCutAtTheLastWholeRecord() throws IOException {
        Random random = new Random(42);
        for (int trial = 0; trial < 30; trial++) {
            Path trialDirectory = directory.resolve("trial-" + trial);
            SegmentLogStorage storage = open(trialDirectory, new ConfigurationManager());
            append(storage, 1, 50, 1);
            storage.shutdown();
            List<Path> segments;
            try (Stream<Path> files = Files.list(trialDirectory)) {
                segments = files.filter(f -> f.getFileName().toString().startsWith("segment-")).sorted().toList();
            }
            Path last = segments.get(segments.size() - 1);
            long used = usedBytes(last);
            long cut = Segment.HEADER_BYTES + (long) (random.nextDouble() * (used - Segment.HEADER_BYTES));
            try (RandomAccessFile file = new RandomAccessFile(last.toFile(), "rw")) {
                if (trial % 2 == 0) {
                    file.seek(cut);   // torn: what follows never reached the disk
                    file.write(new byte[(int) (used - cut)]);
                } else {
                    file.seek(cut);   // corrupted: one byte flipped
                    int b = file.read();
                    file.seek(cut);
                    file.write(b ^ 0x5a);
                }
            }
            storage = open(trialDirectory, new ConfigurationManager());
            long kept = storage.getLastLogIndex();
            assertTrue(kept < 50 && kept >= firstIndexOf(last) - 1, "trial " + trial + ": the tail after the damage is cut, kept " + kept);
            assertEntries(storage, 1, kept, index -> 1);
            append(storage, kept + 1, 60, 2);
            storage.shutdown();
            storage = open(trialDirectory, new ConfigurationManager());
            assertEntries(storage, 1, 60, index -> index <= kept ? 1 : 2);
            storage.shutdown();
        }
    }

    /** Damage before the last segment is not a torn write: with fsync on, the log refuses to open. */
    @Test
    void aCorruptedEarlierSegmentRefusesToOpen() throws IOException {
        SegmentLogStorage storage = open();
        append(storage, 1, 300, 1);
        storage.shutdown();
        Path early = segmentFiles().get(1);
        try (RandomAccessFile file = new RandomAccessFile(early.toFile(), "rw")) {
            file.seek(Segment.HEADER_BYTES + 100);
            int b = file.read();
            file.seek(Segment.HEADER_BYTES + 100);
            file.write(b ^ 0xff);
        }
        SegmentLogStorage reopened = new SegmentLogStorage(directory, true, SEGMENT_BYTES);
        assertFalse(reopened.init(options(new ConfigurationManager())), "synced entries are missing: the node must not start on this log");
    }

    @Test
    void aLogWrittenByTheOtherStoreIsRefused() throws IOException {
        SegmentLogStorage storage = open();
        append(storage, 1, 3, 1);
        storage.shutdown();
        IllegalStateException refused = assertThrows(IllegalStateException.class, () -> LogStore.ROCKSDB.checkMatches(directory));
        assertTrue(refused.getMessage().contains("--log-store segment"), refused.getMessage());
        LogStore.SEGMENT.checkMatches(directory);
        Path rocksdb = Files.createDirectories(directory.resolve("rocks"));
        Files.writeString(rocksdb.resolve("CURRENT"), "MANIFEST-000001\n");
        assertThrows(IllegalStateException.class, () -> LogStore.SEGMENT.checkMatches(rocksdb));
    }

    @Test
    void segmentsHoldAQuarterOfTheLogBetweenSnapshotsWithinBounds() {
        long megabyte = 1024 * 1024;
        assertEquals(16 * megabyte, SegmentLogStorage.segmentBytesFor(64 * megabyte), "-m 64's default: a snapshot every 64 MB of log");
        assertEquals(4 * megabyte, SegmentLogStorage.segmentBytesFor(megabyte));
        assertEquals(64 * megabyte, SegmentLogStorage.segmentBytesFor(1024 * megabyte));
        assertEquals(64 * megabyte, SegmentLogStorage.segmentBytesFor(0), "no snapshots by log size");
    }

    @Test
    void withoutTheFlagANodeTakesTheStoreItsLogWasWrittenIn() throws IOException {
        Path segmentNode = directory.resolve("segment-node");
        assertEquals(LogStore.DEFAULT, LogStore.forDataDirectory(segmentNode), "a new node");
        SegmentLogStorage storage = open(Files.createDirectories(LogStore.logDirectory(segmentNode)), new ConfigurationManager());
        append(storage, 1, 3, 1);
        storage.shutdown();
        assertEquals(LogStore.SEGMENT, LogStore.forDataDirectory(segmentNode));

        Path sparesOnly = Files.createDirectories(LogStore.logDirectory(directory.resolve("spares-only-node")));
        Files.write(sparesOnly.resolve(SegmentDirectory.SPARE_PREFIX + "0"), new byte[4096]);
        assertEquals(LogStore.SEGMENT, LogStore.forDataDirectory(directory.resolve("spares-only-node")),
                "a segment log that never held an entry");
        assertThrows(IllegalStateException.class, () -> LogStore.ROCKSDB.checkMatches(sparesOnly),
                "RocksDB is not opened among a segment log's spares");

        Path rocksdbNode = directory.resolve("rocksdb-node");
        Files.createDirectories(LogStore.logDirectory(rocksdbNode));
        assertEquals(LogStore.DEFAULT, LogStore.forDataDirectory(rocksdbNode), "an empty log directory holds no log yet");
        Files.writeString(LogStore.logDirectory(rocksdbNode).resolve("CURRENT"), "MANIFEST-000001\n");
        assertEquals(LogStore.ROCKSDB, LogStore.forDataDirectory(rocksdbNode), "a node RocksDB wrote keeps RocksDB");
    }

    /**
     * A real process appends with fsync on and prints the last index of each batch once appended;
     * it is killed -9 at a random moment, three times over the same directory. Every entry it
     * reported is read back, byte for byte, and the log stays one run of entries.
     */
    @Test
    void killedMidAppendLosesNothingItReported() throws Exception {
        long reported = 0;
        Random random = new Random(7);
        for (int round = 0; round < 3; round++) {
            Process writer = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx64m", "-XX:ActiveProcessorCount=1", "-cp", System.getProperty("java.class.path"),
                    Appender.class.getName(), directory.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            long killAfter = 200 + random.nextInt(400);
            long seen = 0;
            try (BufferedReader lines = new BufferedReader(new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                    if (line.startsWith("appended ")) {
                        reported = Math.max(reported, Long.parseLong(line.substring(9)));
                        if (++seen == killAfter) {
                            // SIGKILL by pid, mid-stream; its last lines still arrive (destroy would close the pipe)
                            new ProcessBuilder("kill", "-9", Long.toString(writer.pid())).start().waitFor();
                        }
                    } else if (!line.startsWith("opened ")) {
                        throw new AssertionError("appender: " + line);   // it could not open or append
                    }
                }
            } finally {
                writer.destroyForcibly();
                assertTrue(writer.waitFor(30, TimeUnit.SECONDS));
            }
            assertTrue(seen >= killAfter, "round " + round + ": the appender ran until killed (" + seen + " batches)");
            SegmentLogStorage storage = open();
            assertTrue(storage.getLastLogIndex() >= reported,
                    "round " + round + ": reported " + reported + ", the log ends at " + storage.getLastLogIndex());
            assertEntries(storage, 1, storage.getLastLogIndex(), index -> 1);
            storage.shutdown();
        }
    }

    /** The killed process of {@link #killedMidAppendLosesNothingItReported}: appends batches forever. */
    public static final class Appender {
        public static void main(String[] args) {
            SegmentLogStorage storage = new SegmentLogStorage(Path.of(args[0]), true, SEGMENT_BYTES);
            if (!storage.init(options(new ConfigurationManager()))) {
                System.out.println("cannot open");
                System.exit(1);
            }
            long next = storage.getLastLogIndex() + 1;
            System.out.println("opened " + next);
            Random random = new Random(next);
            for (long batches = 0; batches < 1_000_000; batches++) {
                List<LogEntry> batch = new ArrayList<>();
                for (int i = 1 + random.nextInt(5); i > 0; i--) {
                    batch.add(entry(next++, 1));
                }
                if (storage.appendEntries(batch) != batch.size()) {
                    System.out.println("append failed");
                    System.exit(1);
                }
                System.out.println("appended " + (next - 1));
            }
        }
    }

    private static long firstIndexOf(Path segment) {
        return Long.parseLong(segment.getFileName().toString().substring("segment-".length()));
    }

    /** Where a closed segment's records end: past it the file holds zeros. */
    private static long usedBytes(Path segment) throws IOException {
        byte[] bytes = Files.readAllBytes(segment);
        int end = bytes.length;
        while (end > Segment.HEADER_BYTES && bytes[end - 1] == 0) {
            end--;
        }
        return end;
    }
}
