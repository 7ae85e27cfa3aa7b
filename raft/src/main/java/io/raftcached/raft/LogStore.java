package io.raftcached.raft;

import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.storage.LogStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.BiFunction;
import java.util.stream.Stream;

/**
 * Which store holds the Raft log ({@code --log-store}). A node keeps the store its log was
 * written in: starting it with the other one is refused, with what to do, rather than starting
 * it with an empty log beside the real one.
 */
public enum LogStore {
    /** jraft's RocksDB log storage: one synced RocksDB write-ahead-log append per batch. */
    ROCKSDB,
    /** {@link SegmentLogStorage}: preallocated segment files, one write and one fdatasync per batch. */
    SEGMENT;

    /** The flag's spelling. */
    public String flagValue() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    LogStorage create(String uri, RaftOptions options, BiFunction<String, RaftOptions, LogStorage> rocksdb) {
        return this == SEGMENT ? new SegmentLogStorage(Path.of(uri), options.isSync(), SegmentLogStorage.SEGMENT_BYTES_DEFAULT)
                : rocksdb.apply(uri, options);
    }

    /** Refuses a log directory written by the other store. */
    void checkMatches(Path logDirectory) throws IOException {
        if (!Files.isDirectory(logDirectory)) {
            return;
        }
        boolean rocksdb = Files.exists(logDirectory.resolve("CURRENT"));
        boolean segment;
        try (Stream<Path> files = Files.list(logDirectory)) {
            segment = files.anyMatch(file -> file.getFileName().toString().startsWith(SegmentDirectory.SEGMENT_PREFIX)
                    || file.getFileName().toString().equals("first-index"));
        }
        LogStore found = rocksdb ? ROCKSDB : segment ? SEGMENT : null;
        if (found != null && found != this) {
            throw new IllegalStateException("the Raft log in " + logDirectory + " was written by the " + found.flagValue()
                    + " log store: start this node with --log-store " + found.flagValue()
                    + ", or, to change stores, remove the node, wipe its data directory and add it back (it resyncs from the others)");
        }
    }
}
