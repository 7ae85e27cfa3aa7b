package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
                ProcessRun.Result stop = ProcessRun.run(java.util.List.of("bash", SCRIPT.toString(), "stop"), environment,
                        SCRIPT_TIMEOUT);
                assertEquals(0, stop.exitCode(), round + ": " + stop);
            }
        } finally {
            killLeftovers(directory);
        }
    }

    /** Nodes the script started and a failed assertion left running, by the pids it recorded. */
    private static void killLeftovers(Path directory) throws Exception {
        for (int id = 1; id <= 3; id++) {
            Path pidFile = directory.resolve("node-" + id + ".pid");
            if (Files.exists(pidFile)) {
                long pid = Long.parseLong(Files.readString(pidFile).strip());
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }
}
