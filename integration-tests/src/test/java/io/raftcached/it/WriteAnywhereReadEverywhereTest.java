package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.rubyeye.xmemcached.MemcachedClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Any node accepts any write and every node serves it: writes through each node of a 3-node
 * cluster with a real client are read back through every node; and a connection's own writes
 * are visible to its next read on a follower even when both travel in one packet (the read waits
 * until the forwarded write is applied locally).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WriteAnywhereReadEverywhereTest {
    private LocalCluster cluster;

    @BeforeAll
    void startCluster() throws Exception {
        cluster = LocalCluster.start("repl-everywhere", 3);
    }

    @AfterAll
    void stopCluster() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void writeThroughEachNodeReadBackThroughEveryNode() throws Exception {
        Map<String, String> expected = new LinkedHashMap<>();
        for (NodeProcess writer : cluster.nodes) {
            MemcachedClient client = WriteLoad.client(writer, 10_000);
            try {
                for (int i = 0; i < 100; i++) {
                    String key = "via-" + writer.name + "-" + i;
                    String value = "value " + i + " written through " + writer.name;
                    assertTrue(client.set(key, 0, value), "set " + key + " through " + writer.name + ClusterChecks.logs(cluster));
                    expected.put(key, value);
                }
            } finally {
                client.shutdown();
            }
        }
        // The same key overwritten through each node in turn: the last acknowledged write wins everywhere.
        for (NodeProcess writer : cluster.nodes) {
            assertEquals("STORED", ClusterChecks.rawSet(writer, "overwritten", "last-by-" + writer.name, 10_000));
        }
        expected.put("overwritten", "last-by-" + cluster.nodes.get(cluster.nodes.size() - 1).name);

        for (NodeProcess reader : cluster.nodes) {
            ClusterChecks.assertAllReadable(reader, expected, 10_000, "reading every node's writes through " + reader.name);
            // And through the real client's read path too.
            MemcachedClient client = WriteLoad.client(reader, 10_000);
            try {
                Map<String, String> got = client.get(new ArrayList<>(expected.keySet()));
                assertEquals(expected, got, "xmemcached multi-get through " + reader.name);
            } finally {
                client.shutdown();
            }
        }
    }

    @Test
    void pipelinedSetThenGetOnFollowerReturnsTheNewValue() throws Exception {
        NodeProcess leader = cluster.awaitLeader();
        List<NodeProcess> followers = cluster.nodes.stream().filter(n -> n != leader).toList();
        int iterations = 100;
        for (NodeProcess follower : followers) {
            try (TextClient client = new TextClient(follower.port)) {
                long started = System.nanoTime();
                for (int i = 0; i < iterations; i++) {
                    String key = "pipe-" + follower.name;
                    String value = "v" + i + "-" + "x".repeat(i % 50);
                    // One packet: the set is forwarded to the leader; the get must wait for it locally.
                    client.send("set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\nget " + key + "\r\n");
                    String context = follower.name + " iteration " + i;
                    assertEquals("STORED", client.line(), context);
                    assertEquals("VALUE " + key + " 0 " + value.length(), client.line(), context + ": get after set returned an older value or a miss"
                            + ClusterChecks.logs(List.of(follower)));
                    assertEquals(value, client.line(), context);
                    assertEquals("END", client.line(), context);
                }
                System.out.printf("pipelined set+get on follower %s: %.1f ms per round trip (sequential, one connection)%n",
                        follower.name, ClusterChecks.millisSince(started) / (double) iterations);
                // Other writes pipelined with a read: delete, incr, append.
                for (int i = 0; i < 20; i++) {
                    String key = "pipe2-" + follower.name + "-" + i;
                    client.send("set " + key + " 0 0 2\r\n10\r\nincr " + key + " " + i + "\r\nget " + key + "\r\n"
                            + "append " + key + " 0 0 1\r\nz\r\ngets " + key + "\r\n"
                            + "delete " + key + "\r\nget " + key + "\r\n");
                    String number = Integer.toString(10 + i);
                    String context = follower.name + " mixed iteration " + i;
                    assertEquals("STORED", client.line(), context);
                    assertEquals(number, client.line(), context + ": incr");
                    assertEquals("VALUE " + key + " 0 " + number.length(), client.line(), context + ": get after incr");
                    assertEquals(number, client.line(), context);
                    assertEquals("END", client.line(), context);
                    assertEquals("STORED", client.line(), context + ": append");
                    String gets = client.line();
                    assertTrue(gets.startsWith("VALUE " + key + " 0 " + (number.length() + 1) + " "), context + ": gets after append: " + gets);
                    assertEquals(number + "z", client.line(), context);
                    assertEquals("END", client.line(), context);
                    assertEquals("DELETED", client.line(), context);
                    assertEquals("END", client.line(), context + ": get after delete must miss");
                }
            }
        }
        try (TextClient client = new TextClient(leader.port)) {
            long started = System.nanoTime();
            for (int i = 0; i < iterations; i++) {
                client.send("set pipe-leader 0 0 1\r\nx\r\nget pipe-leader\r\n");
                assertEquals("STORED", client.line());
                assertEquals("VALUE pipe-leader 0 1", client.line());
                assertEquals("x", client.line());
                assertEquals("END", client.line());
            }
            System.out.printf("pipelined set+get on leader %s: %.1f ms per round trip (for comparison)%n",
                    leader.name, ClusterChecks.millisSince(started) / (double) iterations);
        }
    }
}
