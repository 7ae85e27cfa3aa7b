package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.raftcached.protocol.RepliesFile;
import io.raftcached.protocol.TextProtocolDecoder;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Every transcript captured from Debian memcached 1.6.18 ({@code memcached-1.6.18-replies.txt}),
 * replayed in process through the server's real decoder, connection handler, executor and stats
 * over a real replica ({@link InProcessCache}), without sockets or Raft: the bytes must match the
 * capture. The same file runs against real node processes in integration-tests; this run points at
 * a broken reply within seconds and in a debugger.
 */
class InProcessTranscriptsTest {
    private final ServerConfig config = config();
    private final InProcessCache cache = new InProcessCache(config.store());
    private final NodeStats stats = new NodeStats();
    private final ConnectionRegistry registry = new ConnectionRegistry();
    private final RequestExecutor executor = new RequestExecutor(cache, config, stats,
            new AdminCommands(config, stats, new StatsReplies(cache, config, stats, registry), () -> { }), Runnable::run, false);
    private final ByteBudget input = new ByteBudget("input", 64L << 20);
    private final ByteBudget output = new ByteBudget("output", 64L << 20);

    private static ServerConfig config() {
        ServerOptions options = new ServerOptions();
        new CommandLine(options).parseArgs("-p", "0", "--raft", "127.0.0.1:1");   // never bound: there is no Raft here
        return options.validate();
    }

    @AfterEach
    void close() {
        cache.close();
    }

    private EmbeddedChannel connection() {
        return new EmbeddedChannel(new TextProtocolDecoder(Server.decoderConfig(config.store()), input),
                new ConnectionHandler(executor, stats, registry, input, output, new InputReclaimer(System::nanoTime)));
    }

    /** Sends bytes in one packet and returns what the server wrote back, once it has nothing left to do. */
    private static String exchange(EmbeddedChannel channel, byte[] request) {
        channel.writeInbound(Unpooled.wrappedBuffer(request));
        channel.runPendingTasks();
        ByteArrayOutputStream reply = new ByteArrayOutputStream();
        for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            out.release();
            reply.writeBytes(bytes);
        }
        return reply.toString(StandardCharsets.ISO_8859_1);
    }

    @Test
    void everyCapturedTranscriptReplaysByteForByte() throws IOException {
        List<RepliesFile.Case> cases = RepliesFile.load().cases();
        assertTrue(cases.size() >= 30, "the captured file lost cases: " + cases.size());
        List<String> failures = new ArrayList<>();
        for (RepliesFile.Case c : cases) {
            EmbeddedChannel flush = connection();
            exchange(flush, "flush_all\r\n".getBytes(StandardCharsets.ISO_8859_1));
            flush.finishAndReleaseAll();
            EmbeddedChannel channel = connection();
            Map<String, String> bound = new HashMap<>();
            for (RepliesFile.Step step : c.steps()) {
                String reply = exchange(channel, RepliesFile.renderSend(step.send(), bound, System.currentTimeMillis() / 1000));
                String mismatch = RepliesFile.match(step.expect(), reply, !channel.isActive(), bound);
                if (mismatch != null) {
                    failures.add(c.name() + " / " + RepliesFile.escape(step.send()) + ": " + mismatch);
                    break;
                }
            }
            channel.finishAndReleaseAll();
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + cases.size() + " transcripts differ:\n" + String.join("\n", failures));
        }
    }
}
