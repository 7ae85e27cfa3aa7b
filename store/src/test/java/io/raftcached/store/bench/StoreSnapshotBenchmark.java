package io.raftcached.store.bench;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.store.StoreSnapshot;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * Snapshots of a store holding 256 MB of slab pages (about 1.4 million items with 100-byte values):
 * <ul>
 *   <li>{@code begin}: {@link Store#beginSnapshot}, the part that holds the apply thread (header,
 *       page table, arming copy-on-write), measured together with {@link StoreSnapshot#close},
 *       which the API needs before the next begin and which costs a pass over the page states.
 *       Microseconds.</li>
 *   <li>{@code writeFile}: begin, write every page to a file in a temp dir the way the node's
 *       snapshot files do (positional writes of each 1 MB page), optionally fsync, close.
 *       Milliseconds per whole snapshot, one snapshot per measurement ({@code fsync=true} is
 *       what the node does; {@code false} leaves the data in the page cache).</li>
 *   <li>{@code setWhileWriting} vs {@code setAlone}: overwrites of existing keys, scattered over
 *       the whole store, on the apply thread, with and without a snapshot being written by another
 *       thread (to a file, no fsync). A new snapshot begins as soon as the last one is written, so
 *       the whole measurement runs under copy-on-write; the cost of the page copies apply makes
 *       and of each begin is included. {@code snapshots} and {@code bytesCopied} count the
 *       snapshots completed and the bytes apply copied aside for them, summed over the
 *       measurement iterations.
 *       Nanoseconds per set.</li>
 * </ul>
 *
 * <p>Run: {@code bench/jmh.sh StoreSnapshot}, or {@code StoreSnapshotBenchmark.main} from the test
 * classpath. Needs about 600 MB of native memory (the store and up to 256 MB of page copies) and
 * 256 MB in the temp dir.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StoreSnapshotBenchmark {
    static final long HELD_BYTES = 256L * StoreConfig.MEGABYTE;
    /** Room above what is held, so overwrites never have to evict. */
    static final long MEMORY_BYTES = HELD_BYTES + 32L * StoreConfig.MEGABYTE;
    static final int VALUE_BYTES = 100;
    static final int OVERWRITE_KEYS = 100_000;
    /** Coprime with {@link #OVERWRITE_KEYS}: stepping by it visits every key, scattered. */
    static final int STRIDE = 7_919;
    static final int BATCH = 64;
    static final long NOW_MILLIS = 1_790_000_000_000L;
    static final int PAGE_BYTES = StoreConfig.SLAB_PAGE_SIZE_BYTES;

    static Command set(int key, ByteString value) {
        return Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                .setKey(ByteString.copyFrom("key:" + key, StandardCharsets.US_ASCII)).setValue(value).build();
    }

    static StoreResult applySet(Store store, Command command) {
        StoreResult result = store.apply(command, false);
        if (result.status != StoreResult.Status.STORED) {
            throw new IllegalStateException("set " + command.getKey().toStringUtf8() + ": " + result);
        }
        return result;
    }

    /** The store, filled with new keys until its slab pages hold {@link #HELD_BYTES}. */
    @State(Scope.Benchmark)
    public static class Full {
        Store store;
        long items;
        /** Sets of {@link #OVERWRITE_KEYS} existing keys spread evenly over all of them. */
        Command[] overwrites;

        @Setup(Level.Trial)
        public void fill() {
            ByteString value = ByteString.copyFrom("v".repeat(VALUE_BYTES), StandardCharsets.US_ASCII);
            store = new Store(StoreConfig.withMemory(MEMORY_BYTES), 42);
            store.advanceClock(NOW_MILLIS);
            int key = 0;
            while (store.mallocedBytes() < HELD_BYTES) {
                applySet(store, set(key++, value));
                if (key % BATCH == 0) {
                    store.maintain();
                }
            }
            store.maintain();
            items = key;
            if (store.currentItems() != items || evictions() != 0) {
                throw new IllegalStateException("store holds " + store.currentItems() + " of " + items
                        + " items set, " + evictions() + " evicted");
            }
            overwrites = new Command[OVERWRITE_KEYS];
            for (int i = 0; i < OVERWRITE_KEYS; i++) {
                overwrites[i] = set((int) (i * items / OVERWRITE_KEYS), value);
            }
        }

        private long evictions() {
            long evicted = 0;
            for (int classId = 1; classId <= store.slabClasses().largestClass(); classId++) {
                evicted += store.slabStats(classId).evicted;
            }
            return evicted;
        }

        @TearDown(Level.Trial)
        public void close() {
            if (store.currentItems() != items) {
                throw new IllegalStateException("overwrites changed the item count to " + store.currentItems());
            }
            store.close();
        }
    }

    /** Page writes to one file, page N at (N-1) * page size, as the node's store.pages. */
    static final class PagesFile implements StoreSnapshot.PageSink {
        private final FileChannel channel;

        PagesFile(Path file) throws IOException {
            channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING);
        }

        @Override
        public void write(long offsetBytes, ByteBuffer bytes) throws IOException {
            long position = offsetBytes;
            while (bytes.hasRemaining()) {
                position += channel.write(bytes, position);
            }
        }

        long size() throws IOException {
            return channel.size();
        }

        void force() throws IOException {
            channel.force(true);
        }

        void close() throws IOException {
            channel.close();
        }
    }

    static void delete(Path directory) throws IOException {
        if (directory != null) {
            Files.deleteIfExists(directory.resolve("store.pages"));
            Files.deleteIfExists(directory);
        }
    }

    // --- begin ------------------------------------------------------------------------------------

    private static final StoreSnapshot.PageSink NO_WRITES = (offsetBytes, bytes) -> {
        throw new IllegalStateException("nothing was applied, yet bytes at " + offsetBytes + " were written");
    };

    @Benchmark
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public int begin(Full full) {
        StoreSnapshot snapshot = full.store.beginSnapshot(NO_WRITES);
        int pages = snapshot.pageCount();
        snapshot.close();
        return pages;
    }

    // --- a whole snapshot to a file ---------------------------------------------------------------

    @State(Scope.Thread)
    public static class Target {
        @Param({"false", "true"})
        public boolean fsync;

        Path directory;
        PagesFile file;
        int pagesExpected;

        @Setup(Level.Trial)
        public void createDirectory() throws IOException {
            directory = Files.createTempDirectory("raftcached-snapshot-bench");
        }

        @Setup(Level.Invocation)
        public void open() throws IOException {
            file = new PagesFile(directory.resolve("store.pages"));
        }

        @TearDown(Level.Invocation)
        public void checkAndClose() throws IOException {
            long size = file.size();
            file.close();
            if (pagesExpected < HELD_BYTES / PAGE_BYTES || size != (long) pagesExpected * PAGE_BYTES) {
                throw new IllegalStateException("snapshot file holds " + size + " bytes for " + pagesExpected + " pages");
            }
        }

        @TearDown(Level.Trial)
        public void deleteDirectory() throws IOException {
            delete(directory);
        }
    }

    @Benchmark
    @BenchmarkMode(Mode.SingleShotTime)
    @OutputTimeUnit(TimeUnit.MILLISECONDS)
    @Warmup(iterations = 2)
    @Measurement(iterations = 5)
    public int writeFile(Full full, Target target) throws IOException {
        StoreSnapshot snapshot = full.store.beginSnapshot(target.file);
        try {
            snapshot.writePages();
            if (target.fsync) {
                target.file.force();
            }
        } finally {
            snapshot.close();
        }
        target.pagesExpected = snapshot.pageCount();
        return snapshot.pageCount();
    }

    // --- sets with and without a snapshot being written -------------------------------------------

    /** The apply thread's position in the overwrite keys. */
    @State(Scope.Thread)
    public static class Writer {
        int cursor;
        int sinceMaintain;

        StoreResult overwrite(Full full) {
            int i = cursor + STRIDE;
            cursor = i >= OVERWRITE_KEYS ? i - OVERWRITE_KEYS : i;
            StoreResult result = applySet(full.store, full.overwrites[cursor]);
            if (++sinceMaintain == BATCH) {
                sinceMaintain = 0;
                full.store.maintain();
            }
            return result;
        }
    }

    /**
     * Keeps a snapshot being written by another thread; the apply thread begins the next one as
     * soon as the last is written. Public long fields are JMH counters (reset every iteration,
     * summed in the result).
     */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.EVENTS)
    public static class Dumper {
        public long snapshots;
        public long bytesCopied;

        private Path directory;
        private PagesFile file;
        private ExecutorService thread;
        private StoreSnapshot snapshot;
        private Future<?> written;

        @Setup(Level.Trial)
        public void start() throws IOException {
            directory = Files.createTempDirectory("raftcached-snapshot-bench");
            file = new PagesFile(directory.resolve("store.pages"));
            thread = Executors.newSingleThreadExecutor(task -> {
                Thread t = new Thread(task, "snapshot-dumper");
                t.setDaemon(true);
                return t;
            });
        }

        @Setup(Level.Iteration)
        public void beginFirst(Full full) {
            snapshots = 0;
            bytesCopied = 0;
            begin(full.store);
        }

        private void begin(Store store) {
            StoreSnapshot next = store.beginSnapshot(file);
            snapshot = next;
            written = thread.submit(() -> {
                next.writePages();
                return null;
            });
        }

        /** On the apply thread, between sets. */
        void poll(Store store) throws ExecutionException, InterruptedException {
            if (written.isDone()) {
                written.get();   // rethrows a failed write
                snapshots++;
                bytesCopied += snapshot.bytesCopiedByApply();
                snapshot.close();
                begin(store);
            }
        }

        @TearDown(Level.Iteration)
        public void finishLast() throws ExecutionException, InterruptedException {
            written.get();
            snapshot.close();
        }

        @TearDown(Level.Trial)
        public void stop() throws IOException {
            thread.shutdownNow();
            file.close();
            delete(directory);
        }
    }

    @Benchmark
    public StoreResult setAlone(Full full, Writer writer) {
        return writer.overwrite(full);
    }

    @Benchmark
    public StoreResult setWhileWriting(Full full, Writer writer, Dumper dumper) throws Exception {
        StoreResult result = writer.overwrite(full);
        if (writer.sinceMaintain == 0) {
            dumper.poll(full.store);
        }
        return result;
    }

    public static void main(String[] args) throws RunnerException {
        new Runner(new OptionsBuilder().include(StoreSnapshotBenchmark.class.getSimpleName()).build()).run();
    }
}
