package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * "Wipe a node, then lose the leader" must never elect a leader without acknowledged entries: a
 * node that lost its Raft state rejoins as a learner under a new incarnation and cannot vote as
 * its old self. When the leader dies before the wiped node is promoted, the cluster may stay
 * unavailable until the leader returns (the safe outcome), and no acknowledged write is lost.
 */
class WipedNodeLeaderLossTest {
    /** How long the survivors are watched for a (wrong) leader while the old leader is down. */
    private static final long UNAVAILABLE_WATCH_MILLIS = 6_000;

    @Test
    void leaderKilledBeforeWipedFollowerIsPromotedLosesNoAcknowledgedWrite() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-wipe-kill", 3, "--snapshot-log-mb", "1")) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess wiped = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            NodeProcess survivor = cluster.nodes.stream().filter(n -> n != leader && n != wiped).findFirst().orElseThrow();
            Map<String, String> expected = new LinkedHashMap<>(ClusterChecks.values("before", 1000, 1000));
            ClusterChecks.storeAll(leader, expected);

            wiped.stop();
            NodeProcess.deleteRecursively(cluster.dataDirectories.get(cluster.nodes.indexOf(wiped)));
            Map<String, String> whileDown = ClusterChecks.values("while-wiped", 2000, 1000);
            ClusterChecks.storeAll(survivor, whileDown);
            expected.putAll(whileDown);

            WriteLoad load = new WriteLoad("wk", List.of(leader, survivor), 1, 100, 5).start();
            String wipedEndpoint = ClusterChecks.raftEndpoint(wiped);
            try {
                load.awaitMoreAcks("the load to get going", 100, 20_000);
                wiped.startWithoutWaiting();
                // Catch it as a learner: the moment the leader lists it, freeze it so it cannot be promoted.
                Map<String, String> learnerView = ClusterChecks.awaitStatsPolling(leader, "raft",
                        s -> ResyncTest.peers(s.get("raft_learners")).stream().anyMatch(p -> p.startsWith(wipedEndpoint + ":")),
                        60_000, "the wiped node joining as a learner", 2);
                wiped.signal("STOP");
                Map<String, String> atKill = leader.stats("raft");
                String learner = ResyncTest.peers(learnerView.get("raft_learners")).stream()
                        .filter(p -> p.startsWith(wipedEndpoint + ":")).findFirst().orElseThrow();
                assertFalse(ResyncTest.peers(atKill.get("raft_members")).contains(learner),
                        "the wiped node was promoted before the test could kill the leader (members " + atKill.get("raft_members")
                                + "); the scenario did not happen" + ClusterChecks.logs(cluster));
                leader.kill();
                wiped.signal("CONT");

                // The survivor cannot win without the old identity's vote, and the learner cannot give it.
                assertNoLeaderFor(List.of(survivor, wiped), UNAVAILABLE_WATCH_MILLIS, cluster);

                leader.start().awaitReady();
                NodeProcess newLeader = cluster.awaitLeader();
                load.awaitMoreAcks("writes to resume once the old leader was back", 100, 30_000);
                System.out.println("wipe+kill: leader " + newLeader.name + " after the old leader returned; learner " + learner);
            } finally {
                load.stop();
            }
            expected.putAll(load.ackedValues());
            for (NodeProcess node : List.of(leader, survivor)) {
                ClusterChecks.assertAllReadable(node, expected, 30_000, "after wipe + leader kill");
            }
            ClusterChecks.assertAllReadable(wiped, expected, 60_000, "the wiped node after it caught up");
        }
    }

    /**
     * The sharper case: the survivor lags (frozen while writes commit on the leader and the node
     * that is then wiped). If the wiped node could vote as its old self, the lagging survivor could
     * win and the acknowledged writes it lacks would be lost.
     */
    @Test
    void laggingSurvivorAndWipedNodeCannotElectALeaderWithoutAcknowledgedWrites() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-wipe-lag", 3)) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess wiped = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            NodeProcess lagging = cluster.nodes.stream().filter(n -> n != leader && n != wiped).findFirst().orElseThrow();
            Map<String, String> expected = new LinkedHashMap<>(ClusterChecks.values("common", 300, 200));
            ClusterChecks.storeAll(leader, expected);
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, expected, 10_000, "before the lag");
            }

            lagging.signal("STOP");
            Map<String, String> onlyTwo = ClusterChecks.values("acked-without-lagging", 500, 200);
            ClusterChecks.storeAll(leader, onlyTwo);   // committed by the leader and the node about to be wiped
            expected.putAll(onlyTwo);
            leader.kill();
            wiped.kill();
            NodeProcess.deleteRecursively(cluster.dataDirectories.get(cluster.nodes.indexOf(wiped)));
            lagging.signal("CONT");
            wiped.startWithoutWaiting();

            assertNoLeaderFor(List.of(lagging, wiped), UNAVAILABLE_WATCH_MILLIS, cluster);
            assertTrue(wiped.alive(), "the wiped node should wait to join, not exit" + ClusterChecks.logs(List.of(wiped)));

            leader.start().awaitReady();
            cluster.awaitLeader();
            wiped.awaitListening().awaitReady();
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, expected, 30_000, "after the old leader returned");
            }
            assertTrue(wiped.stats("raft").get("raft_peer_id").startsWith(ClusterChecks.raftEndpoint(wiped) + ":"),
                    "the wiped node must run under a new incarnation");
        }
    }

    /** Fails if any of {@code nodes} reports itself leader within the time. */
    private static void assertNoLeaderFor(List<NodeProcess> nodes, long millis, LocalCluster cluster) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (System.nanoTime() < deadline) {
            for (NodeProcess node : nodes) {
                String role = ClusterChecks.raftStat(node, "raft_role");
                if ("leader".equals(role)) {
                    throw new AssertionError(node.name + " became leader while the only node holding every acknowledged write "
                            + "was down and the other had lost its data: acknowledged writes can be lost" + ClusterChecks.logs(cluster));
                }
            }
            Thread.sleep(50);
        }
    }
}
