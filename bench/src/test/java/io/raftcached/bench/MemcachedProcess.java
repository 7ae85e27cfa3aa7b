package io.raftcached.bench;

import io.raftcached.testing.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A Debian memcached on a free 127.0.0.1 port, for tests; stopped by its pid. */
final class MemcachedProcess implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/memcached");
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(5);
    private static final int START_ATTEMPTS = 3;

    /** Plaintext, always: readiness checks and {@link #stat} use it. */
    final int port;
    /** memcached -Z's TLS listener, or 0 when started without TLS. */
    final int tlsPort;
    private final Process process;

    private MemcachedProcess(int port, int tlsPort, Process process) {
        this.port = port;
        this.tlsPort = tlsPort;
        this.process = process;
    }

    static boolean isInstalled() {
        return Files.isExecutable(BINARY);
    }

    static MemcachedProcess start() throws IOException, InterruptedException {
        return start(null);
    }

    /**
     * With {@code -Z}: TLS on {@link #tlsPort} with certDir's server.crt and server.key (as
     * deploy/tls/make-test-certs.sh writes them), {@link #port} kept plaintext ({@code notls:}).
     */
    static MemcachedProcess startTls(Path certDir) throws IOException, InterruptedException {
        return start(certDir);
    }

    private static MemcachedProcess start(Path certDir) throws IOException, InterruptedException {
        IOException last = null;
        // Another process can take the free port between our probe and memcached's bind; retry a few times.
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
            int port = freePort();
            int tlsPort = certDir == null ? 0 : freePort();
            List<String> command = new ArrayList<>(List.of(BINARY.toString(), "-t", "1", "-m", "64", "-U", "0",
                    "-p", Integer.toString(port)));
            if (certDir == null) {
                command.addAll(List.of("-l", "127.0.0.1"));
            } else {
                command.addAll(List.of("-Z", "-o", "ssl_chain_cert=" + certDir.resolve("server.crt")
                        + ",ssl_key=" + certDir.resolve("server.key"),
                        "-l", "notls:127.0.0.1:" + port, "-l", "127.0.0.1:" + tlsPort));
            }
            if ("root".equals(System.getProperty("user.name"))) {
                command.addAll(List.of("-u", "nobody")); // memcached refuses to run as root without -u
            }
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            MemcachedProcess memcached = new MemcachedProcess(port, tlsPort, process);
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

    long pid() {
        return process.pid();
    }

    String address() {
        return "127.0.0.1:" + port;
    }

    String tlsAddress() {
        return "127.0.0.1:" + tlsPort;
    }

    /** Waits until memcached answers; an IOException when it exited instead (most likely it lost the port). */
    private void awaitReady() throws IOException, InterruptedException {
        Await.until("memcached on port " + port + " to answer version", READY_TIMEOUT,
                () -> !process.isAlive() || command("version").startsWith("VERSION "));
        if (!process.isAlive()) {
            throw new IOException("memcached exited with status " + process.exitValue() + " on port " + port);
        }
    }

    /** Sends one command and returns the first reply line. */
    String command(String line) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
            socket.setSoTimeout(1_000);
            OutputStream out = socket.getOutputStream();
            out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            return new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII))
                    .readLine();
        }
    }

    /** One counter from {@code stats}, e.g. cmd_set. */
    long stat(String name) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1_000);
            socket.setSoTimeout(1_000);
            socket.getOutputStream().write("stats\r\n".getBytes(StandardCharsets.US_ASCII));
            BufferedReader in = new BufferedReader(
                    new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            for (int i = 0; i < 1_000; i++) {
                String line = in.readLine();
                if (line == null || line.equals("END")) {
                    break;
                }
                String[] parts = line.split(" ");
                if (parts.length == 3 && parts[1].equals(name)) {
                    return Long.parseLong(parts[2]);
                }
            }
            throw new IOException("no stat " + name);
        }
    }

    /** Kills this memcached (SIGTERM to its pid, then SIGKILL) without waiting for the test to end. */
    void kill() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(5, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws InterruptedException {
        kill();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
