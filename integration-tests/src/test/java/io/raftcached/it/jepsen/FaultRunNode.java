package io.raftcached.it.jepsen;

import io.raftcached.it.LogStoreUnderTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * One raftcached node process of a fault run, either on 127.0.0.1 with free ports or inside its own
 * network namespace at {@link NetnsLab#address(int)} ({@code ip netns exec} execs the JVM, so the
 * Process is the JVM itself and signals reach it by pid). The JVM gets an explicit heap and CPU
 * count: inside a namespace /sys is remounted and the container's limits are invisible.
 */
final class FaultRunNode {
    static final Path JAR = Path.of(System.getProperty("raftcached.jar", "../node/target/raftcached.jar"));
    static final Path TEST_DIRECTORY = Path.of(System.getProperty("raftcached.testDir", "target/it-data"));
    static final int NETNS_CLIENT_PORT = 11211;
    static final int NETNS_RAFT_PORT = 7000;
    private static final int STATS_TIMEOUT_MILLIS = 1_500;
    private static final Set<Integer> HANDED_OUT_PORTS = new HashSet<>();
    private static Path privateJar;

    final int id;
    final String name;
    final String host;
    final int port;
    final int raftPort;
    /** The namespace slot this node runs in, or 0 on loopback. */
    final int slot;
    final Path dataDirectory;
    final Path log;
    private volatile List<String> baseArguments;
    private volatile long clockOffsetMillis;
    private volatile Process process;
    private volatile boolean paused;

    private FaultRunNode(int id, String name, String host, int port, int raftPort, int slot, Path dataDirectory, Path log,
            List<String> baseArguments, long clockOffsetMillis) {
        this.id = id;
        this.name = name;
        this.host = host;
        this.port = port;
        this.raftPort = raftPort;
        this.slot = slot;
        this.dataDirectory = dataDirectory;
        this.log = log;
        this.baseArguments = List.copyOf(baseArguments);
        this.clockOffsetMillis = clockOffsetMillis;
    }

    /** A node of the run named {@code run}; its peers are given later (they must know one another's addresses). */
    static FaultRunNode create(String run, int id, boolean inNamespace, long clockOffsetMillis) throws IOException {
        String name = "n" + id;
        String host = inNamespace ? NetnsLab.address(id) : "127.0.0.1";
        int port = inNamespace ? NETNS_CLIENT_PORT : freePort();
        int raftPort = inNamespace ? NETNS_RAFT_PORT : freePort();
        Path directory = TEST_DIRECTORY.resolve("jepsen-" + run + "-" + name);
        deleteRecursively(directory);
        Path log = FaultRun.reportDirectory(run).resolve("logs").resolve(name + ".log");
        Files.createDirectories(log.getParent());
        return new FaultRunNode(id, name, host, port, raftPort, inNamespace ? id : 0, directory, log, List.of(), clockOffsetMillis);
    }

    /** Flags after the node's own address and data flags (peers, common flags); take effect at the next start. */
    void baseArguments(List<String> arguments) {
        this.baseArguments = List.copyOf(arguments);
    }

    String raftEndpoint() {
        return host + ":" + raftPort;
    }

    List<String> arguments() {
        List<String> arguments = new ArrayList<>(List.of("-p", Integer.toString(port), "-l", host, "--node-id", Integer.toString(id),
                "--raft", raftEndpoint(), "--data-dir", dataDirectory.toString()));
        arguments.addAll(baseArguments);
        if (clockOffsetMillis != 0) {
            arguments.addAll(List.of("--clock-offset-ms", Long.toString(clockOffsetMillis)));
        }
        return arguments;
    }

    long clockOffsetMillis() {
        return clockOffsetMillis;
    }

    /** Takes effect at the next start. */
    void clockOffsetMillis(long offset) {
        this.clockOffsetMillis = offset;
    }

    List<String> command() {
        List<String> command = new ArrayList<>();
        if (slot > 0) {
            command.addAll(NetnsLab.execPrefix(slot));
        }
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms32m", "-Xmx256m", "-XX:ActiveProcessorCount=1", "-XX:+UseSerialGC",
                // A thread dump then names who holds each ReentrantLock, not only who waits.
                "-XX:+PrintConcurrentLocks",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true",
                "-jar", privateJar().toString()));
        command.addAll(arguments());
        command.addAll(LogStoreUnderTest.arguments(arguments()));
        return command;
    }

    synchronized void start() throws IOException {
        if (alive()) {
            throw new IllegalStateException(name + " is already running");
        }
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run the tests with `mvn verify` from the root");
        }
        Files.writeString(log, "=== " + java.time.Instant.now() + " start " + String.join(" ", arguments()) + "\n",
                StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        process = new ProcessBuilder(command()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        paused = false;
    }

    /** Waits until the node answers {@code version}; fails if it exits first. */
    void awaitListening(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            Process p = process;
            if (p == null || !p.isAlive()) {
                throw new IOException(name + " is not running (exit " + (p == null ? "-" : p.exitValue()) + "); log:\n" + tail(30));
            }
            try (WorkloadConnection c = new WorkloadConnection(host, port, 500, STATS_TIMEOUT_MILLIS)) {
                if (c.call("version\r\n").startsWith("VERSION")) {
                    return;
                }
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IOException(name + " did not listen on " + host + ":" + port + " within " + timeoutMillis + " ms; log:\n" + tail(30));
    }

    /** Waits until {@code stats raft} says raft_ready 1. */
    void awaitReady(long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (System.nanoTime() < deadline) {
            Map<String, String> raft = statsOrNull("raft");
            if (raft != null && "1".equals(raft.get("raft_ready"))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new IOException(name + " did not become ready within " + timeoutMillis + " ms; log:\n" + tail(30));
    }

    Map<String, String> stats(String args) throws IOException {
        try (WorkloadConnection c = new WorkloadConnection(host, port, STATS_TIMEOUT_MILLIS, STATS_TIMEOUT_MILLIS)) {
            return c.stats(args);
        }
    }

    /** Stats, or null when the node is down, paused or unreachable. */
    Map<String, String> statsOrNull(String args) {
        if (!alive() || paused) {
            return null;
        }
        try {
            return stats(args);
        } catch (IOException e) {
            return null;
        }
    }

    boolean alive() {
        Process p = process;
        return p != null && p.isAlive();
    }

    boolean paused() {
        return paused;
    }

    long pid() {
        Process p = process;
        return p == null ? -1 : p.pid();
    }

    /** SIGKILL by pid, then waits for the exit. A paused process dies as well. */
    void kill() throws InterruptedException {
        Process p = process;
        if (p != null && p.isAlive()) {
            p.destroyForcibly();
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                throw new IllegalStateException(name + " (pid " + p.pid() + ") survived SIGKILL for 20 s");
            }
        }
        paused = false;
    }

    /** SIGTERM, up to 30 s for the exit (the node hands over leadership), then SIGKILL. */
    void stop() throws InterruptedException, IOException {
        Process p = process;
        if (p != null && p.isAlive()) {
            if (paused) {
                signal("CONT");
            }
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                kill();
            }
        }
        paused = false;
    }

    void pause() throws IOException, InterruptedException {
        signal("STOP");
        paused = true;
    }

    void resume() throws IOException, InterruptedException {
        if (paused && alive()) {
            signal("CONT");
        }
        paused = false;
    }

    /**
     * Asks the JVM for a thread dump, which it writes to its output (this node's log); a paused
     * node answers once resumed, so it is skipped. A JVM that inherited SIGQUIT as ignored (started
     * from a shell's background job) writes nothing: the dump is a diagnostic, not a check.
     */
    void dumpThreads() throws IOException, InterruptedException {
        if (alive() && !paused) {
            signal("QUIT");
        }
    }

    /** Sends a signal to this JVM alone, by its pid (the JDK cannot send STOP/CONT). */
    private void signal(String signal) throws IOException, InterruptedException {
        Process p = process;
        if (p == null || !p.isAlive()) {
            throw new IllegalStateException(name + " is not running; not sending SIG" + signal);
        }
        NetnsLab.Sh.check(List.of("/bin/kill", "-" + signal, Long.toString(p.pid())), 10_000);
    }

    /** Deletes the data directory; the node must be stopped. */
    void wipe() throws IOException {
        if (alive()) {
            throw new IllegalStateException(name + " is running; stop it before wiping its data");
        }
        deleteRecursively(dataDirectory);
    }

    String tail(int count) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public String toString() {
        return name + "(" + host + ":" + port + ", raft " + raftEndpoint() + ")";
    }

    // --- helpers --------------------------------------------------------------------------------

    static synchronized int freePort() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket socket = new ServerSocket(0)) {
                if (HANDED_OUT_PORTS.add(socket.getLocalPort())) {
                    return socket.getLocalPort();
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free port after 100 attempts");
    }

    /**
     * A copy of the jar taken once per test JVM, so a build that replaces node/target/raftcached.jar
     * while nodes run cannot break their class loading mid-run.
     */
    static synchronized Path privateJar() {
        if (privateJar == null) {
            try {
                Files.createDirectories(TEST_DIRECTORY);
                Path copy = TEST_DIRECTORY.resolve("raftcached-jepsen-" + ProcessHandle.current().pid() + ".jar");
                Path partial = TEST_DIRECTORY.resolve(copy.getFileName() + ".partial");
                Files.copy(JAR, partial, StandardCopyOption.REPLACE_EXISTING);
                Files.move(partial, copy, StandardCopyOption.REPLACE_EXISTING);
                copy.toFile().deleteOnExit();
                privateJar = copy.toAbsolutePath();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot copy " + JAR, e);
            }
        }
        return privateJar;
    }

    static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (var paths = Files.walk(directory)) {
            List<Path> all = new ArrayList<>(paths.toList());
            Collections.reverse(all);
            for (Path path : all) {
                Files.deleteIfExists(path);
            }
        }
    }
}
