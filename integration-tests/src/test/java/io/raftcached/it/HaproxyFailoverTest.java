package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Debian's real HAProxy, configured from the shipped deploy/haproxy/haproxy.cfg (only addresses
 * substituted), in front of a real 3-node cluster. A client writes and reads through it; the node
 * it is routed to is killed with SIGKILL; the client, retrying briefly, carries on through HAProxy
 * on another node, and every write that was acknowledged stays readable.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class HaproxyFailoverTest {
    static final Path HAPROXY = Path.of("/usr/sbin/haproxy");
    static final int KEYS_PER_PHASE = 100;
    /** How long one operation may keep failing before the test gives up on failover. */
    static final long RETRY_BUDGET_MILLIS = 20_000;

    @Test
    void clientKeepsReadingAndWritingThroughHaproxyWhenItsNodeIsKilled() throws Exception {
        assertTrue(Files.isExecutable(HAPROXY), HAPROXY + " is missing: apt-get install haproxy (.ci/run does)");
        try (LocalCluster cluster = LocalCluster.start("haproxy", 3)) {
            int front = Ports.free();
            Path config = Files.createDirectories(NodeProcess.TEST_DIRECTORY).resolve("haproxy-failover.cfg");
            Files.writeString(config, HaproxyConfig.forTest(HaproxyConfig.shipped(), front,
                    cluster.nodes.stream().map(n -> n.port).toList()), StandardCharsets.UTF_8);
            Path log = NodeProcess.TEST_DIRECTORY.resolve("haproxy-failover.log");
            // -db: stay in the foreground, so this Process is HAProxy itself and is stopped by its pid.
            Process haproxy = new ProcessBuilder(HAPROXY.toString(), "-db", "-f", config.toString()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            try (RetryingClient client = new RetryingClient(front, haproxy, log)) {
                Map<String, String> acknowledged = new LinkedHashMap<>();
                int routed = client.nodeId();
                for (int i = 0; i < KEYS_PER_PHASE; i++) {
                    client.setAndReadBack("before-" + i, "v" + i + "-on-" + routed, acknowledged);
                }
                assertEquals(routed, client.nodeId(), "balance source keeps a client on one node");

                NodeProcess victim = cluster.node(routed);
                long killedAt = System.nanoTime();
                victim.kill();
                int failoverNode = client.nodeId();
                long failoverMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                assertNotEquals(routed, failoverNode, "HAProxy still routes to the killed node " + routed);
                for (int i = 0; i < KEYS_PER_PHASE; i++) {
                    client.setAndReadBack("after-" + i, "v" + i + "-on-" + failoverNode, acknowledged);
                }
                long recoveredMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                System.out.printf("haproxy failover: node %d killed, served by node %d after %d ms; %d more writes in %d ms;"
                        + " %d retried operations, slowest %s in %d ms; failures: %s%n", routed, failoverNode, failoverMillis,
                        KEYS_PER_PHASE, recoveredMillis, client.retries, client.slowest, client.slowestMillis, client.failures);
                assertEquals(2 * KEYS_PER_PHASE, acknowledged.size(), "every write was acknowledged in the end");

                // Every acknowledged value, through HAProxy and from each surviving node directly.
                assertAllReadable(client::get, acknowledged, "through HAProxy");
                for (NodeProcess node : cluster.alive()) {
                    assertAllReadable(key -> directGet(node.port, key), acknowledged, "from " + node.name);
                }
            } catch (AssertionError | Exception e) {
                throw new AssertionError(e.getMessage() + "\n----- haproxy log -----\n" + tail(log) + nodeLogs(cluster), e);
            } finally {
                haproxy.destroy();
                if (!haproxy.waitFor(10, TimeUnit.SECONDS)) {
                    haproxy.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    interface Reader {
        String get(String key) throws IOException, InterruptedException;
    }

    /** Waits (bounded) for a node applying behind the leader, then requires every value to match. */
    private static void assertAllReadable(Reader reader, Map<String, String> expected, String where) throws InterruptedException {
        Await.value("every acknowledged write to be readable " + where, Duration.ofSeconds(20), () -> unreadable(reader, expected),
                Map::isEmpty);
    }

    /** The keys that do not read back as expected, each with what was read instead. */
    private static Map<String, String> unreadable(Reader reader, Map<String, String> expected) throws IOException, InterruptedException {
        Map<String, String> wrong = new LinkedHashMap<>();
        for (Map.Entry<String, String> entry : expected.entrySet()) {
            String actual = reader.get(entry.getKey());
            if (!entry.getValue().equals(actual)) {
                wrong.put(entry.getKey(), entry.getValue() + " but read " + actual);
            }
        }
        return wrong;
    }

    private static String directGet(int port, String key) throws IOException {
        try (TextClient client = new TextClient(port)) {
            return RetryingClient.get(client, key);
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException e) {
            return "(no haproxy log: " + e.getMessage() + ")";
        }
    }

    /** The end of every node's log, for a failure message. */
    private static String nodeLogs(LocalCluster cluster) {
        StringBuilder text = new StringBuilder();
        for (NodeProcess node : cluster.nodes) {
            text.append("\n----- ").append(node.name).append(node.alive() ? "" : " (not running)").append(" -----\n")
                    .append(node.tail(20));
        }
        return text.toString();
    }

    /**
     * One client connection through HAProxy that, like a memcached client library, reconnects
     * when the connection breaks and retries an operation that failed (a broken connection or a
     * SERVER_ERROR while the cluster elects a leader) for up to {@link #RETRY_BUDGET_MILLIS}.
     * A write counts as acknowledged only when it answered STORED.
     */
    static final class RetryingClient implements AutoCloseable {
        final int port;
        final Process haproxy;
        final Path log;
        TextClient connection;
        int retries;
        String lastReply = "";
        long slowestMillis;
        String slowest = "";
        /** The first failures seen, for the printed summary. */
        final List<String> failures = new ArrayList<>();

        RetryingClient(int port, Process haproxy, Path log) {
            this.port = port;
            this.haproxy = haproxy;
            this.log = log;
        }

        interface Operation<T> {
            /** The result, or null to retry. */
            T attempt(TextClient client) throws IOException;
        }

        <T> T withRetries(String what, Operation<T> operation) throws IOException, InterruptedException {
            long started = System.nanoTime();
            long deadline = started + TimeUnit.MILLISECONDS.toNanos(RETRY_BUDGET_MILLIS);
            String lastFailure = "";
            while (System.nanoTime() < deadline) {
                if (!haproxy.isAlive()) {
                    throw new IOException("haproxy exited with " + haproxy.exitValue() + "; log:\n" + tail(log));
                }
                try {
                    if (connection == null) {
                        connection = new TextClient(port);
                    }
                    T result = operation.attempt(connection);
                    if (result != null) {
                        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
                        if (millis > slowestMillis) {
                            slowestMillis = millis;
                            slowest = what;
                        }
                        return result;
                    }
                    lastFailure = lastReply;
                } catch (IOException e) {
                    lastFailure = e.toString();
                    closeQuietly();
                }
                if (failures.size() < 10) {
                    failures.add(what + " after " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) + " ms: " + lastFailure);
                }
                retries++;
                Thread.sleep(100);
            }
            throw new IOException(what + " kept failing for " + RETRY_BUDGET_MILLIS + " ms through HAProxy; last: " + lastFailure);
        }

        /** The node HAProxy routes this client to (raft_node_id of {@code stats raft}). */
        int nodeId() throws IOException, InterruptedException {
            return withRetries("stats raft", client -> {
                client.send("stats raft\r\n");
                Integer id = null;
                for (String line = client.line(); !line.equals("END"); line = client.line()) {
                    if (line.startsWith("STAT raft_node_id ")) {
                        id = Integer.parseInt(line.substring("STAT raft_node_id ".length()));
                    }
                }
                return id;
            });
        }

        /** set, then get on the same connection (read-your-writes); the pair is retried together. */
        void setAndReadBack(String key, String value, Map<String, String> acknowledged) throws IOException, InterruptedException {
            withRetries("set " + key, client -> {
                String reply = client.call("set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n");
                if (reply.startsWith("SERVER_ERROR")) {
                    lastReply = reply;
                    return null;
                }
                assertEquals("STORED", reply, "set " + key);
                acknowledged.put(key, value);
                String read = get(client, key);
                if (read == REFUSED) {
                    lastReply = "get " + key + ": SERVER_ERROR";
                    return null;
                }
                assertEquals(value, read, "read-your-writes on one connection for " + key);
                return Boolean.TRUE;
            });
        }

        String get(String key) throws IOException, InterruptedException {
            return withRetries("get " + key, client -> {
                String value = get(client, key);
                lastReply = "SERVER_ERROR";
                return value == REFUSED ? null : value == null ? "(miss)" : value;
            });
        }

        static final String REFUSED = new String("refused");

        /** The value, null on a miss, or {@link #REFUSED} when the node answered SERVER_ERROR. */
        static String get(TextClient client, String key) throws IOException {
            String header = client.call("get " + key + "\r\n");
            if (header.startsWith("SERVER_ERROR")) {
                return REFUSED;
            }
            if (header.equals("END")) {
                return null;
            }
            String[] parts = header.split(" ");
            if (parts.length != 4 || !parts[0].equals("VALUE") || !parts[1].equals(key)) {
                throw new IOException("unexpected reply to get " + key + ": " + header);
            }
            byte[] data = client.bytes(Integer.parseInt(parts[3]) + 2);
            String end = client.line();
            if (!end.equals("END")) {
                throw new IOException("no END after the value of " + key + ": " + end);
            }
            return new String(data, 0, data.length - 2, StandardCharsets.ISO_8859_1);
        }

        private void closeQuietly() {
            if (connection != null) {
                try {
                    connection.close();
                } catch (IOException ignored) {
                    // already broken
                }
                connection = null;
            }
        }

        @Override
        public void close() {
            closeQuietly();
        }
    }
}
