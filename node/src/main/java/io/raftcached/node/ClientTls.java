package io.raftcached.node;

import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslSessionContext;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslProvider;
import io.netty.internal.tcnative.SSL;
import io.netty.util.ReferenceCountUtil;
import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Client TLS ({@code -Z}): the server context built from memcached's ssl_* options, replaced whole
 * by {@code refresh_certs} (a connection keeps the context it shook hands with), and memcached's
 * TLS counters. BoringSSL through netty-tcnative when it loads, else the JDK's engine. BoringSSL's
 * objects are reference-counted (no finalizer per engine and context): the SslHandler releases its
 * engine when the connection ends, each engine holds its context, and a context replaced by
 * refresh_certs is released here, so it is freed when its last connection is.
 */
final class ClientTls {
    private static final Logger LOG = LoggerFactory.getLogger(ClientTls.class);
    /**
     * A client that connects and does not finish its handshake in this time is closed (a failed
     * handshake): until then the connection holds an engine and its buffers. memcached has no such
     * limit; no TLS client needs more than a few round trips.
     */
    private static final long HANDSHAKE_TIMEOUT_MILLIS = 10_000;

    /** What a listener does with TLS: memcached's -l prefixes notls:, btls: and mtls:, or none. */
    enum Listener {
        /** notls: plaintext although -Z is on (and every listener without -Z). */
        PLAIN,
        /** no prefix: TLS with ssl_verify_mode. */
        DEFAULT,
        /** btls: TLS that never asks for a client certificate, whatever ssl_verify_mode says. */
        NO_PEER,
        /** mtls: TLS that requires a verified client certificate, whatever ssl_verify_mode says. */
        PEER
    }

    private final TlsOptions options;
    private final SslProvider provider;
    /** Replaced and handed out under this object's lock, so no handler is made from a context being released. */
    private SslContext context;
    private volatile long lastRefreshNanos;
    /** memcached's ssl_handshake_errors: handshakes that failed (a bad or missing certificate, no common version). */
    final LongAdder handshakeErrors = new LongAdder();
    /** memcached's ssl_new_sessions: full handshakes while the session cache is on (resumptions are not new). */
    final LongAdder newSessions = new LongAdder();
    private final ChannelHandler handshakeWatcher = new HandshakeWatcher();

    private ClientTls(TlsOptions options, SslProvider provider) {
        this.options = options;
        this.provider = provider;
    }

    /** Builds the first context; a bad file or option refuses to start with memcached's message. */
    static ClientTls start(TlsOptions options) {
        SslProvider provider;
        if (OpenSsl.isAvailable()) {
            provider = SslProvider.OPENSSL_REFCNT;
            LOG.info("client TLS (-Z) uses {} through netty-tcnative", OpenSsl.versionString());
        } else {
            provider = SslProvider.JDK;
            LOG.warn("client TLS (-Z) uses the JDK's TLS engine: OpenSSL (netty-tcnative) could not load: {}",
                    String.valueOf(OpenSsl.unavailabilityCause()));
        }
        ClientTls tls = new ClientTls(options, provider);
        try {
            tls.load();
        } catch (LoadError e) {
            throw new ServerConfig.InvalidFlagException(e.getMessage());
        }
        return tls;
    }

    TlsOptions options() {
        return options;
    }

    /**
     * memcached's refresh_certs: reads the chain, key and CA files again into a new context for new
     * connections. Returns null on success, else memcached's error line (the old context stays).
     */
    String refresh() {
        try {
            load();
            LOG.info("refresh_certs: new connections get the certificates now in {}", options.chainCert);
            return null;
        } catch (LoadError e) {
            LOG.warn("refresh_certs failed, the previous certificates stay: {}", e.getMessage());
            return e.getMessage();
        }
    }

    private void load() throws LoadError {
        SslContext built = build();
        SslContext replaced;
        synchronized (this) {
            replaced = context;
            context = built;
        }
        // connections made from it hold their own references (through their engines)
        ReferenceCountUtil.release(replaced);
        lastRefreshNanos = System.nanoTime();
    }

    long secondsSinceRefresh() {
        return (System.nanoTime() - lastRefreshNanos) / 1_000_000_000L;
    }

    /** A handler for a new connection on a listener of this kind, from the current context. */
    SslHandler newHandler(ByteBufAllocator allocator, Listener listener) {
        SslHandler handler;
        synchronized (this) {
            handler = context.newHandler(allocator);
        }
        handler.setHandshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MILLIS);
        SSLEngine engine = handler.engine();
        switch (listener) {
            case PEER -> engine.setNeedClientAuth(true);
            case NO_PEER -> engine.setNeedClientAuth(false);
            default -> { }
        }
        return handler;
    }

    /** Goes right after the SslHandler: counts failed handshakes and new sessions. */
    ChannelHandler handshakeWatcher() {
        return handshakeWatcher;
    }

    private SslContext build() throws LoadError {
        X509Certificate[] chain = certificates(options.chainCert, "Error loading the certificate chain", "ssl_chain_cert");
        PrivateKey key = privateKey();
        checkKeyMatches(key, chain[0], options.key);
        SslContextBuilder builder = SslContextBuilder.forServer(key, chain).sslProvider(provider)
                .protocols(options.protocols()).clientAuth(clientAuth());
        if (options.caCert != null) {
            builder.trustManager(certificates(options.caCert, "Error loading the CA certificate", "ssl_ca_cert"));
        }
        if (options.ciphers != null) {
            builder.ciphers(Arrays.asList(options.ciphers.split(":")));
        }
        SslContext built = null;
        try {
            built = builder.build();
            // an unknown cipher name shows only when an engine is made: make one now, not at the first client
            ReferenceCountUtil.release(built.newEngine(ByteBufAllocator.DEFAULT));
        } catch (IOException | RuntimeException e) {
            ReferenceCountUtil.release(built);
            throw new LoadError(options.ciphers != null ? "Error setting the provided cipher(s): " + options.ciphers
                    : "Error creating the TLS context: " + e.getMessage());
        }
        if (built.sessionContext() instanceof OpenSslSessionContext sessions) {
            sessions.setSessionCacheEnabled(options.sessionCache);
        }
        return built;
    }

    private ClientAuth clientAuth() {
        return switch (options.verifyMode) {
            case 0 -> ClientAuth.NONE;
            case 1 -> ClientAuth.OPTIONAL;
            default -> ClientAuth.REQUIRE;
        };
    }

    /** The PEM certificates in {@code file}; errors read as memcached's "what: file : reason". */
    private static X509Certificate[] certificates(String file, String what, String option) throws LoadError {
        String errorPrefix = what + ": " + (file == null ? "(null)" : file);
        if (file == null) {
            throw new LoadError(errorPrefix + " : no file given (" + option + ")");
        }
        try {
            return PemFiles.certificates(Path.of(file));
        } catch (IOException | GeneralSecurityException e) {
            throw new LoadError(errorPrefix + " : " + PemFiles.reason(e));
        }
    }

    /** ssl_key in ssl_keyformat 1 (PEM, memcached's default) or 2 (DER). */
    private PrivateKey privateKey() throws LoadError {
        String errorPrefix = "Error loading the key: " + (options.key == null ? "(null)" : options.key);
        if (options.key == null) {
            throw new LoadError(errorPrefix + " : no file given (ssl_key)");
        }
        if (options.keyFormat != TlsOptions.KEY_FORMAT_PEM && options.keyFormat != TlsOptions.KEY_FORMAT_DER) {
            throw new LoadError(errorPrefix + " : ssl_keyformat " + options.keyFormat
                    + " is not supported by raftcached (1 PEM, 2 DER)");
        }
        try {
            return PemFiles.privateKey(Path.of(options.key), options.keyFormat == TlsOptions.KEY_FORMAT_DER);
        } catch (IOException | GeneralSecurityException e) {
            throw new LoadError(errorPrefix + " : " + PemFiles.reason(e));
        }
    }

    /**
     * OpenSSL's check when it loads the key after the chain: the key must sign what the
     * certificate's public key verifies; the error is the one memcached then prints.
     */
    private static void checkKeyMatches(PrivateKey key, X509Certificate certificate, String keyFile) throws LoadError {
        String algorithm = switch (key.getAlgorithm()) {
            case "EC" -> "SHA256withECDSA";
            case "RSA" -> "SHA256withRSA";
            case "DSA" -> "SHA256withDSA";
            default -> key.getAlgorithm();   // Ed25519, Ed448
        };
        byte[] probe = "raftcached key check".getBytes(StandardCharsets.US_ASCII);
        boolean matches;
        try {
            Signature signer = Signature.getInstance(algorithm);
            signer.initSign(key);
            signer.update(probe);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm);
            verifier.initVerify((Certificate) certificate);
            verifier.update(probe);
            matches = verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            matches = false;
        }
        if (!matches) {
            throw new LoadError("Error loading the key: " + keyFile + " : key values mismatch");
        }
    }

    /** A context that could not be built; the message is the line memcached prints or replies. */
    private static final class LoadError extends Exception {
        LoadError(String message) {
            super(message, null, false, false);
        }
    }

    @ChannelHandler.Sharable
    private final class HandshakeWatcher extends ChannelInboundHandlerAdapter {
        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent completion) {
                if (!completion.isSuccess()) {
                    // a client that connects and leaves without a word has not failed a handshake
                    if (!(completion.cause() instanceof ClosedChannelException)) {
                        handshakeErrors.increment();
                        LOG.debug("TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), completion.cause().toString());
                    }
                } else if (options.sessionCache && !resumed(ctx.pipeline().get(SslHandler.class).engine())) {
                    newSessions.increment();
                }
            }
            super.userEventTriggered(ctx, event);
        }

        /** The JDK's engine does not say whether it resumed: each of its handshakes counts as new. */
        private static boolean resumed(SSLEngine engine) {
            return engine instanceof ReferenceCountedOpenSslEngine openSsl && SSL.isSessionReused(openSsl.sslPointer());
        }
    }
}
