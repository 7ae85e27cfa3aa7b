package io.raftcached.it.jepsen;

import io.raftcached.testing.jepsen.CheckResult;
import io.raftcached.testing.jepsen.History;
import io.raftcached.testing.jepsen.Op;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Writes a fault run's report: {@code report.md} (seed and how to re-run, the schedule, the faults
 * that fired with their times and the leader at the time, operations by outcome per function, the
 * pipelines and how their operations ended, the checkers' verdicts and each violation's minimal failing sub-history, the final digests), next to
 * {@code history.tsv} (every event, {@link History#write}), {@code logs/} (each node's log) and the latency and throughput
 * plots with the faults shaded ({@link RunPlots}), which the report shows.
 */
final class ReportWriter {
    private ReportWriter() {}

    /** Completed workload operations (final reads and set-up excluded) by function, then outcome. */
    static Map<String, Map<Op.Type, Long>> counts(List<Op> events) {
        Map<String, Map<Op.Type, Long>> counts = new TreeMap<>();
        for (Op op : events) {
            if (op.type() == Op.Type.INVOKE || op.process() < 0 || op.process() >= FaultRun.FINAL_READ_PROCESS_BASE) {
                continue;
            }
            counts.computeIfAbsent(op.fn().name(), fn -> new EnumMap<>(Op.Type.class)).merge(op.type(), 1L, Long::sum);
        }
        return counts;
    }

    /** One event with its time in seconds since the workload started. */
    static String format(Op op, long originNanos) {
        return String.format("%+9.3fs  p%-8d %-6s %-6s %-5s%s%s%s  %s", (op.nanos() - originNanos) / 1e9, op.process(), op.type(), op.fn(),
                op.key(), op.value() == null ? "" : " value=" + op.value(), op.expected() == null ? "" : " expected=" + op.expected(),
                op.number() == null ? "" : " number=" + op.number(), op.node() == null ? "" : "@" + op.node());
    }

    private static String plots(Path directory, History history, FaultRun.Outcome outcome) throws IOException {
        List<RunPlots.Interval> faults = outcome.fired().stream()
                .map(f -> new RunPlots.Interval(f.event().fault().toString(), f.startSeconds(), f.healedSeconds())).toList();
        try {
            return RunPlots.write(directory, history.events(), outcome.originNanos(), faults);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "## Plots\n\nNot drawn: interrupted.\n";
        }
    }

    static void write(Path directory, FaultRun.Outcome outcome, History history, List<FaultRun.LeaderChange> leaders,
            Map<String, String> digests, Map<String, String> nodes, List<String> anomalies, List<String> nemesisErrors) throws IOException {
        FaultRun.Config config = outcome.config();
        StringBuilder r = new StringBuilder();
        r.append("# Fault run ").append(config.name()).append(": ").append(outcome.passed() ? "PASS" : "FAIL").append("\n\n");
        r.append("- written: ").append(Instant.now()).append('\n');
        r.append("- seed: `").append(config.seed()).append("` (re-run with `-Djepsen.seed=").append(config.seed()).append("`)\n");
        r.append("- mode: ").append(config.mode()).append('\n');
        r.append("- nodes: ").append(config.nodes()).append(config.namespaces() ? ", each in its own network namespace" : ", on loopback")
                .append('\n');
        nodes.forEach((name, text) -> r.append("  - ").append(name).append(": ").append(text).append('\n'));
        r.append("- node flags: `").append(String.join(" ", config.nodeArguments())).append("`\n");
        r.append("- workload: ").append(config.workload()).append('\n');
        r.append("- history: `history.tsv` (").append(history.events().size()).append(" events); node logs: `logs/`\n\n");

        if (!outcome.passed()) {
            r.append("## Why it failed\n\n");
            outcome.failures().forEach(f -> r.append("- ").append(f).append('\n'));
            r.append('\n');
        }

        r.append("## Schedule\n\n```\n").append(config.schedule()).append("\n```\n\n");

        r.append("## Faults that fired\n\n");
        r.append("Times are seconds since the workload started. \"hit leader\": the fault struck the node leading when it fired; ")
                .append("\"under load\": an operation had completed ok within 3 s before it.\n\n");
        r.append("| fault | fired | healed | leader then | targets | hit leader | under load | effective | what happened |\n");
        r.append("|---|---|---|---|---|---|---|---|---|\n");
        for (Nemesis.Fired f : outcome.fired()) {
            r.append(String.format("| %s | +%.1f s | +%.1f s | %s | %s | %s | %s | %s | %s |%n", f.event().fault(), f.startSeconds(),
                    f.healedSeconds(), f.leaderAtStart(), String.join(", ", f.targets()), f.hitLeader() ? "yes" : "no",
                    f.underLoad() ? "yes" : "no", f.effective() ? "yes" : "**no**", f.note().replace("|", "/").replace("\n", " ")));
        }
        if (!nemesisErrors.isEmpty()) {
            r.append("\nFaults that could not be carried out:\n\n");
            nemesisErrors.forEach(e -> r.append("- ").append(e.replace("\n", " ")).append('\n'));
        }
        r.append("\n## Leader over time\n\n");
        for (FaultRun.LeaderChange change : leaders) {
            r.append(String.format("- +%.2f s: %s%n", change.seconds(), change.leader()));
        }

        r.append('\n').append(plots(directory, history, outcome));

        r.append("\n## Operations by outcome\n\n| fn | ok | fail | info |\n|---|---|---|---|\n");
        long[] totals = new long[3];
        outcome.counts().forEach((fn, byType) -> {
            long ok = byType.getOrDefault(Op.Type.OK, 0L);
            long fail = byType.getOrDefault(Op.Type.FAIL, 0L);
            long info = byType.getOrDefault(Op.Type.INFO, 0L);
            totals[0] += ok;
            totals[1] += fail;
            totals[2] += info;
            r.append("| ").append(fn).append(" | ").append(ok).append(" | ").append(fail).append(" | ").append(info).append(" |\n");
        });
        r.append("| **all** | ").append(totals[0]).append(" | ").append(totals[1]).append(" | ").append(totals[2]).append(" |\n");
        Workload.PipelineCounts p = outcome.pipelines();
        r.append("\nPipelines (").append(config.workload().pipelinePercent()).append("% of rounds: 2 to ")
                .append(config.workload().pipelineOpsMax()).append(" requests in one write, replies read in order): ")
                .append(p.sent()).append(" sent with ").append(p.operations()).append(" operations; ").append(p.answeredInFull())
                .append(" answered in full, ").append(p.cutShort()).append(" cut short by a timeout, a lost connection or a reply out of step; ")
                .append("their operations (counted above too): ok ").append(p.ok()).append(", fail ").append(p.fail()).append(", info ")
                .append(p.info()).append(".\n");
        if (!anomalies.isEmpty()) {
            r.append("\nReplies that matched no rule (").append(anomalies.size()).append("):\n\n");
            anomalies.stream().limit(20).forEach(a -> r.append("- `").append(a).append("`\n"));
        }

        r.append("\n## Checkers\n\n| checker | verdict | explanation |\n|---|---|---|\n");
        for (CheckResult verdict : outcome.verdicts()) {
            r.append("| ").append(verdict.checker()).append(" | ").append(verdict.valid() ? "valid" : "**INVALID**").append(" | ")
                    .append(verdict.explanation().replace("|", "/").replace("\n", " ")).append(" |\n");
        }
        for (CheckResult verdict : outcome.verdicts()) {
            if (!verdict.valid() && !verdict.counterexample().isEmpty()) {
                r.append("\n### Minimal failing sub-history: ").append(verdict.checker()).append("\n\n```\n");
                verdict.counterexample().stream().limit(200).forEach(op -> r.append(format(op, outcome.originNanos())).append('\n'));
                if (verdict.counterexample().size() > 200) {
                    r.append("... ").append(verdict.counterexample().size() - 200).append(" more\n");
                }
                r.append("```\n");
            }
        }

        r.append("\n## Final state\n\n");
        if (digests.isEmpty()) {
            r.append("No digests: the members did not converge.\n");
        }
        digests.forEach((node, digest) -> r.append("- ").append(node).append(": `").append(digest).append("`\n"));
        Files.writeString(directory.resolve("report.md"), r.toString(), StandardCharsets.UTF_8);
        history.write(directory.resolve("history.tsv"));
        Files.writeString(directory.resolve("schedule.txt"), config.schedule() + "\n", StandardCharsets.UTF_8);
    }
}
