package io.raftcached.store.bench;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.store.ItemView;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import java.lang.reflect.Field;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.ThreadParams;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import sun.misc.Unsafe;

/**
 * {@link Store#read} throughput: gets of 100-byte values over 100 000 keys (a hit copies value and
 * CRLF out of item memory into a reused array, as the node copies it into the reply buffer, and
 * marks the access as a real get does), and gets of keys that are not there. Each runs with one
 * and with two reader threads, each thread walking the keys in its own scattered order; nothing
 * is applied meanwhile. Reports operations per microsecond over all threads. The read path must
 * not allocate: check with JMH's {@code -prof gc} ({@code gc.alloc.rate.norm} ≈ 0 B/op).
 *
 * <p>Run: {@code bench/jmh.sh StoreGet -prof gc}, or {@code StoreGetBenchmark.main} from the test
 * classpath.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class StoreGetBenchmark {
    static final int KEYS = 100_000;
    static final int VALUE_BYTES = 100;
    /** Coprime with {@link #KEYS}, so a cursor stepping by it visits every key, scattered. */
    static final int STRIDE = 7_919;
    static final long NOW_MILLIS = 1_790_000_000_000L;
    /** The node copies item bytes into its reply buffer with one raw copy; so does this reader. */
    private static final Unsafe UNSAFE = unsafe();

    private static Unsafe unsafe() {
        try {
            Field field = Unsafe.class.getDeclaredField("theUnsafe");
            field.setAccessible(true);
            return (Unsafe) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private Store store;
    private byte[][] hitKeys;
    private byte[][] missKeys;

    static byte[] key(String prefix, int i) {
        return (prefix + i).getBytes(StandardCharsets.US_ASCII);
    }

    static Command set(byte[] key, ByteString value) {
        return Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                .setKey(ByteString.copyFrom(key)).setValue(value).build();
    }

    @Setup(Level.Trial)
    public void fill() {
        store = new Store(StoreConfig.withMemory(64L * StoreConfig.MEGABYTE), 42);
        store.advanceClock(NOW_MILLIS);
        ByteString value = ByteString.copyFrom("v".repeat(VALUE_BYTES), StandardCharsets.US_ASCII);
        hitKeys = new byte[KEYS][];
        missKeys = new byte[KEYS][];
        for (int i = 0; i < KEYS; i++) {
            hitKeys[i] = key("key:", i);
            missKeys[i] = key("absent:", i);
            StoreResult result = store.apply(set(hitKeys[i], value), false);
            if (result.status != StoreResult.Status.STORED) {
                throw new IllegalStateException("set " + i + ": " + result);
            }
        }
        store.maintain();
        if (store.currentItems() != KEYS) {
            throw new IllegalStateException("store holds " + store.currentItems() + " items, expected " + KEYS);
        }
        Reader check = new Reader();
        for (int i = 0; i < KEYS; i++) {
            if (store.read(hitKeys[i], NOW_MILLIS, Store.Lookup.live(false), check) != Store.ReadOutcome.HIT
                    || check.lastLength != VALUE_BYTES + 2 || check.out[0] != 'v' || check.out[VALUE_BYTES] != '\r') {
                throw new IllegalStateException("key " + i + " does not read back its value");
            }
            if (store.read(missKeys[i], NOW_MILLIS, Store.Lookup.live(false), check) != Store.ReadOutcome.MISS) {
                throw new IllegalStateException("absent key " + i + " was found");
            }
        }
    }

    @TearDown(Level.Trial)
    public void close() {
        store.close();
    }

    /**
     * One reader thread's cursor and visitor, allocated once: the visitor is a reused object, not
     * a capturing lambda, so a get allocates nothing on the caller's side either.
     */
    @State(Scope.Thread)
    public static class Reader implements Store.ItemVisitor, ItemView.NativeSink {
        final byte[] out = new byte[256];
        int lastLength;
        long lastCas;
        int cursor;

        @Setup(Level.Trial)
        public void start(ThreadParams thread) {
            cursor = (int) ((long) thread.getThreadIndex() * KEYS / Math.max(1, thread.getThreadCount()));
        }

        int next() {
            int i = cursor + STRIDE;
            cursor = i >= KEYS ? i - KEYS : i;
            return cursor;
        }

        @Override
        public void visit(ItemView item) {
            lastCas = item.cas();
            item.writeValueWithCrlf(this);
        }

        @Override
        public void write(long address, int lengthBytes) {
            UNSAFE.copyMemory(null, address, out, Unsafe.ARRAY_BYTE_BASE_OFFSET, lengthBytes);
            lastLength = lengthBytes;
        }
    }

    private long hit(Reader reader) {
        Store.ReadOutcome outcome = store.read(hitKeys[reader.next()], NOW_MILLIS, Store.Lookup.live(true), reader);
        if (outcome != Store.ReadOutcome.HIT) {
            throw new IllegalStateException("expected a hit, got " + outcome);
        }
        return reader.lastCas + reader.lastLength + reader.out[0];
    }

    private Store.ReadOutcome miss(Reader reader) {
        Store.ReadOutcome outcome = store.read(missKeys[reader.next()], NOW_MILLIS, Store.Lookup.live(true), reader);
        if (outcome != Store.ReadOutcome.MISS) {
            throw new IllegalStateException("expected a miss, got " + outcome);
        }
        return outcome;
    }

    @Benchmark
    @Threads(1)
    public long hit1Thread(Reader reader) {
        return hit(reader);
    }

    @Benchmark
    @Threads(2)
    public long hit2Threads(Reader reader) {
        return hit(reader);
    }

    @Benchmark
    @Threads(1)
    public Store.ReadOutcome miss1Thread(Reader reader) {
        return miss(reader);
    }

    @Benchmark
    @Threads(2)
    public Store.ReadOutcome miss2Threads(Reader reader) {
        return miss(reader);
    }

    public static void main(String[] args) throws RunnerException {
        new Runner(new OptionsBuilder().include(StoreGetBenchmark.class.getSimpleName()).build()).run();
    }
}
