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
import org.openjdk.jmh.annotations.OperationsPerInvocation;
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
 * {@link Store#apply} of memcached sets with 100-byte values over 100 000 keys, on the apply thread
 * alone (no readers): {@code insert} sets every key once into a fresh, empty 64 MB store (room for
 * all of them, so no evictions; includes growing the index and taking new slab pages),
 * {@code overwrite} sets keys that already exist, in a scattered order, in a store that holds all
 * 100 000. The command objects are built beforehand, so protobuf building is not measured; the
 * store's own per-command work (key copy, result object) is. {@link Store#maintain} runs every
 * {@link #BATCH} sets, as the state machine runs it after each batch of log entries. Reports
 * nanoseconds per set.
 *
 * <p>Run: {@code bench/jmh.sh StoreSet}, or {@code StoreSetBenchmark.main} from the test classpath.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StoreSetBenchmark {
    static final int KEYS = 100_000;
    static final int VALUE_BYTES = 100;
    static final int BATCH = 64;
    /** Coprime with {@link #KEYS}: stepping by it visits every key, scattered. */
    static final int STRIDE = 7_919;
    static final long NOW_MILLIS = 1_790_000_000_000L;
    static final long MEMORY_BYTES = 64L * StoreConfig.MEGABYTE;

    static Command[] setCommands(String prefix, int count) {
        ByteString value = ByteString.copyFrom("v".repeat(VALUE_BYTES), StandardCharsets.US_ASCII);
        Command[] commands = new Command[count];
        for (int i = 0; i < count; i++) {
            commands[i] = Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                    .setKey(ByteString.copyFrom(prefix + i, StandardCharsets.US_ASCII)).setValue(value).build();
        }
        return commands;
    }

    static StoreResult applySet(Store store, Command command) {
        StoreResult result = store.apply(command, false);
        if (result.status != StoreResult.Status.STORED) {
            throw new IllegalStateException("set " + command.getKey().toStringUtf8() + ": " + result);
        }
        return result;
    }

    /** A fresh empty store for every invocation, which sets all keys once. */
    @State(Scope.Thread)
    public static class Empty {
        Command[] commands;
        Store store;

        @Setup(Level.Trial)
        public void build() {
            commands = setCommands("key:", KEYS);
        }

        @Setup(Level.Invocation)
        public void open() {
            store = new Store(StoreConfig.withMemory(MEMORY_BYTES), 42);
            store.advanceClock(NOW_MILLIS);
        }

        @TearDown(Level.Invocation)
        public void close() {
            if (store.currentItems() != KEYS || store.totalItems() != KEYS) {
                throw new IllegalStateException("store holds " + store.currentItems() + " items, expected " + KEYS);
            }
            store.close();
        }
    }

    /** A store holding all keys; sets replace them. */
    @State(Scope.Thread)
    public static class Full {
        Command[] commands;
        Store store;
        int cursor;
        int sinceMaintain;

        @Setup(Level.Trial)
        public void fill() {
            commands = setCommands("key:", KEYS);
            store = new Store(StoreConfig.withMemory(MEMORY_BYTES), 42);
            store.advanceClock(NOW_MILLIS);
            for (Command command : commands) {
                applySet(store, command);
            }
            store.maintain();
            if (store.currentItems() != KEYS) {
                throw new IllegalStateException("store holds " + store.currentItems() + " items, expected " + KEYS);
            }
        }

        @TearDown(Level.Trial)
        public void close() {
            if (store.currentItems() != KEYS) {
                throw new IllegalStateException("overwrites changed the item count to " + store.currentItems());
            }
            store.close();
        }
    }

    @Benchmark
    @OperationsPerInvocation(KEYS)
    public long insert(Empty state) {
        Store store = state.store;
        Command[] commands = state.commands;
        long casSum = 0;
        for (int i = 0; i < KEYS; i++) {
            casSum += applySet(store, commands[i]).cas;
            if (i % BATCH == BATCH - 1) {
                store.maintain();
            }
        }
        store.maintain();
        return casSum;
    }

    @Benchmark
    public StoreResult overwrite(Full state) {
        int i = state.cursor + STRIDE;
        state.cursor = i >= KEYS ? i - KEYS : i;
        StoreResult result = applySet(state.store, state.commands[state.cursor]);
        if (++state.sinceMaintain == BATCH) {
            state.sinceMaintain = 0;
            state.store.maintain();
        }
        return result;
    }

    public static void main(String[] args) throws RunnerException {
        new Runner(new OptionsBuilder().include(StoreSetBenchmark.class.getSimpleName()).build()).run();
    }
}
