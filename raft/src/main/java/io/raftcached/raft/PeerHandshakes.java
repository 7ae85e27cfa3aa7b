package io.raftcached.raft;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.ssl.NotSslRecordException;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What became of peer TLS handshakes: a connection this node refused (no certificate, one not
 * signed by --peer-ca, plaintext) is counted ({@code raft_peer_tls_refused}) and logged once per remote
 * host ({@link OncePerHost}); a handshake this node's client could not finish is logged the same
 * way. Bolt would log every failed connection at each retry, so the failure stops here.
 */
final class PeerHandshakes {
    private static final Logger LOG = LoggerFactory.getLogger(PeerHandshakes.class);
    private static final LongAdder REFUSED = new LongAdder();
    private static final OncePerHost LOGGED = new OncePerHost(System::nanoTime);

    private PeerHandshakes() {}

    /** Incoming connections refused since this process started. */
    static long refused() {
        return REFUSED.sum();
    }

    /** Follows one channel's handshake, right behind its SslHandler. */
    static final class Watch extends ChannelInboundHandlerAdapter {
        private final boolean clientSide;

        Watch(boolean clientSide) {
            this.clientSide = clientSide;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (event instanceof SslHandshakeCompletionEvent completion) {
                if (!completion.isSuccess() && !(completion.cause() instanceof ClosedChannelException)) {
                    // A connection closed before any handshake (a port probe) is no peer refused.
                    failed(host(ctx.channel().remoteAddress()), completion.cause());
                }
            }
            super.userEventTriggered(ctx, event);
        }

        private void failed(String host, Throwable cause) {
            if (!clientSide) {
                REFUSED.increment();
            }
            if (!LOGGED.first((clientSide ? "to " : "from ") + host)) {
                return;
            }
            if (clientSide) {
                LOG.warn("TLS handshake with peer {} failed: {}; it must present a certificate signed by --peer-ca and"
                        + " trust this node's (logged once per host; next after {} minutes)", host, reason(cause),
                        OncePerHost.REPEAT_AFTER_MINUTES);
            } else {
                LOG.warn("refused a peer connection from {}: {}; members must present a certificate signed by --peer-ca"
                        + " (counted in stats raft_peer_tls_refused; logged once per host, next after {} minutes)",
                        host, reason(cause), OncePerHost.REPEAT_AFTER_MINUTES);
            }
        }

        /**
         * A failed handshake was counted and logged above; the SslHandler closes the channel. With
         * TLS 1.3 a client learns that the server refused its certificate only here, after its side
         * of the handshake finished: logged (once per host) as well.
         */
        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) throws Exception {
            if (cause instanceof SSLException || cause instanceof DecoderException && cause.getCause() instanceof SSLException) {
                if (clientSide) {
                    failed(host(ctx.channel().remoteAddress()), cause);
                }
                ctx.close();
                return;
            }
            super.exceptionCaught(ctx, cause);
        }
    }

    static String reason(Throwable cause) {
        if (cause instanceof NotSslRecordException) {
            return "it spoke plaintext (a node without --peer-cert?)";
        }
        if (cause instanceof SslHandshakeTimeoutException) {
            return "no TLS handshake within " + PeerTls.HANDSHAKE_TIMEOUT_MILLIS + " ms";
        }
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + ": " + root.getMessage();
    }

    private static String host(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
        }
        return String.valueOf(address);
    }
}
