package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The operator's membership runbook from the README, done to a cluster under write load with the
 * real admin CLI ({@code raftcached cluster ...} in its own JVM): grow 3 → 5 by starting nodes
 * with empty data directories, wait until both are voters, move leadership to a new node on
 * purpose, shrink back to 3 by removing an original node and a new one, and lose no acknowledged
 * write. Then the CLI's refusals: an address that is no node, a member that does not exist, and
 * a change without a quorum.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class MembershipUnderLoadTest {
    static final Duration WAIT = Duration.ofSeconds(60);

    @Test
    void growToFiveTransferLeadershipShrinkToThreeUnderLoad() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("members", 3)) {
            List<NodeProcess> extra = new ArrayList<>();
            try (Writers writers = new Writers(List.of(cluster.node(2), cluster.node(3)))) {
                run(cluster, extra, writers);
            } catch (AssertionError | Exception e) {
                List<NodeProcess> all = new ArrayList<>(cluster.nodes);
                all.addAll(extra);
                throw new AssertionError(e.getMessage() + logs(all), e);
            } finally {
                for (NodeProcess node : extra) {
                    node.kill();
                }
            }
        }
    }

    private void run(LocalCluster cluster, List<NodeProcess> extra, Writers writers) throws Exception {
        String[] raft = new String[6];
        for (int id = 1; id <= 3; id++) {
            raft[id] = raftAddress(cluster.node(id));
        }
        raft[4] = "127.0.0.1:" + Ports.free();
        raft[5] = "127.0.0.1:" + Ports.free();
        String allFive = String.join(",", List.of("1@" + raft[1], "2@" + raft[2], "3@" + raft[3], "4@" + raft[4], "5@" + raft[5]));
        writers.start();
        writers.awaitAcknowledged(200);

        // --- grow: two nodes with empty data directories and --peers naming all five ------------
        for (int id = 4; id <= 5; id++) {
            int port = Ports.free();
            NodeProcess node = new NodeProcess("members-n" + id, port, List.of("-p", Integer.toString(port), "-l", "127.0.0.1",
                    "--node-id", Integer.toString(id), "--raft", raft[id], "--peers", allFive,
                    "--data-dir", NodeProcess.freshDirectory("members-n" + id).toString()));
            extra.add(node);
            node.startWithoutWaiting();
        }
        for (NodeProcess node : extra) {
            node.awaitListening().awaitReady();
        }
        ClusterChecks.awaitStats(cluster.node(2), "raft", s -> endpoints(s.get("raft_members")).equals(endpoints(raft, 1, 2, 3, 4, 5))
                && s.get("raft_learners").equals("-"), WAIT.toMillis(), "nodes 4 and 5 promoted to voters");
        ProcessRun.Result status = ProcessRun.clusterCli("status", "--json", "--node", raft[1]);
        assertEquals(0, status.exitCode(), status.toString());
        assertEquals(5, count(status.out(), "\"voter\":true"), "five voters in cluster status --json: " + status.out());
        assertEquals(5, count(status.out(), "\"reachable\":true"), status.out());
        writers.awaitAcknowledged(writers.acknowledged.size() + 100);

        // --- move leadership to a new node on purpose ---------------------------------------------
        NodeProcess four = extra.get(0);
        ProcessRun.Result transfer = ProcessRun.clusterCli("transfer-leader", raft[4], "--node", raft[2]);
        assertEquals(0, transfer.exitCode(), transfer.toString());
        ClusterChecks.awaitStats(four, "raft", s -> s.get("raft_role").equals("leader"), WAIT.toMillis(),
                "node 4 leading after transfer-leader");
        for (NodeProcess node : List.of(cluster.node(1), cluster.node(2), cluster.node(3), extra.get(1))) {
            ClusterChecks.awaitStats(node, "raft", s -> s.get("raft_leader").equals(raft[4]), WAIT.toMillis(),
                    node.name + " following node 4");
        }
        ProcessRun.Result afterTransfer = ProcessRun.clusterCli("status", "--json", "--node", raft[3]);
        assertTrue(afterTransfer.out().matches("(?s).*\\{\"member\":\"" + Pattern.quote(raft[4]) + "[^}]*\"role\":\"leader\".*"),
                "cluster status names node 4 the leader: " + afterTransfer.out());
        writers.awaitAcknowledged(writers.acknowledged.size() + 100);

        // --- shrink: remove a new node and an original one, then stop them -------------------------
        for (int id : new int[] {5, 1}) {
            ProcessRun.Result remove = ProcessRun.clusterCli("remove", raft[id], "--node", raft[2]);
            assertEquals(0, remove.exitCode(), remove.toString());
            assertTrue(remove.out().contains("removed " + raft[id]), remove.toString());
            NodeProcess removed = id == 5 ? extra.get(1) : cluster.node(1);
            int exitCode = removed.stop();
            // 143: the JVM's status after SIGTERM with shutdown hooks run (the systemd unit counts it as success);
            // 137 would mean NodeProcess had to SIGKILL it after 30 s.
            assertTrue(exitCode == 0 || exitCode == 143, removed.name + " did not stop cleanly after its removal: exit " + exitCode);
        }
        ClusterChecks.awaitStats(cluster.node(2), "raft", s -> endpoints(s.get("raft_members")).equals(endpoints(raft, 2, 3, 4)),
                WAIT.toMillis(), "members 2, 3, 4 after the removals");
        ProcessRun.Result removedAgain = ProcessRun.clusterCli("remove", raft[1], "--node", raft[2]);
        assertEquals(1, removedAgain.exitCode(), "removing a member that was removed already: " + removedAgain);
        assertTrue(removedAgain.err().contains(raft[1] + " is not a member of this cluster"), removedAgain.toString());
        writers.awaitAcknowledged(writers.acknowledged.size() + 100);
        writers.close();

        // --- zero acknowledged writes lost ----------------------------------------------------------
        List<NodeProcess> remaining = List.of(cluster.node(2), cluster.node(3), four);
        System.out.printf("membership: %d writes acknowledged, %d refused or unknown while members changed%n",
                writers.acknowledged.size(), writers.failures.get());
        assertTrue(writers.acknowledged.size() >= 500, "the load kept writing: " + writers.acknowledged.size());
        for (NodeProcess node : remaining) {
            assertAllReadable(node, writers.acknowledged);
        }
        assertEquals(1, new TreeSet<>(convergedDigests(remaining)).size(), "the three remaining replicas hold the same state");
    }

    /**
     * The CLI's refusals, each a non-zero exit with a message an operator can act on: an address
     * where no node answers, removing or moving leadership to a member that does not exist, bad
     * usage, and a membership change while two of three members are down.
     */
    @Test
    void cliRefusalsAreClear() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("cli-errors", 3)) {
            try {
                refusals(cluster);
            } catch (AssertionError | Exception e) {
                throw new AssertionError(e.getMessage() + logs(cluster.nodes), e);
            }
        }
    }

    private void refusals(LocalCluster cluster) throws Exception {
        String[] raft = new String[4];
        for (int id = 1; id <= 3; id++) {
            raft[id] = raftAddress(cluster.node(id));
        }
        String nowhere = "127.0.0.1:" + Ports.free();
        ProcessRun.Result unreachable = ProcessRun.clusterCli("status", "--node", nowhere);
        assertEquals(1, unreachable.exitCode(), unreachable.toString());
        assertTrue(unreachable.err().contains("cannot reach a raftcached node at " + nowhere), unreachable.toString());

        ProcessRun.Result notMember = ProcessRun.clusterCli("remove", nowhere, "--node", raft[2]);
        assertEquals(1, notMember.exitCode(), notMember.toString());
        assertTrue(notMember.err().contains(nowhere + " is not a member of this cluster"), notMember.toString());

        ProcessRun.Result transferToStranger = ProcessRun.clusterCli("transfer-leader", nowhere, "--node", raft[2]);
        assertEquals(1, transferToStranger.exitCode(), transferToStranger.toString());
        assertTrue(transferToStranger.err().contains("is not a member"), transferToStranger.toString());

        ProcessRun.Result usage = ProcessRun.clusterCli("remove", "--node", raft[2]);
        assertNotEquals(0, usage.exitCode(), usage.toString());
        assertTrue(usage.err().contains("Missing required parameter"), usage.toString());

        // No quorum: two of the three members killed; node 2, asked, is left alone.
        cluster.node(1).kill();
        cluster.node(3).kill();
        String newcomer = "127.0.0.1:" + Ports.free();
        ProcessRun.Result noQuorum = ProcessRun.clusterCli("add", newcomer, "--node", raft[2], "--timeout-ms", "2000");
        System.out.println("membership: cluster add without a quorum: " + noQuorum);
        assertEquals(1, noQuorum.exitCode(), noQuorum.toString());
        assertTrue(noQuorum.err().contains("adding " + newcomer + " failed"), noQuorum.toString());
        assertTrue(noQuorum.err().contains("quorum"), "the refusal says a quorum is missing: " + noQuorum);
        assertTrue(noQuorum.elapsedMillis() < 30_000, "answers within bounded time: " + noQuorum.elapsedMillis() + " ms");
    }

    // --- load ---------------------------------------------------------------------------------------

    /**
     * One writer thread per node, each on its own connection, setting fresh keys; a key is
     * acknowledged only when the node answered STORED. A SERVER_ERROR or a broken connection
     * (leader change, membership change) is counted and the writer moves on after a pause.
     */
    static final class Writers implements AutoCloseable {
        final Map<String, String> acknowledged = new ConcurrentHashMap<>();
        final AtomicLong failures = new AtomicLong();
        final AtomicBoolean running = new AtomicBoolean(true);
        final List<Thread> threads = new ArrayList<>();
        final List<Throwable> errors = new ArrayList<>();

        Writers(List<NodeProcess> targets) {
            for (NodeProcess target : targets) {
                threads.add(new Thread(() -> write(target), "writer-" + target.name));
            }
        }

        void start() {
            threads.forEach(Thread::start);
        }

        private void write(NodeProcess target) {
            TextClient client = null;
            for (long i = 0; running.get() && i < 1_000_000; i++) {
                String key = target.name + "-" + i;
                String value = "value-" + i;
                try {
                    if (client == null) {
                        client = new TextClient(target.port);
                    }
                    String reply = client.call("set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n");
                    if (reply.equals("STORED")) {
                        acknowledged.put(key, value);
                    } else if (reply.startsWith("SERVER_ERROR")) {
                        failures.incrementAndGet();
                        Thread.sleep(50);
                    } else {
                        throw new IOException("set " + key + " answered " + reply);
                    }
                    Thread.sleep(2);   // a steady load, not a benchmark
                } catch (IOException e) {
                    failures.incrementAndGet();
                    close(client);
                    client = null;
                    sleep(100);
                } catch (InterruptedException e) {
                    break;
                } catch (RuntimeException e) {
                    synchronized (errors) {
                        errors.add(e);
                    }
                    break;
                }
            }
            close(client);
        }

        /** Waits until at least {@code count} writes were acknowledged in all; fails at once if a writer failed. */
        void awaitAcknowledged(int count) throws InterruptedException {
            Await.until(count + " acknowledged writes", WAIT, () -> {
                synchronized (errors) {
                    assertTrue(errors.isEmpty(), "a writer failed: " + errors);
                }
                return acknowledged.size() >= count;
            }, () -> "; writes stalled at " + acknowledged.size() + " acknowledged, " + failures.get() + " failed");
        }

        private static void close(TextClient client) {
            if (client != null) {
                try {
                    client.close();
                } catch (IOException ignored) {
                    // closing a broken connection
                }
            }
        }

        private static void sleep(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() throws InterruptedException {
            running.set(false);
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(10));
            }
        }
    }

    // --- checks -------------------------------------------------------------------------------------

    private static String raftAddress(NodeProcess node) {
        return node.arguments.get(node.arguments.indexOf("--raft") + 1);
    }

    /** host:port of each member in a raft_members value (peer ids carry an incarnation: host:port:N). */
    static Set<String> endpoints(String members) {
        Set<String> endpoints = new TreeSet<>();
        if (members == null || members.equals("-")) {
            return endpoints;
        }
        for (String peer : members.split(",")) {
            String[] parts = peer.split(":");
            endpoints.add(parts[0] + ":" + parts[1]);
        }
        return endpoints;
    }

    private static Set<String> endpoints(String[] raft, int... ids) {
        return new TreeSet<>(Arrays.stream(ids).mapToObj(id -> raft[id]).toList());
    }

    private static int count(String text, String fragment) {
        int count = 0;
        for (int at = text.indexOf(fragment); at >= 0; at = text.indexOf(fragment, at + 1)) {
            count++;
        }
        return count;
    }

    /** Every acknowledged key has its value on {@code node} (waiting, bounded, for it to apply). */
    private static void assertAllReadable(NodeProcess node, Map<String, String> expected) throws InterruptedException {
        Await.value("all " + expected.size() + " acknowledged writes to be readable on " + node.name, Duration.ofSeconds(30), () -> {
            Map<String, String> actual = readAll(node.port, new ArrayList<>(expected.keySet()));
            Map<String, String> wrong = new LinkedHashMap<>();
            expected.forEach((key, value) -> {
                if (!value.equals(actual.get(key))) {
                    wrong.put(key, value + " but read " + actual.get(key));
                }
            });
            return wrong;
        }, Map::isEmpty);
    }

    /** Pipelined gets in chunks on one connection: key → value, a miss absent, a refusal as "SERVER_ERROR". */
    static Map<String, String> readAll(int port, List<String> keys) throws IOException {
        Map<String, String> values = new LinkedHashMap<>();
        try (TextClient client = new TextClient(port)) {
            for (int from = 0; from < keys.size(); from += 200) {
                List<String> chunk = keys.subList(from, Math.min(keys.size(), from + 200));
                StringBuilder request = new StringBuilder();
                chunk.forEach(key -> request.append("get ").append(key).append("\r\n"));
                client.send(request.toString());
                for (String key : chunk) {
                    String header = client.line();
                    if (header.startsWith("SERVER_ERROR")) {
                        values.put(key, "SERVER_ERROR");
                        continue;
                    }
                    if (header.equals("END")) {
                        continue;
                    }
                    String[] parts = header.split(" ");
                    if (parts.length != 4 || !parts[1].equals(key)) {
                        throw new IOException("unexpected reply to get " + key + ": " + header);
                    }
                    byte[] data = client.bytes(Integer.parseInt(parts[3]) + 2);
                    values.put(key, new String(data, 0, data.length - 2, StandardCharsets.ISO_8859_1));
                    String end = client.line();
                    if (!end.equals("END")) {
                        throw new IOException("no END after " + key + ": " + end);
                    }
                }
            }
        }
        return values;
    }

    /** Waits until the nodes applied the same index, then returns their digests. */
    private static List<String> convergedDigests(List<NodeProcess> nodes) throws InterruptedException {
        return Await.value("the remaining nodes to reach one applied index", WAIT, () -> {
            List<String> digests = new ArrayList<>();
            for (NodeProcess node : nodes) {
                digests.add(node.stats("digest").get("digest"));
            }
            return digests;
        }, digests -> digests.stream().map(d -> d.substring(0, d.indexOf(':'))).distinct().count() == 1);
    }

    private static String logs(List<NodeProcess> nodes) {
        StringBuilder text = new StringBuilder();
        for (NodeProcess node : nodes) {
            text.append("\n----- ").append(node.name).append(node.alive() ? "" : " (not running)").append(" -----\n").append(node.tail(25));
        }
        return text.toString();
    }
}
