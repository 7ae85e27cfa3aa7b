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
import java.util.function.IntFunction;
import org.junit.jupiter.api.Assumptions;

/**
 * A real Debian memcached on a free 127.0.0.1 port, the reference the drop-in tests compare
 * against. Started with {@code -U 0} and, when the tests run as root, {@code -u nobody} (memcached
 * refuses root otherwise); its output goes to a file so {@code -vv} lines can be compared. Stopped
 * only by its own pid.
 */
final class MemcachedProcess implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/memcached");
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;

    final int port;
    final Path output;
    private final Process process;

    private MemcachedProcess(int port, Path output, Process process) {
        this.port = port;
        this.output = output;
        this.process = process;
    }

    static boolean isInstalled() {
        return Files.isExecutable(BINARY);
    }

    /** Skips the calling test, saying why, where there is no memcached to compare with. */
    static void assumeInstalled() {
        Assumptions.assumeTrue(isInstalled(), BINARY + " is not installed (apt-get install memcached):"
                + " the comparison with the real memcached is skipped");
    }

    static boolean runningAsRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

    /** memcached's command line with {@code arguments}, plus -u nobody when running as root. */
    static List<String> command(List<String> arguments) {
        List<String> command = new ArrayList<>(List.of(BINARY.toString()));
        if (runningAsRoot()) {
            command.addAll(List.of("-u", "nobody"));
        }
        command.addAll(arguments);
        return command;
    }

    /** A memcached with default settings (-m 64 ...) plus {@code extraArguments}, serving on 127.0.0.1. */
    static MemcachedProcess start(String... extraArguments) throws IOException, InterruptedException {
        return start(port -> List.of("-l", "127.0.0.1", "-p", Integer.toString(port)), extraArguments);
    }

    /**
     * memcached -Z: TLS on {@code tlsPort} with {@code certificates}' server.crt and server.key,
     * {@link #port} kept plaintext ({@code notls:}) so that readiness checks and stats need no TLS.
     */
    static MemcachedProcess startWithTls(Path certificates, int tlsPort, String... extraArguments)
            throws IOException, InterruptedException {
        return start(port -> TlsServers.listenArguments(certificates, port, tlsPort), extraArguments);
    }

    private static MemcachedProcess start(IntFunction<List<String>> listenArguments, String... extraArguments)
            throws IOException, InterruptedException {
        assumeInstalled();
        IOException last = null;
        // Another process can take the free port between our probe and memcached's bind: retry.
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            int port = Ports.free();
            List<String> arguments = new ArrayList<>(List.of("-U", "0"));
            arguments.addAll(listenArguments.apply(port));
            arguments.addAll(List.of(extraArguments));
            Files.createDirectories(NodeProcess.TEST_DIRECTORY);
            Path output = NodeProcess.TEST_DIRECTORY.resolve("memcached-" + port + ".log");
            Process process = new ProcessBuilder(command(arguments)).redirectErrorStream(true)
                    .redirectOutput(output.toFile()).start();
            MemcachedProcess memcached = new MemcachedProcess(port, output, process);
            try {
                memcached.awaitReady();
                return memcached;
            } catch (IOException exited) {
                memcached.close();
                last = exited;
            } catch (RuntimeException | AssertionError e) {
                memcached.close();
                throw e;
            }
        }
        throw last;
    }

    /** Waits until memcached answers; an IOException when it exited instead (most likely it lost the port). */
    private void awaitReady() throws IOException, InterruptedException {
        Await.until("memcached on port " + port + " to answer version", READY_TIMEOUT,
                () -> !process.isAlive() || TextClient.answersVersion(port), () -> "; its output: " + outputText());
        if (!process.isAlive()) {
            throw new IOException("memcached exited with " + process.exitValue() + " on port " + port + ": " + outputText());
        }
    }

    long pid() {
        return process.pid();
    }

    boolean alive() {
        return process.isAlive();
    }

    /** {@code stats <args>} as a map, in memcached's order. */
    Map<String, String> stats(String args) throws IOException {
        return statsOf(port, args);
    }

    /** {@code stats <args>} of the server on {@code port}, as an ordered map. */
    static Map<String, String> statsOf(int port, String args) throws IOException {
        try (TextClient client = new TextClient(port)) {
            return client.stats(args);
        }
    }

    String outputText() {
        try {
            return Files.readString(output, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** SIGTERM to this memcached's pid, then SIGKILL if it lingers. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
    }
}
