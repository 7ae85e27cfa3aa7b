package io.raftcached.protocol.bench;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.raftcached.protocol.DecoderConfig;
import io.raftcached.protocol.TextProtocolDecoder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
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

import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * Decoder throughput on pipelined batches of one command shape, through Netty's
 * {@link EmbeddedChannel} (so the numbers include the ByteToMessageDecoder machinery a real
 * connection pays). Run: {@code DecoderBenchmark.main} from the test classpath, or the JMH runner
 * over this class. Reports nanoseconds per decoded command.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DecoderBenchmark {
    /** Commands per batch, as a busy pipelining client would send in one read. */
    private static final int BATCH = 100;

    /** get: one key; get10: ten keys; set: 100-byte value; mg: meta get with flags; ms: meta set. */
    @Param({"get", "get10", "set", "mg", "ms"})
    public String shape;

    private EmbeddedChannel channel;
    private ByteBuf batch;

    @Setup(Level.Trial)
    public void setUp() {
        DecoderConfig config = DecoderConfig.memcachedDefaults((k, f, v) -> v <= 1024 * 1024);
        channel = new EmbeddedChannel(new TextProtocolDecoder(config));
        String value = "v".repeat(100);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < BATCH; i++) {
            switch (shape) {
                case "get" -> sb.append("get user:profile:").append(i).append("\r\n");
                case "get10" -> {
                    sb.append("get");
                    for (int k = 0; k < 10; k++) {
                        sb.append(" user:profile:").append(i * 10 + k);
                    }
                    sb.append("\r\n");
                }
                case "set" -> sb.append("set user:profile:").append(i).append(" 0 3600 100\r\n").append(value).append("\r\n");
                case "mg" -> sb.append("mg user:profile:").append(i).append(" v f t c Oq").append(i).append("\r\n");
                case "ms" -> sb.append("ms user:profile:").append(i).append(" 100 T3600 F5 c\r\n").append(value).append("\r\n");
                default -> throw new IllegalArgumentException(shape);
            }
        }
        batch = Unpooled.directBuffer().writeBytes(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        batch.release();
        channel.finishAndReleaseAll();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public int decodeBatch() {
        channel.writeInbound(batch.retainedDuplicate());
        int decoded = 0;
        while (channel.readInbound() != null) {
            decoded++;
        }
        if (decoded != BATCH) {
            throw new IllegalStateException("decoded " + decoded);
        }
        return decoded;
    }

    public static void main(String[] args) throws RunnerException {
        new Runner(new OptionsBuilder().include(DecoderBenchmark.class.getSimpleName()).build()).run();
    }
}
