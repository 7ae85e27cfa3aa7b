package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Stopping the whole cluster (SIGTERM to every node) and starting it again keeps every item —
 * values, flags and CAS unique — which memcached cannot do: each node replays its snapshot and
 * log tail. Small snapshot triggers make the restart use both.
 */
class FullRestartTest {
    @Test
    void fullClusterStopAndStartKeepsEveryItem() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-full-restart", 3, "--snapshot-log-mb", "1")) {
            Map<String, String> expected = new LinkedHashMap<>();
            for (NodeProcess node : cluster.nodes) {
                Map<String, String> values = ClusterChecks.values("bulk-" + node.name, 1000, 1000);
                ClusterChecks.storeAll(node, values);
                expected.putAll(values);
            }
            WriteLoad load = new WriteLoad("full", cluster.nodes, 1, 200, 2).start();
            try {
                load.awaitMoreAcks("the load to get going", 300, 20_000);
            } finally {
                load.stop();
            }
            expected.putAll(load.ackedValues());
            NodeProcess leader = cluster.awaitLeader();
            try (TextClient client = new TextClient(leader.port)) {
                assertEquals("STORED", client.call("set counter 7 0 2\r\n40\r\n"));
                assertEquals("42", client.call("incr counter 2\r\n"));
            }
            expected.put("counter", "42");

            cluster.convergedDigests();
            long snapshots = 0;
            for (NodeProcess node : cluster.nodes) {
                snapshots += Long.parseLong(node.stats("raft").get("raft_snapshots_saved"));
            }
            assertTrue(snapshots >= 1, "the test wants a restart from a snapshot plus a log tail; no snapshot was taken");
            List<String> sample = new ArrayList<>(expected.keySet()).subList(0, 50);
            Map<String, String> casBefore = gets(cluster.node(1), sample);
            String itemsBefore = cluster.node(1).stats("").get("curr_items");

            List<Integer> exitCodes = new ArrayList<>();
            for (NodeProcess node : cluster.nodes) {
                exitCodes.add(node.stop());
            }
            System.out.println("full restart: " + expected.size() + " items, " + snapshots + " snapshots taken before; "
                    + "exit codes on SIGTERM " + exitCodes);
            for (NodeProcess node : cluster.nodes) {
                node.startWithoutWaiting();
            }
            for (NodeProcess node : cluster.nodes) {
                node.awaitListening().awaitReady();
            }
            cluster.awaitLeader();

            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, expected, 30_000, "after stopping and starting the whole cluster");
                assertEquals(casBefore, gets(node, sample), node.name + ": flags and CAS uniques must survive a full restart");
                assertEquals(itemsBefore, node.stats("").get("curr_items"), node.name + ": curr_items after a full restart");
            }
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged after a full restart: " + digests);
        }
    }

    /** key → "flags cas" from {@code gets}, one key at a time. */
    private static Map<String, String> gets(NodeProcess node, List<String> keys) throws IOException {
        Map<String, String> result = new LinkedHashMap<>();
        try (TextClient client = new TextClient(node.port)) {
            for (String key : keys) {
                String header = client.call("gets " + key + "\r\n");
                String[] parts = header.split(" ");
                if (!parts[0].equals("VALUE")) {
                    result.put(key, header);
                    continue;
                }
                client.bytes(Integer.parseInt(parts[3]) + 2);
                assertEquals("END", client.line());
                result.put(key, parts[2] + " " + parts[4]);
            }
        }
        return result;
    }
}
