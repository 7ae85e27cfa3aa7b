package io.raftcached.raft;

import com.alipay.remoting.ExtendedNettyChannelHandler;
import com.alipay.remoting.config.BoltGenericOption;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcClient;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcServer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandler;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslProvider;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutual TLS between members (etcd's --peer-cert-file, --peer-key-file, --peer-trusted-ca-file):
 * with it, every connection of jraft's bolt transport — Raft's AppendEntries, votes and snapshot
 * reads, forwarded writes, the control RPCs, and {@code raftcached cluster ...} — is TLS on both
 * sides, and each side must present a certificate signed by the peer CA. Members are identified by
 * that CA alone: host names are not verified (addresses change; the CA is the membership key).
 *
 * <p>Process-wide, like jraft's RPC factory it plugs into: one node (or one admin client) per
 * process. {@link #use} is called before any bolt server or client is made; {@link ReplicationBytes},
 * jraft's factory, then puts a fresh {@link SslHandler} first in every channel it opens.
 */
public final class PeerTls {
    private static final Logger LOG = LoggerFactory.getLogger(PeerTls.class);
    /** What a handshake may take; a peer that connects and stays silent is dropped after it. */
    static final long HANDSHAKE_TIMEOUT_MILLIS = 5_000;
    private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** The three PEM files, all given or none (then bolt stays plaintext). */
    public record Files(Path certificate, Path key, Path ca) {
        public static final Files NONE = new Files(null, null, null);

        /** Checks the three flags go together and the files can be read; the message names the flag. */
        public Files {
            int given = (certificate != null ? 1 : 0) + (key != null ? 1 : 0) + (ca != null ? 1 : 0);
            if (given != 0 && given != 3) {
                throw new IllegalArgumentException("--peer-cert, --peer-key and --peer-ca go together: "
                        + (certificate == null ? "--peer-cert" : key == null ? "--peer-key" : "--peer-ca") + " is missing");
            }
            check(certificate, "--peer-cert");
            check(key, "--peer-key");
            check(ca, "--peer-ca");
        }

        private static void check(Path file, String flag) {
            if (file != null && !java.nio.file.Files.isReadable(file)) {
                throw new IllegalArgumentException(flag + " " + file + ": no such readable file");
            }
        }

        public boolean enabled() {
            return certificate != null;
        }
    }

    private static volatile PeerTls current;

    private final SslContext server;
    private final SslContext client;

    private PeerTls(SslContext server, SslContext client) {
        this.server = server;
        this.client = client;
    }

    /**
     * Makes every bolt server and client created from now on in this process use {@code files}
     * ({@link Files#NONE}: plaintext). Fails if a file is not a PEM certificate or key.
     */
    public static void use(Files files) throws IOException {
        if (!files.enabled()) {
            current = null;
            return;
        }
        SslProvider provider = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;
        try {
            SslContext server = SslContextBuilder.forServer(files.certificate().toFile(), files.key().toFile())
                    .trustManager(files.ca().toFile()).clientAuth(ClientAuth.REQUIRE)
                    .sslProvider(provider).protocols(PROTOCOLS).build();
            SslContext client = SslContextBuilder.forClient().keyManager(files.certificate().toFile(), files.key().toFile())
                    .trustManager(files.ca().toFile()).endpointIdentificationAlgorithm(null)
                    .sslProvider(provider).protocols(PROTOCOLS).build();
            current = new PeerTls(server, client);
            LOG.info("peer TLS on ({}): members must present a certificate signed by {}", provider, files.ca());
        } catch (IOException | IllegalArgumentException e) {
            throw new IOException("cannot use --peer-cert " + files.certificate() + ", --peer-key " + files.key()
                    + ", --peer-ca " + files.ca() + ": " + e.getMessage(), e);
        }
    }

    /** Whether members talk over mutual TLS in this process. */
    public static boolean enabled() {
        return current != null;
    }

    /** Before bolt starts the server: every accepted channel begins with a TLS handshake that needs a peer certificate. */
    static void secure(BoltRpcServer server) {
        PeerTls tls = current;
        if (tls != null) {
            server.getServer().option(BoltGenericOption.EXTENDED_NETTY_CHANNEL_HANDLER, tls.handlers(tls.server, false));
        }
    }

    /** Before bolt starts the client: every connection it opens begins with a TLS handshake, this node's certificate shown. */
    static void secure(BoltRpcClient client) {
        PeerTls tls = current;
        if (tls != null) {
            client.getRpcClient().option(BoltGenericOption.EXTENDED_NETTY_CHANNEL_HANDLER, tls.handlers(tls.client, true));
        }
    }

    /** Bolt asks once per channel, so each gets handlers of its own (an SslHandler holds one connection's state). */
    private static ExtendedNettyChannelHandler handlers(SslContext context, boolean clientSide) {
        return new ExtendedNettyChannelHandler() {
            @Override
            public List<ChannelHandler> frontChannelHandlers() {
                // bolt's channels allocate from Netty's default (pooled) allocator
                SslHandler tls = context.newHandler(ByteBufAllocator.DEFAULT);
                tls.setHandshakeTimeoutMillis(HANDSHAKE_TIMEOUT_MILLIS);
                return List.of(tls, new PeerHandshakes.Watch(clientSide));
            }

            @Override
            public List<ChannelHandler> backChannelHandlers() {
                return List.of();
            }
        };
    }
}
