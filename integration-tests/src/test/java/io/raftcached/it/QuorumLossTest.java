package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Reads and writes around quorum loss. Without a quorum a write answers SERVER_ERROR within the
 * configured --write-timeout-ms and never hangs the connection, while reads on that node are
 * still served from its local store (by default there is no staleness bound). With
 * --max-staleness-ms the cut-off node stops serving reads once that long has passed without a
 * leader. Reads on a --linearizable-port see the latest committed write made through any node,
 * and fail rather than answer stale without a quorum.
 */
class QuorumLossTest {
    private static final long WRITE_TIMEOUT_MILLIS = 1_500;
    /** Scheduling slack on two shared cores. */
    private static final long SLACK_MILLIS = 1_500;
    private static final long MAX_STALENESS_MILLIS = 2_000;
    /** Scheduling slack for the refusal to begin, on two cores shared by every node. */
    private static final long STALENESS_SLACK_MILLIS = 2_000;

    @Test
    void linearizablePortSeesLatestWriteAndWritesWithoutQuorumFailInBoundedTime() throws Exception {
        Map<Integer, Integer> linearizablePorts = new HashMap<>();
        for (int id = 1; id <= 3; id++) {
            linearizablePorts.put(id, Ports.free());
        }
        try (LocalCluster cluster = LocalCluster.start("repl-quorum", 3,
                id -> List.of("--linearizable-port", linearizablePorts.get(id).toString()),
                "--write-timeout-ms", Long.toString(WRITE_TIMEOUT_MILLIS))) {
            // --- linearizable reads: write through one node, read at once through another's linearizable port.
            int staleOnPlainPort = 0;
            int rounds = 150;
            TextClient[] writers = new TextClient[3];
            TextClient[] linearizable = new TextClient[3];
            TextClient[] plain = new TextClient[3];
            try {
                for (int i = 0; i < 3; i++) {
                    writers[i] = new TextClient(cluster.nodes.get(i).port);
                    linearizable[i] = new TextClient(linearizablePorts.get(i + 1));
                    plain[i] = new TextClient(cluster.nodes.get(i).port);
                }
                for (int round = 0; round < rounds; round++) {
                    int writer = round % 3;
                    int reader = (round + 1 + round / 3) % 3;
                    if (reader == writer) {
                        reader = (reader + 1) % 3;
                    }
                    String value = "v" + round;
                    assertEquals("STORED", writers[writer].call("set lin 0 0 " + value.length() + "\r\n" + value + "\r\n"));
                    String plainValue = get(plain[reader], "lin");
                    if (!value.equals(plainValue)) {
                        staleOnPlainPort++;
                    }
                    assertEquals(value, get(linearizable[reader], "lin"), "round " + round + ": a linearizable read through "
                            + cluster.nodes.get(reader).name + " missed the write acknowledged through " + cluster.nodes.get(writer).name
                            + ClusterChecks.logs(cluster));
                }
            } finally {
                for (int i = 0; i < 3; i++) {
                    for (TextClient client : new TextClient[] {writers[i], linearizable[i], plain[i]}) {
                        if (client != null) {
                            client.close();
                        }
                    }
                }
            }
            System.out.println("linearizable port: " + rounds + " reads right after a write through another node all saw it; "
                    + "the plain port answered an older value " + staleOnPlainPort + " times");
            long linearizableReads = 0;
            for (NodeProcess node : cluster.nodes) {
                linearizableReads += Long.parseLong(node.stats("raft").get("raft_linearizable_reads"));
            }
            assertTrue(linearizableReads >= rounds, "raft_linearizable_reads should count the reads on the linearizable ports");

            // --- quorum loss: keep one follower, kill the other two.
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess survivor = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            int survivorLinearizablePort = linearizablePorts.get(cluster.nodes.indexOf(survivor) + 1);
            assertEquals("STORED", ClusterChecks.rawSet(survivor, "before-loss", "still here", 10_000));
            for (NodeProcess node : cluster.nodes) {
                if (node != survivor) {
                    node.kill();
                }
            }
            try (TextClient client = new TextClient(survivor.port)) {
                client.readTimeout((int) (WRITE_TIMEOUT_MILLIS + SLACK_MILLIS + 5_000));
                for (int attempt = 0; attempt < 2; attempt++) {
                    long start = System.nanoTime();
                    String reply = client.call("set no-quorum-" + attempt + " 0 0 1\r\nx\r\n");
                    long millis = ClusterChecks.millisSince(start);
                    System.out.println("write without quorum (attempt " + attempt + "): '" + reply + "' after " + millis + " ms");
                    assertTrue(reply.startsWith("SERVER_ERROR"), "a write without quorum should fail, got: " + reply);
                    assertTrue(millis <= WRITE_TIMEOUT_MILLIS + SLACK_MILLIS, "a write without quorum answered after " + millis
                            + " ms, more than --write-timeout-ms " + WRITE_TIMEOUT_MILLIS + " (+" + SLACK_MILLIS + " ms slack)"
                            + ClusterChecks.logs(List.of(survivor)));
                }
                // Three pipelined writes: each answered, in order, within the bound; the connection stays usable.
                long start = System.nanoTime();
                client.send("set p1 0 0 1\r\na\r\nset p2 0 0 1\r\nb\r\ndelete before-loss\r\nversion\r\n");
                for (int i = 0; i < 3; i++) {
                    String reply = client.line();
                    assertTrue(reply.startsWith("SERVER_ERROR"), "pipelined write " + i + " without quorum: " + reply);
                }
                assertTrue(client.line().startsWith("VERSION"), "the connection must stay usable");
                long millis = ClusterChecks.millisSince(start);
                assertTrue(millis <= WRITE_TIMEOUT_MILLIS + SLACK_MILLIS, "three pipelined writes without quorum took " + millis + " ms");

                // Reads are still served locally: max-staleness is off by default.
                assertEquals("VALUE before-loss 0 10", client.call("get before-loss\r\n"), "a read on the cut-off node"
                        + ClusterChecks.logs(List.of(survivor)));
                assertEquals("still here", client.line());
                assertEquals("END", client.line());
            }
            // A linearizable read cannot be confirmed without a quorum: an error, not a possibly stale value.
            try (TextClient client = new TextClient(survivorLinearizablePort)) {
                client.readTimeout(20_000);
                long start = System.nanoTime();
                String reply = client.call("get before-loss\r\n");
                System.out.println("linearizable read without quorum: '" + reply + "' after " + ClusterChecks.millisSince(start) + " ms");
                assertTrue(reply.startsWith("SERVER_ERROR"), "a linearizable read without quorum must fail, got: " + reply);
            }
        }
    }

    @Test
    void maxStalenessStopsReadsOnANodeCutOffFromTheLeader() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-staleness", 3, "--max-staleness-ms", Long.toString(MAX_STALENESS_MILLIS))) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess survivor = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            assertEquals("STORED", ClusterChecks.rawSet(leader, "fresh", "value", 10_000));
            ClusterChecks.assertAllReadable(survivor, Map.of("fresh", "value"), 10_000, "before the cut");

            long lastServed = -1;
            long firstRefused = -1;
            String refusal = "";
            try (TextClient client = new TextClient(survivor.port)) {
                // The leader first: from the moment it is gone no leader can confirm anything to the survivor.
                leader.kill();
                long cut = System.nanoTime();
                for (NodeProcess node : cluster.nodes) {
                    if (node != survivor) {
                        node.kill();
                    }
                }
                // Sampled every 20 ms, not awaited: when reads stop being served is the measurement.
                long deadline = cut + TimeUnit.MILLISECONDS.toNanos(MAX_STALENESS_MILLIS + 10_000);
                while (System.nanoTime() < deadline) {
                    String reply = client.call("get fresh\r\n");
                    long at = ClusterChecks.millisSince(cut);
                    if (reply.startsWith("VALUE")) {
                        client.line();
                        client.line();
                        lastServed = at;
                    } else if (reply.startsWith("SERVER_ERROR")) {
                        firstRefused = at;
                        refusal = reply;
                        break;
                    } else {
                        throw new AssertionError("unexpected reply to a read: " + reply);
                    }
                    Thread.sleep(20);
                }
            }
            System.out.println("max-staleness " + MAX_STALENESS_MILLIS + " ms: reads served until +" + lastServed
                    + " ms after losing the leader, refused from +" + firstRefused + " ms: " + refusal);
            assertTrue(firstRefused > 0, "the cut-off node kept serving reads for " + (MAX_STALENESS_MILLIS + 10_000)
                    + " ms with --max-staleness-ms " + MAX_STALENESS_MILLIS + ClusterChecks.logs(List.of(survivor)));
            assertTrue(lastServed >= 0, "reads should be served right after the cut, before the staleness bound");
            assertTrue(firstRefused >= MAX_STALENESS_MILLIS - 500, "reads were refused after " + firstRefused
                    + " ms, well before --max-staleness-ms " + MAX_STALENESS_MILLIS);
            assertTrue(firstRefused <= MAX_STALENESS_MILLIS + STALENESS_SLACK_MILLIS, "reads were refused only after " + firstRefused
                    + " ms with --max-staleness-ms " + MAX_STALENESS_MILLIS);

            // Once a leader is back, reads resume.
            for (NodeProcess node : cluster.nodes) {
                if (node != survivor) {
                    node.start();
                }
            }
            ClusterChecks.assertAllReadable(survivor, Map.of("fresh", "value"), 30_000, "reads after the leader came back");
        }
    }

    /** The value of one key through an open connection, or null on a miss; SERVER_ERROR lines are returned as is. */
    private static String get(TextClient client, String key) throws IOException {
        String line = client.call("get " + key + "\r\n");
        if (line.equals("END")) {
            return null;
        }
        if (!line.startsWith("VALUE ")) {
            return line;
        }
        String value = client.line();
        String end = client.line();
        if (!end.equals("END")) {
            throw new IOException("expected END, got " + end);
        }
        return value;
    }
}
