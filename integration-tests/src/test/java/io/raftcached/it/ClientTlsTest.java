package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Client TLS (-Z) on one node with memcached's ssl_* options, a notls: and an mtls: listener and a
 * linearizable port: a Java client, openssl s_client, pymemcache and the probe speak TLS to it;
 * refresh_certs swaps the chain for new connections only; stats and stats settings show the TLS
 * lines memcached -Z shows.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientTlsTest {
    private static final int MEGABYTE = 1024 * 1024;
    private static final int PIPELINED_VALUES = 8;
    private static final long TOOL_TIMEOUT_MILLIS = 30_000;

    private TestCertificates certificates;
    private NodeProcess node;
    private SSLSocketFactory tls;
    private int plainPort;
    private int mutualPort;
    private int linearizablePort;

    @BeforeAll
    void start() throws Exception {
        certificates = TestCertificates.make();
        tls = certificates.sockets("ca.crt");
        plainPort = Ports.free();
        mutualPort = Ports.free();
        linearizablePort = Ports.free();
        List<String> flags = new ArrayList<>(certificates.nodeFlags("ssl_session_cache"));
        // 8 MB read_buf_mem_limit: 4 MB for input and 4 for output, less than a pipeline of 1 MB values
        flags.addAll(List.of("-I", "2m", "-o", "read_buf_mem_limit=8", "-l", "notls:127.0.0.1:" + plainPort,
                "-l", "mtls:127.0.0.1:" + mutualPort, "--linearizable-port", Integer.toString(linearizablePort)));
        node = NodeProcess.single("client-tls", flags.toArray(String[]::new)).sockets(tls).start();
    }

    @AfterAll
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        if (certificates != null) {
            certificates.delete();
        }
    }

    @Test
    void aJavaClientSetsAndGetsMegabyteValuesAndPipelinesOverTls() throws Exception {
        try (TextClient client = new TextClient(tls, node.port)) {
            assertEquals(certificates.certificates("server.crt")[0], TestCertificates.peerCertificate(client));
            assertEquals("STORED", client.call("set small 5 0 5\r\nhello\r\n"));
            assertEquals("VALUE small 5 5", client.call("get small\r\n"));
            assertEquals("hello", client.line());
            assertEquals("END", client.line());
            // a pipeline of 1 MB values, more than the 4 MB input and output budgets hold at once
            byte[][] values = new byte[PIPELINED_VALUES][];
            StringBuilder gets = new StringBuilder("get");
            for (int i = 0; i < PIPELINED_VALUES; i++) {
                values[i] = PatternValues.of("big" + i, MEGABYTE);
                client.send(("set big" + i + " 0 0 " + MEGABYTE + "\r\n").getBytes(StandardCharsets.US_ASCII))
                        .send(values[i]).send("\r\n");
                gets.append(" big").append(i);
            }
            for (int i = 0; i < PIPELINED_VALUES; i++) {
                assertEquals("STORED", client.line(), "set big" + i);
            }
            client.send(gets.append("\r\n").toString());
            for (int i = 0; i < PIPELINED_VALUES; i++) {
                assertEquals("VALUE big" + i + " 0 " + MEGABYTE, client.line());
                assertArrayEquals(values[i], client.bytes(MEGABYTE), "big" + i);
                assertEquals("", client.line());
            }
            assertEquals("END", client.line());
        }
    }

    @Test
    void opensslSClientAndPymemcacheSpeakTlsToIt() throws Exception {
        Subprocess.Result sClient = runWithInput(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + node.port,
                "-CAfile", certificates.file("ca.crt"), "-quiet"),
                "set from-openssl 3 0 5\r\nhello\r\nget from-openssl\r\nversion\r\nquit\r\n");
        assertEquals("STORED\r\nVALUE from-openssl 3 5\r\nhello\r\nEND\r\nVERSION 1.6.18\r\n", sClient.out(), sClient.toString());

        String script = String.join("\n",
                "import ssl, sys",
                "from pymemcache.client.base import Client",
                "context = ssl.create_default_context(cafile=sys.argv[2])",
                "client = Client(('127.0.0.1', int(sys.argv[1])), tls_context=context, connect_timeout=5, timeout=5)",
                "client.set('from-pymemcache', b'x' * 100000)",
                "print(len(client.get('from-pymemcache')), client.get('from-openssl'))");
        Subprocess.Result python = Subprocess.run(List.of("/usr/bin/python3", "-c", script, Integer.toString(node.port),
                certificates.file("ca.crt")), TOOL_TIMEOUT_MILLIS);
        assertEquals("100000 b'hello'\n", python.out(), python.toString());
    }

    @Test
    void refreshCertsServesTheNewChainToNewConnectionsWhileOldOnesGoOn() throws Exception {
        TestCertificates next = TestCertificates.make();
        Path chain = certificates.directory.resolve("server.crt");
        Path key = certificates.directory.resolve("server.key");
        byte[] oldChain = Files.readAllBytes(chain);
        byte[] oldKey = Files.readAllBytes(key);
        Certificate oldCertificate = certificates.certificates("server.crt")[0];
        try (TextClient old = new TextClient(tls, node.port)) {
            assertEquals("STORED", old.call("set before-refresh 0 0 1\r\nb\r\n"));
            // a key that does not load: memcached's error line, and the old chain stays
            Files.writeString(key, "not a key\n");
            String failed = old.call("refresh_certs\r\n");
            assertTrue(failed.startsWith("Error loading the key: " + key + " : "), failed);
            try (TextClient stillOld = new TextClient(tls, node.port)) {
                assertEquals(oldCertificate, TestCertificates.peerCertificate(stillOld));
            }

            Files.copy(next.directory.resolve("server.crt"), chain, StandardCopyOption.REPLACE_EXISTING);
            Files.copy(next.directory.resolve("server.key"), key, StandardCopyOption.REPLACE_EXISTING);
            assertEquals("OK", old.call("refresh_certs\r\n"));
            try (TextClient fresh = new TextClient(next.sockets("ca.crt"), node.port)) {
                assertEquals(next.certificates("server.crt")[0], TestCertificates.peerCertificate(fresh));
                assertEquals("VALUE before-refresh 0 1", fresh.call("get before-refresh\r\n"));
            }
            assertThrows(IOException.class, () -> new TextClient(tls, node.port).close(),
                    "a client that trusts only the old CA cannot verify the new chain");
            assertEquals(oldCertificate, TestCertificates.peerCertificate(old));
            assertEquals("STORED", old.call("set after-refresh 0 0 1\r\na\r\n"), "the old connection goes on");
            long sinceRefreshSeconds = Long.parseLong(statsOver(next.sockets("ca.crt"), node.port, "").get("time_since_server_cert_refresh"));
            assertTrue(sinceRefreshSeconds <= 5, "time_since_server_cert_refresh restarts: " + sinceRefreshSeconds);
        } finally {
            Files.write(chain, oldChain);
            Files.write(key, oldKey);
            try (TextClient restore = new TextClient(next.sockets("ca.crt"), node.port)) {
                assertEquals("OK", restore.call("refresh_certs\r\n"));
            }
            next.delete();
        }
    }

    @Test
    void notlsListenerIsPlaintextAndMtlsRequiresAVerifiedClientCertificate() throws Exception {
        try (TextClient plain = new TextClient(plainPort)) {
            assertEquals("STORED", plain.call("set over-notls 0 0 1\r\nn\r\n"));
        }
        assertThrows(IOException.class, () -> new TextClient(tls, plainPort).close(), "notls: does not speak TLS");
        try (TextClient mutual = new TextClient(certificates.sockets("ca.crt", "client"), mutualPort)) {
            assertEquals("VALUE over-notls 0 1", mutual.call("get over-notls\r\n"));
        }
        assertRefused(tls, mutualPort, "mtls: without a client certificate, although ssl_verify_mode is 0");
        assertRefused(certificates.sockets("ca.crt", "untrusted-client"), mutualPort, "mtls: with another CA's client");
        try (TextClient main = new TextClient(tls, node.port)) {
            assertTrue(main.call("version\r\n").startsWith("VERSION "), "the main listener asks for no certificate");
        }
        assertRefused(SSLSocketFactory.getDefault(), node.port, "the server certificate is not from a public CA");
    }

    @Test
    void theLinearizablePortSpeaksTlsAsTheMainListener() throws Exception {
        try (TextClient linearizable = new TextClient(tls, linearizablePort)) {
            assertEquals("STORED", linearizable.call("set over-linearizable 0 0 1\r\nl\r\n"));
            assertEquals("VALUE over-linearizable 0 1", linearizable.call("get over-linearizable\r\n"));
        }
        try (TextClient plain = new TextClient(linearizablePort)) {
            assertThrows(IOException.class, () -> plain.call("version\r\n"), "plaintext on a TLS port gets no reply");
        }
    }

    /** The ssl_* lines of stats settings and the TLS lines of stats are memcached -Z's, by name, order and value. */
    @Test
    void statsShowTheTlsLinesMemcachedZShows() throws Exception {
        MemcachedProcess.assumeInstalled();
        int memcachedPort = Ports.free();
        List<String> arguments = new ArrayList<>(List.of("-U", "0", "-l", "127.0.0.1", "-p", Integer.toString(memcachedPort)));
        arguments.addAll(certificates.nodeFlags("ssl_session_cache"));
        Process memcached = new ProcessBuilder(MemcachedProcess.command(arguments)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            Await.until("memcached -Z to answer", Duration.ofSeconds(10),
                    () -> TextClient.answersVersion(tls, memcachedPort));
            Map<String, String> expected = linesFrom(statsOver(tls, memcachedPort, "settings"), "ssl_", "ssl_min_version");
            Map<String, String> actual = linesFrom(node.stats("settings"), "ssl_", "ssl_min_version");
            assertEquals(expected, actual, "stats settings' ssl_* lines, same files and options");

            List<String> expectedNames = new ArrayList<>(linesFrom(statsOver(tls, memcachedPort, ""), "log_watchers",
                    "unexpected_napi_ids").keySet());
            Map<String, String> stats = node.stats("");
            assertEquals(expectedNames, new ArrayList<>(linesFrom(stats, "log_watchers", "unexpected_napi_ids").keySet()));
            assertNotEquals("0", stats.get("ssl_new_sessions"), "this test's own connections were new sessions");
        } finally {
            memcached.destroy();
            memcached.waitFor(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void probeTlsAnswersForATlsNodeAndFailsOnTheWrongTrust() throws Exception {
        assertEquals(0, probe(node.port, "--tls").exitCode(), "without --cacert any server certificate is taken");
        assertEquals(0, probe(node.port, "--tls", "--cacert", certificates.file("ca.crt")).exitCode());
        assertEquals(0, probe(mutualPort, "--tls", "--cacert", certificates.file("ca.crt"), "--cert",
                certificates.file("client.crt"), "--key", certificates.file("client.key")).exitCode(), "mtls: with --cert");
        Subprocess.Result untrusted = probe(node.port, "--tls", "--cacert", certificates.file("other-ca.crt"));
        assertNotEquals(0, untrusted.exitCode(), untrusted.toString());
        assertTrue(untrusted.stderr().contains("probe: 127.0.0.1:" + node.port), untrusted.toString());
        assertNotEquals(0, probe(node.port).exitCode(), "plaintext to a TLS port");
        assertNotEquals(0, probe(mutualPort, "--tls").exitCode(), "mtls: without --cert");
    }

    private Subprocess.Result probe(int port, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx64m", "-XX:ActiveProcessorCount=1", "-jar", NodeProcess.privateJar().toString(), "probe", "live",
                "-p", Integer.toString(port)));
        command.addAll(Arrays.asList(options));
        return Subprocess.run(command, TOOL_TIMEOUT_MILLIS);
    }

    /** A TLS connection that the server refuses: the handshake or the first reply fails. */
    static void assertRefused(javax.net.SocketFactory sockets, int port, String why) {
        assertThrows(IOException.class, () -> {
            try (TextClient client = new TextClient(sockets, port)) {
                client.call("version\r\n");
            }
        }, why);
    }

    static Map<String, String> statsOver(javax.net.SocketFactory sockets, int port, String args) throws IOException {
        try (TextClient client = new TextClient(sockets, port)) {
            return client.stats(args);
        }
    }

    /** The lines from the first whose name starts with {@code first} to {@code last}, in order. */
    static Map<String, String> linesFrom(Map<String, String> stats, String first, String last) {
        Map<String, String> lines = new LinkedHashMap<>();
        for (Map.Entry<String, String> line : stats.entrySet()) {
            if (lines.isEmpty() && !line.getKey().startsWith(first)) {
                continue;
            }
            lines.put(line.getKey(), line.getValue());
            if (line.getKey().equals(last)) {
                break;
            }
        }
        return lines;
    }

    private static Subprocess.Result runWithInput(List<String> command, String input) throws Exception {
        Path inputFile = Files.createTempFile(NodeProcess.TEST_DIRECTORY, "input", ".txt");
        try {
            Files.writeString(inputFile, input, StandardCharsets.ISO_8859_1);
            List<String> shell = List.of("sh", "-c", "exec \"$@\" < \"$0\"", inputFile.toString());
            List<String> full = new ArrayList<>(shell);
            full.addAll(command);
            return Subprocess.run(full, TOOL_TIMEOUT_MILLIS);
        } finally {
            Files.deleteIfExists(inputFile);
        }
    }
}
