package io.raftcached.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * The comparison harness of issue 15's memory tests: Debian's memcached and a one-node raftcached,
 * both {@code -m 64} and otherwise at their defaults, given the same workload at the same time, each
 * driven by its own thread (the workloads are paced or small, so on two cores neither starves the
 * other, and both see the same machine). The Zipf test is the exception: its closed-loop load would
 * make the servers compete, so bench/memory-parity.sh runs them one after the other. The figures
 * are printed on one line per test so they can be quoted.
 */
final class MemoryParity {
    /** Memory limit of every server in these tests, as in the measurements. */
    static final String MEMORY_MEGABYTES = "64";

    private MemoryParity() {}

    /** memcached -m 64 (plus -U 0, -l 127.0.0.1) and a one-member raftcached -m 64, both ready. */
    static DropInServers start(String name) throws IOException, InterruptedException {
        MemcachedProcess.assumeInstalled();
        return DropInServers.start(name, List.of("-m", MEMORY_MEGABYTES), List.of("-m", MEMORY_MEGABYTES));
    }

    /**
     * Runs every scenario at the same time, each on its own thread, and returns their results in
     * order; the first failure fails the test, and past the timeout the threads are interrupted
     * (their sockets' read timeouts bound them even where an interrupt cannot).
     */
    @SafeVarargs
    static <T> List<T> sideBySide(Duration timeout, Callable<T>... scenarios) throws Exception {
        ExecutorService threads = Executors.newFixedThreadPool(scenarios.length);
        try {
            List<Future<T>> futures = threads.invokeAll(List.of(scenarios), timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<T> results = new ArrayList<>();
            for (Future<T> future : futures) {
                if (future.isCancelled()) {
                    throw new AssertionError("a scenario did not finish within " + timeout.toSeconds() + " s");
                }
                try {
                    results.add(future.get());
                } catch (ExecutionException e) {
                    throw e.getCause() instanceof Exception cause ? cause : e;
                }
            }
            return results;
        } finally {
            threads.shutdownNow();
            threads.awaitTermination(40, TimeUnit.SECONDS);
        }
    }

    /** Prints a test's figures on a line of their own, to quote. */
    static void report(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /** a / b, or NaN when b is 0. */
    static double ratio(double a, double b) {
        return b == 0 ? Double.NaN : a / b;
    }

    /** bench/memory-parity.sh's outcome: its output and its results.tsv rows by server. */
    record ScriptRun(String output, Map<String, Map<String, String>> results) {}

    /**
     * Runs {@code bench/memory-parity.sh} with {@code environment}. Past the timeout the script gets
     * SIGTERM, which stops its server through its own trap; whatever it started that outlives it is
     * then killed by pid, as a descendant of the script we started.
     */
    static ScriptRun memoryParityScript(Map<String, String> environment, Duration timeout) throws IOException, InterruptedException {
        Path script = DeployFiles.ROOT.resolve("bench/memory-parity.sh");
        Path outDir = NodeProcess.freshDirectory("memory-parity-script");
        Path output = NodeProcess.TEST_DIRECTORY.resolve("memory-parity-script.out");
        ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), "--out", outDir.toString())
                .redirectErrorStream(true).redirectOutput(output.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().putAll(environment);
        Process process = builder.start();
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("bench/memory-parity.sh did not finish within " + timeout.toSeconds() + " s; output:\n"
                        + Files.readString(output, StandardCharsets.UTF_8));
            }
        } finally {
            stopScript(process);
        }
        String text = Files.readString(output, StandardCharsets.UTF_8);
        if (process.exitValue() != 0) {
            throw new AssertionError("bench/memory-parity.sh exited with " + process.exitValue() + ":\n" + text);
        }
        List<String> rows = Files.readAllLines(outDir.resolve("results.tsv"), StandardCharsets.UTF_8);
        String[] header = rows.get(0).split("\t");
        Map<String, Map<String, String>> results = new java.util.LinkedHashMap<>();
        for (String row : rows.subList(1, rows.size())) {
            String[] fields = row.split("\t");
            Map<String, String> byName = new java.util.LinkedHashMap<>();
            for (int i = 0; i < header.length && i < fields.length; i++) {
                byName.put(header[i], fields[i]);
            }
            results.put(fields[0], byName);
        }
        return new ScriptRun(text, results);
    }

    private static void stopScript(Process script) throws InterruptedException {
        List<ProcessHandle> descendants = script.descendants().toList();
        if (script.isAlive()) {
            script.destroy();
            script.waitFor(20, TimeUnit.SECONDS);
        }
        for (ProcessHandle leftover : descendants) {
            if (leftover.isAlive()) {
                leftover.destroyForcibly();
            }
        }
        script.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
    }
}
