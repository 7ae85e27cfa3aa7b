package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The generator over TLS against Debian's memcached -Z, with deploy/tls/make-test-certs.sh's certificates. */
@Timeout(60)
class BenchTlsEndToEndTest {
    private static final Path MAKE_CERTS = Path.of("..", "deploy", "tls", "make-test-certs.sh");

    @TempDir
    static Path certs;

    @BeforeAll
    static void makeCertificates() throws Exception {
        assumeTrue(MemcachedProcess.isInstalled(),
                "skipping: " + MemcachedProcess.BINARY + " not found (apt-get install memcached)");
        Process script = new ProcessBuilder(MAKE_CERTS.toString(), certs.toString()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(script.waitFor(30, TimeUnit.SECONDS) && script.exitValue() == 0, "make-test-certs.sh failed");
        assertTrue(Files.isRegularFile(certs.resolve("server.crt")));
    }

    @Test
    void getsOverTlsAllHit() throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.startTls(certs)) {
            BenchCommand.Outcome outcome = run("--servers", memcached.tlsAddress(), "--tls",
                    "--cacert", certs.resolve("ca.crt").toString(), "--connections", "4", "--pipeline", "8",
                    "--ratio", "1:0", "--key-space", "2000", "--prefill", "--warmup", "0.3", "--duration", "1.5");

            assertEquals(2000, memcached.stat("curr_items"), "the prefill's sets arrived through TLS");
            WorkerStats s = outcome.run().stats();
            assertTrue(s.gets > 0);
            assertEquals(0, s.errors + s.errorsOutsideWindow, () -> String.join("\n", s.errorSamples));
            assertEquals(s.gets, s.hits, "every get after prefill hits");
            assertTrue(outcome.report().json().contains("\"tls\":true"), outcome.report().json());
            // netty-tcnative ships with the generator: a run on the JDK's engine would measure a costlier client
            assertTrue(outcome.report().json().contains("\"tlsEngine\":\"BoringSSL"), outcome.report().json());
        }
    }

    @Test
    void reconnectIntervalOpensANewConnectionPerRequest() throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.startTls(certs)) {
            long connectionsBefore = memcached.stat("total_connections");
            BenchCommand.Outcome outcome = run("--servers", memcached.tlsAddress(), "--tls",
                    "--cacert", certs.resolve("ca.crt").toString(), "--threads", "1", "--connections", "2",
                    "--reconnect-interval", "1", "--ratio", "1:0", "--key-space", "100",
                    "--warmup", "0", "--duration", "1");

            WorkerStats s = outcome.run().stats();
            assertTrue(s.gets > 0);
            assertEquals(0, s.errors + s.errorsOutsideWindow, () -> String.join("\n", s.errorSamples));
            // Every reply but the last on each connection was followed by a new connection.
            assertTrue(s.connectionsOpened >= s.gets - 2, s.connectionsOpened + " connections for " + s.gets + " gets");
            long accepted = memcached.stat("total_connections") - connectionsBefore;
            assertTrue(accepted >= s.connectionsOpened + 2, "memcached accepted " + accepted + " connections");
        }
    }

    @Test
    void certificateFromAnotherCaFailsTheRun() throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.startTls(certs)) {
            List<String> err = new ArrayList<>();
            int status = BenchEndToEndTest.execute(err, "--servers", memcached.tlsAddress(), "--tls",
                    "--cacert", certs.resolve("other-ca.crt").toString(), "--duration", "1");
            assertEquals(1, status);
            assertTrue(err.get(0).startsWith("bench: TLS handshake with " + memcached.tlsAddress() + " failed"), err.get(0));
        }
    }

    private static BenchCommand.Outcome run(String... args) throws Exception {
        BenchCommand command = new BenchCommand();
        new CommandLine(command).parseArgs(args);
        return command.execute();
    }
}
