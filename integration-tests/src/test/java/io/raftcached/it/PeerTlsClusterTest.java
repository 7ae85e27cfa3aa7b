package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Members over mutual TLS (--peer-cert, --peer-key, --peer-ca): the cluster works as without it —
 * writes replicate, a restarted follower catches up, `raftcached cluster` answers with the flags, a
 * wiped follower rejoins by snapshot and is promoted —
 * and a node without a certificate of the peer CA gets nothing: not the membership, not a vote,
 * not a place in the cluster; each member counts the refusals and logs them once per host.
 */
class PeerTlsClusterTest {
    private static final String REFUSAL_LINE = "refused a peer connection from 127.0.0.1";

    @Test
    void aClusterOverPeerTlsReplicatesCatchesUpAndAnswersTheCliOnlyWithCertificates() throws Exception {
        TestCertificates certificates = TestCertificates.make("peer-tls");
        List<String> memberFlags = certificates.memberFlags();
        try (LocalCluster cluster = LocalCluster.start("peer-tls", 3, memberFlags.toArray(String[]::new))) {
            NodeProcess leader = cluster.awaitLeader();
            assertEquals("yes", leader.stats("settings").get("raft_peer_tls"));
            List<NodeProcess> followers = cluster.nodes.stream().filter(n -> n != leader).toList();
            Map<String, String> forwarded = ClusterChecks.values("tls-forwarded", 200, 100);
            ClusterChecks.storeAll(followers.get(0), forwarded);   // forwarded to the leader over TLS
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, forwarded, 10_000, "replicated over TLS");
            }

            NodeProcess lagging = followers.get(1);
            lagging.kill();
            Map<String, String> missed = ClusterChecks.values("tls-missed", 300, 100);
            ClusterChecks.storeAll(leader, missed);
            lagging.start().awaitReady();
            ClusterChecks.assertAllReadable(lagging, missed, 20_000, "caught up over TLS after a restart");
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas differ: " + digests);

            String contact = ClusterChecks.raftEndpoint(leader);
            List<String> withCertificates = new ArrayList<>(List.of("status", "--node", contact));
            withCertificates.addAll(memberFlags);
            ProcessRun.Result status = ProcessRun.clusterCli(withCertificates.toArray(String[]::new));
            assertEquals(0, status.exitCode(), status.toString());
            assertEquals(3, status.out().lines().filter(line -> line.contains(" yes ")).count(), status.toString());
            assertTrue(status.out().contains("leader"), status.toString());

            long refusedBefore = Long.parseLong(leader.stats("raft").get("raft_peer_tls_refused"));
            ProcessRun.Result plaintext = ProcessRun.clusterCli("status", "--node", contact, "--timeout-ms", "2000");
            assertEquals(1, plaintext.exitCode(), plaintext.toString());
            assertTrue(plaintext.err().contains("--peer-cert"), "the error must point at the peer TLS flags: " + plaintext);
            assertTrue(Long.parseLong(leader.stats("raft").get("raft_peer_tls_refused")) > refusedBefore,
                    "the plaintext CLI must be counted as refused");

            ProcessRun.Result partial = ProcessRun.clusterCli("status", "--node", contact, "--peer-cert",
                    certificates.file("peer.crt").toString());
            assertEquals(64, partial.exitCode(), partial.toString());
            assertTrue(partial.err().contains("--peer-cert, --peer-key and --peer-ca go together"), partial.toString());

            // A wiped follower joins as a learner, installs a snapshot (files fetched over TLS) and is promoted, all over TLS.
            List<String> snapshot = new ArrayList<>(List.of("snapshot", "--node", contact));
            snapshot.addAll(memberFlags);
            // jraft drops the log up to the last-but-one snapshot: two, with writes between, compact it.
            for (int round = 0; round < 2; round++) {
                ClusterChecks.storeAll(leader, ClusterChecks.values("tls-snapshot-" + round, 50, 100));
                ProcessRun.Result snapshotted = ProcessRun.clusterCli(snapshot.toArray(String[]::new));
                assertEquals(0, snapshotted.exitCode(), snapshotted.toString());
            }
            String oldPeerId = lagging.stats("raft").get("raft_peer_id");
            lagging.stop();
            NodeProcess.deleteRecursively(cluster.dataDirectories.get(cluster.nodes.indexOf(lagging)));
            lagging.start().awaitReady();
            Map<String, String> rejoined = lagging.stats("raft");
            assertTrue(Long.parseLong(rejoined.get("raft_snapshots_installed")) >= 1, "installed a snapshot: " + rejoined);
            String newPeerId = rejoined.get("raft_peer_id");
            assertTrue(!newPeerId.equals(oldPeerId), "a new incarnation: " + newPeerId);
            ClusterChecks.awaitStats(cluster.awaitLeader(), "raft", raft -> raft.get("raft_members").contains(newPeerId), 30_000,
                    "the wiped node promoted to voter");
            ClusterChecks.assertAllReadable(lagging, forwarded, 20_000, "resynced by snapshot over TLS");
            ClusterChecks.assertAllReadable(lagging, missed, 20_000, "resynced by snapshot over TLS");
        }
    }

    @Test
    void nodesWithoutAMemberCertificateCannotJoinOrDisturbTheCluster() throws Exception {
        TestCertificates certificates = TestCertificates.make("peer-tls-intruders");
        List<String> memberFlags = new ArrayList<>(certificates.memberFlags());
        // Five JVMs share two cores here: a longer election timeout keeps a starved heartbeat from passing for an intruder's doing.
        memberFlags.addAll(List.of("--election-timeout-ms", "3000"));
        try (LocalCluster cluster = LocalCluster.start("peer-tls-guarded", 3, memberFlags.toArray(String[]::new))) {
            Map<String, String> before = ClusterChecks.values("guarded-before", 200, 100);
            ClusterChecks.storeAll(cluster.awaitLeader(), before);
            cluster.convergedDigests();
            NodeProcess leader = cluster.awaitLeader();
            String term = ClusterChecks.raftStat(leader, "raft_term");

            String members = ClusterChecks.argument(cluster.node(1), "--peers");
            // One presents a certificate of another CA (it trusts the members' CA), one speaks plaintext.
            try (NodeProcess stranger = intruder("peer-tls-stranger", 4, members, certificates.peerFlags("untrusted-client", "ca"));
                    NodeProcess plaintext = intruder("peer-tls-plaintext", 5, members, List.of())) {
                Map<String, String> during = ClusterChecks.values("guarded-during", 300, 100);
                ClusterChecks.storeAll(cluster.node(2), during);
                for (NodeProcess member : cluster.nodes) {
                    // Each intruder probes every member every round (a few hundred ms) once its JVM is up.
                    ClusterChecks.awaitStats(member, "raft", raft -> Long.parseLong(raft.get("raft_peer_tls_refused")) >= 6, 60_000,
                            "several refused connections of both intruders");
                }

                for (NodeProcess intruder : List.of(stranger, plaintext)) {
                    assertTrue(intruder.alive(), intruder.name + " keeps waiting for the cluster:\n" + intruder.tail());
                    assertTrue(!serves(intruder), intruder.name + " must not have started serving");
                }
                for (NodeProcess member : cluster.nodes) {
                    Map<String, String> raft = member.stats("raft");
                    assertEquals(term, raft.get("raft_term"), member.name + ": no election may have happened");
                    assertEquals(ClusterChecks.raftEndpoint(leader), raft.get("raft_leader").replaceFirst("^-$", ""),
                            member.name + " follows the same leader");
                    assertEquals(3, raft.get("raft_members").split(",").length, member.name + ": " + raft.get("raft_members"));
                    assertEquals("-", raft.get("raft_learners"), member.name + " has no learner");
                    long refused = Long.parseLong(raft.get("raft_peer_tls_refused"));
                    assertTrue(refused >= 6, member.name + " counted the intruders' connections: " + refused);
                    String log = member.logText();
                    long lines = log.substring(log.lastIndexOf("=== start")).lines().filter(line -> line.contains(REFUSAL_LINE)).count();
                    assertEquals(1, lines, member.name + " logs a refused host once, not per retry (" + refused + " refused)");
                }
                for (NodeProcess member : cluster.nodes) {
                    ClusterChecks.assertAllReadable(member, before, 10_000, "written before the intruders");
                    ClusterChecks.assertAllReadable(member, during, 10_000, "written while they knocked");
                }
            }
        }
    }

    @Test
    void theThreeFlagsGoTogetherAndMustHoldACertificateAndKey() throws Exception {
        TestCertificates certificates = TestCertificates.make("peer-tls-flags");
        Subprocess.Result partial = Subprocess.run(NodeProcess.single("peer-tls-partial", "--peer-cert",
                certificates.file("peer.crt").toString(), "--peer-ca", certificates.file("ca.crt").toString()).command(), 30_000);
        assertEquals(64, partial.exitCode(), partial.toString());
        assertTrue(partial.stderr().contains("--peer-cert, --peer-key and --peer-ca go together: --peer-key is missing"),
                partial.toString());

        // A key where the certificate belongs: refused at start with the files named, not a stack trace.
        Subprocess.Result swapped = Subprocess.run(NodeProcess.single("peer-tls-swapped", "--peer-cert",
                certificates.file("peer.key").toString(), "--peer-key", certificates.file("peer.key").toString(),
                "--peer-ca", certificates.file("ca.crt").toString()).command(), 30_000);
        assertEquals(1, swapped.exitCode(), swapped.toString());
        assertTrue(swapped.stderr().contains("raftcached: cannot use --peer-cert"), swapped.toString());
        assertTrue(!swapped.stderr().contains("\tat "), "a message, not a stack trace: " + swapped);
    }

    private static boolean serves(NodeProcess node) {
        try {
            return TextClient.answersVersion(node.port);
        } catch (java.io.IOException e) {
            return false;
        }
    }

    /** A node with a fresh data directory that names the members and itself in --peers, started without waiting. */
    private static NodeProcess intruder(String name, int nodeId, String members, List<String> tlsFlags) throws Exception {
        int port = Ports.free();
        String raft = "127.0.0.1:" + Ports.free();
        List<String> arguments = new ArrayList<>(List.of("-p", Integer.toString(port), "-l", "127.0.0.1", "--node-id",
                Integer.toString(nodeId), "--raft", raft, "--peers", members + "," + nodeId + "@" + raft,
                "--data-dir", NodeProcess.freshDirectory(name).toString()));
        arguments.addAll(tlsFlags);
        return new NodeProcess(name, port, arguments).startWithoutWaiting();
    }
}
