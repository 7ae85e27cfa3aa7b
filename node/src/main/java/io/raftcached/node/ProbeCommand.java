package io.raftcached.node;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.Callable;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code raftcached probe live|ready}: health checks for Kubernetes, systemd and HAProxy scripts.
 * "live" means the node answers on its client port — true even while it installs a snapshot, so a
 * liveness probe never kills a node in the middle of catching up. "ready" means it has caught up
 * with the cluster and serves reads ({@code raft_ready 1} in {@code stats raft}). With {@code --tls}
 * it speaks TLS to a {@code -Z} node.
 */
@Command(name = "probe", description = "Exit 0 if the node is live (answers) or ready (caught up, serving reads).")
final class ProbeCommand implements Callable<Integer> {
    @Mixin
    HelpOption help;

    @Parameters(paramLabel = "live|ready", description = "what to check")
    String check;

    @Option(names = {"-p", "--port"}, defaultValue = "11211", description = "the node's client port (default: ${DEFAULT-VALUE})")
    int port;

    @Option(names = {"-l", "--host"}, defaultValue = "127.0.0.1", description = "the node's client address (default: ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--timeout-ms", defaultValue = "2000", description = "connect and read timeout (default: ${DEFAULT-VALUE})")
    int timeoutMillis;

    @Option(names = "--tls", description = "connect with TLS (a node started with -Z)")
    boolean tls;

    @Option(names = "--cacert", paramLabel = "<file>",
            description = "with --tls, CA certificates (PEM) the node's certificate must chain to; without it the"
                    + " node's certificate is not verified: the probe checks that the node answers, not who it is")
    Path caCert;

    @Option(names = "--cert", paramLabel = "<file>", description = "with --tls, a client certificate chain (PEM), for"
            + " ssl_verify_mode=2 or an mtls: listener")
    Path cert;

    @Option(names = "--key", paramLabel = "<file>", description = "the private key of --cert (unencrypted PKCS#8 PEM)")
    Path key;

    @Override
    public Integer call() {
        if (!check.equals("live") && !check.equals("ready")) {
            System.err.println("probe: say 'live' or 'ready'");
            return Main.EXIT_USAGE;
        }
        if ((cert == null) != (key == null) || (!tls && (caCert != null || cert != null))) {
            System.err.println("probe: --cert and --key go together, and with --cacert need --tls");
            return Main.EXIT_USAGE;
        }
        try (Socket socket = tls ? tlsContext().getSocketFactory().createSocket() : new Socket()) {
            socket.connect(new InetSocketAddress(host, port), timeoutMillis);
            socket.setSoTimeout(timeoutMillis);
            if (socket instanceof SSLSocket secure) {
                secure.startHandshake();
            }
            OutputStream out = socket.getOutputStream();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
            if (check.equals("live")) {
                out.write("version\r\n".getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                String line = in.readLine();
                return line != null && line.startsWith("VERSION") ? 0 : 1;
            }
            out.write("stats raft\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            boolean ready = false;
            for (String line = in.readLine(); line != null && !line.equals("END"); line = in.readLine()) {
                ready |= line.equals("STAT raft_ready 1");
            }
            return ready ? 0 : 1;
        } catch (IOException | GeneralSecurityException e) {
            System.err.println("probe: " + host + ":" + port + ": " + e.getMessage());
            return 1;
        }
    }

    private SSLContext tlsContext() throws IOException, GeneralSecurityException {
        KeyManagerFactory keys = null;
        if (cert != null) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            store.setKeyEntry("client", PemFiles.privateKey(key, false), new char[0], PemFiles.certificates(cert));
            keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            keys.init(store, new char[0]);
        }
        TrustManager[] trust;
        if (caCert != null) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            X509Certificate[] authorities = PemFiles.certificates(caCert);
            for (int i = 0; i < authorities.length; i++) {
                store.setCertificateEntry("ca-" + i, authorities[i]);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            trust = factory.getTrustManagers();
        } else {
            trust = new TrustManager[] {new AnyServer()};
        }
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys == null ? null : keys.getKeyManagers(), trust, null);
        return context;
    }

    /** Without --cacert: any server certificate will do (see --cacert's help). */
    private static final class AnyServer implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
            throw new UnsupportedOperationException("the probe is a client");
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
            // trusted: the probe asks whether the node answers
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
