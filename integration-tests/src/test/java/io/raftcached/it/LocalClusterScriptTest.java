package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code deploy/local-cluster.sh start}, the README's first command, returns only once every node
 * serves reads and takes writes: the first set through each node right after it is answered at
 * once, on a fresh cluster and on one restarted with data (where a first set once took over 3 s).
 */
class LocalClusterScriptTest {
    private static final Path SCRIPT = Path.of("..", "deploy", "local-cluster.sh");
    private static final Duration SCRIPT_TIMEOUT = Duration.ofMinutes(4);
    /** A write through a node the script called ready goes through the log at once: far below this. */
    private static final long FIRST_WRITE_MILLIS_MAX = 2_000;

    @Test
    void startReturnsOnlyOnceEveryNodeServesReadsAndTakesWrites() throws Exception {
        Path directory = NodeProcess.freshDirectory("local-cluster-script");
        int clientBase = Ports.freeRangeBase(3);
        int raftBase = Ports.freeRangeBase(3);
        int metricsBase = Ports.freeRangeBase(3);
        Map<String, String> environment = new HashMap<>();
        environment.put("RAFTCACHED_CLUSTER_DIR", directory.toString());
        environment.put("RAFTCACHED_CLIENT_PORT_BASE", Integer.toString(clientBase));
        environment.put("RAFTCACHED_RAFT_PORT_BASE", Integer.toString(raftBase));
        environment.put("RAFTCACHED_METRICS_PORT_BASE", Integer.toString(metricsBase));
        environment.put("RAFTCACHED_JAR", NodeProcess.privateJar().toString());
        environment.put("JAVA_OPTS", "-Xmx192m -XX:ActiveProcessorCount=2");
        try {
            for (String round : new String[] {"fresh", "restarted with data"}) {
                ProcessRun.Result start = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "start"), environment,
                        SCRIPT_TIMEOUT);
                assertEquals(0, start.exitCode(), round + ": " + start);
                for (int id = 1; id <= 3; id++) {
                    try (TextClient client = new TextClient(clientBase + id)) {
                        long started = System.nanoTime();
                        String reply = client.call("set first-" + id + " 0 0 5\r\n" + round.substring(0, 5) + "\r\n");
                        long millis = (System.nanoTime() - started) / 1_000_000;
                        assertEquals("STORED", reply, round + ": node " + id);
                        assertTrue(millis < FIRST_WRITE_MILLIS_MAX, round + ": the first set through node " + id + " took "
                                + millis + " ms after start returned");
                        String metrics = MetricsScrape.get(metricsBase + id);
                        assertTrue(metrics.contains("\nraft_has_leader 1.0\n"), round + ": node " + id + "'s /metrics on port "
                                + (metricsBase + id) + " says it has a leader");
                        System.out.printf("local-cluster.sh start (%s) returned after %d ms; first set through node %d: %d ms%n",
                                round, start.elapsedMillis(), id, millis);
                    }
                }
                statusAndWatch(environment);
                ProcessRun.Result stop = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "stop"), environment,
                        SCRIPT_TIMEOUT);
                assertEquals(0, stop.exitCode(), round + ": " + stop);
            }
        } finally {
            killLeftovers(directory);
        }
    }

    /**
     * {@code start --tls}: the nodes elect a leader and forward writes over peer mutual TLS, serve
     * clients over TLS only (with the certificates the script wrote into the cluster directory),
     * and the script's own status reaches them; a later {@code start N} keeps TLS on.
     */
    @Test
    void startTlsPutsClientsAndPeersOnTls() throws Exception {
        Path directory = NodeProcess.freshDirectory("local-cluster-tls");
        int clientBase = Ports.freeRangeBase(3);
        Map<String, String> environment = new HashMap<>();
        environment.put("RAFTCACHED_CLUSTER_DIR", directory.toString());
        environment.put("RAFTCACHED_CLIENT_PORT_BASE", Integer.toString(clientBase));
        environment.put("RAFTCACHED_RAFT_PORT_BASE", Integer.toString(Ports.freeRangeBase(3)));
        environment.put("RAFTCACHED_METRICS_PORT_BASE", Integer.toString(Ports.freeRangeBase(3)));
        environment.put("RAFTCACHED_JAR", NodeProcess.privateJar().toString());
        environment.put("JAVA_OPTS", "-Xmx192m -XX:ActiveProcessorCount=2");
        try {
            ProcessRun.Result start = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "start", "--tls"), environment,
                    SCRIPT_TIMEOUT);
            assertEquals(0, start.exitCode(), start.toString());
            assertTrue(start.out().contains("TLS (certificates in " + directory.resolve("tls") + ")"), start.out());
            javax.net.ssl.SSLSocketFactory tls = TestCertificates.at(directory.resolve("tls")).sockets("ca.crt");
            for (int id = 1; id <= 3; id++) {
                try (TextClient client = new TextClient(tls, clientBase + id)) {
                    assertEquals("STORED", client.call("set tls-" + id + " 0 0 2\r\nok\r\n"), "node " + id + " over TLS");
                }
                try (TextClient plain = new TextClient(clientBase + id)) {
                    plain.readTimeout(1_000);
                    String reply;
                    try {
                        reply = plain.call("version\r\n");
                    } catch (IOException closedOrSilent) {
                        reply = null;
                    }
                    assertTrue(reply == null || !reply.startsWith("VERSION"), "node " + id + " answers plaintext: " + reply);
                }
            }
            statusAndWatch(environment);
            ProcessRun.Result kill = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "kill", "2"), environment, SCRIPT_TIMEOUT);
            assertEquals(0, kill.exitCode(), kill.toString());
            ProcessRun.Result again = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "start", "2"), environment, SCRIPT_TIMEOUT);
            assertEquals(0, again.exitCode(), "node 2 rejoins over peer TLS: " + again);
            try (TextClient client = new TextClient(tls, clientBase + 2)) {
                assertEquals("VALUE tls-1 0 2", client.call("get tls-1\r\n"), "node 2 came back with TLS and caught up");
            }
            ProcessRun.Result stop = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "stop"), environment, SCRIPT_TIMEOUT);
            assertEquals(0, stop.exitCode(), stop.toString());
        } finally {
            killLeftovers(directory);
        }
    }

    /**
     * {@code start --nodes 5}: five nodes on the next five ports of each base, every one in every
     * node's peers, form one Raft group of five; status and stop cover all five. The sizes it
     * refuses (fewer than 3 nodes, groups that leave a node without a replica) start nothing.
     */
    @Test
    void startNodesFiveFormsOneGroupOfFive() throws Exception {
        Path directory = NodeProcess.freshDirectory("local-cluster-nodes");
        int clientBase = Ports.freeRangeBase(5);
        int metricsBase = Ports.freeRangeBase(5);
        Map<String, String> environment = new HashMap<>();
        environment.put("RAFTCACHED_CLUSTER_DIR", directory.toString());
        environment.put("RAFTCACHED_CLIENT_PORT_BASE", Integer.toString(clientBase));
        environment.put("RAFTCACHED_RAFT_PORT_BASE", Integer.toString(Ports.freeRangeBase(5)));
        environment.put("RAFTCACHED_METRICS_PORT_BASE", Integer.toString(metricsBase));
        environment.put("RAFTCACHED_JAR", NodeProcess.privateJar().toString());
        environment.put("JAVA_OPTS", "-Xmx192m -XX:ActiveProcessorCount=2");
        try {
            Map<java.util.List<String>, String> refusals = Map.of(
                    java.util.List.of("--nodes", "2"), "start --nodes takes a number of nodes from 3 to 9",
                    java.util.List.of("--nodes", "6", "--groups", "1"), "--groups 1 leaves some node without a group");
            for (Map.Entry<java.util.List<String>, String> refusal : refusals.entrySet()) {
                java.util.List<String> command = new java.util.ArrayList<>(java.util.List.of("bash", SCRIPT.toString(), "start"));
                command.addAll(refusal.getKey());
                ProcessRun.Result refused = ProcessRun.run(command, environment, Duration.ofSeconds(30));
                assertEquals(64, refused.exitCode(), refused.toString());
                assertTrue(refused.err().contains(refusal.getValue()), refused.toString());
                assertTrue(Files.notExists(directory), "a refused start leaves nothing behind: " + refused);
            }
            ProcessRun.Result start = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "start", "--nodes", "5"),
                    environment, SCRIPT_TIMEOUT);
            assertEquals(0, start.exitCode(), start.toString());
            assertTrue(start.out().contains("raftcached: 5 nodes on 127.0.0.1"), start.out());
            assertTrue(start.out().contains("(nodes 1-5: ports " + (metricsBase + 1) + "-" + (metricsBase + 5) + ")"), start.out());
            java.util.Set<String> leaders = new java.util.HashSet<>();
            for (int id = 1; id <= 5; id++) {
                try (TextClient client = new TextClient(clientBase + id)) {
                    Map<String, String> raft = client.stats("raft");
                    assertEquals(5, raft.get("raft_members").split(",").length, "node " + id + ": " + raft);
                    assertEquals("1", raft.get("raft_ready"), "node " + id + ": " + raft);
                    leaders.add(raft.get("raft_leader"));
                    assertEquals("STORED", client.call("set five-" + id + " 0 0 2\r\nok\r\n"), "node " + id);
                }
            }
            assertEquals(1, leaders.size(), "one leader for all five: " + leaders);
            ProcessRun.Result status = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "status"), environment,
                    Duration.ofSeconds(30));
            assertEquals(0, status.exitCode(), status.toString());
            java.util.List<String> lines = status.out().lines().toList();
            assertEquals(5, lines.size(), status.out());
            lines.forEach(line -> assertTrue(STATUS_LINE.matcher(line).matches(), line));
            assertTrue(lines.get(4).startsWith("node 5: pid "), status.out());
            ProcessRun.Result stop = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "stop"), environment, SCRIPT_TIMEOUT);
            assertEquals(0, stop.exitCode(), stop.toString());
            assertEquals(5, stop.out().lines().filter(line -> line.matches("node [1-5] stopped")).count(), stop.out());
        } finally {
            killLeftovers(directory);
        }
    }

    /** A node line of status: a role with a term and a leader, or electing; never a leader at term 0. */
    private static final java.util.regex.Pattern STATUS_LINE = java.util.regex.Pattern.compile(
            "node [1-9]: pid \\d+, port \\d+, ((leader|follower|learner), term [1-9]\\d*, applied \\d+, leader (127\\.0\\.0\\.1:\\d+\\S*|none yet)"
            + "|electing \\(no term yet\\), applied \\d+, leader none yet)");

    /**
     * status: one line per node in that shape, exactly one leader; watch: the bounded number of
     * refreshes asked for, and a watch without a count ends at SIGINT.
     */
    private static void statusAndWatch(Map<String, String> environment) throws Exception {
        ProcessRun.Result status = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "status"), environment,
                Duration.ofSeconds(30));
        assertEquals(0, status.exitCode(), status.toString());
        java.util.List<String> lines = status.out().lines().toList();
        assertEquals(3, lines.size(), status.out());
        lines.forEach(line -> assertTrue(STATUS_LINE.matcher(line).matches(), line));
        assertEquals(1, lines.stream().filter(line -> line.contains(", leader, term ")).count(), status.out());
        ProcessRun.Result watch = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "watch", "0.2", "3"), environment,
                Duration.ofSeconds(30));
        assertEquals(0, watch.exitCode(), watch.toString());
        assertEquals(3, watch.out().lines().filter(line -> line.contains("raftcached local cluster, every 0.2s")).count(),
                watch.out());
        assertEquals(9, watch.out().lines().filter(line -> STATUS_LINE.matcher(line).matches()).count(), watch.out());
        Path out = Files.createTempFile(NodeProcess.TEST_DIRECTORY, "watch", ".out");
        ProcessBuilder builder = new ProcessBuilder("bash", SCRIPT.toString(), "watch", "0.2").redirectOutput(out.toFile())
                .redirectErrorStream(true);
        builder.environment().putAll(environment);
        Process live = builder.start();
        try {
            io.raftcached.testing.Await.until("watch to print a refresh", Duration.ofSeconds(20),
                    () -> Files.readString(out).contains("node 3:"));
            Process interrupt = new ProcessBuilder("/bin/kill", "-INT", Long.toString(live.pid())).start();
            assertEquals(0, interrupt.waitFor());
            assertTrue(live.waitFor(10, java.util.concurrent.TimeUnit.SECONDS), "watch stops on SIGINT");
            assertEquals(0, live.exitValue(), Files.readString(out));
        } finally {
            live.destroyForcibly();
            Files.deleteIfExists(out);
        }
    }

    /** Nodes the script started and a failed assertion left running, by the pids it recorded. */
    private static void killLeftovers(Path directory) throws Exception {
        for (int id = 1; id <= 9; id++) {
            Path pidFile = directory.resolve("node-" + id + ".pid");
            if (Files.exists(pidFile)) {
                long pid = Long.parseLong(Files.readString(pidFile).strip());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
