package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.WALRecoveryMode;

/**
 * The "cheap route" of the performance issue, recorded: RocksDB reuses write-ahead-log files
 * (so a synced append overwrites allocated blocks, as the segment store does) only under a recovery
 * mode that skips corrupted records anywhere in the log, which would drop synced Raft entries
 * silently; under every mode a Raft log can use it turns recycling off. If a RocksDB upgrade
 * changes this, this test fails and the choice of log store is worth measuring again.
 */
class RocksDbWalRecyclingTest {
    private static final Pattern RECYCLE = Pattern.compile("Options\\.recycle_log_file_num: (\\d+)");

    @TempDir
    Path directory;

    @Test
    void rocksDbRecyclesWalFilesOnlyWhenSkippingCorruptedRecords() throws Exception {
        RocksDB.loadLibrary();
        Map<WALRecoveryMode, Integer> recycled = new LinkedHashMap<>();
        for (WALRecoveryMode mode : WALRecoveryMode.values()) {
            Path db = directory.resolve(mode.name());
            try (Options options = new Options().setCreateIfMissing(true).setRecycleLogFileNum(4).setWalRecoveryMode(mode);
                    RocksDB rocks = RocksDB.open(options, db.toString())) {
                rocks.put(new byte[] {1}, new byte[] {1});
            }
            Matcher matcher = RECYCLE.matcher(Files.readString(db.resolve("LOG")));
            recycled.put(mode, matcher.find() ? Integer.parseInt(matcher.group(1)) : -1);
        }
        assertEquals(Map.of(WALRecoveryMode.TolerateCorruptedTailRecords, 0, WALRecoveryMode.AbsoluteConsistency, 0,
                WALRecoveryMode.PointInTimeRecovery, 0, WALRecoveryMode.SkipAnyCorruptedRecords, 4), recycled);
    }
}
