package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Forwarded writes are applied exactly once across leader changes. Clients hammer {@code incr}
 * through the followers while the leader is frozen (SIGSTOP: its forwards' outcome is uncertain,
 * and the followers resend every unapplied batch to the new leader, where the replicated dedupe
 * table must recognise the ones already in the log) and later killed. Every applied increment
 * yields a distinct number, so: no number is answered twice, and the counter's growth lies
 * between the number of increments answered with a number and that plus the ones whose outcome
 * stayed unknown.
 */
class ExactlyOnceIncrTest {
    private static final Pattern RESENDING = Pattern.compile("resending (\\d+) batches");

    private static final class Tally {
        final ConcurrentLinkedQueue<Long> numbers = new ConcurrentLinkedQueue<>();
        final AtomicLong unknown = new AtomicLong();
        final AtomicLong notWritten = new AtomicLong();
        final ConcurrentLinkedQueue<String> otherReplies = new ConcurrentLinkedQueue<>();
    }

    @Test
    void incrThroughFollowersAcrossLeaderChangesIsAppliedExactlyOnce() throws Exception {
        // -vv: the write stream logs each resend at debug level, which shows the retries happened.
        try (LocalCluster cluster = LocalCluster.start("repl-incr", 3, "-vv")) {
            NodeProcess leader = cluster.awaitLeader();
            assertEquals("STORED", ClusterChecks.rawSet(leader, "counter", "1000", 10_000));
            long initial = 1000;
            List<NodeProcess> followers = cluster.nodes.stream().filter(n -> n != leader).toList();
            for (NodeProcess follower : followers) {
                ClusterChecks.assertAllReadable(follower, Map.of("counter", "1000"), 10_000, "initial counter");
            }

            Tally tally = new Tally();
            AtomicBoolean running = new AtomicBoolean(true);
            List<Thread> threads = new ArrayList<>();
            for (NodeProcess follower : followers) {
                for (int t = 0; t < 3; t++) {
                    Thread thread = new Thread(() -> hammer(follower, running, tally), "incr-" + follower.name + "-" + t);
                    thread.setDaemon(true);
                    threads.add(thread);
                    thread.start();
                }
            }
            String phases;
            try {
                // The sleeps hold each phase (load alone, a frozen leader, a crash) for a while: they pace the scenario.
                Thread.sleep(2_000);
                // Freeze the leader with forwards in flight: their outcome is uncertain to the followers.
                leader.signal("STOP");
                NodeProcess second = awaitLeaderAmong(followers, 20_000, cluster);
                Thread.sleep(2_000);
                leader.signal("CONT");
                ClusterChecks.awaitStats(leader, "raft", s -> !"leader".equals(s.get("raft_role")), 10_000,
                        "the thawed old leader stepping down");
                Thread.sleep(2_000);
                // Then a crash of whichever node leads now.
                NodeProcess current = cluster.awaitLeader();
                current.kill();
                Thread.sleep(4_000);
                current.start().awaitReady();
                Thread.sleep(2_000);
                phases = "froze " + leader.name + " (new leader " + second.name + "), then killed " + current.name;
            } finally {
                running.set(false);
                for (Thread thread : threads) {
                    thread.join(20_000);
                }
            }

            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged: " + digests);
            long finalValue = -1;
            for (NodeProcess node : cluster.nodes) {
                String value = ClusterChecks.read(node, List.of("counter")).get("counter");
                long parsed = Long.parseLong(value);
                if (finalValue >= 0) {
                    assertEquals(finalValue, parsed, node.name + " disagrees on the counter");
                }
                finalValue = parsed;
            }
            List<Long> numbers = new ArrayList<>(tally.numbers);
            Set<Long> distinct = new HashSet<>(numbers);
            long acked = numbers.size();
            long unknown = tally.unknown.get();
            long growth = finalValue - initial;
            long resends = 0;
            long resentBatches = 0;
            for (NodeProcess node : cluster.nodes) {
                Matcher matcher = RESENDING.matcher(node.logText());
                while (matcher.find()) {
                    resends++;
                    resentBatches += Long.parseLong(matcher.group(1));
                }
            }
            String summary = phases + ": " + acked + " incr answered with a number, " + unknown + " unknown, "
                    + tally.notWritten.get() + " not written; counter grew by " + growth + "; " + resends
                    + " resends of " + resentBatches + " batches in the logs"
                    + (tally.otherReplies.isEmpty() ? "" : "; other replies: " + new ArrayList<>(tally.otherReplies).subList(0,
                            Math.min(5, tally.otherReplies.size())));
            System.out.println("exactly-once incr: " + summary);

            assertTrue(acked > 100, "too few increments answered to prove anything: " + summary + ClusterChecks.logs(cluster));
            assertEquals(acked, distinct.size(), "an incr answer was handed out twice (a retried write answered with another "
                    + "write's result): " + summary);
            assertTrue(numbers.stream().allMatch(n -> n > initial && n <= initial + growth),
                    "an incr answered a number outside (initial, final]: " + summary);
            assertTrue(growth >= acked, "increments answered with a number were lost: " + summary + ClusterChecks.logs(cluster));
            assertTrue(growth <= acked + unknown, "a retried increment was applied twice: " + summary + ClusterChecks.logs(cluster));
            assertTrue(resends > 0, "no follower resent a batch, so the dedupe table was not exercised: " + summary);
        }
    }

    /** Sends incr after incr on one connection, classifying each reply; reconnects when the node goes away. */
    private static void hammer(NodeProcess node, AtomicBoolean running, Tally tally) {
        TextClient client = null;
        while (running.get()) {
            try {
                if (client == null) {
                    client = new TextClient(node.port);
                    client.readTimeout(15_000);
                }
            } catch (IOException notUp) {
                sleep(100);
                continue;   // nothing was sent
            }
            try {
                client.send("incr counter 1\r\n");
            } catch (IOException e) {
                tally.unknown.incrementAndGet();   // it may have left
                client = close(client);
                continue;
            }
            try {
                String reply = client.line();
                if (!reply.isEmpty() && reply.chars().allMatch(Character::isDigit)) {
                    tally.numbers.add(Long.parseLong(reply));
                } else if (reply.startsWith("SERVER_ERROR not written")) {
                    tally.notWritten.incrementAndGet();
                } else {
                    tally.unknown.incrementAndGet();
                    if (!reply.startsWith("SERVER_ERROR write outcome unknown")) {
                        tally.otherReplies.add(reply);
                    }
                }
            } catch (IOException e) {
                tally.unknown.incrementAndGet();
                client = close(client);
            }
        }
        close(client);
    }

    private static TextClient close(TextClient client) {
        if (client != null) {
            try {
                client.close();
            } catch (IOException ignored) {
                // already gone
            }
        }
        return null;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static NodeProcess awaitLeaderAmong(List<NodeProcess> nodes, long timeoutMillis, LocalCluster cluster)
            throws InterruptedException {
        return Await.value("a new leader among " + nodes.stream().map(n -> n.name).toList(), Duration.ofMillis(timeoutMillis),
                () -> LocalCluster.leaderAmong(nodes), Objects::nonNull, () -> ClusterChecks.logs(cluster));
    }
}
