package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The store's shape is replicated state: a node started with another {@code -m} than its cluster
 * was created with refuses to run, with a message naming both values and a non-zero exit code;
 * whether it restarts with data or joins brand-new and empty. The cluster keeps serving.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StoreShapeMismatchTest {
    private static final long EXIT_TIMEOUT_MILLIS = 60_000;
    private LocalCluster cluster;
    private Map<String, String> data;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = LocalCluster.start("repl-shape", 3, "-m", "64");
        data = ClusterChecks.values("shape", 200, 100);
        ClusterChecks.storeAll(cluster.awaitLeader(), data);
    }

    @AfterAll
    void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void restartedNodeWithDataRefusesAnotherMemoryLimit() throws Exception {
        NodeProcess node = cluster.node(3);
        node.stop();
        NodeProcess wrong = new NodeProcess(node.name + "-m32", node.port, ClusterChecks.withArgument(node, "-m", "32"));
        try {
            wrong.startWithoutWaiting();
            assertRefused(wrong, "a restarted node with data");
        } finally {
            wrong.kill();
        }
        // Started again with the cluster's value it is fine and still has its data.
        node.start().awaitReady();
        ClusterChecks.assertAllReadable(node, data, 20_000, "the node restarted with the right -m");
    }

    @Test
    @Order(2)
    void brandNewNodeJoiningWithAnotherMemoryLimitRefusesToRun() throws Exception {
        NodeProcess first = cluster.node(1);
        int port = Ports.free();
        String raft = "127.0.0.1:" + Ports.free();
        Path data = NodeProcess.freshDirectory("repl-shape-n4");
        List<String> arguments = new ArrayList<>(List.of("-p", Integer.toString(port), "-l", "127.0.0.1", "--node-id", "4",
                "--raft", raft, "--peers", ClusterChecks.argument(first, "--peers") + ",4@" + raft, "--data-dir", data.toString(),
                "-m", "32"));
        NodeProcess joiner = new NodeProcess("repl-shape-n4", port, arguments);
        try {
            joiner.startWithoutWaiting();
            assertRefused(joiner, "a brand-new empty node joining");
        } finally {
            joiner.kill();
        }
        // Refused before it was added: the cluster holds no learner for it, and once the operator
        // fixes its flags the same node, with the same data directory, joins and serves.
        NodeProcess leader = cluster.awaitLeader();
        String learners = ClusterChecks.raftStat(leader, "raft_learners");
        assertFalse(learners.contains(raft), "the refused joiner was left in the configuration: " + learners);
        NodeProcess fixed = new NodeProcess("repl-shape-n4-m64", port, ClusterChecks.withArgument(joiner, "-m", "64"));
        try {
            fixed.start().awaitReady();
            ClusterChecks.assertAllReadable(fixed, this.data, 60_000, "the joiner started again with the cluster's -m");
        } finally {
            fixed.stop();
            ProcessRun.clusterCli("remove", raft, "--node", ClusterChecks.raftEndpoint(cluster.awaitLeader()));
        }
    }

    @Test
    @Order(3)
    void wipedNodeRejoiningWithAnotherMemoryLimitRefusesToRun() throws Exception {
        NodeProcess node = cluster.node(2);
        node.stop();
        NodeProcess.deleteRecursively(cluster.dataDirectories.get(1));
        NodeProcess wrong = new NodeProcess(node.name + "-wiped-m32", node.port, ClusterChecks.withArgument(node, "-m", "32"));
        try {
            wrong.startWithoutWaiting();
            assertRefused(wrong, "a wiped node rejoining");
        } finally {
            wrong.kill();
        }
        // The cluster still takes writes and serves them.
        NodeProcess leader = cluster.awaitLeader();
        assertEquals("STORED", ClusterChecks.setUntilStored(leader, "after-refusals", "ok", 20_000), ClusterChecks.logs(cluster));
    }

    private void assertRefused(NodeProcess node, String what) throws Exception {
        int exit = node.awaitExit(EXIT_TIMEOUT_MILLIS);
        String log = node.logText();
        String lastRun = log.substring(log.lastIndexOf("=== start"));
        lastRun = lastRun.substring(lastRun.indexOf('\n') + 1);   // the output, not the command line
        assertNotEquals(-1, exit, what + " started with -m 32 in a cluster created with -m 64 was still running after "
                + EXIT_TIMEOUT_MILLIS + " ms" + ClusterChecks.logs(List.of(node)));
        assertNotEquals(0, exit, what + " with the wrong -m exited with 0" + ClusterChecks.logs(List.of(node)));
        assertTrue(lastRun.contains("-m 64") && lastRun.contains("-m 32"),
                what + ": the refusal should name both the cluster's -m 64 and the node's -m 32; its output:\n" + lastRun);
        System.out.println(what + " with the wrong -m exited with " + exit + "; message: " + lastRun.lines()
                .filter(line -> line.contains("-m 64") && line.contains("-m 32")).findFirst().orElse("?"));
    }
}
