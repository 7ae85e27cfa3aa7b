package io.raftcached.bench;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code raftcached-bench}: a memtier_benchmark-style load generator for the memcached ASCII
 * protocol. Closed loop: each connection keeps {@code --pipeline} requests in flight and sends the
 * next one when a reply arrives, so latencies are service times under that load (they do not
 * include the queueing an open-loop arrival schedule would add).
 */
@Command(
        name = "bench",
        mixinStandardHelpOptions = true,
        version = "raftcached bench 0.1.0",
        sortOptions = false,
        description = {
            "Load generator for memcached-compatible servers (ASCII get/set); --protocol=etcd-http drives etcd instead.",
            "Keys are <key-prefix><n>, n in [0, key-space). Each connection keeps --pipeline requests in flight;"
                + " latency is measured per request from when it was written to when its reply arrived"
                + " (HdrHistogram, µs). Only replies to requests sent after --warmup and received before the end"
                + " of --duration are counted.",
            "The generator's own CPU time per op is reported so a saturated generator is visible;"
                + " --server-pid adds the server's CPU time per op over the same window.",
            "Exit status: 0 ok, 1 run failed (unreachable server, timeout, malformed reply, prefill failed,"
                + " nothing completed, request count not reached), 2 bad options."
        })
public final class BenchCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--servers", split = ",", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:11211",
            description = "Servers; connections are spread over them round-robin (default: ${DEFAULT-VALUE}).")
    List<String> servers;

    @Option(names = "--protocol", paramLabel = "memcached|etcd-http", defaultValue = "memcached",
            description = "memcached: ASCII get/set. etcd-http: etcd v3's JSON gateway over HTTP/1.1 keep-alive,"
                    + " POST /v3/kv/put for sets and /v3/kv/range for gets, one request in flight per connection"
                    + " (default: ${DEFAULT-VALUE}).")
    String protocol;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
            description = "Generator threads, each with its own selector (default: ${DEFAULT-VALUE}).")
    int threads;

    @Option(names = "--connections", paramLabel = "N", defaultValue = "50",
            description = "Total connections, spread over the threads (default: ${DEFAULT-VALUE}).")
    int connections;

    @Option(names = "--pipeline", paramLabel = "N", defaultValue = "1",
            description = "Requests in flight per connection, 1.." + LoadProfile.PIPELINE_MAX
                    + " (default: ${DEFAULT-VALUE}).")
    int pipeline;

    @Option(names = "--ratio", paramLabel = "GET:SET", defaultValue = "9:1",
            description = "Gets to sets, e.g. 1:0, 9:1, 0:1; interleaved deterministically (default: ${DEFAULT-VALUE}).")
    String ratio;

    @Option(names = "--key-space", paramLabel = "N", defaultValue = "100000",
            description = "Number of distinct keys (default: ${DEFAULT-VALUE}).")
    long keySpace;

    @Option(names = "--key-pattern", paramLabel = "random|sequential|zipf", defaultValue = "random",
            description = "random: uniform; sequential: each thread walks its slice of the key space in order;"
                    + " zipf: key n drawn with probability proportional to 1/(n+1)^s, s = --zipf-exponent"
                    + " (default: ${DEFAULT-VALUE}).")
    String keyPattern;

    @Option(names = "--zipf-exponent", paramLabel = "S", defaultValue = "0.99",
            description = "Exponent of --key-pattern zipf, in (0, " + LoadProfile.ZIPF_EXPONENT_MAX + "]"
                    + " (default: ${DEFAULT-VALUE}).")
    double zipfExponent;

    @Option(names = "--cache-aside",
            description = "A get that misses is followed by a set of the same key (the value an application"
                    + " would fetch from its database); those fill sets come on top of --ratio and count as sets.")
    boolean cacheAside;

    @Option(names = "--key-prefix", paramLabel = "TEXT", defaultValue = "key:",
            description = "Key prefix (default: ${DEFAULT-VALUE}).")
    String keyPrefix;

    @Option(names = "--value-size", paramLabel = "BYTES", defaultValue = "100",
            description = "Value size of sets, 0.." + LoadProfile.VALUE_SIZE_BYTES_MAX + " (default: ${DEFAULT-VALUE}).")
    int valueSize;

    @Option(names = "--duration", paramLabel = "SECONDS", defaultValue = "10",
            description = "Measured window; with --requests, the cap on it (default: ${DEFAULT-VALUE}).")
    double durationSeconds;

    @Option(names = "--warmup", paramLabel = "SECONDS", defaultValue = "2",
            description = "Load before the measured window, excluded from all stats (default: ${DEFAULT-VALUE}).")
    double warmupSeconds;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "0",
            description = "Stop after N requests (over all threads) after warm-up are answered; 0 = run for"
                    + " --duration (default: ${DEFAULT-VALUE}).")
    long requests;

    @Option(names = "--prefill",
            description = "Before measuring, set every key once (sequential, ratio 0:1), so gets hit.")
    boolean prefill;

    @Option(names = "--prefill-pipeline", paramLabel = "N", defaultValue = "16",
            description = "Pipeline depth of the prefill pass, which is not measured (default: ${DEFAULT-VALUE}).")
    int prefillPipeline;

    @Option(names = "--prefill-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "Give up if the prefill pass takes longer (default: ${DEFAULT-VALUE}).")
    double prefillTimeoutSeconds;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Seed for keys and values; same seed, same request sequence per thread (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--connect-timeout-ms", paramLabel = "MS", defaultValue = "2000",
            description = "Per-connection connect timeout (default: ${DEFAULT-VALUE}).")
    int connectTimeoutMillis;

    @Option(names = "--read-timeout-ms", paramLabel = "MS", defaultValue = "5000",
            description = "Fail if a connection with requests in flight gets no bytes for this long"
                    + " (default: ${DEFAULT-VALUE}).")
    int readTimeoutMillis;

    @Option(names = "--tls",
            description = "Speak TLS to the servers (memcached -Z), trusting only --cacert; the server's name is not"
                    + " checked, the targets are addresses.")
    boolean tls;

    @Option(names = "--cacert", paramLabel = "FILE",
            description = "With --tls: the PEM CA certificate(s) the servers' certificates must chain to.")
    Path caCert;

    @Option(names = "--cert", paramLabel = "FILE",
            description = "With --tls: a PEM client certificate to present (servers with ssl_verify_mode 2 or 3).")
    Path clientCert;

    @Option(names = "--key", paramLabel = "FILE",
            description = "With --cert: its unencrypted PKCS#8 PEM private key.")
    Path clientKey;

    @Option(names = "--reconnect-interval", paramLabel = "N", defaultValue = "0",
            description = "Replace a connection with a new one (and a new full TLS handshake, no session resumption)"
                    + " after every N replies, as memtier's option; the request after it is timed from before the"
                    + " connect. With N = 1 and --pipeline 1, ops/s is new connections per second. The worker"
                    + " thread blocks during each connect and handshake. 0 = never (default: ${DEFAULT-VALUE}).")
    int reconnectInterval;

    @Option(names = "--server-pid", split = ",", paramLabel = "PID",
            description = "Local server process(es) whose CPU time (/proc/<pid>/stat utime+stime) is sampled"
                    + " over the measured window and reported per op.")
    List<Long> serverPids = new ArrayList<>();

    @Option(names = "--clock-ticks", paramLabel = "HZ", defaultValue = "100",
            description = "USER_HZ for /proc stat times, as `getconf CLK_TCK` prints (default: ${DEFAULT-VALUE}).")
    int clockTicksPerSecond;

    @Option(names = "--json", description = "Print the report as one JSON object instead of text.")
    boolean json;

    /** The results of one invocation; also what the end-to-end test inspects. */
    record Outcome(RunResult prefill, RunResult run, BenchReport report) {
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Outcome outcome;
        try {
            outcome = execute();
        } catch (IOException e) {
            err.println("bench: " + e.getMessage());
            err.flush();
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("bench: interrupted");
            err.flush();
            return 1;
        }
        RunResult run = outcome.run();
        out.print(json ? outcome.report().json() + System.lineSeparator() : outcome.report().text());
        out.flush();
        if (run.stats().errors + run.stats().errorsOutsideWindow > 0) {
            err.println("bench: " + (run.stats().errors + run.stats().errorsOutsideWindow)
                    + " error replies; first ones:");
            for (String sample : run.stats().errorSamples) {
                err.println("  " + sample);
            }
        }
        int status = 0;
        if (run.stats().ops() == 0) {
            err.println("bench: no request completed in the measured window");
            status = 1;
        }
        if (!run.complete()) {
            err.println("bench: only " + run.stats().ops() + " of " + run.profile().requests()
                    + " requests completed within --duration");
            status = 1;
        }
        err.flush();
        return status;
    }

    /** Validates options, runs the optional prefill pass and then the measured run. */
    Outcome execute() throws IOException, InterruptedException {
        LoadProfile profile = profile();
        RunResult prefillResult = null;
        if (prefill) {
            prefillResult = LoadRun.execute(profile.prefill(prefillPipeline, seconds("--prefill-timeout",
                    prefillTimeoutSeconds, 1)), List.of(), clockTicksPerSecond);
            WorkerStats s = prefillResult.stats();
            if (s.errors + s.errorsOutsideWindow > 0) {
                throw new IOException("prefill got " + (s.errors + s.errorsOutsideWindow) + " error replies, first: "
                        + String.join(" | ", s.errorSamples));
            }
            if (!prefillResult.complete()) {
                throw new IOException("prefill set only " + s.sets + " of " + profile.keySpace()
                        + " keys within --prefill-timeout " + prefillTimeoutSeconds + " s");
            }
        }
        RunResult run = LoadRun.execute(profile, serverPids, clockTicksPerSecond);
        return new Outcome(prefillResult, run, new BenchReport(run, prefillResult, serverPids));
    }

    LoadProfile profile() {
        List<ServerAddress> addresses = new ArrayList<>();
        for (String server : servers) {
            try {
                addresses.add(ServerAddress.parse(server));
            } catch (IllegalArgumentException e) {
                throw usage("--servers: " + e.getMessage());
            }
        }
        String[] weights = ratio.split(":", -1);
        int getWeight;
        int setWeight;
        try {
            if (weights.length != 2) {
                throw new NumberFormatException();
            }
            getWeight = Integer.parseInt(weights[0].trim());
            setWeight = Integer.parseInt(weights[1].trim());
        } catch (NumberFormatException e) {
            throw usage("--ratio must be GET:SET with non-negative integers, e.g. 9:1; got '" + ratio + "'");
        }
        KeyPattern pattern;
        try {
            pattern = KeyPattern.parse(keyPattern);
        } catch (IllegalArgumentException e) {
            throw usage("--key-pattern: " + e.getMessage());
        }
        Protocol wire;
        try {
            wire = Protocol.parse(protocol);
        } catch (IllegalArgumentException e) {
            throw usage("--protocol: " + e.getMessage());
        }
        if (prefillPipeline < 1 || prefillPipeline > LoadProfile.PIPELINE_MAX) {
            throw usage("--prefill-pipeline must be in 1.." + LoadProfile.PIPELINE_MAX);
        }
        if (clockTicksPerSecond < 1 || clockTicksPerSecond > 1_000_000_000) {
            throw usage("--clock-ticks must be in 1..1000000000");
        }
        TlsSettings tlsSettings = null;
        if (tls) {
            try {
                tlsSettings = new TlsSettings(caCert, clientCert, clientKey);
            } catch (IllegalArgumentException e) {
                throw usage("--tls: " + e.getMessage());
            }
        } else if (caCert != null || clientCert != null || clientKey != null) {
            throw usage("--cacert, --cert and --key need --tls");
        }
        if (reconnectInterval < 0) {
            throw usage("--reconnect-interval must be >= 0");
        }
        for (long pid : serverPids) {
            if (!Files.isReadable(Path.of("/proc", Long.toString(pid), "stat"))) {
                throw usage("--server-pid " + pid + ": cannot read /proc/" + pid + "/stat");
            }
        }
        try {
            return new LoadProfile(addresses, threads, connections, pipeline, getWeight, setWeight, keySpace,
                    pattern, keyPrefix, valueSize, seconds("--warmup", warmupSeconds, 0),
                    seconds("--duration", durationSeconds, 1), requests, seed, connectTimeoutMillis,
                    readTimeoutMillis, wire, zipfExponent, cacheAside, tlsSettings, reconnectInterval);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    /** Seconds to nanos, bounded to a day so every run, and every loop in it, ends. */
    private long seconds(String option, double value, long minimumNanos) {
        if (!Double.isFinite(value) || value < 0 || value > 86_400) {
            throw usage(option + " must be in 0..86400 seconds, got " + value);
        }
        long nanos = (long) (value * 1e9);
        if (nanos < minimumNanos) {
            throw usage(option + " must be > 0");
        }
        return nanos;
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }
}
