package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.raftcached.raft.LogStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The segment log store ({@code --log-store segment}) through what the fault suite does to a log,
 * on real processes: a three-node cluster under a write load through every node, snapshotting
 * every megabyte of log (so prefix truncation frees and reuses segments); the leader killed -9
 * twice, each restarted on its own log (recovery cuts a torn tail); a follower wiped and resynced
 * while the others compacted the log it would need (a snapshot install resets its log). Every
 * write acknowledged is then read back from every node and the replicas' digests agree. A node
 * keeps the store its log was written in: restarted with the other one it refuses to start and
 * says what to do; restarted without {@code --log-store} it opens its own log (so a node RocksDB
 * wrote keeps working after the default changed).
 */
class SegmentLogStoreTest {
    @Test
    void killsAndAResyncUnderLoadLoseNoAcknowledgedWrite() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("segment-log", 3, "--log-store", "segment", "--snapshot-log-mb", "1")) {
            WriteLoad load = new WriteLoad("seg", cluster.nodes, 2, 100, 5).start();
            Map<String, String> bulk;
            try {
                load.awaitMoreAcks("the load to get going", 300, 20_000);
                for (int round = 1; round <= 2; round++) {
                    NodeProcess leader = cluster.awaitLeader();
                    leader.kill();
                    assertNotEquals(leader, cluster.awaitLeader(), "the killed node cannot lead");
                    load.awaitMoreAcks("round " + round + ": writes after killing " + leader.name, 200, 20_000);
                    leader.start().awaitReady();
                }

                NodeProcess leader = cluster.awaitLeader();
                NodeProcess victim = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
                victim.stop();
                NodeProcess.deleteRecursively(cluster.dataDirectories.get(cluster.nodes.indexOf(victim)));
                // Several megabytes of log while it is away: the others snapshot and compact what it would need.
                // jraft cuts the log at a snapshot only up to the one before it, so it takes two.
                bulk = ClusterChecks.values("seg-bulk", 4000, 1000);
                ClusterChecks.storeAll(leader, bulk);
                ClusterChecks.awaitStats(leader, "raft", s -> Long.parseLong(s.get("raft_snapshots_saved")) >= 2, 30_000,
                        "two snapshots after 4 MB of log");
                victim.start().awaitReady();
                assertTrue(Long.parseLong(victim.stats("raft").get("raft_snapshots_installed")) >= 1,
                        "the wiped node resyncs from a snapshot" + ClusterChecks.logs(cluster));
                load.awaitMoreAcks("writes after the resync", 200, 20_000);
            } finally {
                load.stop();
            }
            Map<String, String> acked = load.ackedValues();
            for (NodeProcess node : cluster.nodes) {
                assertEquals("segment", node.stats("settings").get("raft_log_store"), node.name);
                ClusterChecks.assertAllReadable(node, acked, 30_000, "after two leader kills and a resync");
                ClusterChecks.assertAllReadable(node, bulk, 30_000, "the bulk written while a node was wiped");
            }
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged: " + digests);
            System.out.println("segment log store: " + acked.size() + " writes acknowledged through two leader kills and a resync, "
                    + load.failures().size() + " failed (outcome unknown), all readable on every node");
        }
    }

    @Test
    void aNodeKeepsTheStoreItsLogWasWrittenIn() throws Exception {
        assumeTrue(System.getProperty("it.logStore") == null, "-Dit.logStore gives every node a store: no node starts without one");
        NodeProcess fresh = NodeProcess.single("log-store-default");
        try {
            fresh.start().awaitReady();
            assertEquals(LogStore.DEFAULT.flagValue(), fresh.stats("settings").get("raft_log_store"), "a new node's default store");
        } finally {
            fresh.stop();
        }

        NodeProcess node = NodeProcess.single("log-store-kept", "--log-store", "rocksdb");
        List<String> withoutStore = new ArrayList<>(node.arguments);
        withoutStore.removeAll(List.of("--log-store", "rocksdb"));
        List<String> otherStore = new ArrayList<>(withoutStore);
        otherStore.addAll(List.of("--log-store", "segment"));
        NodeProcess refused = new NodeProcess("log-store-kept-segment", node.port, otherStore);
        NodeProcess kept = new NodeProcess("log-store-kept-default", node.port, withoutStore);
        try {
            node.start().awaitReady();
            try (TextClient client = new TextClient(node.port)) {
                assertEquals("STORED", client.call("set kept 0 0 4\r\nsafe\r\n"));
            }
            node.stop();

            refused.startWithoutWaiting();
            int exit = refused.awaitExit(60_000);
            assertTrue(exit > 0, "a node whose log RocksDB wrote must not start on the segment store, exit " + exit);
            assertTrue(refused.logText().contains("start this node with --log-store rocksdb"), refused.logText());

            kept.start().awaitReady();
            assertEquals("rocksdb", kept.stats("settings").get("raft_log_store"), "started without --log-store, a node opens its own log");
            try (TextClient client = new TextClient(kept.port)) {
                assertEquals("VALUE kept 0 4", client.call("get kept\r\n"), "the log is intact after the refusal");
            }
        } finally {
            refused.kill();
            kept.stop();
        }
    }
}
