package io.raftcached.raft;

import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.storage.LogStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * Which store holds the Raft log ({@code --log-store}). A node keeps the store its log was
 * written in: started without the flag it opens that store, started with the other one it is
 * refused, with what to do, rather than starting with an empty log beside the real one. A new
 * node without the flag takes {@link #DEFAULT}.
 */
public enum LogStore {
    /** jraft's RocksDB log storage: one synced RocksDB write-ahead-log append per batch. */
    ROCKSDB,
    /** {@link SegmentLogStorage}: preallocated segment files, one write and one fdatasync per batch. */
    SEGMENT;

    /** A new node's store: fewer and cheaper fsyncs, and no native library or memtables. */
    public static final LogStore DEFAULT = SEGMENT;

    /** The flag's spelling. */
    public String flagValue() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    LogStorage create(String uri, RaftOptions options, long snapshotLogBytes, BiFunction<String, RaftOptions, LogStorage> rocksdb) {
        return this == SEGMENT ? new SegmentLogStorage(Path.of(uri), options.isSync(), SegmentLogStorage.segmentBytesFor(snapshotLogBytes))
                : rocksdb.apply(uri, options);
    }

    /** Where a node keeps its Raft log, under its data directory. */
    static Path logDirectory(Path dataDirectory) {
        return dataDirectory.resolve("raft").resolve("log");
    }

    /** The store for a node started without {@code --log-store}: the one its log was written in, else {@link #DEFAULT}. */
    public static LogStore forDataDirectory(Path dataDirectory) throws IOException {
        return writtenIn(logDirectory(dataDirectory)).orElse(DEFAULT);
    }

    /** Refuses a log directory written by the other store. */
    void checkMatches(Path logDirectory) throws IOException {
        Optional<LogStore> written = writtenIn(logDirectory);
        if (written.isPresent() && written.get() != this) {
            LogStore found = written.get();
            throw new IllegalStateException("the Raft log in " + logDirectory + " was written by the " + found.flagValue()
                    + " log store: start this node with --log-store " + found.flagValue()
                    + " (or without --log-store), or, to change stores, remove the node, wipe its data directory and add it back"
                    + " (it resyncs from the others)");
        }
    }

    private static Optional<LogStore> writtenIn(Path logDirectory) throws IOException {
        if (!Files.isDirectory(logDirectory)) {
            return Optional.empty();
        }
        if (Files.exists(logDirectory.resolve("CURRENT"))) {
            return Optional.of(ROCKSDB);
        }
        // A segment log that never held an entry has only its spares: still the segment store's directory.
        try (Stream<Path> files = Files.list(logDirectory)) {
            boolean segment = files.map(file -> file.getFileName().toString()).anyMatch(name -> name.equals("first-index")
                    || name.startsWith(SegmentDirectory.SEGMENT_PREFIX) || name.startsWith(SegmentDirectory.SPARE_PREFIX));
            return segment ? Optional.of(SEGMENT) : Optional.empty();
        }
    }
}
