package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A cluster of three nodes running four Raft groups (docs/scale-out.md, step 2): keys spread over
 * every group, each group's leader on its preferred node, a multi-key get across groups answered
 * in request order, a node killed -9 under a write load through every node losing no
 * acknowledged write, every group's replicas identical afterwards, and flush_all emptying every
 * group.
 */
class RaftGroupsTest {
    private static final int GROUPS = 4;

    @Test
    void fourGroupsOnThreeNodesSpreadKeysAndLeadersAndLoseNothingWhenANodeIsKilled() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("groups", 3, "--groups", Integer.toString(GROUPS), "-m", "64")) {
            Await.until("every node to lead one of the " + GROUPS + " groups", Duration.ofSeconds(40), () -> cluster.nodes.stream()
                    .allMatch(node -> Integer.parseInt(ClusterChecks.raftStat(node, "raft_groups_led")) >= 1), () -> ClusterChecks.logs(cluster));

            Map<String, Long> appliedBefore = appliedPerGroup(cluster.node(1));
            Map<String, String> values = ClusterChecks.values("spread", 400, 120);
            ClusterChecks.storeAll(cluster.node(2), values);
            Map<String, Long> appliedAfter = appliedPerGroup(cluster.node(2));
            for (int group = 1; group <= GROUPS; group++) {
                String name = "g" + group;
                assertTrue(appliedAfter.get(name) > appliedBefore.get(name), "group " + name + " took none of 400 keys: before "
                        + appliedBefore + ", after " + appliedAfter);
            }
            ClusterChecks.awaitStats(cluster.node(3), "", stats -> stats.get("curr_items").equals(Integer.toString(values.size())),
                    20_000, "stats to sum the items of every group");
            assertMultiGetInRequestOrder(cluster.node(3), values);

            WriteLoad load = new WriteLoad("gl", cluster.nodes, 2, 100, 5).start();
            NodeProcess victim;
            try {
                load.awaitMoreAcks("the load to get going", 300, 20_000);
                victim = ClusterChecks.leaderOf(cluster, 2);
                victim.kill();
                load.awaitMoreAcks("writes to go on, in every group, after " + victim.name + " was killed", 400, 30_000);
                victim.start().awaitReady();
                load.awaitMoreAcks("writes to go on after the restart", 200, 20_000);
            } finally {
                load.stop();
            }
            Map<String, String> acked = new HashMap<>(load.ackedValues());
            acked.putAll(values);
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, acked, 30_000, "after " + victim.name + " was killed and restarted");
            }
            ClusterChecks.awaitGroupsConverged(cluster, GROUPS);

            try (TextClient client = new TextClient(cluster.node(1).port)) {
                assertEquals("OK", client.call("flush_all\r\n"));
            }
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.awaitStats(node, "", stats -> stats.get("curr_items").equals("0"), 20_000, "flush_all to empty every group");
            }
        }
    }

    /**
     * A node whose disk is lost rejoins every group as a learner under a new identity, catches up
     * by snapshot and is promoted in each (joins and promotions name their group); a full stop
     * and start of the cluster then keeps every item of every group.
     */
    @Test
    void aWipedNodeRejoinsEveryGroupAndAFullRestartKeepsEveryGroupsItems() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("groups-wipe", 3, "--groups", Integer.toString(GROUPS), "-m", "64",
                "--snapshot-log-mb", "1")) {
            Map<String, String> values = ClusterChecks.values("before-wipe", 3_000, 400);
            ClusterChecks.storeAll(cluster.node(1), values);
            NodeProcess wiped = cluster.node(3);
            wiped.stop();
            NodeProcess.deleteRecursively(cluster.dataDirectories.get(2));
            Map<String, String> whileDown = ClusterChecks.values("while-wiped", 500, 400);
            ClusterChecks.storeAll(cluster.node(2), whileDown);
            wiped.start().awaitReady();
            Map<String, String> all = new HashMap<>(values);
            all.putAll(whileDown);
            ClusterChecks.assertAllReadable(wiped, all, 60_000, "after the wiped node rejoined");
            for (int group = 1; group <= GROUPS; group++) {
                int g = group;
                Await.until("the wiped node to be promoted from learner to voter in group g" + g, Duration.ofSeconds(60),
                        () -> List.of("follower", "leader").contains(GroupStats.role(wiped.stats("raft"), g)),
                        () -> ClusterChecks.logs(cluster));
            }
            ClusterChecks.awaitGroupsConverged(cluster, GROUPS);

            for (NodeProcess node : cluster.nodes) {
                node.stop();
            }
            for (NodeProcess node : cluster.nodes) {
                node.startWithoutWaiting();
            }
            for (NodeProcess node : cluster.nodes) {
                node.awaitListening().awaitReady();
            }
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, all, 60_000, "after a full stop and start");
            }
        }
    }

    /** Each group's applied index on {@code node}, from {@code stats raft}'s per-group lines. */
    private static Map<String, Long> appliedPerGroup(NodeProcess node) throws IOException {
        Map<String, Long> applied = new LinkedHashMap<>();
        for (int group = 1; group <= GROUPS; group++) {
            applied.put("g" + group, GroupStats.applied(node.stats("raft"), group));
        }
        return applied;
    }

    /** One {@code get} of 100 keys, which belong to every group, answered in the order asked. */
    private static void assertMultiGetInRequestOrder(NodeProcess node, Map<String, String> values) throws IOException {
        List<String> keys = new ArrayList<>(values.keySet()).subList(0, 100);
        try (TextClient client = new TextClient(node.port)) {
            client.send("get " + String.join(" ", keys) + "\r\n");
            for (String key : keys) {
                String header = client.line();
                assertTrue(header.startsWith("VALUE " + key + " "), "expected " + key + " next, got " + header);
                byte[] data = client.bytes(Integer.parseInt(header.split(" ")[3]) + 2);
                assertEquals(values.get(key), new String(data, 0, data.length - 2, StandardCharsets.ISO_8859_1));
            }
            assertEquals("END", client.line());
        }
    }
}
