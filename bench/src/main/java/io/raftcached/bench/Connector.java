package io.raftcached.bench;

import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SocketChannel;

/** Opens the connections of a run: TCP, and TLS over it when the profile asks for TLS. */
final class Connector {
    /** Null for plaintext runs. */
    private final SslContext tls;
    private final int timeoutMillis;

    Connector(LoadProfile profile) throws IOException {
        this.tls = profile.tls() == null ? null : profile.tls().context();
        this.timeoutMillis = profile.connectTimeoutMillis();
    }

    /** A connected, non-blocking wire; TLS connections have done their handshake. Each step has the timeout. */
    Wire open(ServerAddress server) throws IOException {
        SocketChannel channel = connect(server, timeoutMillis);
        if (tls == null) {
            return new PlainWire(channel);
        }
        TlsWire wire = new TlsWire(channel, TlsSettings.clientEngine(tls));
        try {
            wire.handshake(timeoutMillis);
            return wire;
        } catch (IOException e) {
            wire.close();
            throw new IOException("TLS handshake with " + server + " failed: " + e.getMessage(), e);
        }
    }

    /** Blocking connect with an explicit timeout, then non-blocking for the run. */
    static SocketChannel connect(ServerAddress server, int timeoutMillis) throws IOException {
        InetSocketAddress address = server.toSocketAddress();
        if (address.isUnresolved()) {
            throw new IOException("cannot resolve host of " + server);
        }
        SocketChannel channel = SocketChannel.open();
        try {
            // The worker batches requests itself; Nagle would only add delay to pipeline-1 runs.
            channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
            channel.setOption(StandardSocketOptions.SO_KEEPALIVE, false);
            channel.socket().connect(address, timeoutMillis);
            channel.configureBlocking(false);
            return channel;
        } catch (IOException e) {
            closeQuietly(channel);
            throw new IOException("cannot connect to " + server + " within " + timeoutMillis + " ms: "
                    + e.getMessage(), e);
        }
    }

    static void closeQuietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // Nothing to do at teardown.
        }
    }
}
