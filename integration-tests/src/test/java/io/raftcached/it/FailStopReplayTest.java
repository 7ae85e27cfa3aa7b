package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A replica that fails to apply a log entry stops — exit 70, a message naming the entry — instead
 * of skipping it and diverging; the others keep serving; restarted, it replays the entry and ends
 * with the same bytes as the rest. The failure is injected into one real node process with the
 * hidden {@code --debug-fail-apply-at-index}.
 */
class FailStopReplayTest {
    private static final long EXIT_TIMEOUT_MILLIS = 60_000;

    @Test
    void aReplicaThatCannotApplyAnEntryStopsThenReplaysItOnRestart() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("fail-stop", 3)) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess victim = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            long failAt = Long.parseLong(ClusterChecks.raftStat(leader, "raft_commit_index")) + 10;
            victim.stop();
            NodeProcess failing = new NodeProcess(victim.name + "-failing", victim.port,
                    ClusterChecks.withArgument(victim, "--debug-fail-apply-at-index", Long.toString(failAt)));
            failing.start().awaitReady();
            Map<String, String> data = ClusterChecks.values("fail-stop", 50, 100);
            for (Map.Entry<String, String> entry : data.entrySet()) {
                ClusterChecks.storeAll(leader, Map.of(entry.getKey(), entry.getValue()));   // a log entry each
            }

            int exit = failing.awaitExit(EXIT_TIMEOUT_MILLIS);
            String log = failing.logText();
            assertEquals(70, exit, "the replica must stop with EX_SOFTWARE" + ClusterChecks.logs(List.of(failing)));
            assertTrue(log.contains("stopping at log entry " + failAt + ": log entry " + failAt + " could not be applied"),
                    "the message must name the entry:" + ClusterChecks.logs(List.of(failing)));
            ClusterChecks.assertAllReadable(leader, data, 20_000, "the leader, while one replica is down");

            victim.start().awaitReady();
            ClusterChecks.assertAllReadable(victim, data, 60_000, "the replica restarted after the failure");
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), "replicas differ after the replay: " + digests);
            System.out.printf("replica stopped at entry %d (exit %d), replayed it on restart; digests %s%n", failAt, exit, digests);
        }
    }
}
