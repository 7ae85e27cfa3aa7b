package io.raftcached.it.jepsen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.jepsen.Schedule.Fault;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
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
 * -Djepsen.faults=A,B} replaces a run's fault list, {@code -Djepsen.pipelinePercent=N} sets the
 * share of pipelined rounds (default 33, 0 for none). Reports: integration-tests/target/jepsen/.
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

    /** A CI-sized run; {@code extraArguments} go to every node after the defaults. */
    static FaultRun.Config config(String name, long seed, int nodes, boolean namespaces, boolean linearizable, Schedule schedule,
            java.util.function.IntFunction<Long> clocks, String... extraArguments) {
        List<String> arguments = new java.util.ArrayList<>(FaultRun.defaultNodeArguments(linearizable));
        arguments.addAll(List.of(extraArguments));
        return new FaultRun.Config(name, seed, nodes, namespaces, linearizable, Workload.Options.ci(), arguments, clocks, schedule,
                2_000, 60_000, 300);
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

    /**
     * Three Raft groups on three nodes with local reads (every node a replica of every group, each
     * leading one): kills and pauses hit the first group's leader and the others' leaders alike,
     * and every group's replicas must end identical.
     */
    @Test
    @Timeout(value = 150, unit = TimeUnit.SECONDS)
    void localReadsAcrossGroupsUnderKillsAndPauses() throws Exception {
        long seed = Schedule.seed(808);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.KILL_LEADER, Fault.PAUSE_FOLLOWER, Fault.KILL_FOLLOWER,
                Fault.PAUSE_LEADER)), 3_000, 3_000, 4_000);
        assertPassed(FaultRun.run(config("local-groups-kill-pause", seed, 3, false, false, schedule, id -> 0L, "--groups", "3")));
    }

    /**
     * Six nodes in namespaces and four Raft groups of three replicas (each node holds two and
     * relays the other two's commands): partitions that leave one group without a majority
     * anywhere while the groups on the other nodes keep theirs, a killed leader, a paused
     * follower. Every key's history is judged, and each group's replicas must end identical.
     */
    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void localReadsSixNodesFourGroupsUnderGroupSplits() throws Exception {
        requireNamespaces();
        long seed = Schedule.seed(909);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.PARTITION_GROUP_SPLIT, Fault.KILL_LEADER,
                Fault.PAUSE_FOLLOWER, Fault.PARTITION_GROUP_SPLIT)), 3_000, 3_000, 5_000);
        assertPassed(FaultRun.run(config("local-six-groups", seed, 6, true, false, schedule, id -> 0L, "--groups", "4")));
    }

    /** Partitions in linearizable mode: the leader isolated, a 2/1 split each way, every link cut (1/1/1). */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void linearizableUnderPartitions() throws Exception {
        requireNamespaces();
        long seed = Schedule.seed(202);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.PARTITION_ISOLATE_LEADER, Fault.PARTITION_LEADER_MAJORITY,
                Fault.PARTITION_SPLIT_ALL, Fault.PARTITION_LEADER_MINORITY)), 3_000, 3_000, 5_000);
        assertPassed(FaultRun.run(config("linearizable-partitions", seed, 3, true, true, schedule, id -> 0L)));
    }

    /** Five nodes in namespaces with local reads: a bridge partition, the leader (with one other) in the minority. */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void localReadsFiveNodeBridge() throws Exception {
        requireNamespaces();
        long seed = Schedule.seed(303);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.PARTITION_BRIDGE, Fault.PARTITION_LEADER_MINORITY)),
                3_000, 3_000, 6_000);
        assertPassed(FaultRun.run(config("local-bridge-5", seed, 5, true, false, schedule, id -> 0L)));
    }

    /** Lost disks: a wiped follower rejoins by snapshot install; a wiped follower, then the leader killed before its promotion. */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void localReadsUnderWipes() throws Exception {
        long seed = Schedule.seed(404);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.WIPE_FOLLOWER, Fault.WIPE_FOLLOWER_THEN_KILL_LEADER)),
                4_000, 3_000, 4_000);
        FaultRun.Outcome outcome = FaultRun.run(config("local-wipe", seed, 3, false, false, schedule, id -> 0L));
        assertPassed(outcome);
        assertTrue(outcome.fired().stream().filter(f -> f.event().fault() == Fault.WIPE_FOLLOWER_THEN_KILL_LEADER)
                .anyMatch(Nemesis.Fired::effective), "the leader was never killed before the wiped node's promotion: " + outcome.summary());
    }

    /**
     * Skewed clocks in linearizable mode: node 1 runs 30 s ahead, node 3 20 s behind; a TTL set through
     * the fast leader must expire on time after it dies; nodes restarted with new offsets, leader killed.
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void linearizableWithSkewedClocks() throws Exception {
        long seed = Schedule.seed(505);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.TTL_ACROSS_LEADER_CHANGE, Fault.CLOCK_SKEW_RESTART,
                Fault.KILL_LEADER)), 3_000, 3_000, 4_000);
        assertPassed(FaultRun.run(config("linearizable-clocks", seed, 3, false, true, schedule,
                id -> id == 1 ? Nemesis.TTL_SKEW_MILLIS : id == 3 ? -20_000L : 0L)));
    }

    /** Membership under load in linearizable mode: grow by one and remove the leader, grow again and remove a follower. */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void linearizableUnderMembershipChanges() throws Exception {
        long seed = Schedule.seed(606);
        Schedule schedule = Schedule.of(seed, Schedule.faults(List.of(Fault.MEMBERSHIP_GROW_REMOVE_LEADER,
                Fault.MEMBERSHIP_GROW_REMOVE_FOLLOWER)), 3_000, 3_000, 3_000);
        assertPassed(FaultRun.run(config("linearizable-membership", seed, 3, false, true, schedule, id -> 0L)));
    }

    /**
     * A seeded random mix on three namespace nodes with local reads: crashes, zombies, partitions,
     * clock jumps and a wipe, in an order and with timings drawn from the seed. (The slow faults,
     * membership and the wipe-then-kill race, have their own runs above; the soak mixes everything.)
     */
    @Test
    @Timeout(value = 180, unit = TimeUnit.SECONDS)
    void localReadsRandomMix() throws Exception {
        requireNamespaces();
        long seed = Schedule.seed(707);
        Set<Fault> quick = EnumSet.of(Fault.KILL_LEADER, Fault.KILL_FOLLOWER, Fault.PAUSE_LEADER, Fault.PAUSE_FOLLOWER,
                Fault.WIPE_FOLLOWER, Fault.CLOCK_SKEW_RESTART, Fault.PARTITION_ISOLATE_LEADER, Fault.PARTITION_LEADER_MAJORITY,
                Fault.PARTITION_SPLIT_ALL);
        Schedule schedule = Schedule.randomMix(seed, quick, 3_000, 30_000, 1_500, 3_000);
        assertPassed(FaultRun.run(config("local-random-mix", seed, 3, true, false, schedule, id -> 0L)));
    }
}
