package io.raftcached.store.bench;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;

/**
 * {@link Store#apply} of sets into a full 64 MB store, so that every set evicts the item at the
 * tail of its class's LRU: 100-byte values, keys cycling through {@link #KEYS} names, half again
 * as many as the store holds, so the key about to be set was always evicted long ago and every set
 * is a new item. Setup fills the store past its limit and checks that it evicts; every iteration
 * checks that it evicted once per set. {@link Store#maintain} runs every {@link #BATCH} sets, as
 * the state machine runs it after each batch. Reports nanoseconds per set (compare with
 * {@code StoreSetBenchmark.insert}, which sets into a store with room).
 *
 * <p>Run: {@code bench/jmh.sh StoreEviction}, or {@code StoreEvictionBenchmark.main} from the
 * test classpath.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StoreEvictionBenchmark {
    static final long MEMORY_BYTES = 64L * StoreConfig.MEGABYTE;
    static final int VALUE_BYTES = 100;
    /** About 1.7 times what 64 MB holds of these items (about 350 000 in 192-byte chunks). */
    static final int KEYS = 600_000;
    static final int BATCH = 64;
    static final long NOW_MILLIS = 1_790_000_000_000L;

    private Store store;
    private Command[] commands;
    private int cursor;
    private int sinceMaintain;
    private long setsAtIterationStart;
    private long evictionsAtIterationStart;
    private long sets;

    @Setup(Level.Trial)
    public void fill() {
        ByteString value = ByteString.copyFrom("v".repeat(VALUE_BYTES), StandardCharsets.US_ASCII);
        commands = new Command[KEYS];
        for (int i = 0; i < KEYS; i++) {
            commands[i] = Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                    .setKey(ByteString.copyFrom("key:" + i, StandardCharsets.US_ASCII)).setValue(value).build();
        }
        store = new Store(StoreConfig.withMemory(MEMORY_BYTES), 42);
        store.advanceClock(NOW_MILLIS);
        for (Command command : commands) {
            set(command);
        }
        store.maintain();
        long held = store.currentItems();
        if (held >= KEYS * 2L / 3 || evictions() != KEYS - held) {
            throw new IllegalStateException("a 64 MB store should hold well under " + KEYS * 2 / 3 + " items and have evicted the rest;"
                    + " it holds " + held + " and evicted " + evictions());
        }
        if (store.mallocedBytes() < MEMORY_BYTES - 2L * StoreConfig.MEGABYTE) {
            throw new IllegalStateException("store is not full: " + store.mallocedBytes() + " bytes malloced");
        }
    }

    private long evictions() {
        long evicted = 0;
        for (int classId = 1; classId <= store.slabClasses().largestClass(); classId++) {
            evicted += store.slabStats(classId).evicted;
        }
        return evicted;
    }

    private StoreResult set(Command command) {
        StoreResult result = store.apply(command, false);
        if (result.status != StoreResult.Status.STORED) {
            throw new IllegalStateException("set " + command.getKey().toStringUtf8() + ": " + result);
        }
        sets++;
        return result;
    }

    @Setup(Level.Iteration)
    public void mark() {
        setsAtIterationStart = sets;
        evictionsAtIterationStart = evictions();
    }

    @TearDown(Level.Iteration)
    public void checkEveryPutEvicted() {
        long setsDone = sets - setsAtIterationStart;
        long evicted = evictions() - evictionsAtIterationStart;
        if (setsDone == 0 || evicted != setsDone) {
            throw new IllegalStateException(setsDone + " sets evicted " + evicted + " items, expected one each");
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        store.close();
    }

    @Benchmark
    public StoreResult setEvicting() {
        StoreResult result = set(commands[cursor]);
        if (++cursor == KEYS) {
            cursor = 0;
        }
        if (++sinceMaintain == BATCH) {
            sinceMaintain = 0;
            store.maintain();
        }
        return result;
    }

    public static void main(String[] args) throws RunnerException {
        new Runner(new OptionsBuilder().include(StoreEvictionBenchmark.class.getSimpleName()).build()).run();
    }
}
