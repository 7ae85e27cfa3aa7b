package io.raftcached.it;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Checks the replication tests share: reading many keys from one node with pipelined gets,
 * waiting for a node's stats to reach a state, and node logs for failure messages. Every wait is
 * bounded; every failure names the node and carries the end of its log.
 */
final class ClusterChecks {
    /** Gets sent in one write; each reply is read before the next chunk. */
    private static final int PIPELINE_CHUNK = 200;
    /** A value read back with this marker means the node refused the read (SERVER_ERROR). */
    static final String REFUSED = "\u0000refused";

    private ClusterChecks() {}

    /** The end of every node's log, for a failure message. */
    static String logs(Collection<NodeProcess> nodes) {
        StringBuilder text = new StringBuilder();
        for (NodeProcess node : nodes) {
            text.append("\n----- ").append(node.name).append(node.alive() ? " (running, pid " + node.pid() + ")" : " (not running)")
                    .append(" log tail -----\n").append(node.tail(30));
        }
        return text.toString();
    }

    static String logs(LocalCluster cluster) {
        return logs(cluster.nodes);
    }

    /**
     * Reads each key from one node, one {@code get} per key, pipelined in chunks on one fresh
     * connection. A miss is absent from the map; a refused read maps to {@link #REFUSED}.
     */
    static Map<String, String> read(NodeProcess node, Collection<String> keys) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        List<String> all = new ArrayList<>(keys);
        try (TextClient client = new TextClient(node.port)) {
            for (int from = 0; from < all.size(); from += PIPELINE_CHUNK) {
                List<String> chunk = all.subList(from, Math.min(all.size(), from + PIPELINE_CHUNK));
                StringBuilder request = new StringBuilder();
                for (String key : chunk) {
                    request.append("get ").append(key).append("\r\n");
                }
                client.send(request.toString());
                for (String key : chunk) {
                    String line = client.line();
                    if (line.startsWith("SERVER_ERROR")) {
                        values.put(key, REFUSED);
                        continue;
                    }
                    if (line.equals("END")) {
                        continue;
                    }
                    String[] header = line.split(" ");
                    if (header.length < 4 || !header[0].equals("VALUE") || !header[1].equals(key)) {
                        throw new IOException(node.name + " answered 'get " + key + "' with: " + line);
                    }
                    byte[] data = client.bytes(Integer.parseInt(header[3]) + 2);
                    values.put(key, new String(data, 0, data.length - 2, StandardCharsets.ISO_8859_1));
                    String end = client.line();
                    if (!end.equals("END")) {
                        throw new IOException(node.name + " sent '" + end + "' after the value of " + key + " instead of END");
                    }
                }
            }
        }
        return values;
    }

    /**
     * Waits until {@code node} returns exactly {@code expected} for every key (a node that is
     * catching up may refuse or miss for a while), then returns; otherwise fails with the keys
     * that stayed wrong.
     */
    static void assertAllReadable(NodeProcess node, Map<String, String> expected, long timeoutMillis, String context)
            throws InterruptedException {
        Map<String, String> wrong = new LinkedHashMap<>(expected);
        Map<String, String> lastSeen = new LinkedHashMap<>();
        Await.until(context + ": " + node.name + " to return all " + expected.size() + " acknowledged values",
                Duration.ofMillis(timeoutMillis), () -> {
                    Map<String, String> got = read(node, wrong.keySet());
                    lastSeen.clear();
                    wrong.entrySet().removeIf(entry -> {
                        String value = got.get(entry.getKey());
                        lastSeen.put(entry.getKey(), value);
                        return entry.getValue().equals(value);
                    });
                    return wrong.isEmpty();
                }, () -> {
                    StringBuilder samples = new StringBuilder("; " + wrong.size() + " still wrong, e.g.");
                    wrong.keySet().stream().limit(10).forEach(key -> samples.append("\n  ").append(key).append(": expected ")
                            .append(abbreviate(expected.get(key))).append(", got ").append(describe(lastSeen.get(key))));
                    return samples + "\n" + logs(List.of(node));
                });
    }

    private static String describe(String value) {
        return value == null ? "a miss" : value.equals(REFUSED) ? "SERVER_ERROR" : abbreviate(value);
    }

    private static String abbreviate(String value) {
        return value.length() <= 40 ? "'" + value + "'" : "'" + value.substring(0, 40) + "...' (" + value.length() + " bytes)";
    }

    /** {@code stats <args>}, polled until {@code until} holds; fails after the timeout with the last view. */
    static Map<String, String> awaitStats(NodeProcess node, String args, Predicate<Map<String, String>> until,
            long timeoutMillis, String what) throws InterruptedException {
        return Await.value(node.name + ": " + what + " (stats " + args + ")", Duration.ofMillis(timeoutMillis), () -> node.stats(args),
                until, () -> logs(List.of(node)));
    }

    /**
     * Like {@link #awaitStats(NodeProcess, String, Predicate, long, String)}, but polling every
     * {@code periodMillis} without backing off, for a race where the moment matters (freezing a
     * learner before the leader promotes it).
     */
    static Map<String, String> awaitStatsPolling(NodeProcess node, String args, Predicate<Map<String, String>> until,
            long timeoutMillis, String what, long periodMillis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        Map<String, String> last = Map.of();
        Exception lastError = null;
        while (System.nanoTime() < deadline) {
            try {
                last = node.stats(args);
                if (until.test(last)) {
                    return last;
                }
            } catch (IOException e) {
                lastError = e;
            }
            Thread.sleep(periodMillis);
        }
        throw new AssertionError(node.name + ": " + what + " did not happen within " + timeoutMillis + " ms; last stats "
                + args + ": " + last + (lastError != null ? "; last error: " + lastError : "") + logs(List.of(node)));
    }

    /** One {@code stats raft} value, or null when the node cannot be asked. */
    static String raftStat(NodeProcess node, String name) {
        try {
            return node.stats("raft").get(name);
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Stores every key through one node with pipelined sets (chunks on one connection) and fails
     * unless each is acknowledged with STORED.
     */
    static void storeAll(NodeProcess node, Map<String, String> values) throws IOException {
        List<Map.Entry<String, String>> all = new ArrayList<>(values.entrySet());
        try (TextClient client = new TextClient(node.port)) {
            client.readTimeout(20_000);
            for (int from = 0; from < all.size(); from += PIPELINE_CHUNK) {
                List<Map.Entry<String, String>> chunk = all.subList(from, Math.min(all.size(), from + PIPELINE_CHUNK));
                StringBuilder request = new StringBuilder();
                for (Map.Entry<String, String> entry : chunk) {
                    request.append("set ").append(entry.getKey()).append(" 0 0 ").append(entry.getValue().length()).append("\r\n")
                            .append(entry.getValue()).append("\r\n");
                }
                client.send(request.toString());
                for (Map.Entry<String, String> entry : chunk) {
                    String reply = client.line();
                    if (!reply.equals("STORED")) {
                        throw new AssertionError(node.name + " answered 'set " + entry.getKey() + "' with: " + reply + logs(List.of(node)));
                    }
                }
            }
        }
    }

    /** {@code count} keys "prefix-i" with values of {@code valueBytes} bytes that name their key. */
    static Map<String, String> values(String prefix, int count, int valueBytes) {
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < count; i++) {
            String key = prefix + "-" + i;
            StringBuilder value = new StringBuilder(key).append(':');
            while (value.length() < valueBytes) {
                value.append((char) ('A' + (value.length() + i) % 26));
            }
            values.put(key, value.toString());
        }
        return values;
    }

    /** Sends one write with a raw client and returns its reply line, or the IOException's text. */
    static String rawSet(NodeProcess node, String key, String value, int readTimeoutMillis) {
        try (TextClient client = new TextClient(node.port)) {
            client.readTimeout(readTimeoutMillis);
            return client.call("set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n");
        } catch (IOException e) {
            return "IOException: " + e.getMessage();
        }
    }

    /** Retries a raw set through {@code node} until STORED; fails after the timeout with the reply seen last. */
    static String setUntilStored(NodeProcess node, String key, String value, long timeoutMillis) throws InterruptedException {
        return Await.value("set " + key + " through " + node.name + " to be STORED", Duration.ofMillis(timeoutMillis),
                () -> rawSet(node, key, value, 10_000), "STORED"::equals, () -> logs(List.of(node)));
    }

    static long millisSince(long startNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
    }

    /** The value of {@code flag} in a node's command line, e.g. "--peers". */
    static String argument(NodeProcess node, String flag) {
        int at = node.arguments.indexOf(flag);
        if (at < 0 || at + 1 >= node.arguments.size()) {
            throw new IllegalArgumentException(node.name + " was started without " + flag);
        }
        return node.arguments.get(at + 1);
    }

    /** The Raft endpoint ("127.0.0.1:port") of a node, from its --raft flag. */
    static String raftEndpoint(NodeProcess node) {
        return argument(node, "--raft");
    }

    /** The node's arguments with one flag's value replaced, or the flag appended if it had none. */
    static List<String> withArgument(NodeProcess node, String flag, String value) {
        List<String> arguments = new ArrayList<>(node.arguments);
        int at = arguments.indexOf(flag);
        if (at >= 0) {
            arguments.set(at + 1, value);
        } else {
            arguments.add(flag);
            arguments.add(value);
        }
        return arguments;
    }

    /** The node leading group {@code group} (holding a replica of it), waiting up to 20 s for one. */
    static NodeProcess leaderOf(LocalCluster cluster, int group) throws InterruptedException {
        return Await.value("a leader of group g" + group, Duration.ofSeconds(20), () -> {
            for (NodeProcess node : cluster.alive()) {
                Map<String, String> raft = node.stats("raft");
                if (GroupStats.holds(raft, group) && "leader".equals(GroupStats.role(raft, group))) {
                    return node;
                }
            }
            return null;
        }, leader -> leader != null, () -> logs(cluster));
    }

    /**
     * Waits until, in each of the cluster's {@code groups}, the nodes holding a replica of it
     * (three, or every node of a smaller cluster) applied and committed one index, with one digest at it.
     */
    static void awaitGroupsConverged(LocalCluster cluster, int groups) throws InterruptedException {
        int replicas = Math.min(cluster.nodes.size(), 3);
        for (int group = 1; group <= groups; group++) {
            int g = group;
            Await.until("group g" + g + "'s replicas to apply one index with one digest", Duration.ofSeconds(60), () -> {
                List<String> digests = new ArrayList<>();
                for (NodeProcess node : cluster.nodes) {
                    Map<String, String> raft = node.stats("raft");
                    if (!GroupStats.holds(raft, g)) {
                        continue;
                    }
                    long applied = GroupStats.applied(raft, g);
                    String digest = GroupStats.digest(node.stats("digest"), g);
                    if (applied != GroupStats.committed(raft, g) || digest == null || !digest.startsWith(applied + ":")) {
                        return false;
                    }
                    digests.add(digest);
                }
                return digests.size() == replicas && digests.stream().distinct().count() == 1;
            }, () -> logs(cluster));
        }
    }
}
