package io.raftcached.bench;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.HdrHistogram.Histogram;

/** Renders a run (and its optional prefill pass) as human-readable text or as one JSON object. */
final class BenchReport {
    /** A worker thread above this share of one core is probably what limits throughput. */
    static final double WORKER_BUSY_WARNING = 0.90;
    /** Other processes using more than this many cores during the window make the numbers suspect. */
    static final double OTHER_CORES_WARNING = 0.15;

    private final RunResult run;
    private final RunResult prefill;
    private final List<Long> serverPids;
    private final int availableProcessors = Runtime.getRuntime().availableProcessors();

    BenchReport(RunResult run, RunResult prefill, List<Long> serverPids) {
        this.run = run;
        this.prefill = prefill;
        this.serverPids = List.copyOf(serverPids);
    }

    /** Human-readable lines that call out the generator being the bottleneck; empty if none. */
    List<String> warnings() {
        java.util.ArrayList<String> warnings = new java.util.ArrayList<>();
        for (int i = 0; i < run.workerBusy().length; i++) {
            if (run.workerBusy()[i] > WORKER_BUSY_WARNING) {
                warnings.add(String.format(Locale.ROOT, "worker thread %d was %.0f%% busy: the generator may be "
                        + "limiting throughput (more --threads, or fewer cores for the server)",
                        i, 100 * run.workerBusy()[i]));
            }
        }
        double cores = run.cores(run.processCpuNanos());
        if (cores > WORKER_BUSY_WARNING * availableProcessors) {
            warnings.add(String.format(Locale.ROOT, "the generator used %.2f of %d available cores", cores,
                    availableProcessors));
        }
        double other = run.cores(run.otherCpuNanos());
        if (other > OTHER_CORES_WARNING) {
            warnings.add(String.format(Locale.ROOT, "other processes used %.2f cores during the window: "
                    + "this run competed for CPU and its numbers are disturbed", other));
        }
        if (!run.complete()) {
            warnings.add("stopped by the --duration cap after " + run.stats().ops() + " of "
                    + run.profile().requests() + " requests");
        }
        return warnings;
    }

    String text() {
        LoadProfile p = run.profile();
        WorkerStats s = run.stats();
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT,
                "bench: %d threads, %d %sconnections to %s, pipeline %d, get:set %s%s, %d keys (%s), %d B values, seed %d%s%n",
                p.threads(), p.connections(), p.tls() == null ? "" : "TLS ", servers(p), p.pipeline(), p.ratioLabel(),
                p.cacheAside() ? " + a set after each get miss (cache-aside)" : "", p.keySpace(),
                p.keyPatternLabel(), p.valueSizeBytes(), p.seed(),
                p.protocol() == Protocol.MEMCACHED ? "" : ", protocol " + p.protocol().label()));
        if (prefill != null) {
            out.append(String.format(Locale.ROOT, "prefill: %d sets in %.2f s (%.0f ops/s), %d errors%n",
                    prefill.stats().sets, prefill.windowSeconds(), prefill.opsPerSecond(prefill.stats().sets),
                    prefill.stats().errors + prefill.stats().errorsOutsideWindow));
        }
        out.append(String.format(Locale.ROOT, "window: %.2f s after %.1f s warm-up%n%n", run.windowSeconds(),
                p.warmupNanos() / 1e9));
        out.append(String.format(Locale.ROOT, "throughput  total %.0f ops/s   get %.0f ops/s   set %.0f ops/s%n",
                run.opsPerSecond(s.ops()), run.opsPerSecond(s.gets), run.opsPerSecond(s.sets)));
        if (s.gets > 0) {
            // Counted by this client from the replies (VALUE or not), not from the server's stats.
            out.append(String.format(Locale.ROOT, "hit ratio   %.2f%% of gets hit (%d hits, %d misses; client-counted)%n",
                    100 * hitRatio(s), s.hits, s.misses));
        }
        if (p.cacheAside()) {
            out.append(String.format(Locale.ROOT, "fills       %d of the sets followed a get miss (cache-aside)%n", s.fills));
        }
        if (p.reconnectInterval() > 0) {
            out.append(String.format(Locale.ROOT, "reconnects  a new connection%s after every %d replies: %d opened"
                    + " (warm-up included)%n", p.tls() == null ? "" : " and TLS handshake", p.reconnectInterval(),
                    s.connectionsOpened));
        }
        out.append(String.format(Locale.ROOT, "errors      %d (%d more outside the window)%n", s.errors,
                s.errorsOutsideWindow));
        for (String sample : s.errorSamples) {
            out.append("  ").append(sample).append(System.lineSeparator());
        }
        out.append(String.format(Locale.ROOT, "%nlatency µs  %8s %8s %8s %8s %8s %8s%n",
                "p50", "p90", "p99", "p99.9", "max", "mean"));
        latencyRow(out, "all", s.allLatencyMicros());
        latencyRow(out, "get", s.getLatencyMicros);
        latencyRow(out, "set", s.setLatencyMicros);
        out.append(System.lineSeparator());
        out.append(String.format(Locale.ROOT, "generator   %.2f CPU-µs/op, %.2f cores of %d available; worker threads busy %s%n",
                RunResult.cpuMicrosPerOp(run.processCpuNanos(), s.ops()), run.cores(run.processCpuNanos()),
                availableProcessors, busy()));
        if (!serverPids.isEmpty()) {
            out.append(String.format(Locale.ROOT, "server      %.2f CPU-µs/op, %.2f cores (pids %s)%n",
                    RunResult.cpuMicrosPerOp(run.serverCpuNanos(), s.ops()), run.cores(run.serverCpuNanos()),
                    serverPids.stream().map(String::valueOf).collect(Collectors.joining(","))));
            if (run.serverWakeups() != null) {
                out.append(String.format(Locale.ROOT, "            %.2f thread wake-ups/op: %s%n",
                        RunResult.perOp(ThreadWakeups.total(run.serverWakeups()), s.ops()),
                        run.serverWakeups().entrySet().stream().limit(ThreadWakeups.GROUPS_LISTED_MAX)
                                .map(e -> String.format(Locale.ROOT, "%s %.2f", e.getKey(), RunResult.perOp(e.getValue(), s.ops())))
                                .collect(Collectors.joining(", "))));
            }
        }
        if (run.machineBusyNanos() >= 0) {
            out.append(String.format(Locale.ROOT, "machine     %.2f cores busy, %.2f of them in softirq; %s%n",
                    run.cores(run.machineBusyNanos()), run.cores(run.machineSoftirqNanos()),
                    run.otherCpuNanos() >= 0
                            ? String.format(Locale.ROOT, "other processes %.2f cores", run.cores(run.otherCpuNanos()))
                            : "give --server-pid to separate the server from other processes"));
        }
        for (String warning : warnings()) {
            out.append("WARNING: ").append(warning).append(System.lineSeparator());
        }
        return out.toString();
    }

    String json() {
        LoadProfile p = run.profile();
        WorkerStats s = run.stats();
        Json j = new Json();
        j.open();
        j.field("protocol").string(p.protocol().label());
        j.field("servers").array(p.servers().stream().map(a -> Json.quote(a.toString())).toList());
        j.field("threads").value(p.threads());
        j.field("connections").value(p.connections());
        j.field("pipeline").value(p.pipeline());
        j.field("ratio").string(p.ratioLabel());
        j.field("keySpace").value(p.keySpace());
        j.field("keyPattern").string(p.keyPattern().label());
        j.field("zipfExponent").raw(p.keyPattern() == KeyPattern.ZIPF ? Json.number(p.zipfExponent()) : "null");
        j.field("cacheAside").raw(Boolean.toString(p.cacheAside()));
        j.field("tls").raw(Boolean.toString(p.tls() != null));
        j.field("tlsEngine").raw(p.tls() == null ? "null" : Json.quote(TlsSettings.engineName()));
        j.field("reconnectInterval").value(p.reconnectInterval());
        j.field("valueSizeBytes").value(p.valueSizeBytes());
        j.field("warmupSeconds").value(p.warmupNanos() / 1e9);
        j.field("durationSeconds").value(p.durationNanos() / 1e9);
        j.field("requests").raw(p.isRequestBounded() ? Long.toString(p.requests()) : "null");
        j.field("seed").value(p.seed());
        if (prefill == null) {
            j.field("prefill").raw("null");
        } else {
            j.field("prefill").open();
            j.field("sets").value(prefill.stats().sets);
            j.field("seconds").value(prefill.windowSeconds());
            j.field("opsPerSec").value(prefill.opsPerSecond(prefill.stats().sets));
            j.field("errors").value(prefill.stats().errors + prefill.stats().errorsOutsideWindow);
            j.close();
        }
        j.field("windowSeconds").value(run.windowSeconds());
        j.field("windowStartEpochMicros").value(run.windowStartEpochMicros());
        j.field("windowEndEpochMicros").value(run.windowStartEpochMicros() + run.windowNanos() / 1000);
        j.field("complete").raw(Boolean.toString(run.complete()));
        j.field("ops").value(s.ops());
        j.field("gets").value(s.gets);
        j.field("sets").value(s.sets);
        j.field("opsPerSec").value(run.opsPerSecond(s.ops()));
        j.field("getsPerSec").value(run.opsPerSecond(s.gets));
        j.field("setsPerSec").value(run.opsPerSecond(s.sets));
        j.field("fills").value(s.fills);
        j.field("connectionsOpened").value(s.connectionsOpened);
        j.field("hits").value(s.hits);
        j.field("misses").value(s.misses);
        j.field("hitRatio").value(hitRatio(s));
        j.field("errors").value(s.errors);
        j.field("errorsOutsideWindow").value(s.errorsOutsideWindow);
        j.field("errorSamples").array(s.errorSamples.stream().map(Json::quote).toList());
        j.field("latencyMicros").open();
        latencyJson(j, "all", s.allLatencyMicros());
        latencyJson(j, "get", s.getLatencyMicros);
        latencyJson(j, "set", s.setLatencyMicros);
        j.close();
        j.field("generator").open();
        j.field("cpuMicrosPerOp").value(RunResult.cpuMicrosPerOp(run.processCpuNanos(), s.ops()));
        j.field("cpuCores").value(run.cores(run.processCpuNanos()));
        j.field("availableProcessors").value(availableProcessors);
        j.field("workerThreadBusy").array(java.util.Arrays.stream(run.workerBusy()).mapToObj(Json::number).toList());
        j.close();
        if (serverPids.isEmpty()) {
            j.field("server").raw("null");
        } else {
            j.field("server").open();
            j.field("pids").array(serverPids.stream().map(String::valueOf).toList());
            j.field("cpuMicrosPerOp").value(RunResult.cpuMicrosPerOp(run.serverCpuNanos(), s.ops()));
            j.field("cpuCores").value(run.cores(run.serverCpuNanos()));
            if (run.serverWakeups() == null) {
                j.field("wakeupsPerOp").raw("null");
            } else {
                j.field("wakeupsPerOp").value(RunResult.perOp(ThreadWakeups.total(run.serverWakeups()), s.ops()));
                j.field("wakeupsPerOpByThread").open();
                run.serverWakeups().entrySet().stream().limit(ThreadWakeups.GROUPS_LISTED_MAX)
                        .forEach(e -> j.field(e.getKey()).value(RunResult.perOp(e.getValue(), s.ops())));
                j.close();
                j.field("wakeupsPerOpByProcess").open();
                run.serverWakeupsByProcess().forEach((pid, count) -> j.field(pid).value(RunResult.perOp(count, s.ops())));
                j.close();
            }
            j.close();
        }
        j.field("machine").open();
        j.field("cpuCores").value(run.cores(run.machineBusyNanos()));
        j.field("softirqCores").value(run.cores(run.machineSoftirqNanos()));
        j.field("otherProcessesCores").value(run.cores(run.otherCpuNanos()));
        j.close();
        j.field("warnings").array(warnings().stream().map(Json::quote).toList());
        j.close();
        return j.toString();
    }

    private String busy() {
        return java.util.Arrays.stream(run.workerBusy())
                .mapToObj(b -> Double.isNaN(b) ? "?" : String.format(Locale.ROOT, "%.0f%%", 100 * b))
                .collect(Collectors.joining(", "));
    }

    private static String servers(LoadProfile p) {
        return p.servers().stream().map(ServerAddress::toString).collect(Collectors.joining(","));
    }

    static double hitRatio(WorkerStats s) {
        long answered = s.hits + s.misses;
        return answered == 0 ? Double.NaN : (double) s.hits / answered;
    }

    private static void latencyRow(StringBuilder out, String label, Histogram h) {
        if (h.getTotalCount() == 0) {
            return;
        }
        out.append(String.format(Locale.ROOT, "  %-9s %8d %8d %8d %8d %8d %8.1f%n", label,
                h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getMaxValue(), h.getMean()));
    }

    private static void latencyJson(Json j, String label, Histogram h) {
        if (h.getTotalCount() == 0) {
            j.field(label).raw("null");
            return;
        }
        j.field(label).open();
        j.field("count").value(h.getTotalCount());
        j.field("p50").value(h.getValueAtPercentile(50));
        j.field("p90").value(h.getValueAtPercentile(90));
        j.field("p99").value(h.getValueAtPercentile(99));
        j.field("p999").value(h.getValueAtPercentile(99.9));
        j.field("max").value(h.getMaxValue());
        j.field("mean").value(h.getMean());
        j.field("histogram").array(histogram(h));
        j.close();
    }

    /** First bucket's upper bound; each next one doubles, so a run up to seconds has about 25 buckets. */
    static final long HISTOGRAM_FIRST_BUCKET_MICROS = 1;

    /**
     * The latencies as {@code [upper bound µs, count]} pairs in doubling buckets up to the largest,
     * to draw the distribution (bench/compare-memcached.sh plots raftcached's against memcached's).
     */
    static List<String> histogram(Histogram h) {
        List<String> buckets = new java.util.ArrayList<>();
        for (org.HdrHistogram.HistogramIterationValue bucket : h.logarithmicBucketValues(HISTOGRAM_FIRST_BUCKET_MICROS, 2.0)) {
            buckets.add("[" + bucket.getValueIteratedTo() + "," + bucket.getCountAddedInThisIterationStep() + "]");
        }
        return buckets;
    }

    /** Just enough JSON writing for one report; no dependency for it. */
    private static final class Json {
        private final StringBuilder out = new StringBuilder();
        private boolean first = true;

        void open() {
            out.append('{');
            first = true;
        }

        void close() {
            out.append('}');
            first = false;
        }

        Json field(String name) {
            if (!first) {
                out.append(',');
            }
            first = false;
            out.append(quote(name)).append(':');
            return this;
        }

        void value(long v) {
            out.append(v);
        }

        void value(double v) {
            out.append(number(v));
        }

        void string(String s) {
            out.append(quote(s));
        }

        void raw(String s) {
            out.append(s);
        }

        void array(List<String> encoded) {
            out.append('[').append(String.join(",", encoded)).append(']');
        }

        static String number(double v) {
            if (!Double.isFinite(v)) {
                return "null";
            }
            return java.math.BigDecimal.valueOf(v).setScale(6, java.math.RoundingMode.HALF_EVEN)
                    .stripTrailingZeros().toPlainString();
        }

        static String quote(String s) {
            StringBuilder q = new StringBuilder(s.length() + 2).append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> q.append("\\\"");
                    case '\\' -> q.append("\\\\");
                    default -> {
                        if (c < 0x20) {
                            q.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                        } else {
                            q.append(c);
                        }
                    }
                }
            }
            return q.append('"').toString();
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }
}
