package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Replicas end in the same bytes: a random workload through every node of a small-memory cluster
 * (-m 8, so values evict each other) with relative, absolute and negative TTLs, add/replace,
 * append/prepend, incr/decr, cas, touch/gat, meta set/get, delete and a delayed flush_all, with a
 * follower killed and restarted in the middle, leaves every replica with the same
 * {@code stats digest} at one applied index, and the same item, byte and eviction counts.
 */
class DeterminismTest {
    private static final long WORKLOAD_MILLIS = 10_000;
    private static final int KEYS = 400;
    private static final int PIPELINE = 32;

    @Test
    void everyReplicaReportsTheSameDigestAfterARandomWorkload() throws Exception {
        long seed = System.nanoTime();
        System.out.println("determinism workload seed " + seed);
        try (LocalCluster cluster = LocalCluster.start("repl-determinism", 3, "-m", "8")) {
            // More large values than 8 MB holds, so that eviction is certain whatever the random mix.
            ClusterChecks.storeAll(cluster.awaitLeader(), ClusterChecks.values("preload", 200, 60_000));
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicLong commands = new AtomicLong();
            ConcurrentLinkedQueue<Throwable> crashes = new ConcurrentLinkedQueue<>();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < cluster.nodes.size(); i++) {
                NodeProcess node = cluster.nodes.get(i);
                Random random = new Random(seed + i);
                Thread thread = new Thread(() -> {
                    try {
                        drive(node, random, running, commands);
                    } catch (Throwable t) {
                        crashes.add(t);
                    }
                }, "workload-" + node.name);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
            NodeProcess restarted = null;
            try {
                Thread.sleep(WORKLOAD_MILLIS / 3);
                NodeProcess leader = cluster.awaitLeader();
                restarted = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
                restarted.kill();
                Thread.sleep(WORKLOAD_MILLIS / 3);
                restarted.start().awaitReady();
                Thread.sleep(WORKLOAD_MILLIS / 3);
            } finally {
                running.set(false);
                for (Thread thread : threads) {
                    thread.join(30_000);
                }
            }
            if (!crashes.isEmpty()) {
                throw new AssertionError("a workload thread failed (seed " + seed + ")", crashes.peek());
            }
            // Let the short TTLs lapse on every replica (an idle leader keeps replicated time moving).
            Thread.sleep(3_000);

            List<String> digests = cluster.convergedDigests();
            System.out.println("determinism: " + commands.get() + " commands, digests " + digests);
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged after " + commands.get()
                    + " random commands (seed " + seed + ", " + restarted.name + " restarted midway): " + digests
                    + ClusterChecks.logs(cluster));

            List<Map<String, String>> stats = statsAtOneIndex(cluster);
            for (String name : List.of("curr_items", "bytes", "total_items", "evictions")) {
                List<String> values = stats.stream().map(s -> s.get(name)).toList();
                assertEquals(1, values.stream().distinct().count(), name + " differs between replicas: " + values);
            }
            System.out.println("determinism: at one applied index every replica has curr_items=" + stats.get(0).get("curr_items")
                    + " bytes=" + stats.get(0).get("bytes") + " evictions=" + stats.get(0).get("evictions"));
            assertTrue(Long.parseLong(stats.get(0).get("evictions")) > 0,
                    "the workload should have evicted items with -m 8; stats: " + stats.get(0));
        }
    }

    /** Random commands in pipelined bursts through one node, reading every reply; reconnects if the node goes away. */
    private static void drive(NodeProcess node, Random random, AtomicBoolean running, AtomicLong commands)
            throws InterruptedException {
        TextClient client = null;
        while (running.get()) {
            try {
                if (client == null) {
                    client = new TextClient(node.port);
                    client.readTimeout(20_000);
                }
                List<String> kinds = new ArrayList<>();
                StringBuilder burst = new StringBuilder();
                for (int i = 0; i < PIPELINE; i++) {
                    kinds.add(randomCommand(random, burst));
                }
                client.send(burst.toString());
                for (String kind : kinds) {
                    readReply(client, kind);
                }
                commands.addAndGet(kinds.size());
            } catch (IOException e) {
                if (client != null) {
                    try {
                        client.close();
                    } catch (IOException ignored) {
                        // gone
                    }
                }
                client = null;
                Thread.sleep(200);
            }
        }
        if (client != null) {
            try {
                client.close();
            } catch (IOException ignored) {
                // done
            }
        }
    }

    /** Appends one random command to {@code out}; returns how its reply is shaped. */
    private static String randomCommand(Random random, StringBuilder out) {
        String key = "k" + random.nextInt(KEYS);
        String number = "n" + random.nextInt(20);
        int op = random.nextInt(100);
        if (op < 35) {
            storage(out, random.nextBoolean() ? "set" : random.nextBoolean() ? "add" : "replace", key, random);
            return "line";
        } else if (op < 42) {
            storage(out, random.nextBoolean() ? "append" : "prepend", key, random);
            return "line";
        } else if (op < 50) {
            out.append(random.nextBoolean() ? "incr " : "decr ").append(number).append(' ').append(random.nextInt(1000)).append("\r\n");
            return "line";
        } else if (op < 53) {
            out.append("set ").append(number).append(" 0 ").append(exptime(random)).append(" 2\r\n").append(10 + random.nextInt(90)).append("\r\n");
            return "line";
        } else if (op < 60) {
            // cas with a unique that is right only by chance: memcached's EXISTS/NOT_FOUND/STORED paths.
            String value = "cas" + random.nextInt(1000);
            out.append("cas ").append(key).append(" 0 ").append(exptime(random)).append(' ').append(value.length()).append(' ')
                    .append(1 + random.nextInt(20_000)).append("\r\n").append(value).append("\r\n");
            return "line";
        } else if (op < 66) {
            out.append("touch ").append(key).append(' ').append(exptime(random)).append("\r\n");
            return "line";
        } else if (op < 70) {
            out.append(random.nextBoolean() ? "gat " : "gats ").append(exptime(random)).append(' ').append(key).append("\r\n");
            return "values";
        } else if (op < 75) {
            out.append("delete ").append(key).append("\r\n");
            return "line";
        } else if (op < 80) {
            int size = 1 + random.nextInt(2000);
            out.append("ms ").append(key).append(' ').append(size).append(" T").append(exptime(random)).append(" F").append(random.nextInt(5))
                    .append("\r\n").append(filler(random, size)).append("\r\n");
            return "line";
        } else if (op < 83) {
            out.append("mg ").append(key).append(" v T").append(exptime(random)).append("\r\n");
            return "meta";
        } else if (op < 84 && random.nextInt(20) == 0) {
            out.append("flush_all ").append(1 + random.nextInt(2)).append("\r\n");
            return "line";
        } else {
            out.append(random.nextBoolean() ? "get " : "gets ").append(key).append(' ').append(number).append("\r\n");
            return "values";
        }
    }

    private static void storage(StringBuilder out, String command, String key, Random random) {
        // Mostly small values; some large ones (tens of KB) under keys of their own, more than 8 MB of
        // them, so that the store evicts.
        boolean large = random.nextInt(3) == 0;
        int size = large ? 20_000 + random.nextInt(80_000) : 10 + random.nextInt(3_000);
        String target = large ? "big" + random.nextInt(400) : key;
        out.append(command).append(' ').append(target).append(' ').append(random.nextInt(1 << 16)).append(' ')
                .append(exptime(random)).append(' ').append(size).append("\r\n").append(filler(random, size)).append("\r\n");
    }

    /** Mostly no expiry; else a short relative TTL, an absolute unix time a few seconds ahead, or negative. */
    private static long exptime(Random random) {
        int pick = random.nextInt(10);
        if (pick < 5) {
            return 0;
        } else if (pick < 8) {
            return 1 + random.nextInt(3);
        } else if (pick < 9) {
            return TimeUnit.MILLISECONDS.toSeconds(System.currentTimeMillis()) + 1 + random.nextInt(4);
        }
        return -1;
    }

    private static String filler(Random random, int size) {
        char[] chars = new char[size];
        char base = (char) ('a' + random.nextInt(26));
        for (int i = 0; i < size; i++) {
            chars[i] = (char) (base + (i % 7));
        }
        return new String(chars);
    }

    private static void readReply(TextClient client, String kind) throws IOException {
        String line = client.line();
        switch (kind) {
            case "values" -> {
                while (line.startsWith("VALUE ")) {
                    String[] header = line.split(" ");
                    client.bytes(Integer.parseInt(header[3]) + 2);
                    line = client.line();
                }
                if (!line.equals("END") && !line.startsWith("SERVER_ERROR") && !line.startsWith("CLIENT_ERROR")) {
                    throw new IOException("unexpected end of a get reply: " + line);
                }
            }
            case "meta" -> {
                if (line.startsWith("VA ")) {
                    client.bytes(Integer.parseInt(line.split(" ")[1]) + 2);
                }
            }
            default -> {
                if (line.startsWith("VALUE")) {
                    throw new IOException("a one-line reply expected, got " + line);
                }
            }
        }
    }

    /** Everybody's {@code stats} taken while all report the same applied index before and after. */
    private static List<Map<String, String>> statsAtOneIndex(LocalCluster cluster) throws InterruptedException {
        return Await.value("the replicas to hold still at one applied index for a moment", Duration.ofSeconds(10),
                () -> statsIfStill(cluster), Objects::nonNull, () -> ClusterChecks.logs(cluster));
    }

    /** Everybody's {@code stats}, or null when the applied indexes differed or moved while they were taken. */
    private static List<Map<String, String>> statsIfStill(LocalCluster cluster) throws IOException {
        List<Map<String, String>> stats = new ArrayList<>();
        List<String> before = new ArrayList<>();
        for (NodeProcess node : cluster.nodes) {
            before.add(node.stats("raft").get("raft_applied_index"));
        }
        for (NodeProcess node : cluster.nodes) {
            stats.add(node.stats(""));
        }
        List<String> after = new ArrayList<>();
        for (NodeProcess node : cluster.nodes) {
            after.add(node.stats("raft").get("raft_applied_index"));
        }
        return before.equals(after) && before.stream().distinct().count() == 1 ? stats : null;
    }
}
