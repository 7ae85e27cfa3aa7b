package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * ssl_verify_mode=2 on one node: only clients with a certificate from ssl_ca_cert get in, and
 * every refused handshake counts in ssl_handshake_errors. Bad TLS flags stop the node at start
 * with memcached's message and exit status.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientTlsVerifyTest {
    private static final long EXIT_TIMEOUT_MILLIS = 30_000;

    private TestCertificates certificates;
    private NodeProcess node;

    @BeforeAll
    void start() throws Exception {
        certificates = TestCertificates.make();
        node = NodeProcess.single("client-tls-verify", certificates.nodeFlags("ssl_verify_mode=2").toArray(String[]::new))
                .sockets(certificates.sockets("ca.crt", "client")).start();
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
    void requireModeLetsInOnlyClientsWithACertificateFromTheCa() throws Exception {
        long errorsBefore = Long.parseLong(node.stats("").get("ssl_handshake_errors"));
        ClientTlsTest.assertRefused(certificates.sockets("ca.crt"), node.port, "no client certificate");
        ClientTlsTest.assertRefused(certificates.sockets("ca.crt", "untrusted-client"), node.port, "a client of another CA");
        ClientTlsTest.assertRefused(certificates.sockets("ca.crt", "expired-client"), node.port, "an expired client");
        try (TextClient client = new TextClient(certificates.sockets("ca.crt", "client"), node.port)) {
            assertEquals("STORED", client.call("set verified 0 0 2\r\nok\r\n"));
            assertEquals("VALUE verified 0 2", client.call("get verified\r\n"));
        }
        Map<String, String> stats = node.stats("");
        assertEquals(errorsBefore + 3, Long.parseLong(stats.get("ssl_handshake_errors")), "one per refused client");
        assertEquals("3", node.stats("settings").get("ssl_verify_mode"), "SSL_VERIFY_PEER|FAIL_IF_NO_PEER_CERT, as memcached");
    }

    /** Each bad combination: the node exits with memcached's status and a message naming the problem. */
    @Test
    void badTlsFlagsStopTheNodeAsTheyStopMemcached() throws Exception {
        Map<List<String>, String> refusals = new LinkedHashMap<>();
        refusals.put(List.of("-Z"), "Error loading the certificate chain: (null)");
        refusals.put(List.of("-Z", "-o", "ssl_chain_cert=" + certificates.file("server.crt")), "Error loading the key: (null)");
        refusals.put(List.of("-Z", "-o", "ssl_chain_cert=" + certificates.file("server.crt") + ",ssl_key="
                + certificates.file("client.key")), "Error loading the key: " + certificates.file("client.key") + " : ");
        refusals.put(List.of("-Z", "-o", "ssl_chain_cert=" + certificates.file("server.crt") + ",ssl_key="
                + certificates.file("server.key") + ",ssl_ca_cert=" + certificates.file("missing.crt")),
                "Error loading the CA certificate: " + certificates.file("missing.crt"));
        refusals.put(List.of("-Z", "-o", "ssl_chain_cert=" + certificates.file("server.crt") + ",ssl_key="
                + certificates.file("server.key") + ",ssl_ciphers=NO-SUCH-CIPHER"), "Error setting the provided cipher(s): NO-SUCH-CIPHER");
        refusals.put(List.of("-o", "ssl_verify_mode=4"), "Invalid ssl_verify_mode. Use help to see valid options.");
        refusals.put(List.of("-o", "ssl_min_version=x"), "could not parse argument to ssl_min_version");
        refusals.put(List.of("-l", "notls:127.0.0.1:" + Ports.free()), "'notls' option is valid only when SSL is enabled");
        for (Map.Entry<List<String>, String> refusal : refusals.entrySet()) {
            Subprocess.Result raftcached = ServerFlagsTest.runNode("client-tls-refused", refusal.getKey().toArray(String[]::new));
            assertTrue(raftcached.stderr().contains(refusal.getValue()), refusal.getKey() + ": " + raftcached);
            if (MemcachedProcess.isInstalled()) {
                List<String> arguments = new ArrayList<>(List.of("-U", "0", "-p", Integer.toString(Ports.free())));
                arguments.addAll(refusal.getKey());
                Subprocess.Result memcached = Subprocess.run(MemcachedProcess.command(arguments), EXIT_TIMEOUT_MILLIS);
                assertTrue(memcached.stderr().contains(refusal.getValue()) || memcached.out().contains(refusal.getValue()),
                        "the message is memcached's: " + memcached);
                assertEquals(memcached.exitCode(), raftcached.exitCode(), refusal.getKey() + ": memcached's exit status; "
                        + raftcached);
            }
        }
    }
}
