package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Reads count on every replica: in a 3-node cluster with an 8 MB store, a hot set read only
 * through the two followers survives a stream of new keys five times the memory written through
 * the leader, while a cold set written at the same time and never read is evicted — and all three
 * replicas keep the same keys (their digests agree). Reads are local, so what makes this work is
 * the followers' access hints reaching the log; without them the hot set goes the way of the
 * cold one.
 */
class ReadAwareEvictionTest {
    private static final int SET_KEYS = 1_500;
    private static final int VALUE_BYTES = 1_000;
    private static final int STREAM_KEYS = 40_000;
    private static final int STREAM_PIPELINE = 100;

    @Test
    void aHotSetReadOnFollowersSurvivesNewKeysOnEveryReplica() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("read-aware", 3, "-m", "8")) {
            NodeProcess leader = cluster.awaitLeader();
            List<NodeProcess> followers = cluster.nodes.stream().filter(node -> node != leader).toList();
            Map<String, String> hot = ClusterChecks.values("hot-", SET_KEYS, VALUE_BYTES);
            Map<String, String> cold = ClusterChecks.values("cold-", SET_KEYS, VALUE_BYTES);
            ClusterChecks.storeAll(leader, hot);
            ClusterChecks.storeAll(leader, cold);

            AtomicBoolean streaming = new AtomicBoolean(true);
            AtomicReference<Throwable> readerFailure = new AtomicReference<>();
            AtomicLong reads = new AtomicLong();
            List<Thread> readers = new ArrayList<>();
            for (NodeProcess follower : followers) {
                Thread reader = new Thread(() -> {
                    try {
                        while (streaming.get()) {
                            reads.addAndGet(ClusterChecks.read(follower, hot.keySet()).size());
                        }
                    } catch (IOException | RuntimeException e) {
                        readerFailure.compareAndSet(null, e);
                    }
                }, "hot-reader-" + follower.name);
                reader.start();
                readers.add(reader);
            }
            try {
                streamNewKeys(leader);
            } finally {
                streaming.set(false);
                for (Thread reader : readers) {
                    reader.join();
                }
            }
            assertEquals(null, readerFailure.get(), "the hot readers failed" + ClusterChecks.logs(cluster));
            assertTrue(reads.get() > 4L * SET_KEYS, "the followers read the hot set while keys streamed in: " + reads.get());

            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged: " + digests);
            List<Integer> hotKept = new ArrayList<>();
            for (NodeProcess node : cluster.nodes) {
                int hotOnNode = present(node, hot);
                int coldOnNode = present(node, cold);
                System.out.println("read-aware eviction on " + node.name + ": hot kept " + hotOnNode + "/" + SET_KEYS
                        + ", cold kept " + coldOnNode + "/" + SET_KEYS + ", hints sent "
                        + ClusterChecks.raftStat(node, "raft_lru_hint_keys"));
                assertTrue(hotOnNode >= SET_KEYS * 9 / 10, node.name + " kept only " + hotOnNode + " of the hot keys");
                assertTrue(coldOnNode <= SET_KEYS / 10, node.name + " kept " + coldOnNode + " cold keys: the stream did not evict");
                hotKept.add(hotOnNode);
            }
            assertEquals(1, hotKept.stream().distinct().count(), "every replica keeps the same hot keys: " + hotKept);
            for (NodeProcess follower : followers) {
                assertTrue(Long.parseLong(ClusterChecks.raftStat(follower, "raft_lru_hint_keys")) > 0,
                        follower.name + " served the reads, so it sent hints");
            }
        }
    }

    /** Five times the memory in new keys through the leader, pipelined with noreply and a get to pace it. */
    private static void streamNewKeys(NodeProcess leader) throws IOException {
        String value = "n".repeat(VALUE_BYTES);
        try (TextClient client = new TextClient(leader.port)) {
            for (int from = 0; from < STREAM_KEYS; from += STREAM_PIPELINE) {
                StringBuilder batch = new StringBuilder();
                for (int i = from; i < from + STREAM_PIPELINE; i++) {
                    batch.append("set new-").append(i).append(" 0 0 ").append(VALUE_BYTES).append(" noreply\r\n").append(value).append("\r\n");
                }
                batch.append("mn\r\n");
                client.send(batch.toString());
                String reply = client.line();
                assertEquals("MN", reply, "the stream of new keys was refused at key " + from);
            }
        }
    }

    /** How many of the keys a node serves with their own value, read after the stream ended. */
    private static int present(NodeProcess node, Map<String, String> expected) throws IOException {
        Map<String, String> got = ClusterChecks.read(node, expected.keySet());
        int present = 0;
        for (Map.Entry<String, String> entry : got.entrySet()) {
            assertEquals(expected.get(entry.getKey()), entry.getValue(), node.name + " returned a wrong value for " + entry.getKey());
            present++;
        }
        return present;
    }
}
