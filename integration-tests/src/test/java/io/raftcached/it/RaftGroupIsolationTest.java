package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A node of another cluster at an address a cluster still lists is not answered at the Raft
 * layer: Raft RPCs carry each cluster's own group id. Cluster A loses node 3; a one-member
 * cluster C is started at node 3's Raft address. A's leader keeps sending node 3 its heartbeats
 * and entries; C must neither follow it nor take its entries.
 */
class RaftGroupIsolationTest {
    /** Many of A's heartbeat and resend rounds (its election timeout is 1 s). */
    private static final long EXPOSURE_MILLIS = 5_000;

    @Test
    void aNodeOfAnotherClusterAtAReusedAddressIgnoresTheOldClustersLeader() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("group-a", 3)) {
            Map<String, String> aData = ClusterChecks.values("cluster-a", 50, 50);
            ClusterChecks.storeAll(cluster.awaitLeader(), aData);
            NodeProcess third = cluster.node(3);
            String reusedRaftAddress = ClusterChecks.raftEndpoint(third);
            third.stop();
            NodeProcess leader = cluster.awaitLeader();

            Path data = NodeProcess.freshDirectory("group-c");
            int port = Ports.free();
            try (NodeProcess other = new NodeProcess("group-c", port, List.of("-p", Integer.toString(port), "-l", "127.0.0.1",
                    "--node-id", "7", "--raft", reusedRaftAddress, "--data-dir", data.toString()))) {
                other.start().awaitReady();
                Map<String, String> cData = ClusterChecks.values("cluster-c", 10, 20);
                ClusterChecks.storeAll(other, cData);
                String termBefore = ClusterChecks.raftStat(other, "raft_term");
                ClusterChecks.storeAll(leader, ClusterChecks.values("cluster-a-more", 50, 50));   // entries A wants to send node 3
                Thread.sleep(EXPOSURE_MILLIS);   // holds the exposure: A's leader keeps trying node 3's address meanwhile

                assertEquals("leader", ClusterChecks.raftStat(other, "raft_role"), "C must still lead its own group");
                assertEquals(termBefore, ClusterChecks.raftStat(other, "raft_term"), "C saw no higher term from A's leader");
                assertFalse(ClusterChecks.raftStat(other, "raft_members").contains(ClusterChecks.raftEndpoint(leader)),
                        "C's membership must be its own");
                ClusterChecks.assertAllReadable(other, cData, 5_000, "C's own data");
                Map<String, String> leaked = ClusterChecks.read(other, aData.keySet());
                assertEquals(Map.of(), leaked, "none of A's entries may reach C");
                assertNotEquals(ClusterChecks.raftStat(leader, "raft_cluster_id"), ClusterChecks.raftStat(other, "raft_cluster_id"));
                ClusterChecks.assertAllReadable(leader, aData, 5_000, "A, which keeps serving with two of three");
            }
        }
    }
}
