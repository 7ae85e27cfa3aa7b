package io.raftcached.it.jepsen;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fault suite's soak profile, not run in CI: back-to-back random mixes of every fault, more
 * clients, longer runs, alternating read modes and three- and five-node clusters, until
 * {@code -Dsoak.minutes} (default 30) are used up. Run it with {@code bench/soak.sh} or
 * {@code mvn -pl integration-tests -am verify -Dsoak=true -Dtest=FaultRunSoakTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Its clients pipeline a third of their rounds, as in CI. Seeds are random
 * unless {@code -Djepsen.seed} is given; each run prints its seed and writes its report.
 */
class FaultRunSoakTest {
    @BeforeAll
    static void cleanLeftovers() throws Exception {
        if (Boolean.getBoolean("soak") && NetnsLab.runningAsRoot()) {
            NetnsLab.cleanUpLeftovers();
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (Boolean.getBoolean("soak") && NetnsLab.runningAsRoot()) {
            NetnsLab.cleanUpLeftovers();
        }
    }

    @Test
    void soak() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("soak"), "the soak profile runs only with -Dsoak=true (bench/soak.sh)");
        boolean namespaces = NetnsLab.unavailableReason() == null;
        if (!namespaces && NetnsLab.runningAsRoot()) {
            throw new AssertionError("running as root but network namespaces do not work: " + NetnsLab.unavailableReason());
        }
        long minutes = Long.getLong("soak.minutes", 30);
        long runMillis = TimeUnit.SECONDS.toMillis(Long.getLong("soak.runSeconds", 240));
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(minutes);
        long firstSeed = Schedule.seed(new Random().nextLong() & Long.MAX_VALUE);
        List<FaultRun.Outcome> outcomes = new ArrayList<>();
        for (int run = 0; run < 1_000 && System.nanoTime() < deadline; run++) {
            long seed = firstSeed + run;
            boolean linearizable = run % 2 == 1;
            int nodes = namespaces && run % 3 == 2 ? 5 : 3;
            Set<Schedule.Fault> faults = Schedule.Fault.possible(nodes, namespaces);
            Schedule schedule = Schedule.randomMix(seed, faults, 5_000, runMillis, 3_000, 6_000);
            String name = String.format("soak-%02d-%s-%dn", run, linearizable ? "linearizable" : "local", nodes);
            FaultRun.Config config = new FaultRun.Config(name, seed, nodes, namespaces, linearizable, Workload.Options.soak(),
                    FaultRun.defaultNodeArguments(linearizable), id -> 0L, schedule, 5_000, 300_000, 1_000);
            outcomes.add(FaultRun.run(config));
        }
        StringBuilder summary = new StringBuilder("soak: " + outcomes.size() + " runs in " + minutes + " min");
        outcomes.forEach(o -> summary.append("\n").append(o.summary()));
        System.out.println(summary);
        assertTrue(outcomes.stream().allMatch(FaultRun.Outcome::passed), summary.toString());
    }
}
