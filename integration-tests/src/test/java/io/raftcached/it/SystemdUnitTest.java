package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * deploy/systemd: the unit parses (and passes {@code systemd-analyze verify} where systemd's tools
 * are installed), uses every setting of the environment file, and its ExecStart line, expanded by
 * bash from the sample environment file, starts a node that serves with those settings and stops
 * cleanly on the unit's KillSignal. Its ExecStartPre file-limit check refuses a MAXCONN that does
 * not fit.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class SystemdUnitTest {
    static final String UNIT = "deploy/systemd/raftcached@.service";
    static final String ENV = "deploy/systemd/raftcached.env";
    static final String INSTALLED_LAUNCHER = "/opt/raftcached/bin/raftcached";
    static final Path SYSTEMD_ANALYZE = Path.of("/usr/bin/systemd-analyze");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** The unit as section → key → values (a key may repeat, as ExecStartPre does). */
    static Map<String, Map<String, List<String>>> parseUnit(String text) {
        Map<String, Map<String, List<String>>> sections = new LinkedHashMap<>();
        Map<String, List<String>> current = null;
        int number = 0;
        for (String line : text.split("\n", -1)) {
            number++;
            String trimmed = line.trim();
            if (trimmed.isEmpty() || trimmed.startsWith("#") || trimmed.startsWith(";")) {
                continue;
            }
            if (trimmed.startsWith("[") && trimmed.endsWith("]")) {
                current = sections.computeIfAbsent(trimmed.substring(1, trimmed.length() - 1), s -> new LinkedHashMap<>());
                continue;
            }
            int equals = trimmed.indexOf('=');
            assertTrue(current != null && equals > 0 && trimmed.substring(0, equals).matches("[A-Za-z]+"),
                    UNIT + ":" + number + " is not 'Key=value' inside a section: " + line);
            assertTrue(!trimmed.endsWith("\\"), UNIT + ":" + number + ": keep each setting on one line");
            current.computeIfAbsent(trimmed.substring(0, equals), k -> new ArrayList<>()).add(trimmed.substring(equals + 1));
        }
        return sections;
    }

    /** KEY=value lines of the environment file, quotes removed as systemd removes them. */
    static Map<String, String> parseEnvironment(String text) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            String trimmed = line.trim();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                continue;
            }
            Matcher m = Pattern.compile("([A-Z_][A-Z0-9_]*)=(\"([^\"]*)\"|([^\"\\s]*))").matcher(trimmed);
            assertTrue(m.matches(), ENV + ": not a KEY=value line: " + line);
            values.put(m.group(1), m.group(3) != null ? m.group(3) : m.group(4));
        }
        return values;
    }

    @Test
    void unitHasTheServiceSettingsAndUsesEveryEnvironmentSetting() {
        Map<String, Map<String, List<String>>> unit = parseUnit(DeployFiles.read(UNIT));
        assertEquals(List.of("Unit", "Service", "Install"), List.copyOf(unit.keySet()));
        Map<String, List<String>> service = unit.get("Service");
        assertEquals(List.of("simple"), service.get("Type"));
        assertEquals(List.of("SIGTERM"), service.get("KillSignal"));
        assertEquals(List.of("/etc/raftcached/%i.env"), service.get("EnvironmentFile"));
        assertEquals(List.of("raftcached/%i"), service.get("StateDirectory"));
        assertTrue(Integer.parseInt(service.get("TimeoutStopSec").get(0)) >= 30, "room for the leader hand-over");
        assertTrue(service.containsKey("NoNewPrivileges") && service.containsKey("ProtectSystem"), "hardening");
        assertTrue(!service.containsKey("MemoryDenyWriteExecute"), "the JVM's JIT needs writable executable memory");

        Map<String, String> env = parseEnvironment(DeployFiles.read(ENV));
        String execStart = service.get("ExecStart").get(0);
        assertTrue(execStart.startsWith(INSTALLED_LAUNCHER + " "), execStart);
        for (String name : List.of("PORT", "USER", "MAXCONN", "CACHESIZE", "NODE_ID", "RAFT_ADDRESS", "PEERS", "DATA_DIR")) {
            assertTrue(env.containsKey(name), ENV + " lacks " + name);
            assertTrue(execStart.contains("${" + name + "}"), "ExecStart does not use ${" + name + "}: " + execStart);
        }
        assertTrue(env.containsKey("OPTIONS") && execStart.endsWith(" $OPTIONS"), "OPTIONS split into words, last");
        for (String name : List.of("TLS_OPTIONS", "PEER_TLS_OPTIONS")) {
            assertEquals("", env.get(name), ENV + ": " + name + " is there, empty: TLS is off until it is set");
            assertTrue(execStart.contains(" $" + name + " "), "ExecStart splits $" + name + " into words: " + execStart);
            assertTrue(commentedSetting(DeployFiles.read(ENV), name) != null, ENV + " shows how to set " + name);
        }
        assertTrue(env.containsKey("JAVA_OPTS"), "the launcher reads JAVA_OPTS from the environment file");
        assertEquals("/var/lib/raftcached/" + env.get("NODE_ID"), env.get("DATA_DIR"), "the sample keeps DATA_DIR on the StateDirectory");
        long nofile = Long.parseLong(service.get("LimitNOFILE").get(0));
        assertTrue(nofile >= Long.parseLong(env.get("MAXCONN")) + 1024, "LimitNOFILE must hold MAXCONN plus the node's own files");
    }

    @Test
    void systemdAnalyzeVerifiesTheUnit() throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(SYSTEMD_ANALYZE), "systemd-analyze is not installed; the INI check above still runs");
        // verify checks that ExecStart's program exists: point it at the checkout's launcher.
        Path directory = Files.createTempDirectory(Files.createDirectories(NodeProcess.TEST_DIRECTORY), "systemd");
        Files.writeString(directory.resolve("raftcached@.service"),
                DeployFiles.read(UNIT).replace(INSTALLED_LAUNCHER, DeployFiles.LAUNCHER.toString()), StandardCharsets.UTF_8);
        ProcessRun.Result result = ProcessRun.run(List.of(SYSTEMD_ANALYZE.toString(), "verify",
                directory.resolve("raftcached@1.service").toString()), Map.of("SYSTEMD_LOG_COLOR", "0"), Duration.ofSeconds(60));
        String complaints = (result.out() + result.err()).lines().filter(l -> l.contains("raftcached")).reduce("", (a, b) -> a + b + "\n");
        assertEquals(0, result.exitCode(), result.toString());
        assertEquals("", complaints, "systemd-analyze complains about the unit: " + result);
    }

    /**
     * ExecStart as bash expands it after sourcing the sample environment file (with a free port,
     * a fresh data directory and this user): the node serves with the file's settings, and
     * SIGTERM stops it with an exit status the unit counts as success.
     */
    @Test
    void execStartFromTheSampleEnvironmentStartsAWorkingNode() throws IOException, InterruptedException {
        int port = Ports.free();
        runExecStart("systemd-node", port, "OPTIONS=\"-l 127.0.0.1 -t 2\"", (expected, data, raftPort) -> {
            try (TextClient client = new TextClient(port)) {
                assertEquals("STORED", client.call("set systemd 0 0 2\r\nok\r\n"));
                assertEquals("VALUE systemd 0 2", client.call("get systemd\r\n"));
            }
            Map<String, String> settings = stats(port, "settings");
            assertEquals(expected.get("MAXCONN"), settings.get("maxconns"), "-c ${MAXCONN}");
            assertEquals(Long.toString(Long.parseLong(expected.get("CACHESIZE")) * 1024 * 1024), settings.get("maxbytes"), "-m ${CACHESIZE}");
            assertEquals("2", settings.get("num_threads"), "$OPTIONS");
            assertEquals(data.toString(), settings.get("raft_data_dir"), "--data-dir ${DATA_DIR}");
            assertEquals("127.0.0.1:" + raftPort, settings.get("raft_address"), "--raft ${RAFT_ADDRESS}");
            assertEquals(expected.get("NODE_ID"), stats(port, "raft").get("raft_node_id"), "--node-id ${NODE_ID}");
        });
    }

    /**
     * The environment file's commented TLS_OPTIONS and PEER_TLS_OPTIONS, uncommented with the
     * certificates of deploy/tls/make-test-certs.sh in place of /etc/raftcached/tls: the node
     * starts, serves TLS on its client port (a notls: port beside it for the checks) and becomes
     * ready with peer TLS on.
     */
    @Test
    void execStartWithTheSampleTlsSettingsServesTls() throws Exception {
        TestCertificates certificates = TestCertificates.make();
        try {
            String shipped = DeployFiles.read(ENV);
            String tlsLines = "";
            for (String name : List.of("TLS_OPTIONS", "PEER_TLS_OPTIONS")) {
                tlsLines += commentedSetting(shipped, name).replace("/etc/raftcached/tls/", certificates.directory + "/") + "\n";
            }
            int port = Ports.free();
            int tlsPort = Ports.free();
            String options = "OPTIONS=\"-l notls:127.0.0.1:" + port + " -l 127.0.0.1:" + tlsPort + " -t 2\"";
            runExecStart("systemd-tls-node", port, tlsLines + options, (expected, data, raftPort) -> {
                try (TextClient client = new TextClient(certificates.sockets("ca.crt"), tlsPort)) {
                    assertTrue(client.call("version\r\n").startsWith("VERSION "), "TLS on the client port");
                } catch (java.security.GeneralSecurityException e) {
                    throw new AssertionError(e);
                }
                assertEquals("yes", stats(port, "settings").get("ssl_enabled"), "-Z from TLS_OPTIONS");
            });
        } finally {
            certificates.delete();
        }
    }

    /** The value of the commented-out sample line {@code #NAME="..."}, as a KEY=value line; null if there is none. */
    static String commentedSetting(String environment, String name) {
        return environment.lines().filter(line -> line.startsWith("#" + name + "=\"")).map(line -> line.substring(1))
                .findFirst().orElse(null);
    }

    /** What a test checks on the node ExecStart started, with the environment it was given. */
    @FunctionalInterface
    interface NodeCheck {
        void check(Map<String, String> environment, Path dataDirectory, int raftPort) throws IOException, InterruptedException;
    }

    /**
     * ExecStart run by bash from the shipped environment file plus what a test machine must change
     * and {@code extraLines} (later lines win), until the node is ready; then {@code check}, then
     * SIGTERM, whose exit status must be a success for the unit.
     */
    private static void runExecStart(String name, int port, String extraLines, NodeCheck check) throws IOException, InterruptedException {
        Map<String, List<String>> service = parseUnit(DeployFiles.read(UNIT)).get("Service");
        String execStart = service.get("ExecStart").get(0).replace(INSTALLED_LAUNCHER, DeployFiles.LAUNCHER.toString());
        int raftPort = Ports.free();
        Path data = NodeProcess.freshDirectory(name);
        String user = new String(new ProcessBuilder("id", "-un").start().getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String environment = DeployFiles.read(ENV) + "\nPORT=" + port + "\nUSER=" + user + "\nCACHESIZE=64\nRAFT_ADDRESS=127.0.0.1:"
                + raftPort + "\nPEERS=1@127.0.0.1:" + raftPort + "\nDATA_DIR=" + data
                + "\nJAVA_OPTS=\"-Xms32m -Xmx128m\"\n" + extraLines + "\n";
        Path environmentFile = Files.createDirectories(NodeProcess.TEST_DIRECTORY).resolve(name + ".env");
        Files.writeString(environmentFile, environment, StandardCharsets.UTF_8);
        Map<String, String> expected = parseEnvironment(environment);

        Path log = NodeProcess.TEST_DIRECTORY.resolve(name + ".log");
        String script = "set -a; . '" + environmentFile + "'; set +a; exec " + execStart;
        ProcessBuilder builder = new ProcessBuilder("/bin/bash", "-c", script).redirectErrorStream(true)
                .redirectOutput(log.toFile());
        builder.environment().put("RAFTCACHED_JAR", NodeProcess.privateJar().toString());
        Process process = builder.start();
        try {
            awaitVersion(process, port, log);
            // Reads are refused until the node is ready (raft_ready 1), however briefly after start;
            // ExecStart is what this test checks, so it waits as a readiness probe would.
            awaitReady(port, log);
            check.check(expected, data, raftPort);
        } finally {
            process.destroy();   // SIGTERM, the unit's KillSignal, to the JVM: every script on the way exec'd
            boolean exited = process.waitFor(30, TimeUnit.SECONDS);
            if (!exited) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            assertTrue(exited, "the node did not stop within 30 s of SIGTERM; log:\n" + Files.readString(log));
        }
        List<String> success = new ArrayList<>(List.of("0"));
        success.addAll(service.getOrDefault("SuccessExitStatus", List.of()));
        assertTrue(success.contains(Integer.toString(process.exitValue())), "SIGTERM exit status " + process.exitValue()
                + " is a failure for systemd (SuccessExitStatus " + success + ")");
    }

    /** The ExecStartPre that compares MAXCONN with the file limit, run by sh as systemd would after its $$ unescaping. */
    @Test
    void fileLimitCheckRefusesAMaxconnThatDoesNotFit() throws IOException, InterruptedException {
        Map<String, List<String>> service = parseUnit(DeployFiles.read(UNIT)).get("Service");
        String check = service.get("ExecStartPre").stream().filter(c -> c.contains("ulimit -n")).findFirst()
                .orElseThrow(() -> new AssertionError("no ExecStartPre checking the file limit"));
        Matcher shell = Pattern.compile("^/bin/sh -c '(.*)'$").matcher(check);
        assertTrue(shell.matches(), check);
        String script = shell.group(1).replace("$$", "$");
        ProcessRun.Result fits = ProcessRun.run(List.of("/bin/sh", "-c", "ulimit -n 4096; " + script), Map.of("MAXCONN", "1024"),
                Duration.ofSeconds(10));
        assertEquals(0, fits.exitCode(), fits.toString());
        ProcessRun.Result tooMany = ProcessRun.run(List.of("/bin/sh", "-c", "ulimit -n 4096; " + script), Map.of("MAXCONN", "8192"),
                Duration.ofSeconds(10));
        assertNotEquals(0, tooMany.exitCode(), tooMany.toString());
        assertTrue(tooMany.err().contains("MAXCONN=8192 needs LimitNOFILE >= 9216 (it is 4096)"), tooMany.toString());
    }

    private static void awaitVersion(Process process, int port, Path log) throws InterruptedException {
        Await.until("the node to answer version on port " + port, START_TIMEOUT, () -> {
            if (!process.isAlive()) {
                throw new AssertionError("ExecStart exited with " + process.exitValue() + logText(log));
            }
            return TextClient.answersVersion(port);
        }, () -> logText(log));
    }

    private static void awaitReady(int port, Path log) throws InterruptedException {
        Await.until("the node to serve reads (raft_ready 1)", START_TIMEOUT, () -> "1".equals(stats(port, "raft").get("raft_ready")),
                () -> logText(log));
    }

    private static String logText(Path log) {
        try {
            return "; log:\n" + Files.readString(log);
        } catch (IOException e) {
            return "; no log: " + e;
        }
    }

    private static Map<String, String> stats(int port, String group) throws IOException {
        Map<String, String> stats = new LinkedHashMap<>();
        try (TextClient client = new TextClient(port)) {
            client.send("stats " + group + "\r\n");
            for (String line = client.line(); !line.equals("END"); line = client.line()) {
                String[] parts = line.split(" ", 3);
                stats.put(parts[1], parts.length > 2 ? parts[2] : "");
            }
        }
        return stats;
    }
}
