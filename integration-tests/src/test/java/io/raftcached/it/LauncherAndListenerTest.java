package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The process-level flags of memcached on real node processes: the launcher (bin/raftcached)
 * handles {@code -d -P} and {@code -u} and maps the jar's class-data-sharing archive,
 * {@code -s}/{@code -a} serve a UNIX socket with memcached's
 * permissions, and {@code -o idle_timeout} closes idle connections as memcached does.
 */
class LauncherAndListenerTest {
    private static final long EXIT_TIMEOUT_MILLIS = 30_000;
    /** bin/raftcached-cds: a node's start, a few MB of commands and the archive's dump. */
    private static final long CDS_TIMEOUT_MILLIS = 180_000;
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final String LAUNCHER_JAVA_OPTS = "-Xms32m -Xmx256m -XX:ActiveProcessorCount=1";

    // --- the launcher: -d -P and -u ------------------------------------------------------------------

    private static Path launcher() {
        return NodeProcess.JAR.toAbsolutePath().getParent().getParent().getParent().resolve("bin").resolve("raftcached");
    }

    private static Map<String, String> launcherEnvironment(Path log) {
        return launcherEnvironment(log, NodeProcess.privateJar());
    }

    private static Map<String, String> launcherEnvironment(Path log, Path jar) {
        return Map.of("RAFTCACHED_JAR", jar.toAbsolutePath().toString(),
                "JAVA_OPTS", LAUNCHER_JAVA_OPTS, "RAFTCACHED_LOG", log.toAbsolutePath().toString());
    }

    /**
     * A directory any user may write, in the system's temporary directory: processes that run as
     * nobody (memcached, a node started with -u) use it, and the checkout may lie under a home
     * directory nobody cannot enter (CI runs as root from /root).
     */
    private static Path openDirectory(String name) throws IOException {
        Path directory = Files.createTempDirectory("raftcached-" + name + "-").toAbsolutePath();
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxrwxrwx"));
        TEMPORARY.add(directory);
        return directory;
    }

    private static final List<Path> TEMPORARY = new ArrayList<>();

    @AfterAll
    static void removeTemporaryDirectories() throws IOException {
        for (Path directory : TEMPORARY) {
            NodeProcess.deleteRecursively(directory);
        }
    }

    /** A node started by the launcher with -d -P, as an init script starts memcached. */
    private record Daemon(ProcessHandle process, int port, Path pidFile) implements AutoCloseable {
        static Daemon start(Path directory, Path jar) throws IOException, InterruptedException {
            Path pidFile = directory.resolve("raftcached.pid");
            int port = Ports.free();
            Subprocess.Result launched = Subprocess.run(List.of(launcher().toString(), "-d", "-P", pidFile.toString(),
                    "-p", Integer.toString(port), "-l", "127.0.0.1", "--raft", "127.0.0.1:" + Ports.free(),
                    "--data-dir", directory.resolve("data").toString()), launcherEnvironment(directory.resolve("node.log"), jar),
                    EXIT_TIMEOUT_MILLIS);
            assertEquals(0, launched.exitCode(), "the launcher returns once the daemon runs: " + launched);
            long pid = awaitPidFile(pidFile);
            ProcessHandle process = ProcessHandle.of(pid).orElseThrow(() -> new AssertionError("no process " + pid));
            awaitVersion(port);
            return new Daemon(process, port, pidFile);
        }

        String pid() {
            return Long.toString(process.pid());
        }

        @Override
        public void close() throws Exception {
            process.destroy();   // SIGTERM to the pid we started, as memcached's init scripts do
            process.onExit().get(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void daemonWithPidFileThroughTheLauncher() throws Exception {
        Path directory = openDirectory("daemon");
        Path pidFile;
        try (Daemon daemon = Daemon.start(directory, NodeProcess.privateJar())) {
            pidFile = daemon.pidFile();
            assertTrue(daemon.process().isAlive());
            // Not nohup's HUP nor a background job's INT and QUIT: the JVM keeps an inherited "ignore"
            // (HUP would not reload, QUIT would not dump threads). A session of its own, as memcached's.
            long added = NodeProcess.ignoredSignals(daemon.pid()) & ~NodeProcess.ignoredSignals("self");
            assertEquals(0, added, "the daemon ignores signals its starter does not: mask 0x" + Long.toHexString(added));
            String stat = Files.readString(Path.of("/proc", daemon.pid(), "stat"));
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            assertEquals(daemon.pid(), fields[3], "the daemon leads a session of its own");
            assertEquals(daemon.pid(), MemcachedProcess.statsOf(daemon.port(), "").get("pid"), "the pid file holds the server's pid");
            try (TextClient client = new TextClient(daemon.port())) {
                assertEquals("STORED", client.call("set daemon 0 0 2\r\nok\r\n"));
            }
        }
        assertFalse(Files.exists(pidFile), "the pid file is removed on a clean exit");
    }

    /**
     * The launcher maps the class-data-sharing archive that bin/raftcached-cds wrote next to the
     * jar; a damaged one (truncated: it would crash the JVM) is left out and the node starts without.
     */
    @Test
    void classDataSharingArchiveNextToTheJar() throws Exception {
        Path directory = openDirectory("cds");
        Path jar = Files.copy(NodeProcess.privateJar(), directory.resolve("raftcached.jar"));
        Subprocess.Result written = Subprocess.run(List.of(launcher().resolveSibling("raftcached-cds").toString(),
                jar.toString()), CDS_TIMEOUT_MILLIS);
        assertEquals(0, written.exitCode(), written.toString());
        Path archive = directory.resolve("raftcached.jsa");
        try (Daemon daemon = Daemon.start(Files.createDirectory(directory.resolve("intact")), jar)) {
            assertTrue(maps(daemon, archive), "the node maps " + archive);
        }
        byte[] bytes = Files.readAllBytes(archive);
        assertTrue(archive.toFile().setWritable(true));
        Files.write(archive, Arrays.copyOf(bytes, bytes.length / 2));
        try (Daemon daemon = Daemon.start(Files.createDirectory(directory.resolve("damaged")), jar);
                TextClient client = new TextClient(daemon.port())) {
            assertFalse(maps(daemon, archive), "the node maps the damaged " + archive);
            assertEquals("STORED", client.call("set cds 0 0 2\r\nok\r\n"));
        }
    }

    private static boolean maps(Daemon daemon, Path file) throws IOException {
        return Files.readString(Path.of("/proc", daemon.pid(), "maps")).contains(file.toString());
    }

    @Test
    void userSwitchThroughTheLauncherWhenRoot() throws Exception {
        Assumptions.assumeTrue(MemcachedProcess.runningAsRoot(), "-u switches users only when started as root: skipped");
        Subprocess.Result nobody = Subprocess.run(List.of("id", "-u", "nobody"), 5_000);
        Assumptions.assumeTrue(nobody.exitCode() == 0, "no user nobody here: skipped");
        String nobodyUid = nobody.out().strip();
        Path directory = openDirectory("user-switch");
        Path jar = directory.resolve("raftcached.jar");   // where nobody can read it
        Files.copy(NodeProcess.privateJar(), jar);
        Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
        int port = Ports.free();
        ProcessBuilder builder = new ProcessBuilder(launcher().toString(), "-u", "nobody", "-p", Integer.toString(port),
                "-l", "127.0.0.1", "--raft", "127.0.0.1:" + Ports.free(), "--data-dir", directory.resolve("data").toString())
                .directory(directory.toFile()).redirectErrorStream(true).redirectOutput(directory.resolve("node.log").toFile());
        builder.environment().putAll(launcherEnvironment(directory.resolve("node.log"), jar));
        Process process = builder.start();   // the launcher execs setpriv, which execs java: one pid throughout
        try {
            awaitVersion(port);
            String uidLine = Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status")).stream()
                    .filter(line -> line.startsWith("Uid:")).findFirst().orElseThrow();
            assertEquals(List.of(nobodyUid, nobodyUid, nobodyUid, nobodyUid),
                    List.of(uidLine.substring(4).trim().split("\\s+")), "real, effective, saved and fs uid: " + uidLine);
            assertEquals(Long.toString(process.pid()), MemcachedProcess.statsOf(port, "").get("pid"));
        } finally {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            NodeProcess.deleteRecursively(directory);
        }
    }

    @Test
    void userSwitchIsLeftToTheLauncher() throws Exception {
        Subprocess.Result direct = ServerFlagsTest.runNode("user-direct", "-u", "nobody");
        assertEquals(64, direct.exitCode(), direct.toString());
        assertTrue(direct.stderr().contains("launcher"), direct.toString());
        if (!MemcachedProcess.runningAsRoot()) {
            Subprocess.Result launched = Subprocess.run(List.of(launcher().toString(), "-u", "nobody", "-V"),
                    launcherEnvironment(NodeProcess.TEST_DIRECTORY.resolve("user-launcher.log")), EXIT_TIMEOUT_MILLIS);
            assertEquals(64, launched.exitCode(), launched.toString());
            assertTrue(launched.stderr().contains("root"), launched.toString());
        }
    }

    /** Help through the launcher as an operator types it: every form exits 0 and prints the command's usage. */
    @Test
    void helpThroughTheLauncher() throws Exception {
        Map<String, String> environment = launcherEnvironment(NodeProcess.TEST_DIRECTORY.resolve("help-launcher.log"));
        Map<List<String>, String> usages = Map.of(
                List.of("-h"), "Usage: raftcached ",
                List.of("help"), "Usage: raftcached ",
                List.of("help", "cluster"), "Usage: raftcached cluster ",
                List.of("cluster", "--help"), "Usage: raftcached cluster ",
                List.of("cluster", "status", "-h"), "Usage: raftcached cluster status ",
                List.of("probe", "--help"), "Usage: raftcached probe ");
        for (Map.Entry<List<String>, String> usage : usages.entrySet()) {
            List<String> command = new ArrayList<>(List.of(launcher().toString()));
            command.addAll(usage.getKey());
            Subprocess.Result result = Subprocess.run(command, environment, EXIT_TIMEOUT_MILLIS);
            assertEquals(0, result.exitCode(), result.toString());
            assertTrue(result.out().startsWith(usage.getValue()), result.toString());
        }
        Subprocess.Result bare = Subprocess.run(List.of(launcher().toString(), "cluster"), environment, EXIT_TIMEOUT_MILLIS);
        assertEquals(64, bare.exitCode(), bare.toString());
        assertTrue(bare.stderr().contains("transfer-leader") && bare.stderr().contains("force-recover"), bare.toString());
    }

    // --- -s and -a -------------------------------------------------------------------------------------

    @Test
    void unixSocketWithAccessMask() throws Exception {
        Path directory = openDirectory("unix-socket");
        Path socket = directory.resolve("raftcached.sock");
        try (NodeProcess node = NodeProcess.single("unix-socket-node", "-s", socket.toString(), "-a", "766")) {
            node.startWithoutWaiting();
            try (UnixClient client = UnixClient.await(socket, node)) {
                Await.until("the node to serve reads over " + socket, START_TIMEOUT,   // as awaitReady over TCP
                        () -> client.call("stats raft\r\n", "END\r\n").contains("STAT raft_ready 1\r\n"));
                assertEquals("rwxrw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
                assertEquals("STORED\r\n", client.call("set unix 0 0 5\r\nhello\r\n", "\r\n"));
                assertEquals("VALUE unix 0 5\r\nhello\r\nEND\r\n", client.call("get unix\r\n", "END\r\n"));
                String settings = client.call("stats settings\r\n", "END\r\n");
                assertTrue(settings.contains("STAT domain_socket " + socket + "\r\n"), settings);
                assertTrue(settings.contains("STAT umask 766\r\n"), settings);
            }
            assertThrows(ConnectException.class, () -> new TextClient(node.port).close(), "-s disables TCP, as in memcached");
        }
        if (MemcachedProcess.isInstalled()) {
            Path memcachedSocket = directory.resolve("memcached.sock");
            Process memcached = new ProcessBuilder(MemcachedProcess.command(List.of("-s", memcachedSocket.toString(), "-a", "766")))
                    .redirectErrorStream(true).redirectOutput(directory.resolve("memcached.log").toFile()).start();
            try {
                try (UnixClient client = UnixClient.await(memcachedSocket, null)) {
                    assertEquals("STORED\r\n", client.call("set unix 0 0 5\r\nhello\r\n", "\r\n"));
                }
                assertEquals("rwxrw-rw-", PosixFilePermissions.toString(Files.getPosixFilePermissions(memcachedSocket)),
                        "memcached's permissions for -a 766 are the same");
            } finally {
                memcached.destroy();
                memcached.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** A blocking-with-deadline memcached client over a UNIX domain socket (Java 16+ SocketChannel). */
    static final class UnixClient implements AutoCloseable {
        private final SocketChannel channel;
        private final Selector selector;

        private UnixClient(SocketChannel channel) throws IOException {
            this.channel = channel;
            channel.configureBlocking(false);
            this.selector = Selector.open();
            channel.register(selector, SelectionKey.OP_READ);
        }

        /** Connects once the socket accepts, failing early if {@code node} exits. */
        static UnixClient await(Path socket, NodeProcess node) throws InterruptedException {
            return Await.value("something to serve " + socket, START_TIMEOUT, () -> {
                if (node != null && !node.alive()) {
                    throw new AssertionError("the node exited during start; log:\n" + node.tail());
                }
                return Files.exists(socket) ? connect(socket) : null;
            }, Objects::nonNull, () -> node != null ? ClusterChecks.logs(List.of(node)) : "");
        }

        /** A client on {@code socket} that answered {@code version}, or null. */
        private static UnixClient connect(Path socket) throws IOException {
            SocketChannel channel = SocketChannel.open(StandardProtocolFamily.UNIX);
            try {
                channel.connect(UnixDomainSocketAddress.of(socket));
                UnixClient client = new UnixClient(channel);
                if (client.call("version\r\n", "\r\n").startsWith("VERSION ")) {
                    return client;
                }
                client.close();
                return null;
            } catch (IOException e) {
                channel.close();
                throw e;
            }
        }

        /** Sends {@code request}; returns what arrives until it ends with {@code end}. */
        String call(String request, String end) throws IOException {
            ByteBuffer out = ByteBuffer.wrap(request.getBytes(StandardCharsets.ISO_8859_1));
            while (out.hasRemaining()) {
                channel.write(out);
            }
            StringBuilder reply = new StringBuilder();
            ByteBuffer in = ByteBuffer.allocate(65536);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (!reply.toString().endsWith(end)) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) {
                    throw new IOException("no complete reply to " + request.strip() + " within 5 s: " + reply);
                }
                selector.select(left);
                selector.selectedKeys().clear();
                in.clear();
                int n = channel.read(in);
                if (n < 0) {
                    throw new IOException("closed after: " + reply);
                }
                reply.append(new String(in.array(), 0, n, StandardCharsets.ISO_8859_1));
            }
            return reply.toString();
        }

        @Override
        public void close() throws IOException {
            selector.close();
            channel.close();
        }
    }

    // --- -l ------------------------------------------------------------------------------------------

    /** memcached's "-l host:port" listens on that port, whatever -p says. */
    @Test
    void listenAddressWithItsOwnPort() throws Exception {
        int port = Ports.free();
        int ignoredPort = Ports.free();
        List<String> arguments = List.of("-p", Integer.toString(ignoredPort), "-l", "127.0.0.1:" + port,
                "--raft", "127.0.0.1:" + Ports.free(), "--data-dir", NodeProcess.freshDirectory("listen-port").toString());
        try (NodeProcess node = new NodeProcess("listen-port", port, arguments)) {
            node.start();
            assertEquals(Integer.toString(port), MemcachedProcess.statsOf(port, "settings").get("tcpport"));
            assertThrows(ConnectException.class, () -> new TextClient(ignoredPort).close(), "-p is replaced by the -l port");
        }
        if (MemcachedProcess.isInstalled()) {
            int memcachedPort = Ports.free();
            Process memcached = new ProcessBuilder(MemcachedProcess.command(List.of("-U", "0", "-p",
                    Integer.toString(Ports.free()), "-l", "127.0.0.1:" + memcachedPort))).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try {
                awaitVersion(memcachedPort);   // the behaviour being matched
            } finally {
                memcached.destroy();
                memcached.waitFor(10, TimeUnit.SECONDS);
            }
        }
    }

    /** Like memcached, "-l a,b" and a repeated -l listen on every address given. */
    @Test
    void listensOnEveryAddressOfAListAndOfRepeatedFlags() throws Exception {
        int port = Ports.free();
        int otherPort = Ports.free();
        try (NodeProcess node = new NodeProcess("listen-list", port, List.of("-p", Integer.toString(port),
                "-l", "127.0.0.1,127.0.0.2", "-l", "127.0.0.3:" + otherPort, "--raft", "127.0.0.1:" + Ports.free(),
                "--data-dir", NodeProcess.freshDirectory("listen-list").toString())).start()) {
            for (String host : List.of("127.0.0.1", "127.0.0.2")) {
                try (TextClient client = new TextClient(host, port)) {
                    assertTrue(client.call("version\r\n").startsWith("VERSION"), host);
                }
            }
            try (TextClient client = new TextClient("127.0.0.3", otherPort)) {
                assertTrue(client.call("version\r\n").startsWith("VERSION"), "127.0.0.3:" + otherPort);
            }
            assertEquals("127.0.0.1,127.0.0.2,127.0.0.3:" + otherPort, node.stats("settings").get("inter"));
        }
    }

    // --- -o idle_timeout -----------------------------------------------------------------------------

    @Test
    void idleTimeoutClosesIdleConnections() throws Exception {
        try (NodeProcess node = NodeProcess.single("idle-timeout", "-o", "idle_timeout=1")) {
            node.start();
            assertIdleClosedActiveKept(node.port);
        }
        if (MemcachedProcess.isInstalled()) {
            try (MemcachedProcess memcached = MemcachedProcess.start("-o", "idle_timeout=1")) {
                assertIdleClosedActiveKept(memcached.port);
            }
        }
    }

    private static void assertIdleClosedActiveKept(int port) throws Exception {
        try (TextClient idle = new TextClient(port); TextClient active = new TextClient(port)) {
            assertEquals("VERSION 1.6.18", idle.call("version\r\n"));
            long start = System.nanoTime();
            idle.readTimeout(300);
            boolean closed = false;
            while (!closed && System.nanoTime() - start < TimeUnit.SECONDS.toNanos(6)) {
                assertEquals("VERSION 1.6.18", active.call("version\r\n"), "a connection in use stays open");
                closed = idle.closedByServer();
            }
            long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(closed, "an idle connection is closed within a few seconds of idle_timeout=1");
            assertTrue(elapsedMillis >= 700, "closed only after the timeout, not at once: " + elapsedMillis + " ms");
            assertEquals("VERSION 1.6.18", active.call("version\r\n"), "the active connection survived");
        }
    }

    private static long awaitPidFile(Path pidFile) throws InterruptedException {
        String text = Await.value("a pid in " + pidFile, START_TIMEOUT,
                () -> Files.exists(pidFile) ? Files.readString(pidFile).strip() : "", pid -> !pid.isEmpty());
        return Long.parseLong(text);
    }

    private static void awaitVersion(int port) throws InterruptedException {
        Await.until("something to answer version on port " + port, START_TIMEOUT, () -> TextClient.answersVersion(port));
    }
}
