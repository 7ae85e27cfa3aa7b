package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code kill -9} of the leader under a steady write load through every node: a new leader takes
 * writes within 3 s, and every write acknowledged before, during and after is readable from every
 * node afterwards, the killed one included once restarted. Repeated a few times; the failover
 * times are printed.
 */
class LeaderFailoverTest {
    /** Kill to the first acknowledged write that was sent after the kill, through a survivor. */
    static final long FAILOVER_MILLIS_MAX = 3_000;
    private static final int ROUNDS = 3;

    @Test
    void killedLeaderIsReplacedWithinThreeSecondsAndNoAcknowledgedWriteIsLost() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-failover", 3)) {
            WriteLoad load = new WriteLoad("fo", cluster.nodes, 2, 100, 5).start();
            List<Long> failoverMillis = new ArrayList<>();
            List<String> roundLog = new ArrayList<>();
            try {
                assertTrue(load.awaitMoreAcks(300, 20_000), "the load never got going" + ClusterChecks.logs(cluster));
                for (int round = 1; round <= ROUNDS; round++) {
                    NodeProcess leader = cluster.awaitLeader();
                    long killedAt = System.nanoTime();
                    leader.kill();
                    NodeProcess newLeader = cluster.awaitLeader();
                    long electedMillis = ClusterChecks.millisSince(killedAt);
                    assertNotEquals(leader, newLeader, "the killed node cannot lead");
                    Optional<WriteLoad.Ack> first = awaitFirstAckAfter(load, killedAt, leader.name, 20_000);
                    assertTrue(first.isPresent(), "round " + round + ": no write through a survivor was acknowledged within 20 s "
                            + "of killing leader " + leader.name + ClusterChecks.logs(cluster));
                    long millis = TimeUnit.NANOSECONDS.toMillis(first.get().endNanos() - killedAt);
                    failoverMillis.add(millis);
                    // Writes go on through both survivors (the new leader and the remaining follower).
                    assertTrue(load.awaitMoreAcks(200, 15_000), "writes did not continue after the failover" + ClusterChecks.logs(cluster));
                    StringBuilder perSurvivor = new StringBuilder();
                    for (NodeProcess survivor : cluster.nodes) {
                        if (survivor != leader) {
                            Optional<WriteLoad.Ack> firstThere = load.acks().stream()
                                    .filter(ack -> ack.startNanos() > killedAt && ack.node().equals(survivor.name))
                                    .min((a, b) -> Long.compare(a.endNanos(), b.endNanos()));
                            perSurvivor.append(", through ").append(survivor.name).append(survivor == newLeader ? " (leader)" : " (follower)")
                                    .append(" after ").append(firstThere.map(a -> TimeUnit.NANOSECONDS.toMillis(a.endNanos() - killedAt) + " ms")
                                            .orElse("(none yet)"));
                        }
                    }
                    roundLog.add("round " + round + ": killed " + leader.name + ", new leader " + newLeader.name
                            + " reported itself leader after " + electedMillis + " ms, first write acknowledged through " + first.get().node()
                            + " after " + millis + " ms" + perSurvivor);
                    System.out.println("failover " + roundLog.get(roundLog.size() - 1));
                    leader.start().awaitReady();
                    assertTrue(load.awaitMoreAcks(200, 15_000), "writes did not continue after the restart" + ClusterChecks.logs(cluster));
                }
            } finally {
                load.stop();
            }
            Map<String, String> acked = load.ackedValues();
            System.out.println("failover times (kill -9 of the leader to the first acknowledged write sent after it): "
                    + failoverMillis + " ms; " + acked.size() + " writes acknowledged, " + load.failures().size() + " failed");
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, acked, 30_000, "after " + ROUNDS + " leader kills");
            }
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged: " + digests);
            for (int i = 0; i < failoverMillis.size(); i++) {
                assertTrue(failoverMillis.get(i) <= FAILOVER_MILLIS_MAX, "failover took " + failoverMillis.get(i) + " ms, over "
                        + FAILOVER_MILLIS_MAX + " ms: " + roundLog.get(i) + ClusterChecks.logs(cluster));
            }
        }
    }

    /** The earliest-acknowledged write that was sent after {@code afterNanos} through a node other than {@code excluded}. */
    static Optional<WriteLoad.Ack> awaitFirstAckAfter(WriteLoad load, long afterNanos, String excluded, long timeoutMillis)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            Optional<WriteLoad.Ack> first = load.acks().stream()
                    .filter(ack -> ack.startNanos() > afterNanos && !ack.node().equals(excluded))
                    .min((a, b) -> Long.compare(a.endNanos(), b.endNanos()));
            if (first.isPresent()) {
                // Writes sent a little later may still be acknowledged earlier: let them land.
                Thread.sleep(200);
                return load.acks().stream()
                        .filter(ack -> ack.startNanos() > afterNanos && !ack.node().equals(excluded))
                        .min((a, b) -> Long.compare(a.endNanos(), b.endNanos()));
            }
            Thread.sleep(10);
        }
        return Optional.empty();
    }
}
