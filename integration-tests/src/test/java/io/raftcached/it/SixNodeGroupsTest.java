package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.placement.ClusterMap;
import io.raftcached.protocol.RepliesFile;
import io.raftcached.testing.Await;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Six nodes, four Raft groups of three replicas (docs/scale-out.md, step 3): each node holds two
 * groups and relays the other two's commands to their replicas. More data than any node's memory
 * is readable through every node; a node killed -9 under a write load through every node loses no
 * acknowledged write and every group's replicas end identical; memcached's transcripts replay
 * unchanged through a node that holds half of the groups; and a read relayed after a write never
 * answers from a replica that has not applied it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SixNodeGroupsTest {
    private static final int NODES = 6;
    private static final int GROUPS = 4;
    private static final int NODE_MEMORY_MB = 16;
    private LocalCluster cluster;

    @BeforeAll
    void start() throws Exception {
        cluster = LocalCluster.start("six", NODES, "--groups", Integer.toString(GROUPS), "-m", Integer.toString(NODE_MEMORY_MB));
    }

    @AfterAll
    void stop() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void moreDataThanAnyNodesMemoryIsReadableThroughEveryNode() throws Exception {
        for (NodeProcess node : cluster.nodes) {
            Map<String, String> raft = node.stats("raft");
            assertEquals(GROUPS, Integer.parseInt(raft.get("raft_groups_total")));
            assertEquals(2, Integer.parseInt(raft.get("raft_groups")), node.name + " holds two of the four groups: " + raft);
        }
        // The admin CLI asked through any node shows every group, each with its three members
        // (a node holding no replica of a group names the members to ask).
        ProcessRun.Result status = ProcessRun.clusterCli("status", "--json", "--node", ClusterChecks.raftEndpoint(cluster.node(NODES)));
        assertEquals(0, status.exitCode(), status.toString());
        List<String> documents = status.out().lines().filter(line -> line.startsWith("{")).toList();
        assertEquals(GROUPS, documents.size(), status.out());
        for (int group = 1; group <= GROUPS; group++) {
            String document = documents.get(group - 1);
            assertTrue(document.startsWith("{\"group\":" + group + ","), document);
            assertEquals(3, document.split("\"voter\":true", -1).length - 1, "three voters in group g" + group + ": " + document);
            assertEquals(3, document.split("\"reachable\":true", -1).length - 1, document);
        }
        // 1 100 values of 16 KB: 17.6 MB, more than the 16 MB any one node has for all its groups.
        Map<String, String> values = ClusterChecks.values("big", 1_100, 16 * 1024);
        long valueBytes = values.values().stream().mapToLong(String::length).sum();
        assertTrue(valueBytes > NODE_MEMORY_MB * 1024L * 1024, valueBytes + " bytes do not exceed a node's memory");
        ClusterChecks.storeAll(cluster.node(1), values);
        for (NodeProcess node : cluster.nodes) {
            ClusterChecks.assertAllReadable(node, values, 60_000, "more data than a node holds");
        }
        Await.until("every item to be on three replicas and no node to hold them all", Duration.ofSeconds(30), () -> {
            long replicas = 0;
            for (NodeProcess node : cluster.nodes) {
                Map<String, String> stats = node.stats("");
                long items = Long.parseLong(stats.get("curr_items"));
                if (items >= values.size() || !stats.get("evictions").equals("0")) {
                    throw new AssertionError(node.name + " holds " + items + " items with " + stats.get("evictions") + " evictions");
                }
                replicas += items;
            }
            return replicas == 3L * values.size();
        }, () -> ClusterChecks.logs(cluster));
    }

    /**
     * 1 MB values ride the relays both ways, pipelined; clients that ask for many of them and do
     * not read hold up nobody else's relayed reads (a reply holds no relay budget while it waits
     * for its client), and every one of them gets every value once it reads.
     */
    @Test
    @Order(2)
    void megabyteValuesRideTheRelaysAndSlowReadersHoldUpNoOne() throws Exception {
        NodeProcess through = cluster.node(1);
        Map<String, String> values = ClusterChecks.values("mb", 8, 1024 * 1024 - 512);
        ClusterChecks.storeAll(through, values);
        String getAll = "get " + String.join(" ", values.keySet()) + "\r\n";
        List<TextClient> slow = new ArrayList<>();
        try {
            for (int i = 0; i < 40; i++) {
                TextClient client = new TextClient(through.port);
                client.readTimeout(60_000);
                slow.add(client.send(getAll));
            }
            Thread.sleep(1_000);
            TextClient fresh = new TextClient(through.port);
            fresh.readTimeout(20_000);
            assertGetsAll(fresh.send(getAll), values, "a client while 40 others do not read theirs");
            for (TextClient client : slow) {
                assertGetsAll(client, values, "a slow client once it reads");
            }
        } finally {
            for (TextClient client : slow) {
                client.close();
            }
        }
        ClusterChecks.assertAllReadable(cluster.node(NODES), values, 30_000, "1 MB values through another node");
    }

    /** Reads the reply to a get of every key of {@code values} sent on {@code client}: every value, in order. */
    private static void assertGetsAll(TextClient client, Map<String, String> values, String who) throws IOException {
        try (client) {
            for (Map.Entry<String, String> entry : values.entrySet()) {
                String header = client.line();
                assertTrue(header.startsWith("VALUE " + entry.getKey() + " "), who + ": expected " + entry.getKey() + ", got " + header);
                byte[] data = client.bytes(Integer.parseInt(header.split(" ")[3]) + 2);
                assertEquals(entry.getValue(), new String(data, 0, data.length - 2, StandardCharsets.ISO_8859_1), who);
            }
            assertEquals("END", client.line(), who);
        }
    }

    @Test
    @Order(3)
    void aNodeKilledUnderLoadThroughEveryNodeLosesNoAcknowledgedWrite() throws Exception {
        WriteLoad load = new WriteLoad("six", cluster.nodes, 1, 100, 5).start();
        NodeProcess victim;
        try {
            load.awaitMoreAcks("the load to get going", 300, 30_000);
            victim = ClusterChecks.leaderOf(cluster, 2);
            victim.kill();
            load.awaitMoreAcks("writes to go on, in every group, after " + victim.name + " was killed", 400, 40_000);
            victim.start().awaitReady();
            load.awaitMoreAcks("writes to go on after the restart", 200, 30_000);
        } finally {
            load.stop();
        }
        Map<String, String> acked = new HashMap<>(load.ackedValues());
        for (NodeProcess node : cluster.nodes) {
            ClusterChecks.assertAllReadable(node, acked, 60_000, "after " + victim.name + " was killed and restarted");
        }
        ClusterChecks.awaitGroupsConverged(cluster, GROUPS);
    }

    @TestFactory
    @Order(4)
    Stream<DynamicNode> transcriptsThroughANodeHoldingHalfTheGroups() throws Exception {
        NodeProcess node = cluster.node(NODES);
        List<DropInServers.Target> targets = List.of(new DropInServers.Target(node.name, node.port, node.pid()));
        return Stream.of(ReplayTranscriptsTest.memcachedRepliesFile(), ReplayTranscriptsTest.PIPELINING)
                .flatMap(file -> ReplayTranscriptsTest.containers(parse(file), targets,
                        target -> ReplayTranscriptsTest.Dialer.plain(target.port()), (target, c) -> null));
    }

    private static RepliesFile.Parsed parse(Path file) {
        try {
            return ReplayTranscriptsTest.parse(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Read-your-writes when relays move: a write relayed to group g2 is applied on two of its
     * replicas while the third is paused; those two are killed and the third resumed, so the one
     * replica left is behind. A read through the relaying node must not return the old value from
     * it: the read carries the index the write was applied at, and the replica refuses rather
     * than answer from before it.
     */
    @Test
    @Order(5)
    void aReadAfterAWriteNeverSeesTheValueBeforeItFromALaggingReplica() throws Exception {
        int group = 2;
        ClusterMap slots = ClusterMap.empty(3).withNode(1, 64).withNode(2, 64).withNode(3, 64).withGroups(GROUPS, 1);
        String key = IntStream.range(0, 1_000).mapToObj(i -> "ryw-" + i)
                .filter(k -> slots.groupOfKey(k.getBytes(StandardCharsets.US_ASCII)) == group).findFirst().orElseThrow();
        List<NodeProcess> replicas = new ArrayList<>();
        NodeProcess relaying = null;
        for (NodeProcess node : cluster.nodes) {
            if (GroupStats.holds(node.stats("raft"), group)) {
                replicas.add(node);
            } else {
                relaying = node;
            }
        }
        assertEquals(3, replicas.size());
        NodeProcess through = relaying;
        NodeProcess lagging = replicas.stream().filter(node -> !isLeader(node, group)).findFirst().orElseThrow();
        assertEquals("STORED", ClusterChecks.setUntilStored(through, key, "before", 20_000));
        ClusterChecks.assertAllReadable(lagging, Map.of(key, "before"), 20_000, "before the pause");

        lagging.signal("STOP");
        List<NodeProcess> killed = replicas.stream().filter(node -> node != lagging).toList();
        try {
            assertEquals("STORED", ClusterChecks.setUntilStored(through, key, "after", 30_000));
            for (NodeProcess node : killed) {
                node.kill();
            }
        } finally {
            lagging.signal("CONT");
        }
        try (TextClient client = new TextClient(through.port)) {
            client.readTimeout(30_000);
            String reply = client.call("get " + key + "\r\n");
            assertTrue(reply.startsWith("SERVER_ERROR"), "a read through " + through.name + " after its write of 'after' answered "
                    + reply + ", from " + lagging.name + ", which never applied the write");
        }
        for (NodeProcess node : killed) {
            node.start().awaitReady();
        }
        ClusterChecks.assertAllReadable(through, Map.of(key, "after"), 30_000, "once the replicas are back");
        ClusterChecks.assertAllReadable(lagging, Map.of(key, "after"), 30_000, "once the lagging replica caught up");
    }

    private static boolean isLeader(NodeProcess node, int group) {
        try {
            return "leader".equals(GroupStats.role(node.stats("raft"), group));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

}
