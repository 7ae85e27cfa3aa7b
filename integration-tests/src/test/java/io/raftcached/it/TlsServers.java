package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftcached.it.DropInServers.Target;
import io.raftcached.it.ReplayTranscriptsTest.Dialer;
import io.raftcached.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Assumptions;

/**
 * Debian's memcached -Z and a one-member raftcached node -Z, started with the same flags and the
 * same certificates (deploy/tls/make-test-certs.sh into a fresh directory): TLS on one port, a
 * plaintext {@code notls:} port beside it for readiness checks. Clients without TLS (Debian's
 * libmemcached tools) reach them through {@link #bridge}: a socat that takes plaintext on a local
 * port and speaks TLS to the server, verifying its certificate. Everything is stopped by its pid.
 */
final class TlsServers implements AutoCloseable {
    private static final Path MAKE_CERTIFICATES = DeployFiles.DEPLOY.resolve("tls/make-test-certs.sh");
    private static final long SCRIPT_TIMEOUT_MILLIS = 60_000;
    private static final Duration BRIDGE_READY_TIMEOUT = Duration.ofSeconds(10);

    final Path certificates;
    final NodeProcess node;
    final int nodeTlsPort;
    final MemcachedProcess memcached;
    final int memcachedTlsPort;
    private final SSLSocketFactory sockets;
    private final List<Process> bridges = new ArrayList<>();

    private TlsServers(Path certificates, NodeProcess node, int nodeTlsPort, MemcachedProcess memcached,
            int memcachedTlsPort) throws IOException {
        this.certificates = certificates;
        this.node = node;
        this.nodeTlsPort = nodeTlsPort;
        this.memcached = memcached;
        this.memcachedTlsPort = memcachedTlsPort;
        this.sockets = trusting(certificates.resolve("ca.crt"));
    }

    /** The flags both servers get: memcached's spelling, which raftcached shares. */
    static List<String> listenArguments(Path certificates, int plainPort, int tlsPort) {
        return List.of("-p", Integer.toString(plainPort), "-Z",
                "-o", "ssl_chain_cert=" + certificates.resolve("server.crt") + ",ssl_key=" + certificates.resolve("server.key"),
                "-l", "notls:127.0.0.1:" + plainPort, "-l", "127.0.0.1:" + tlsPort);
    }

    /** Fresh certificates, then both servers; skips the calling class where memcached is not installed. */
    static TlsServers start(String name) throws IOException, InterruptedException {
        MemcachedProcess.assumeInstalled();
        Path certificates = makeCertificates(name);
        int nodePort = Ports.free();
        int nodeTlsPort = Ports.free();
        List<String> arguments = new ArrayList<>(listenArguments(certificates, nodePort, nodeTlsPort));
        arguments.addAll(List.of("--raft", "127.0.0.1:" + Ports.free(), "--data-dir", NodeProcess.freshDirectory(name).toString()));
        NodeProcess node = new NodeProcess(name, nodePort, arguments);
        MemcachedProcess memcached = null;
        try {
            node.start().awaitReady();
            int memcachedTlsPort = Ports.free();
            memcached = MemcachedProcess.startWithTls(certificates, memcachedTlsPort);
            return new TlsServers(certificates, node, nodeTlsPort, memcached, memcachedTlsPort);
        } catch (IOException | InterruptedException | RuntimeException | AssertionError e) {
            node.kill();
            if (memcached != null) {
                memcached.close();
            }
            throw e;
        }
    }

    static Path makeCertificates(String name) throws IOException, InterruptedException {
        Path directory = NodeProcess.TEST_DIRECTORY.resolve(name + "-certs");
        NodeProcess.deleteRecursively(directory);
        Subprocess.Result made = Subprocess.run(List.of(MAKE_CERTIFICATES.toString(), directory.toString()), SCRIPT_TIMEOUT_MILLIS);
        assertEquals(0, made.exitCode(), made.toString());
        return directory;
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
        return () -> connect(sockets, target.port());
    }

    /** A TLS connection to 127.0.0.1:{@code port} trusting only {@code caCertificate}, handshake done. */
    static Socket connectTls(Path caCertificate, int port) throws IOException {
        return connect(trusting(caCertificate), port);
    }

    private static Socket connect(SSLSocketFactory factory, int port) throws IOException {
        SSLSocket socket = (SSLSocket) factory.createSocket();
        try {
            socket.connect(new InetSocketAddress("127.0.0.1", port), ReplayTranscriptsTest.REPLY_TIMEOUT_MILLIS);
            socket.setSoTimeout(ReplayTranscriptsTest.REPLY_TIMEOUT_MILLIS);
            socket.startHandshake();
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
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
                "OPENSSL:127.0.0.1:" + target.port() + ",cafile=" + certificates.resolve("ca.crt") + ",verify=1")
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

    private static SSLSocketFactory trusting(Path caCertificate) throws IOException {
        try (InputStream in = Files.newInputStream(caCertificate)) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            int n = 0;
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                trust.setCertificateEntry("ca" + n++, certificate);
            }
            TrustManagerFactory managers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            managers.init(trust);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, managers.getTrustManagers(), null);
            return context.getSocketFactory();
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot trust " + caCertificate + ": " + e.getMessage(), e);
        }
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
        }
    }
}
