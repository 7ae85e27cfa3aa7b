package io.raftcached.it;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One real raftcached node process, started from the shaded jar the build produced, with an
 * explicit small heap and one CPU so several fit on two cores. Its log goes to a file next to its
 * data. Stopped only by its own pid: SIGTERM ({@link #stop}) or SIGKILL ({@link #kill}).
 */
final class NodeProcess implements AutoCloseable {
    static final Path JAR = Path.of(System.getProperty("raftcached.jar", "../node/target/raftcached.jar"));
    static final Path TEST_DIRECTORY = Path.of(System.getProperty("raftcached.testDir", "target/it-data"));
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    final String name;
    final int port;
    final List<String> arguments;
    final Path log;
    /** JVM options after the defaults; HotSpot takes the last of a repeated flag, so "-Xmx128m" here replaces the default heap. */
    private List<String> jvmOptions = List.of();
    /** How this test reaches the client port: plain sockets, or TLS ones for a node started with -Z. */
    private javax.net.SocketFactory sockets = javax.net.SocketFactory.getDefault();
    private Process process;

    NodeProcess(String name, int port, List<String> arguments) throws IOException {
        this.name = name;
        this.port = port;
        this.arguments = List.copyOf(arguments);
        Files.createDirectories(TEST_DIRECTORY);
        this.log = TEST_DIRECTORY.resolve(name + ".log");
    }

    /** A one-member node on a fresh port and data directory. */
    static NodeProcess single(String name, String... extraArguments) throws IOException {
        int port = Ports.free();
        List<String> arguments = new ArrayList<>(List.of("-p", Integer.toString(port), "-l", "127.0.0.1",
                "--raft", "127.0.0.1:" + Ports.free(), "--data-dir", freshDirectory(name).toString()));
        arguments.addAll(List.of(extraArguments));
        return new NodeProcess(name, port, arguments);
    }

    /** Reach the client port through {@code sockets} (an SSLSocketFactory for -Z); call before {@link #start}. */
    NodeProcess sockets(javax.net.SocketFactory sockets) {
        this.sockets = sockets;
        return this;
    }

    /** Starts this node's JVM with {@code options} after the default ones (call before {@link #start}). */
    NodeProcess jvmOptions(List<String> options) {
        this.jvmOptions = List.copyOf(options);
        return this;
    }

    static Path freshDirectory(String name) throws IOException {
        Path directory = TEST_DIRECTORY.resolve(name + "-data");
        deleteRecursively(directory);
        return directory;
    }

    /** The signals a process ignores, as a mask (bit n-1 for signal n), from its SigIgn line (Linux). */
    static long ignoredSignals(String pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", pid, "status"))) {
            if (line.startsWith("SigIgn:")) {
                return Long.parseUnsignedLong(line.substring("SigIgn:".length()).trim(), 16);
            }
        }
        throw new IOException("no SigIgn line in /proc/" + pid + "/status");
    }

    static void deleteRecursively(Path directory) throws IOException {
        if (!Files.exists(directory)) {
            return;
        }
        try (var paths = Files.walk(directory)) {
            List<Path> all = new ArrayList<>(paths.toList());
            java.util.Collections.reverse(all);
            for (Path path : all) {
                Files.delete(path);
            }
        }
    }

    private static Path privateJar;

    /**
     * A copy of the jar taken once per test JVM: a build that replaces node/target/raftcached.jar
     * while nodes run would otherwise break their class loading mid-test (NoClassDefFoundError).
     */
    static synchronized Path privateJar() {
        if (privateJar == null) {
            try {
                Files.createDirectories(TEST_DIRECTORY);
                Path copy = TEST_DIRECTORY.resolve("raftcached-" + ProcessHandle.current().pid() + ".jar");
                Path partial = TEST_DIRECTORY.resolve(copy.getFileName() + ".partial");
                Files.copy(JAR, partial, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.move(partial, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                copy.toFile().deleteOnExit();
                privateJar = copy;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot copy " + JAR, e);
            }
        }
        return privateJar;
    }

    List<String> command() {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms32m", "-Xmx256m", "-XX:ActiveProcessorCount=1", "-XX:+UseSerialGC",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED",
                "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-jar", privateJar().toString()));
        command.addAll(arguments);
        command.addAll(LogStoreUnderTest.arguments(arguments));
        return command;
    }

    /** Starts the process and waits until it answers {@code version} on its client port. */
    NodeProcess start() throws IOException, InterruptedException {
        return startWithoutWaiting().awaitListening();
    }

    NodeProcess startWithoutWaiting() throws IOException {
        if (!Files.exists(JAR)) {
            throw new IllegalStateException(JAR + " is missing: run the tests with `mvn verify` from the root");
        }
        Files.writeString(log, "=== start " + String.join(" ", arguments) + "\n", StandardCharsets.UTF_8,
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        ProcessBuilder builder = new ProcessBuilder(command()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        process = builder.start();
        return this;
    }

    NodeProcess awaitListening() throws InterruptedException {
        Await.until(name + " to answer version on port " + port, START_TIMEOUT, () -> {
            if (!process.isAlive()) {
                throw new AssertionError(name + " exited with " + process.exitValue() + " during start; log:\n" + tail());
            }
            return TextClient.answersVersion(sockets, port);
        }, () -> ClusterChecks.logs(List.of(this)));
        return this;
    }

    /** Waits until the node serves reads (caught up with the cluster). */
    NodeProcess awaitReady() throws InterruptedException {
        Await.until(name + " to serve reads (raft_ready 1)", READY_TIMEOUT, () -> "1".equals(stats("raft").get("raft_ready")),
                () -> ClusterChecks.logs(List.of(this)));
        return this;
    }

    /** {@code stats <args>} as a map. */
    Map<String, String> stats(String args) throws IOException {
        try (TextClient client = new TextClient(sockets, port)) {
            return client.stats(args);
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** SIGTERM, then waits for the exit. */
    int stop() throws InterruptedException {
        if (process == null) {
            return 0;
        }
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
        return process.exitValue();
    }

    /** SIGKILL: the process gets no chance to do anything. */
    void kill() throws InterruptedException {
        if (process != null) {
            process.destroyForcibly().waitFor();
        }
    }

    /** Exit code once the process ended by itself within the timeout, or -1. */
    int awaitExit(long timeoutMillis) throws InterruptedException {
        return process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
    }

    /**
     * Sends a signal by name ("STOP", "CONT", "TERM", ...) to this process alone, by its pid,
     * through /bin/kill: the JDK cannot send SIGSTOP/SIGCONT itself.
     */
    void signal(String signal) throws IOException, InterruptedException {
        if (!alive()) {
            throw new IllegalStateException(name + " is not running; not sending SIG" + signal);
        }
        Process kill = new ProcessBuilder("/bin/kill", "-" + signal, Long.toString(pid())).redirectErrorStream(true).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS)) {
            kill.destroyForcibly();
            throw new IOException("kill -" + signal + " " + pid() + " did not return within 10 s");
        }
        if (kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + pid() + " failed: "
                    + new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    String tail() {
        return tail(40);
    }

    /** The last {@code count} lines of this node's log. */
    String tail(int count) {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - count), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    String logText() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }
}
