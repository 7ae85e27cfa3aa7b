package io.raftcached.it;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManagerFactory;

/**
 * The certificates deploy/tls/make-test-certs.sh writes (a CA, server, client, peer, untrusted and
 * expired clients), in a directory of the test's, with the node flags and TLS socket factories that
 * use them.
 */
public final class TestCertificates {
    private static final long SCRIPT_TIMEOUT_MILLIS = 60_000;

    final Path directory;

    private TestCertificates(Path directory) {
        this.directory = directory;
    }

    /**
     * Runs the script into a fresh directory under /tmp, readable by all: memcached, run as root,
     * drops to nobody before it reads them. {@link #delete} it after the test.
     */
    static TestCertificates make() throws IOException, InterruptedException {
        return make("raftcached-tls");
    }

    /** As {@link #make()}, in a directory named after {@code name}; {@code extraNames} are more SANs (addresses or DNS names). */
    public static TestCertificates make(String name, String... extraNames) throws IOException, InterruptedException {
        Path directory = Files.createTempDirectory(name + "-");
        List<String> command = new ArrayList<>(List.of("bash", DeployFiles.DEPLOY.resolve("tls/make-test-certs.sh").toString(),
                directory.toString()));
        command.addAll(List.of(extraNames));
        Subprocess.Result result = Subprocess.run(command, SCRIPT_TIMEOUT_MILLIS);
        if (result.exitCode() != 0) {
            throw new IOException("make-test-certs.sh failed: " + result);
        }
        try (var files = Files.list(directory)) {
            for (Path file : files.toList()) {
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
            }
        }
        Files.setPosixFilePermissions(directory, PosixFilePermissions.fromString("rwxr-xr-x"));
        return new TestCertificates(directory);
    }

    /** Certificates the script already wrote into {@code directory} (e.g. local-cluster.sh start --tls). */
    static TestCertificates at(Path directory) {
        return new TestCertificates(directory);
    }

    public void delete() throws IOException {
        NodeProcess.deleteRecursively(directory);
    }

    public String file(String name) {
        return directory.resolve(name).toString();
    }

    /** -Z with the server certificate and the CA, plus {@code more} -o options. */
    List<String> nodeFlags(String more) {
        return List.of("-Z", "-o", "ssl_chain_cert=" + file("server.crt") + ",ssl_key=" + file("server.key")
                + ",ssl_ca_cert=" + file("ca.crt") + (more.isEmpty() ? "" : "," + more));
    }

    /** The three peer TLS flags with {@code name}.crt/.key as this node's certificate and {@code ca}.crt as the peer CA. */
    public List<String> peerFlags(String name, String ca) {
        return List.of("--peer-cert", file(name + ".crt"), "--peer-key", file(name + ".key"), "--peer-ca", file(ca + ".crt"));
    }

    /** A member's flags: peer.crt/.key, trusting ca.crt. */
    public List<String> memberFlags() {
        return peerFlags("peer", "ca");
    }

    /** TLS sockets that trust {@code ca} (e.g. "ca.crt"). */
    SSLSocketFactory sockets(String ca) throws IOException, GeneralSecurityException {
        return sockets(ca, null);
    }

    /** TLS sockets that trust {@code ca} and present {@code client}.crt/.key (null: no certificate). */
    SSLSocketFactory sockets(String ca, String client) throws IOException, GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", certificates(ca)[0]);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        KeyManagerFactory keys = null;
        if (client != null) {
            KeyStore identity = KeyStore.getInstance("PKCS12");
            identity.load(null, null);
            identity.setKeyEntry("client", privateKey(client + ".key"), new char[0], certificates(client + ".crt"));
            keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(identity, new char[0]);
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
        return context.getSocketFactory();
    }

    X509Certificate[] certificates(String name) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(directory.resolve(name))) {
            return CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
        }
    }

    /** The script's keys: EC P-256, unencrypted PKCS#8 PEM. */
    private PrivateKey privateKey(String name) throws IOException, GeneralSecurityException {
        String pem = Files.readString(directory.resolve(name), StandardCharsets.US_ASCII);
        String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }

    /** The certificate the server presented on a TLS connection. */
    static Certificate peerCertificate(TextClient client) throws IOException {
        return client.tlsSession().getPeerCertificates()[0];
    }
}
