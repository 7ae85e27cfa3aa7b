package io.raftcached.it.jepsen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.jepsen.Schedule.Fault;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The fault suite's short profile, run in CI: a handful of ~30-60 s runs that together fire every
 * nemesis at least once and cover both read modes, each failing the build on any violation. Seeds
 * are fixed so a failure repeats; {@code -Djepsen.seed=N} overrides them all, {@code
 * -Djepsen.faults=A,B} replaces a run's fault list. Reports: integration-tests/target/jepsen/.
 */
class FaultRunTest {
    @BeforeAll
    static void cleanLeftovers() throws Exception {
        if (NetnsLab.runningAsRoot()) {
            NetnsLab.cleanUpLeftovers();
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (NetnsLab.runningAsRoot()) {
            NetnsLab.cleanUpLeftovers();
        }
    }

    /** Partition runs need namespaces: skipped (with the reason) without the rights, failed when root lacks them. */
    static void requireNamespaces() {
        String reason = NetnsLab.unavailableReason();
        if (reason == null) {
            return;
        }
        if (NetnsLab.runningAsRoot()) {
            throw new AssertionError("running as root but network namespaces do not work, so the partition tests cannot run: " + reason);
        }
        Assumptions.abort("partition tests need network namespaces (run as root with iproute2): " + reason);
    }

    static FaultRun.Config config(String name, long seed, int nodes, boolean namespaces, boolean linearizable, Schedule schedule,
            java.util.function.IntFunction<Long> clocks) {
        return new FaultRun.Config(name, seed, nodes, namespaces, linearizable, Workload.Options.ci(),
                FaultRun.defaultNodeArguments(linearizable), clocks, schedule, 2_000, 60_000, 300);
    }

    static void assertPassed(FaultRun.Outcome outcome) {
        assertTrue(outcome.passed(), outcome.summary());
    }

    /** Crashes and zombie leaders with local reads: kill -9 leader and follower, SIGSTOP leader and follower. */
    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void localReadsUnderKillsAndPauses() throws Exception {
        long seed = Schedule.seed(101);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.KILL_LEADER, Fault.PAUSE_LEADER, Fault.KILL_FOLLOWER,
                Fault.PAUSE_FOLLOWER)), 3_000, 3_000, 4_000);
        assertPassed(FaultRun.run(config("local-kill-pause", seed, 3, false, false, schedule, id -> 0L)));
    }
}
