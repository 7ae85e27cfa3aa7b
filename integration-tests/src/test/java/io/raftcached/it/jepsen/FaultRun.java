package io.raftcached.it.jepsen;

import io.raftcached.testing.jepsen.CheckResult;
import io.raftcached.testing.jepsen.History;
import io.raftcached.testing.jepsen.Op;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;

/**
 * One fault run, start to verdict: a cluster (loopback or namespaces), counters created, the
 * workload started, the nemesis schedule played, everything healed, the workload given time to
 * show the cluster recovered, dead nodes restarted, convergence awaited, every key read on every
 * node (recorded as the final reads), the checkers run, and a report written under
 * {@code integration-tests/target/jepsen/<run>/}.
 *
 * <p>A run fails on any checker violation, on a checker that gave up, on a fault the nemesis could
 * not carry out, on a schedule that never hit a leader under load, on a cluster that does not
 * recover or converge, and on a workload that did too little to mean anything.
 */
final class FaultRun {
    /** Final reads are GETs by these processes (one per node: base + node id), after every other operation completed. */
    static final int FINAL_READ_PROCESS_BASE = 1_000_000;
    /** How long after the last heal the workload must complete operations again (else: a hang). */
    static final long RECOVERY_TIMEOUT_MILLIS = 30_000;
    static final long CONVERGENCE_TIMEOUT_MILLIS = 90_000;

    /** Everything that defines a run. */
    record Config(String name, long seed, int nodes, boolean namespaces, boolean linearizable, Workload.Options workload,
            List<String> nodeArguments, IntFunction<Long> clockOffsets, Schedule schedule, long tailMillis, long checkerTimeoutMillis,
            int minimumOks) {
        Config {
            if (nodes < 1 || nodes > 7) {
                throw new IllegalArgumentException("1..7 nodes");
            }
        }

        String mode() {
            return linearizable ? "linearizable-reads" : "local-reads";
        }
    }

    /** What a run found; {@code failures} is empty when it passed. */
    record Outcome(Config config, Path reportDirectory, List<String> failures, List<CheckResult> verdicts, List<Nemesis.Fired> fired,
            Map<String, Map<Op.Type, Long>> counts, Workload.PipelineCounts pipelines, long originNanos) {
        boolean passed() {
            return failures.isEmpty();
        }

        String summary() {
            return config.name() + " (seed " + config.seed() + ", " + config.mode() + "): " + (passed() ? "PASS" : "FAIL")
                    + (passed() ? "" : "\n  " + String.join("\n  ", failures)) + "\n  operations: ok " + total(Op.Type.OK) + ", fail "
                    + total(Op.Type.FAIL) + ", info " + total(Op.Type.INFO) + "; pipelines: " + pipelines.sent() + " with "
                    + pipelines.operations() + " operations (" + pipelines.cutShort() + " cut short)"
                    + "\n  report: " + reportDirectory.resolve("report.md");
        }

        private long total(Op.Type type) {
            return counts.values().stream().mapToLong(byType -> byType.getOrDefault(type, 0L)).sum();
        }
    }

    /** A leader seen by the background poller, with when (seconds since the workload started). */
    record LeaderChange(double seconds, String leader) {}

    static Path reportRoot() {
        return FaultRunNode.TEST_DIRECTORY.toAbsolutePath().getParent().resolve("jepsen");
    }

    static Path reportDirectory(String run) {
        return reportRoot().resolve(run);
    }

    private FaultRun() {}

    static List<String> defaultNodeArguments(boolean linearizable) {
        List<String> arguments = new ArrayList<>(List.of("-m", "32", "-t", "2", "--write-timeout-ms", "2000", "--election-timeout-ms", "1000",
                "--snapshot-log-mb", "1", "--snapshot-interval-s", "15"));
        if (linearizable) {
            arguments.add("--linearizable-reads");
        }
        return arguments;
    }

    static Outcome run(Config config) throws IOException, InterruptedException {
        Path directory = reportDirectory(config.name());
        FaultRunNode.deleteRecursively(directory);
        Files.createDirectories(directory.resolve("logs"));
        System.out.println("fault run " + config.name() + ": seed " + config.seed() + " (rerun with -Djepsen.seed=" + config.seed() + "), "
                + config.mode() + ", " + config.nodes() + " nodes " + (config.namespaces() ? "in network namespaces" : "on loopback")
                + "\n" + config.schedule());
        List<String> failures = new ArrayList<>();
        History history = new History();
        List<LeaderChange> leaders = new CopyOnWriteArrayList<>();
        Map<String, String> digests = new LinkedHashMap<>();
        List<CheckResult> verdicts = new ArrayList<>();
        Nemesis nemesis = null;
        Workload workload = null;
        FaultRunCluster cluster = null;
        NetnsLab lab = null;
        long originNanos = System.nanoTime();
        Map<String, String> settings = new LinkedHashMap<>();
        try {
            if (config.namespaces()) {
                lab = NetnsLab.create(config.nodes() + config.schedule().growths());
            }
            List<String> arguments = new ArrayList<>(config.nodeArguments());
            cluster = FaultRunCluster.start(config.name(), config.nodes(), lab, arguments, config.clockOffsets());
            lab = null;   // the cluster owns it now
            for (FaultRunNode node : cluster.members()) {
                settings.put(node.name, node.host + ":" + node.port + " raft " + node.raftEndpoint()
                        + (node.clockOffsetMillis() != 0 ? " clock " + node.clockOffsetMillis() / 1000 + " s" : ""));
            }
            workload = new Workload(history, config.workload(), cluster::members, config.seed());
            createCounters(cluster, workload.counterKeys());
            // Local reads may lag, but not behind the state the checkers take as initial: every node
            // has applied the counters before the first operation.
            cluster.convergedDigests(CONVERGENCE_TIMEOUT_MILLIS);

            FaultRunCluster c = cluster;
            AtomicBoolean polling = new AtomicBoolean(true);
            originNanos = System.nanoTime();
            long origin = originNanos;
            Thread poller = new Thread(() -> pollLeaders(c, leaders, polling, origin), "leader-poller");
            poller.setDaemon(true);
            poller.start();
            workload.start();
            nemesis = new Nemesis(cluster, workload, config.seed(), originNanos);
            try {
                nemesis.run(config.schedule(), () -> false);
                nemesis.healAll();
                cluster.markLogs("all healed; recovery window");
                if (!workload.awaitMoreOks(20, RECOVERY_TIMEOUT_MILLIS)) {
                    failures.add("the cluster did not recover: fewer than 20 operations succeeded in the " + RECOVERY_TIMEOUT_MILLIS / 1000
                            + " s after every fault was healed (a hang)");
                }
                Thread.sleep(config.tailMillis());
            } finally {
                workload.stop();
                polling.set(false);
                poller.join(5_000);
            }
            cluster.markLogs("workload stopped; final phase");

            // --- final phase: everything back, converged, every key read on every node --------------
            nemesis.healAll();
            try {
                cluster.awaitLeader(30_000);
                for (FaultRunNode node : cluster.members()) {
                    node.awaitReady(60_000);
                }
                digests.putAll(cluster.convergedDigests(CONVERGENCE_TIMEOUT_MILLIS));
            } catch (IOException e) {
                failures.add("no convergence after healing: " + e.getMessage());
            }
            finalReads(cluster, history, workload);

            // --- verdicts -------------------------------------------------------------------------------
            verdicts.addAll(FaultRunChecks.run(history, new FaultRunChecks.Context(config.linearizable(), workload.registerKeys(),
                    workload.counterKeys(), digests, FINAL_READ_PROCESS_BASE), config.checkerTimeoutMillis()));
            verdicts.addAll(nemesis.subChecks());
            for (CheckResult verdict : verdicts) {
                if (!verdict.valid()) {
                    failures.add("checker " + verdict.checker() + ": " + verdict.explanation());
                }
            }
            failures.addAll(runChecks(config, nemesis, workload, history));
        } catch (IOException | RuntimeException | AssertionError e) {
            failures.add("the run itself failed: " + e);
            e.printStackTrace(System.out);
        } finally {
            // A test timeout interrupts this thread: clean up and write the report all the same.
            boolean interrupted = Thread.interrupted();
            if (interrupted) {
                failures.add("interrupted (a test timeout?) before the run ended");
            }
            if (workload != null) {
                workload.stopQuietly();
            }
            if (cluster != null) {
                if (!failures.isEmpty()) {
                    cluster.dumpThreads();
                }
                cluster.close();
                Thread.interrupted();
            }
            if (lab != null) {
                lab.close();
                Thread.interrupted();
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        boolean interrupted = Thread.interrupted();
        Map<String, Map<Op.Type, Long>> counts = ReportWriter.counts(history.events());
        Outcome outcome = new Outcome(config, directory, List.copyOf(failures), List.copyOf(verdicts),
                nemesis == null ? List.of() : nemesis.fired(), counts, workload == null ? Workload.PipelineCounts.NONE
                : workload.pipelineCounts(), originNanos);
        ReportWriter.write(directory, outcome, history, leaders, digests, settings, workload == null ? List.of() : workload.anomalies(),
                nemesis == null ? List.of() : nemesis.errors());
        System.out.println(outcome.summary());
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return outcome;
    }

    /** Counters exist with "0" before the history starts (they are only ever incremented and read). */
    private static void createCounters(FaultRunCluster cluster, List<String> keys) throws IOException, InterruptedException {
        for (String key : keys) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            String reply = "";
            while (!reply.equals("STORED")) {
                if (System.nanoTime() > deadline) {
                    throw new IOException("could not create counter " + key + ": " + reply);
                }
                FaultRunNode leader = cluster.awaitLeader(10_000);
                try (WorkloadConnection connection = new WorkloadConnection(leader.host, leader.port, 1_000, 5_000)) {
                    reply = connection.call("set " + key + " 0 0 1\r\n0\r\n");
                } catch (IOException e) {
                    reply = e.toString();
                    Thread.sleep(200);
                }
            }
        }
    }

    private static void pollLeaders(FaultRunCluster cluster, List<LeaderChange> leaders, AtomicBoolean polling, long originNanos) {
        String last = null;
        while (polling.get()) {
            FaultRunNode leader = cluster.leaderNow();
            String name = leader == null ? "none" : leader.name;
            if (!name.equals(last)) {
                leaders.add(new LeaderChange((System.nanoTime() - originNanos) / 1e9, name));
                last = name;
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /**
     * Every key read on every member, each read recorded as a GET by process
     * {@link #FINAL_READ_PROCESS_BASE} + node id, after the workload stopped and the replicas converged.
     */
    private static void finalReads(FaultRunCluster cluster, History history, Workload workload) throws InterruptedException {
        List<String> keys = new ArrayList<>(workload.registerKeys());
        keys.addAll(workload.counterKeys());
        for (FaultRunNode node : cluster.members()) {
            int process = FINAL_READ_PROCESS_BASE + node.id;
            for (String key : keys) {
                for (int attempt = 0; attempt < 5; attempt++) {
                    Op op = history.invoke(process, Op.Fn.GET, key, null, null, node.name);
                    try (WorkloadConnection connection = new WorkloadConnection(node.host, node.port, 2_000, 5_000)) {
                        WorkloadConnection.Item item = connection.get(key, false);
                        history.ok(op, item == null ? null : item.value(), null);
                        break;
                    } catch (IOException e) {
                        history.fail(op);
                        process += 1_000;   // a refused final read: ask again as a fresh process
                        Thread.sleep(500);
                    }
                }
            }
        }
    }

    /** Checks of the run itself: did it test anything? */
    private static List<String> runChecks(Config config, Nemesis nemesis, Workload workload, History history) {
        List<String> failures = new ArrayList<>();
        for (String error : nemesis.errors()) {
            failures.add("nemesis: " + error);
        }
        List<Nemesis.Fired> fired = nemesis.fired();
        if (fired.size() < config.schedule().events().size()) {
            failures.add("only " + fired.size() + " of " + config.schedule().events().size() + " scheduled faults fired");
        }
        if (fired.stream().noneMatch(f -> f.hitLeader() && f.underLoad())) {
            failures.add("no fault hit the leader while the workload was running: this schedule tested nothing that matters");
        }
        Map<String, Map<Op.Type, Long>> counts = ReportWriter.counts(history.events());
        long oks = counts.values().stream().mapToLong(m -> m.getOrDefault(Op.Type.OK, 0L)).sum();
        if (oks < config.minimumOks()) {
            failures.add("only " + oks + " operations completed ok (at least " + config.minimumOks() + " expected): too little load to judge");
        }
        TreeSet<String> missing = new TreeSet<>();
        for (Op.Fn fn : Op.Fn.values()) {
            if (counts.getOrDefault(fn.name(), Map.of()).getOrDefault(Op.Type.OK, 0L) == 0) {
                missing.add(fn.name());
            }
        }
        if (!missing.isEmpty()) {
            failures.add("no operation of " + missing + " completed ok: those were not tested");
        }
        if (config.workload().pipelinePercent() > 0 && workload.pipelineCounts().answeredInFull() == 0) {
            failures.add("no pipeline was answered in full: per-connection order was not tested");
        }
        if (!workload.anomalies().isEmpty()) {
            failures.add(workload.anomalies().size() + " replies matched no protocol rule, first: " + workload.anomalies().get(0));
        }
        return failures;
    }
}
