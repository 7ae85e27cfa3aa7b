package io.raftcached.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;

/**
 * The generator's TLS client side: trusts the certificates in {@code caCert} only (a test CA, as
 * memcached's {@code ssl_ca_cert}) and, if {@code cert} is given, presents that client certificate.
 * The server's name is not checked against its certificate: the targets are 127.0.0.1 by address.
 *
 * @param cert client certificate chain (PEM), or null for none
 * @param key its unencrypted PKCS#8 key (PEM), null exactly when cert is
 */
record TlsSettings(Path caCert, Path cert, Path key) {
    private static final char[] NO_PASSWORD = new char[0];

    TlsSettings {
        if (caCert == null) {
            throw new IllegalArgumentException("TLS needs a CA certificate to trust (--cacert)");
        }
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("--cert and --key go together");
        }
    }

    /** An SSLContext for this run; loaded once, shared by every connection. */
    SSLContext context() throws IOException {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            List<X509Certificate> authorities = Pem.certificates(Files.readString(caCert, StandardCharsets.US_ASCII));
            for (int i = 0; i < authorities.size(); i++) {
                trust.setCertificateEntry("ca" + i, authorities.get(i));
            }
            TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trustManagers.init(trust);
            KeyManagerFactory keyManagers = null;
            if (cert != null) {
                KeyStore identity = KeyStore.getInstance("PKCS12");
                identity.load(null, null);
                identity.setKeyEntry("client", Pem.privateKey(Files.readString(key, StandardCharsets.US_ASCII)), NO_PASSWORD,
                        Pem.certificates(Files.readString(cert, StandardCharsets.US_ASCII)).toArray(new X509Certificate[0]));
                keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keyManagers.init(identity, NO_PASSWORD);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers == null ? null : keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("TLS settings (" + caCert + (cert == null ? "" : ", " + cert + ", " + key) + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * A client engine with no peer host or port: the JDK resumes sessions only for a known peer, so
     * every connection does a full handshake, which is what the handshake-rate runs measure.
     */
    static SSLEngine clientEngine(SSLContext context) {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(true);
        return engine;
    }
}
