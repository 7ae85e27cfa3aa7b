package io.raftcached.it;

import io.raftcached.it.DropInServers.Target;
import io.raftcached.it.ReplayTranscriptsTest.Dialer;
import io.raftcached.testing.Await;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's memcached -Z and a one-member raftcached node -Z, started with the same flags and the
 * same certificates ({@link TestCertificates}, from deploy/tls/make-test-certs.sh): TLS on one port, a
 * plaintext {@code notls:} port beside it for readiness checks. Clients without TLS (Debian's
 * libmemcached tools) reach them through {@link #bridge}: a socat that takes plaintext on a local
 * port and speaks TLS to the server, verifying its certificate. Everything is stopped by its pid.
 */
final class TlsServers implements AutoCloseable {
    private static final Duration BRIDGE_READY_TIMEOUT = Duration.ofSeconds(10);

    final TestCertificates certificates;
    final NodeProcess node;
    final int nodeTlsPort;
    final MemcachedProcess memcached;
    final int memcachedTlsPort;
    private final SSLSocketFactory sockets;
    private final List<Process> bridges = new ArrayList<>();

    private TlsServers(TestCertificates certificates, NodeProcess node, int nodeTlsPort, MemcachedProcess memcached,
            int memcachedTlsPort, SSLSocketFactory sockets) {
        this.certificates = certificates;
        this.node = node;
        this.nodeTlsPort = nodeTlsPort;
        this.memcached = memcached;
        this.memcachedTlsPort = memcachedTlsPort;
        this.sockets = sockets;
    }

    /** The flags both servers get: memcached's spelling, which raftcached shares. */
    static List<String> listenArguments(Path certificates, int plainPort, int tlsPort) {
        return List.of("-p", Integer.toString(plainPort), "-Z",
                "-o", "ssl_chain_cert=" + certificates.resolve("server.crt") + ",ssl_key=" + certificates.resolve("server.key"),
                "-l", "notls:127.0.0.1:" + plainPort, "-l", "127.0.0.1:" + tlsPort);
    }

    /** Fresh certificates, then both servers; skips the calling class where memcached is not installed. */
    static TlsServers start(String name) throws IOException, InterruptedException, GeneralSecurityException {
        MemcachedProcess.assumeInstalled();
        TestCertificates certificates = TestCertificates.make();
        int nodePort = Ports.free();
        int nodeTlsPort = Ports.free();
        List<String> arguments = new ArrayList<>(listenArguments(certificates.directory, nodePort, nodeTlsPort));
        arguments.addAll(List.of("--raft", "127.0.0.1:" + Ports.free(), "--data-dir", NodeProcess.freshDirectory(name).toString()));
        NodeProcess node = new NodeProcess(name, nodePort, arguments);
        MemcachedProcess memcached = null;
        try {
            node.start().awaitReady();
            int memcachedTlsPort = Ports.free();
            memcached = MemcachedProcess.startWithTls(certificates.directory, memcachedTlsPort);
            return new TlsServers(certificates, node, nodeTlsPort, memcached, memcachedTlsPort, certificates.sockets("ca.crt"));
        } catch (IOException | InterruptedException | GeneralSecurityException | RuntimeException | AssertionError e) {
            node.kill();
            if (memcached != null) {
                memcached.close();
            }
            certificates.delete();
            throw e;
        }
    }

    /** memcached's TLS port. */
    Target memcached() {
        return new Target("memcached-tls", memcachedTlsPort, memcached.pid());
    }

    /** raftcached's TLS port. */
    Target raftcached() {
        return new Target("raftcached-tls", nodeTlsPort, node.pid());
    }

    /** TLS connections to {@code target}'s port, trusting only the test CA, handshake done. */
    Dialer dialer(Target target) {
        return () -> {
            SSLSocket socket = (SSLSocket) sockets.createSocket();
            try {
                socket.connect(new InetSocketAddress("127.0.0.1", target.port()), ReplayTranscriptsTest.REPLY_TIMEOUT_MILLIS);
                socket.setSoTimeout(ReplayTranscriptsTest.REPLY_TIMEOUT_MILLIS);
                socket.startHandshake();
                return socket;
            } catch (IOException e) {
                socket.close();
                throw e;
            }
        };
    }

    /**
     * A socat on a free 127.0.0.1 port forwarding plaintext to {@code target}'s TLS port (verifying
     * its certificate against the test CA): the same target, as a client without TLS sees it.
     */
    Target bridge(Target target) throws IOException, InterruptedException {
        Assumptions.assumeTrue(Subprocess.isInstalled("socat"), "/usr/bin/socat is missing (apt-get install socat)");
        int port = Ports.free();
        Path log = NodeProcess.TEST_DIRECTORY.resolve("socat-" + port + ".log");
        Process socat = new ProcessBuilder("/usr/bin/socat", "TCP-LISTEN:" + port + ",bind=127.0.0.1,reuseaddr,fork",
                "OPENSSL:127.0.0.1:" + target.port() + ",cafile=" + certificates.file("ca.crt") + ",verify=1")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        bridges.add(socat);
        Await.until("socat to listen on " + port, BRIDGE_READY_TIMEOUT, () -> {
            if (!socat.isAlive()) {
                throw new IOException("socat exited: " + Files.readString(log));
            }
            try (Socket probe = new Socket()) {
                probe.connect(new InetSocketAddress("127.0.0.1", port), 1_000);
                return true;
            } catch (IOException refused) {
                return false;
            }
        });
        return new Target(target.name() + "-via-socat", port, target.pid());
    }

    @Override
    public void close() throws InterruptedException {
        for (Process bridge : bridges) {
            bridge.destroy();
            if (!bridge.waitFor(5, TimeUnit.SECONDS)) {
                bridge.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        try {
            node.kill();
        } finally {
            memcached.close();
            try {
                certificates.delete();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
    }
}
