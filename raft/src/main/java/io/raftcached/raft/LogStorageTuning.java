package io.raftcached.raft;

import com.alipay.sofa.jraft.storage.impl.RocksDBLogStorage;
import com.alipay.sofa.jraft.util.StorageOptionsFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.CompactionStyle;
import org.rocksdb.CompressionType;
import org.rocksdb.DBOptions;
import org.rocksdb.NativeLibraryLoader;

/**
 * RocksDB settings for the Raft log, registered before any node opens it. jraft's defaults are
 * sized for a database: memtables of up to 128 MB each, several of them, which the log of a
 * cache does not need (it is truncated behind every snapshot) and which would dwarf the store's
 * own memory. (Recycling WAL files would make each synced append cheaper, but RocksDB turns
 * recycling off under every recovery mode a Raft log can use, see RocksDbWalRecyclingTest; the
 * segment store, {@code --log-store segment}, is the way to that saving.)
 *
 * <p>RocksDB's native library is unpacked under the data directory under a fixed name rather than
 * as a fresh temporary file: a node that is killed never deletes its temporary files, and a
 * crash-looping node would otherwise fill {@code /tmp} 13 MB at a time.
 */
final class LogStorageTuning {
    private static final long MEMTABLE_BYTES = 16L * 1024 * 1024;
    private static boolean registered;

    private LogStorageTuning() {}

    static synchronized void register(Path dataDirectory) throws IOException {
        if (registered) {
            return;
        }
        Path nativeDirectory = Files.createDirectories(dataDirectory.resolve("native"));
        NativeLibraryLoader.getInstance().loadLibrary(nativeDirectory.toString());
        DBOptions db = StorageOptionsFactory.getDefaultRocksDBOptions();
        db.setMaxTotalWalSize(4 * MEMTABLE_BYTES);
        StorageOptionsFactory.registerRocksDBOptions(RocksDBLogStorage.class, db);
        ColumnFamilyOptions columns = new ColumnFamilyOptions()
                .setWriteBufferSize(MEMTABLE_BYTES)
                .setMaxWriteBufferNumber(2)
                .setMinWriteBufferNumberToMerge(1)
                .setLevel0FileNumCompactionTrigger(4)
                .setCompactionStyle(CompactionStyle.LEVEL)
                .setCompressionType(CompressionType.LZ4_COMPRESSION)
                .setTargetFileSizeBase(MEMTABLE_BYTES)
                .setMaxBytesForLevelBase(4 * MEMTABLE_BYTES);
        StorageOptionsFactory.registerRocksDBColumnFamilyOptions(RocksDBLogStorage.class, columns);
        registered = true;
    }
}
