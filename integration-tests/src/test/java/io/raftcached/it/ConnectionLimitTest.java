package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code -c 500} with 10,000 connection attempts: at most 500 are served; every other one is told
 * {@code ERROR Too many open connections} and closed (memcached's maxconns_fast), {@code stats}
 * counts them in rejected_connections, and once they are all closed new connections work again.
 * The same run against memcached {@code -c 500} shows the expected behaviour is memcached's.
 */
class ConnectionLimitTest {
    private static final int CONN_LIMIT = 500;
    private static final int ATTEMPTS = 10_000;
    private static final String TOO_MANY = "ERROR Too many open connections\r\n";
    private static final long SETTLE_MILLIS = 20_000;

    /** What became of each connection attempt. */
    record Outcome(int served, int toldTooMany, int closedSilently, int refused) {
        int rejected() {
            return toldTooMany + closedSilently + refused;
        }
    }

    @Test
    void raftcachedServesAtMostItsLimit() throws Exception {
        int attempts = attemptsThatFit(ATTEMPTS);
        try (NodeProcess node = NodeProcess.single("conn-limit", "-c", Integer.toString(CONN_LIMIT))) {
            node.start().awaitReady();
            assertTrue(openFilesSoftLimit(node.pid()) > CONN_LIMIT + 200, "the node's fd limit leaves no room for -c 500");
            Outcome outcome = attempt(node.port, attempts, CONN_LIMIT);
            System.out.println("raftcached -c " + CONN_LIMIT + ", " + attempts + " attempts: " + outcome);
            assertTrue(outcome.served() <= CONN_LIMIT, "served " + outcome);
            assertTrue(outcome.served() >= CONN_LIMIT - 10, "the limit is " + CONN_LIMIT + ", so about that many are served: " + outcome);
            assertEquals(attempts, outcome.served() + outcome.rejected(), outcome.toString());
            assertTrue(outcome.toldTooMany() >= outcome.rejected() * 9 / 10,
                    "rejected connections are told why before the close: " + outcome);

            Map<String, String> stats = awaitServing(node.port);
            assertTrue(Long.parseLong(stats.get("rejected_connections")) >= outcome.rejected(), stats.toString());
            assertEquals(Integer.toString(CONN_LIMIT), stats.get("max_connections"));
            try (TextClient client = new TextClient(node.port)) {
                assertEquals("STORED", client.call("set after 0 0 2\r\nok\r\n"));
            }
        }
    }

    @Test
    void memcachedDoesTheSame() throws Exception {
        MemcachedProcess.assumeInstalled();
        int attempts = attemptsThatFit(2_000);
        try (MemcachedProcess memcached = MemcachedProcess.start("-c", Integer.toString(CONN_LIMIT))) {
            Outcome outcome = attempt(memcached.port, attempts, CONN_LIMIT);
            System.out.println("memcached -c " + CONN_LIMIT + ", " + attempts + " attempts: " + outcome);
            assertTrue(outcome.served() <= CONN_LIMIT, "served " + outcome);
            assertTrue(outcome.toldTooMany() > 0, outcome.toString());
            assertEquals(attempts, outcome.served() + outcome.rejected(), outcome.toString());
            Map<String, String> stats = awaitServing(memcached.port);
            assertTrue(Long.parseLong(stats.get("rejected_connections")) > 0, stats.toString());
        }
    }

    /**
     * Opens {@code attempts} non-blocking connections, then watches them: one that receives the
     * refusal line or is closed by the server counts as rejected; one still open and silent when
     * everything has settled (at most {@code servedMax} open, and a second without news) is served.
     * All are closed before returning.
     */
    static Outcome attempt(int port, int attempts, int servedMax) throws IOException, InterruptedException {
        List<SocketChannel> channels = new ArrayList<>(attempts);
        Map<SocketChannel, StringBuilder> received = new HashMap<>();
        int refused = 0;
        int toldTooMany = 0;
        int closedSilently = 0;
        try (Selector selector = Selector.open()) {
            for (int i = 0; i < attempts; i++) {
                SocketChannel channel = SocketChannel.open();
                channel.setOption(StandardSocketOptions.SO_LINGER, 0);   // close without TIME_WAIT pile-up
                try {
                    channel.socket().connect(new InetSocketAddress("127.0.0.1", port), 5_000);
                } catch (IOException e) {
                    channel.close();
                    refused++;
                    continue;
                }
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ);
                channels.add(channel);
                received.put(channel, new StringBuilder());
            }
            ByteBuffer buffer = ByteBuffer.allocate(256);
            int open = channels.size();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS);
            long quietSince = System.nanoTime();
            // Settled: the server has answered all but at most servedMax, and nothing has happened for a second.
            while (System.nanoTime() < deadline
                    && (open > servedMax || System.nanoTime() - quietSince < TimeUnit.SECONDS.toNanos(1))) {
                if (selector.select(200) == 0) {
                    continue;
                }
                quietSince = System.nanoTime();
                for (SelectionKey key : selector.selectedKeys()) {
                    SocketChannel channel = (SocketChannel) key.channel();
                    buffer.clear();
                    int n;
                    try {
                        n = channel.read(buffer);
                    } catch (IOException reset) {
                        n = -1;
                    }
                    if (n > 0) {
                        received.get(channel).append(new String(buffer.array(), 0, n, StandardCharsets.ISO_8859_1));
                    }
                    if (n < 0) {
                        key.cancel();
                        open--;
                        if (received.get(channel).toString().equals(TOO_MANY)) {
                            toldTooMany++;
                        } else {
                            assertEquals("", received.get(channel).toString(), "a rejected connection got something else");
                            closedSilently++;
                        }
                    }
                }
                selector.selectedKeys().clear();
            }
            int served = 0;
            for (SocketChannel channel : channels) {
                if (channel.keyFor(selector) != null && channel.keyFor(selector).isValid()) {
                    assertEquals("", received.get(channel).toString(), "a served connection got an unasked reply");
                    served++;
                }
            }
            return new Outcome(served, toldTooMany, closedSilently, refused);
        } finally {
            for (SocketChannel channel : channels) {
                channel.close();
            }
        }
    }

    /** New connections work again once the old ones are gone (their closes are processed asynchronously). */
    static Map<String, String> awaitServing(int port) throws InterruptedException {
        return Await.value("the server on port " + port + " to serve new connections after the old ones closed",
                Duration.ofSeconds(20), () -> MemcachedProcess.statsOf(port, ""),
                stats -> Long.parseLong(stats.get("curr_connections")) <= 10);
    }

    /** As many attempts as this test JVM's file descriptor limit allows, up to {@code wanted}. */
    private static int attemptsThatFit(int wanted) throws IOException {
        long limit = openFilesSoftLimit(ProcessHandle.current().pid());
        int fit = (int) Math.min(wanted, limit - 1_000);   // room for the JVM's own files and the build
        Assumptions.assumeTrue(fit >= 2 * CONN_LIMIT, "the test JVM may open only " + limit
                + " files (ulimit -n); raise it to run the connection-limit test");
        return fit;
    }

    /** The soft "Max open files" of a process (the JVM raises its own to the hard limit at start). */
    static long openFilesSoftLimit(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        throw new IOException("no open-files limit for pid " + pid);
    }
}
