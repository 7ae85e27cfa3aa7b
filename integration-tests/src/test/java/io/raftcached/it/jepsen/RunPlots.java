package io.raftcached.it.jepsen;

import io.raftcached.testing.jepsen.Op;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * A fault run's plots, as Jepsen draws them: each operation's latency over time, coloured by
 * outcome, and completions per second, with the faults' intervals shaded. The data goes to
 * {@code latency.tsv} and {@code throughput.tsv} and the script to {@code plots.gp}, so the plots
 * can be redrawn; gnuplot (Debian's gnuplot-nox) draws {@code latency.png} and {@code throughput.png}.
 */
final class RunPlots {
    static final Path GNUPLOT = Path.of("/usr/bin/gnuplot");
    private static final long GNUPLOT_TIMEOUT_SECONDS = 60;

    /** A fault's interval in seconds since the workload started. */
    record Interval(String label, double startSeconds, double endSeconds) {}

    private RunPlots() {}

    /** Writes the data, the script and, where gnuplot is installed, the plots; returns the report's lines about them. */
    static String write(Path directory, List<Op> events, long originNanos, List<Interval> faults)
            throws IOException, InterruptedException {
        StringBuilder latency = new StringBuilder("# seconds\tlatency_ms\toutcome\tfn\n");
        Map<Long, long[]> perSecond = new TreeMap<>();
        Map<Integer, ArrayDeque<Op>> open = new HashMap<>();
        for (Op op : events) {
            if (op.process() < 0 || op.process() >= FaultRun.FINAL_READ_PROCESS_BASE) {
                continue;
            }
            if (op.type() == Op.Type.INVOKE) {
                open.computeIfAbsent(op.process(), process -> new ArrayDeque<>()).add(op);
                continue;
            }
            ArrayDeque<Op> invoked = open.get(op.process());
            Op invocation = invoked == null ? null : invoked.poll();
            if (invocation == null) {
                continue;
            }
            double seconds = (op.nanos() - originNanos) / 1e9;
            latency.append(String.format(Locale.ROOT, "%.3f\t%.3f\t%s\t%s%n", seconds, (op.nanos() - invocation.nanos()) / 1e6,
                    op.type(), op.fn()));
            perSecond.computeIfAbsent((long) Math.floor(seconds), second -> new long[3])[op.type().ordinal() - 1]++;
        }
        StringBuilder throughput = new StringBuilder("# second\tok\tfail\tinfo\n");
        perSecond.forEach((second, counts) -> throughput.append(second).append('\t').append(counts[0]).append('\t').append(counts[1])
                .append('\t').append(counts[2]).append('\n'));
        Files.writeString(directory.resolve("latency.tsv"), latency, StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("throughput.tsv"), throughput, StandardCharsets.UTF_8);
        Files.writeString(directory.resolve("plots.gp"), script(faults), StandardCharsets.UTF_8);

        StringBuilder report = new StringBuilder("## Plots\n\n");
        if (!Files.isExecutable(GNUPLOT)) {
            return report.append("Not drawn: gnuplot is not installed (apt-get install gnuplot-nox); the data is in `latency.tsv` and ")
                    .append("`throughput.tsv`, the script in `plots.gp` (`gnuplot plots.gp` in this directory).\n").toString();
        }
        Path log = directory.resolve("plots.log");
        Process gnuplot = new ProcessBuilder(GNUPLOT.toString(), "plots.gp").directory(directory.toFile()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        if (!gnuplot.waitFor(GNUPLOT_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            gnuplot.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            return report.append("Not drawn: gnuplot did not finish within ").append(GNUPLOT_TIMEOUT_SECONDS).append(" s.\n").toString();
        }
        if (gnuplot.exitValue() != 0) {
            return report.append("Not drawn: gnuplot failed (see `plots.log`).\n").toString();
        }
        return report.append("Faults shaded; data in `latency.tsv` and `throughput.tsv`, redrawn by `gnuplot plots.gp`.\n\n")
                .append("![latency of each operation over time](latency.png)\n\n")
                .append("![operations completed per second](throughput.png)\n").toString();
    }

    private static String script(List<Interval> faults) {
        StringBuilder gp = new StringBuilder();
        // noenhanced: fault names such as KILL_LEADER are text, not subscripts.
        gp.append("set terminal pngcairo size 1400,500 font ',10' noenhanced\n");
        gp.append("set datafile separator '\\t'\nset key outside right top\nset grid\n");
        gp.append("set xlabel 'seconds since the workload started'\n");
        int object = 1;
        for (Interval fault : faults) {
            gp.append(String.format(Locale.ROOT, "set object %d rect from %.3f, graph 0 to %.3f, graph 1 fc rgb '#f4cccc' "
                    + "fs solid 0.6 noborder behind%n", object, fault.startSeconds(), Math.max(fault.endSeconds(), fault.startSeconds())));
            gp.append(String.format(Locale.ROOT, "set label %d '%s' at %.3f, graph 0.98 rotate by 90 right font ',8' front%n", object,
                    fault.label().replace("'", ""), fault.startSeconds()));
            object++;
        }
        gp.append("set output 'latency.png'\nset title 'Latency of each operation (faults shaded)'\n");
        gp.append("set ylabel 'latency (ms)'\nset logscale y\n");
        gp.append("plot 'latency.tsv' using 1:(strcol(3) eq 'OK' ? $2 : 1/0) with points pt 7 ps 0.3 lc rgb '#2a9d3f' title 'ok', \\\n");
        gp.append("     '' using 1:(strcol(3) eq 'FAIL' ? $2 : 1/0) with points pt 7 ps 0.4 lc rgb '#d62728' title 'fail', \\\n");
        gp.append("     '' using 1:(strcol(3) eq 'INFO' ? $2 : 1/0) with points pt 7 ps 0.4 lc rgb '#1f77b4' title 'info (unknown)'\n");
        gp.append("set output 'throughput.png'\nset title 'Operations completed per second (faults shaded)'\n");
        gp.append("unset logscale y\nset ylabel 'operations per second'\nset yrange [0:*]\n");
        gp.append("plot 'throughput.tsv' using 1:2 with steps lw 2 lc rgb '#2a9d3f' title 'ok', \\\n");
        gp.append("     '' using 1:3 with steps lw 2 lc rgb '#d62728' title 'fail', \\\n");
        gp.append("     '' using 1:4 with steps lw 2 lc rgb '#1f77b4' title 'info (unknown)'\n");
        return gp.toString();
    }
}
