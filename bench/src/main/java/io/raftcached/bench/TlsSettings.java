package io.raftcached.bench;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;

/**
 * The generator's TLS client side: trusts the certificates in {@code caCert} only (a test CA, as
 * memcached's {@code ssl_ca_cert}) and, if {@code cert} is given, presents that client certificate.
 * The server's name is not checked against its certificate: the targets are 127.0.0.1 by address.
 * The engine is BoringSSL through netty-tcnative when it loads (the generator's CPU per op and per
 * handshake then stays well below the servers'), else the JDK's; the same for every server measured.
 *
 * @param cert client certificate chain (PEM), or null for none
 * @param key its unencrypted PKCS#8 key (PEM), null exactly when cert is
 */
record TlsSettings(Path caCert, Path cert, Path key) {
    /** Reference-counted: {@link TlsWire#close} frees each engine's native state, no finalizer does. */
    private static final SslProvider PROVIDER = OpenSsl.isAvailable() ? SslProvider.OPENSSL_REFCNT : SslProvider.JDK;

    TlsSettings {
        if (caCert == null) {
            throw new IllegalArgumentException("TLS needs a CA certificate to trust (--cacert)");
        }
        if ((cert == null) != (key == null)) {
            throw new IllegalArgumentException("--cert and --key go together");
        }
    }

    /** What encrypts: "BoringSSL ..." (netty-tcnative) or "JDK" when that could not load. */
    static String engineName() {
        return PROVIDER == SslProvider.JDK ? "JDK" : OpenSsl.versionString();
    }

    /** A client context for this run; loaded once, shared by every connection. */
    SslContext context() throws IOException {
        try {
            SslContextBuilder builder = SslContextBuilder.forClient().sslProvider(PROVIDER)
                    .trustManager(Pem.certificates(Files.readString(caCert, StandardCharsets.US_ASCII)));
            if (cert != null) {
                builder.keyManager(Pem.privateKey(Files.readString(key, StandardCharsets.US_ASCII)),
                        Pem.certificates(Files.readString(cert, StandardCharsets.US_ASCII)).toArray(new X509Certificate[0]));
            }
            return builder.build();
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IOException("TLS settings (" + caCert + (cert == null ? "" : ", " + cert + ", " + key) + "): "
                    + e.getMessage(), e);
        }
    }

    /**
     * A client engine with no peer host or port: both engines cache sessions only per known peer, so
     * every connection does a full handshake, which is what the handshake-rate runs measure. With
     * BoringSSL the caller owns a reference and releases it ({@link TlsWire#close}).
     */
    static SSLEngine clientEngine(SslContext context) {
        return context.newEngine(ByteBufAllocator.DEFAULT);
    }
}
