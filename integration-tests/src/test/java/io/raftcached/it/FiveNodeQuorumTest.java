package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A 5-node cluster tolerates two failures: with two followers down, and separately with the
 * leader and one follower down, every surviving node still takes writes and serves them, and
 * what was written before is still there.
 */
class FiveNodeQuorumTest {
    @Test
    void fiveNodesKeepServingWritesWithTwoDown() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-five", 5)) {
            Map<String, String> expected = new LinkedHashMap<>(ClusterChecks.values("all-up", 200, 100));
            ClusterChecks.storeAll(cluster.awaitLeader(), expected);

            // Two followers down: the leader keeps its majority (3 of 5).
            NodeProcess leader = cluster.awaitLeader();
            List<NodeProcess> followersDown = cluster.nodes.stream().filter(n -> n != leader).limit(2).toList();
            for (NodeProcess node : followersDown) {
                node.kill();
            }
            writeThroughEverySurvivor(cluster, "two-followers-down", expected, false);
            assertEquals(leader, cluster.awaitLeader(), "losing two followers must not change the leader");
            for (NodeProcess node : followersDown) {
                node.start();
            }
            for (NodeProcess node : followersDown) {
                node.awaitReady();
            }
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, expected, 30_000, "all five back after two followers were down");
            }

            // The leader and one follower down: the other three elect a leader and carry on.
            NodeProcess oldLeader = cluster.awaitLeader();
            NodeProcess follower = cluster.nodes.stream().filter(n -> n != oldLeader).findFirst().orElseThrow();
            oldLeader.kill();
            follower.kill();
            NodeProcess newLeader = cluster.awaitLeader();
            assertNotEquals(oldLeader, newLeader);
            writeThroughEverySurvivor(cluster, "leader-and-one-down", expected, true);
            for (NodeProcess node : cluster.alive()) {
                ClusterChecks.assertAllReadable(node, expected, 30_000, "three of five after losing the leader and a follower");
            }
            oldLeader.start();
            follower.start();
            oldLeader.awaitReady();
            follower.awaitReady();
            for (NodeProcess node : List.of(oldLeader, follower)) {
                ClusterChecks.assertAllReadable(node, expected, 30_000, "a restarted node catching up");
            }
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged: " + digests);
        }
    }

    /**
     * A write through each live node must be acknowledged: at once, or once the election that
     * may still be running is over.
     */
    private static void writeThroughEverySurvivor(LocalCluster cluster, String prefix, Map<String, String> expected,
            boolean electionExpected) throws Exception {
        for (NodeProcess node : cluster.alive()) {
            String key = prefix + "-via-" + node.name;
            String value = "written through " + node.name + " with two nodes down";
            String reply = electionExpected ? ClusterChecks.setUntilStored(node, key, value, 15_000)
                    : ClusterChecks.rawSet(node, key, value, 10_000);
            assertEquals("STORED", reply, "write through " + node.name + " with two of five nodes down" + ClusterChecks.logs(cluster));
            expected.put(key, value);
            Map<String, String> bulk = ClusterChecks.values(prefix + "-bulk-" + node.name, 100, 100);
            ClusterChecks.storeAll(node, bulk);
            expected.putAll(bulk);
        }
    }
}
