package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A rolling restart: each of the 3 nodes in turn is stopped with SIGTERM and started again while
 * clients write through every node. No acknowledged write is lost, and writes fail only around a
 * restart (the restarted node being down, or a new leader being elected), never in between.
 */
class RollingRestartTest {
    /** A failed write must have started within this long before a stop ... */
    private static final long BEFORE_STOP_MILLIS = 1_000;
    /** ... or this long after the restarted node was ready again. */
    private static final long AFTER_READY_MILLIS = 5_000;
    /** Writes through the nodes that stay up may fail only this long after a node stopped (a leader election). */
    private static final long ELECTION_MILLIS = 5_000;

    record Restart(String node, long stopNanos, long exitedNanos, long readyNanos, int exitCode) {
        /** Around the whole restart: the restarted node itself fails writes from its stop until it is back. */
        boolean covers(long nanos) {
            return nanos >= stopNanos - TimeUnit.MILLISECONDS.toNanos(BEFORE_STOP_MILLIS)
                    && nanos <= readyNanos + TimeUnit.MILLISECONDS.toNanos(AFTER_READY_MILLIS);
        }

        /** Around the stop only: the other nodes may fail writes while a new leader is elected, not when the node rejoins. */
        boolean coversElection(long nanos) {
            return nanos >= stopNanos - TimeUnit.MILLISECONDS.toNanos(BEFORE_STOP_MILLIS)
                    && nanos <= exitedNanos + TimeUnit.MILLISECONDS.toNanos(ELECTION_MILLIS);
        }
    }

    @Test
    void rollingRestartLosesNoAcknowledgedWriteAndFailsWritesOnlyAroundRestarts() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("repl-rolling", 3)) {
            WriteLoad load = new WriteLoad("roll", cluster.nodes, 2, 100, 5).start();
            List<Restart> restarts = new ArrayList<>();
            long testStart = System.nanoTime();
            try {
                load.awaitMoreAcks("the load to get going", 300, 20_000);
                for (NodeProcess node : cluster.nodes) {
                    boolean wasLeader = "leader".equals(ClusterChecks.raftStat(node, "raft_role"));
                    long stop = System.nanoTime();
                    int exitCode = node.stop();
                    long exited = System.nanoTime();
                    node.start().awaitReady();
                    long ready = System.nanoTime();
                    restarts.add(new Restart(node.name, stop, exited, ready, exitCode));
                    System.out.printf("rolling restart of %s (%s): stopped in %d ms (exit code %d), ready again %d ms after the stop%n",
                            node.name, wasLeader ? "leader" : "follower", TimeUnit.NANOSECONDS.toMillis(exited - stop), exitCode,
                            TimeUnit.NANOSECONDS.toMillis(ready - stop));
                    // Steady state between restarts: writes flow through every node, well clear of the window.
                    load.awaitMoreAcks("writes to resume after restarting " + node.name, 300, 20_000);
                    Thread.sleep(AFTER_READY_MILLIS + 1_000);
                }
            } finally {
                load.stop();
            }

            Map<String, String> acked = load.ackedValues();
            List<WriteLoad.Failure> failures = load.failures();
            System.out.println("rolling restart: " + acked.size() + " writes acknowledged, " + failures.size() + " failed");
            for (NodeProcess node : cluster.nodes) {
                ClusterChecks.assertAllReadable(node, acked, 30_000, "after a rolling restart");
            }
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas diverged: " + digests);

            List<String> outside = new ArrayList<>();
            for (WriteLoad.Failure failure : failures) {
                boolean explained = restarts.stream().anyMatch(r -> r.node().equals(failure.node())
                        ? r.covers(failure.startNanos()) : r.coversElection(failure.startNanos()));
                if (!explained) {
                    outside.add(String.format("through %s at +%d ms (%d ms long): %s", failure.node(),
                            TimeUnit.NANOSECONDS.toMillis(failure.startNanos() - testStart),
                            TimeUnit.NANOSECONDS.toMillis(failure.endNanos() - failure.startNanos()), failure.reason()));
                }
            }
            for (Restart restart : restarts) {
                long inWindow = failures.stream().filter(f -> restart.covers(f.startNanos())).count();
                long otherNodes = failures.stream().filter(f -> restart.covers(f.startNanos()) && !f.node().equals(restart.node())).count();
                System.out.printf("  %s restarted at +%d ms: %d failed writes around it, %d of them through other nodes%n",
                        restart.node(), TimeUnit.NANOSECONDS.toMillis(restart.stopNanos() - testStart), inWindow, otherNodes);
            }
            StringBuilder windows = new StringBuilder();
            for (Restart restart : restarts) {
                windows.append(String.format("%n  %s: stop at +%d ms, ready at +%d ms", restart.node(),
                        TimeUnit.NANOSECONDS.toMillis(restart.stopNanos() - testStart),
                        TimeUnit.NANOSECONDS.toMillis(restart.readyNanos() - testStart)));
            }
            assertTrue(outside.isEmpty(), outside.size() + " writes failed away from any restart (through the restarted node: more than "
                    + BEFORE_STOP_MILLIS + " ms before its stop or " + AFTER_READY_MILLIS + " ms after it was ready again; through the "
                    + "others: more than " + ELECTION_MILLIS + " ms after a node stopped); restarts:" + windows
                    + "\nfailures: " + String.join("\n  ", outside.subList(0, Math.min(20, outside.size())))
                    + ClusterChecks.logs(cluster));
        }
    }
}
