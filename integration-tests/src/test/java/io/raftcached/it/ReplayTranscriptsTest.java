package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.DropInServers.Target;
import io.raftcached.protocol.RepliesFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * Replays the request/reply transcripts captured from Debian memcached 1.6.18
 * ({@code protocol/src/test/resources/memcached-1.6.18-replies.txt}, read where it lies) and the
 * pipelining transcripts of this module against a raftcached node, asserting the exact bytes
 * modulo the file's placeholders; and, in the same run, against a live memcached, which shows the
 * files themselves are right.
 *
 * <p>Each case runs as the file says: {@code flush_all} on a connection of its own, then the case
 * on a new connection. Like the capture tool, every write is followed by a sentinel request (an
 * {@code mg} miss on a key no case uses) whose reply marks the end of the write's reply, so
 * silence is observable without waiting.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReplayTranscriptsTest {
    static final String SENTINEL = "mg __replies_file_sentinel__ k Oend\r\n";
    static final String SENTINEL_REPLY = "EN k__replies_file_sentinel__ Oend\r\n";
    static final int REPLY_TIMEOUT_MILLIS = 5_000;
    static final Path PIPELINING = Path.of("src/test/resources/pipelining-replies.txt");

    private DropInServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = DropInServers.start("transcripts");
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    /** The captured file, found from the jar's location (node/target) or from this module's directory. */
    static Path memcachedRepliesFile() {
        Path relative = Path.of("protocol", "src", "test", "resources", "memcached-1.6.18-replies.txt");
        Path fromJar = NodeProcess.JAR.toAbsolutePath().getParent().getParent().getParent().resolve(relative);
        return Files.exists(fromJar) ? fromJar : Path.of("..").resolve(relative);
    }

    static RepliesFile.Parsed parse(Path file) throws IOException {
        return RepliesFile.parse(Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void filesHoldTheCasesThisTestRelies() throws IOException {
        List<String> captured = parse(memcachedRepliesFile()).cases().stream().map(RepliesFile.Case::name).toList();
        assertTrue(captured.size() >= 30, "the captured file lost cases: " + captured);
        List<String> pipelined = parse(PIPELINING).cases().stream().map(RepliesFile.Case::name).toList();
        assertTrue(pipelined.contains("pipeline-many-sets-one-packet") && pipelined.contains("pipeline-read-your-writes"),
                pipelined.toString());
    }

    @TestFactory
    Stream<DynamicNode> capturedFromMemcached() throws IOException {
        return containers(parse(memcachedRepliesFile()));
    }

    @TestFactory
    Stream<DynamicNode> pipelining() throws IOException {
        return containers(parse(PIPELINING));
    }

    private Stream<DynamicNode> containers(RepliesFile.Parsed parsed) {
        List<Target> targets = new ArrayList<>();
        if (servers.memcached != null) {
            targets.add(servers.memcached());
        }
        targets.add(servers.raftcached());
        return containers(parsed, targets, target -> Dialer.plain(target.port()), (target, c) -> null);
    }

    /**
     * One container of dynamic tests per target: every case of {@code parsed}, replayed through its
     * dialer, unless {@code skipReason} gives a reason not to (the test is then skipped, saying it).
     */
    static Stream<DynamicNode> containers(RepliesFile.Parsed parsed, List<Target> targets, Function<Target, Dialer> dialers,
            BiFunction<Target, RepliesFile.Case, String> skipReason) {
        List<DynamicNode> nodes = new ArrayList<>();
        for (Target target : targets) {
            Dialer dialer = dialers.apply(target);
            List<DynamicTest> cases = new ArrayList<>();
            for (RepliesFile.Case c : parsed.cases()) {
                String skipped = skipReason.apply(target, c);
                cases.add(DynamicTest.dynamicTest(c.name(), () -> {
                    Assumptions.assumeTrue(skipped == null, skipped);
                    replay(dialer, c);
                }));
            }
            nodes.add(DynamicContainer.dynamicContainer(target.name(), cases));
        }
        return nodes.stream();
    }

    /** Runs one case on a fresh connection after a flush_all; fails at the first reply that does not match. */
    static void replay(int port, RepliesFile.Case c) throws IOException {
        replay(Dialer.plain(port), c);
    }

    /** {@link #replay(int, RepliesFile.Case)} over connections {@code dialer} opens (TLS: TlsServers). */
    static void replay(Dialer dialer, RepliesFile.Case c) throws IOException {
        try (Connection flush = new Connection(dialer.dial())) {
            assertEquals("OK\r\n", flush.exchange("flush_all\r\n".getBytes(StandardCharsets.ISO_8859_1)));
        }
        Map<String, String> bound = new HashMap<>();
        try (Connection connection = new Connection(dialer.dial())) {
            int stepNumber = 0;
            for (RepliesFile.Step step : c.steps()) {
                stepNumber++;
                assertTrue(!connection.closed, c.name() + ": the connection closed before step " + stepNumber);
                byte[] request = RepliesFile.renderSend(step.send(), bound, System.currentTimeMillis() / 1000);
                String reply = connection.exchange(request);
                String mismatch = RepliesFile.match(step.expect(), reply, connection.closed, bound);
                assertNull(mismatch, c.name() + " step " + stepNumber + " (" + abbreviate(step.send()) + "): " + mismatch);
            }
        }
    }

    private static String abbreviate(String text) {
        return text.length() <= 120 ? text : text.substring(0, 120) + "...";
    }

    /** Opens a connected socket to one server: plain TCP, or TLS over it. */
    @FunctionalInterface
    interface Dialer {
        Socket dial() throws IOException;

        static Dialer plain(int port) {
            return () -> {
                Socket socket = new Socket();
                try {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), REPLY_TIMEOUT_MILLIS);
                    return socket;
                } catch (IOException e) {
                    socket.close();
                    throw e;
                }
            };
        }
    }

    /** A blocking socket; a write's reply ends at the sentinel's reply or at close. */
    static final class Connection implements AutoCloseable {
        private final Socket socket;
        boolean closed;

        Connection(int port) throws IOException {
            this(Dialer.plain(port).dial());
        }

        Connection(Socket connected) throws IOException {
            this.socket = connected;
            socket.setSoTimeout(REPLY_TIMEOUT_MILLIS);
            socket.setTcpNoDelay(true);
        }

        /** Sends {@code bytes} and the sentinel in one write; returns the reply to {@code bytes} alone. */
        String exchange(byte[] bytes) throws IOException {
            return exchange(bytes, new int[0], 0);
        }

        /**
         * Sends {@code bytes} and the sentinel in writes that end at {@code cuts} (ascending
         * offsets into {@code bytes}), pausing {@code pauseMillis} after each so the server reads
         * them apart; returns the reply to {@code bytes} alone.
         */
        String exchange(byte[] bytes, int[] cuts, long pauseMillis) throws IOException {
            ByteArrayOutputStream request = new ByteArrayOutputStream();
            request.write(bytes);
            request.write(SENTINEL.getBytes(StandardCharsets.ISO_8859_1));
            byte[] all = request.toByteArray();
            try {
                int from = 0;
                for (int cut : cuts) {
                    socket.getOutputStream().write(all, from, cut - from);
                    socket.getOutputStream().flush();
                    from = cut;
                    Thread.sleep(pauseMillis);
                }
                socket.getOutputStream().write(all, from, all.length - from);
                socket.getOutputStream().flush();
            } catch (IOException closedEarly) {
                // the server may close before reading everything (e.g. after quit); read what it sent
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while sending", e);
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[65536];
            long deadline = System.nanoTime() + REPLY_TIMEOUT_MILLIS * 1_000_000L;
            while (System.nanoTime() < deadline) {
                String text = got.toString(StandardCharsets.ISO_8859_1);
                if (text.endsWith(SENTINEL_REPLY)) {
                    return text.substring(0, text.length() - SENTINEL_REPLY.length());
                }
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException slow) {
                    break;
                } catch (IOException reset) {
                    n = -1;
                }
                if (n < 0) {
                    closed = true;
                    return text;
                }
                got.write(buffer, 0, n);
            }
            throw new IOException("no complete reply within " + REPLY_TIMEOUT_MILLIS + " ms: "
                    + RepliesFile.escape(got.toString(StandardCharsets.ISO_8859_1)));
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
