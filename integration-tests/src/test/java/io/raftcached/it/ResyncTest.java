package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A node that lost its data directory comes back as a new identity: it rejoins as a learner under
 * a new incarnation, receives a snapshot (the log it would need was compacted away), is promoted
 * to voter in place of its old identity, and then holds every key by itself.
 */
class ResyncTest {
    /** The members (or learners) list of a {@code stats raft} view. */
    static List<String> peers(String statValue) {
        return statValue == null || statValue.equals("-") || statValue.isEmpty() ? List.of() : Arrays.asList(statValue.split(","));
    }

    @Test
    void wipedNodeRejoinsAsLearnerInstallsSnapshotIsPromotedAndServesEveryKey() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-resync", 3, "--snapshot-log-mb", "1")) {
            Map<String, String> expected = new LinkedHashMap<>();
            NodeProcess leader = cluster.awaitLeader();
            Map<String, String> before = ClusterChecks.values("before-wipe", 500, 1000);
            ClusterChecks.storeAll(leader, before);
            expected.putAll(before);

            NodeProcess victim = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            List<NodeProcess> others = cluster.nodes.stream().filter(n -> n != victim).toList();
            String oldPeerId = victim.stats("raft").get("raft_peer_id");
            assertEquals(ClusterChecks.raftEndpoint(victim), oldPeerId, "a bootstrapped node runs as incarnation 0");
            victim.stop();
            NodeProcess.deleteRecursively(cluster.dataDirectories.get(cluster.nodes.indexOf(victim)));

            // Enough log that the others snapshot (--snapshot-log-mb 1) and compact what the victim would need.
            int batch = 0;
            for (NodeProcess writer : others) {
                Map<String, String> during = ClusterChecks.values("while-wiped-" + (batch++), 2000, 1000);
                ClusterChecks.storeAll(writer, during);
                expected.putAll(during);
            }
            // jraft cuts the log at a snapshot only up to the one before it, so it takes two.
            for (NodeProcess node : others) {
                ClusterChecks.awaitStats(node, "raft", s -> Long.parseLong(s.get("raft_snapshots_saved")) >= 2, 30_000,
                        "two snapshots after 4 MB of log");
            }

            try (StatsWatcher watcher = new StatsWatcher(() -> cluster.nodes, 20)) {
                victim.start();
                Map<String, String> raft = victim.stats("raft");
                String newPeerId = raft.get("raft_peer_id");
                assertNotEquals(oldPeerId, newPeerId, "a wiped node must not come back under its old identity" + ClusterChecks.logs(cluster));
                assertTrue(newPeerId.startsWith(oldPeerId + ":") && Integer.parseInt(newPeerId.substring(oldPeerId.length() + 1)) >= 1,
                        "the wiped node's peer id should be its endpoint with a new incarnation >= 1, got " + newPeerId);

                victim.awaitReady();
                Map<String, String> ready = victim.stats("raft");
                assertTrue(Long.parseLong(ready.get("raft_snapshots_installed")) >= 1,
                        "the wiped node should have installed a snapshot, stats raft: " + ready + ClusterChecks.logs(cluster));
                boolean learnerSeen = watcher.seen().stream().anyMatch(view ->
                        view.node().equals(victim.name) && "learner".equals(view.raft().get("raft_role"))
                                || peers(view.raft().get("raft_learners")).contains(newPeerId));
                assertTrue(learnerSeen, "the wiped node was never seen as a learner; views seen:"
                        + watcher.describe() + ClusterChecks.logs(cluster));
                assertTrue(victim.logText().contains("as learner incarnation"), "the victim's log should say it joined as a learner"
                        + ClusterChecks.logs(List.of(victim)));
                ClusterChecks.assertAllReadable(victim, expected, 30_000, "the resynced node, before its promotion");

                Map<String, String> promoted = ClusterChecks.awaitStats(cluster.awaitLeader(), "raft",
                        s -> peers(s.get("raft_members")).contains(newPeerId), 30_000, "promotion of " + newPeerId + " to voter");
                assertFalse(peers(promoted.get("raft_members")).contains(oldPeerId),
                        "the old identity " + oldPeerId + " must be replaced, members: " + promoted.get("raft_members"));
                assertEquals(List.of(), peers(promoted.get("raft_learners")), "no learner is left once promoted");
            }

            // Writes after the promotion reach it too.
            Map<String, String> after = ClusterChecks.values("after-promotion", 200, 100);
            ClusterChecks.storeAll(victim, after);
            expected.putAll(after);
            ClusterChecks.assertAllReadable(victim, expected, 30_000, "the resynced node with the others still up");

            // And it holds them by itself: with the others gone it still serves every key locally.
            for (NodeProcess other : others) {
                other.kill();
            }
            ClusterChecks.assertAllReadable(victim, expected, 5_000, "the resynced node alone");
        }
    }
}
