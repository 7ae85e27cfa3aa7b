package io.raftcached.bench;

import io.netty.util.ReferenceCountUtil;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLEngineResult.Status;

/**
 * TLS over a non-blocking socket with an SSLEngine (BoringSSL's or the JDK's, {@link TlsSettings}): requests are encrypted into
 * {@code netOut}, replies decrypted from {@code netIn} straight into the connection's read buffer.
 * Both buffers hold one maximum-size TLS record, allocated once and direct (as the connection's
 * buffers are: BoringSSL would copy heap ones), so steady traffic allocates nothing here either. The handshake is done once, up front, before the connection joins a worker.
 */
final class TlsWire implements Wire {
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final SocketChannel socket;
    private final SSLEngine engine;
    /** Ciphertext read, not yet decrypted (fill mode). */
    private final ByteBuffer netIn;
    /** Ciphertext encrypted, not yet written (fill mode). */
    private final ByteBuffer netOut;
    private final int applicationBufferBytes;
    /** The last read stopped for want of room in its buffer, not of bytes: netIn may hold a whole record. */
    private boolean recordBuffered;
    private boolean released;

    TlsWire(SocketChannel socket, SSLEngine engine) {
        this.socket = socket;
        this.engine = engine;
        int packetBytes = engine.getSession().getPacketBufferSize();
        this.netIn = ByteBuffer.allocateDirect(packetBytes);
        this.netOut = ByteBuffer.allocateDirect(packetBytes);
        this.applicationBufferBytes = engine.getSession().getApplicationBufferSize();
    }

    @Override
    public SocketChannel socket() {
        return socket;
    }

    /** The full handshake, on the non-blocking socket, within {@code timeoutMillis}. */
    void handshake(int timeoutMillis) throws IOException {
        long deadlineNanos = System.nanoTime() + timeoutMillis * 1_000_000L;
        ByteBuffer early = ByteBuffer.allocate(applicationBufferBytes);
        try (Selector selector = Selector.open()) {
            SelectionKey key = socket.register(selector, 0);
            engine.beginHandshake();
            while (true) {
                HandshakeStatus status = engine.getHandshakeStatus();
                switch (status) {
                    case NOT_HANDSHAKING, FINISHED -> {
                        flushFully(key, deadlineNanos);
                        return;
                    }
                    case NEED_TASK -> runTasks();
                    case NEED_WRAP -> {
                        check(engine.wrap(EMPTY, netOut), "handshake wrap");
                        flushFully(key, deadlineNanos);
                    }
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> {
                        flushFully(key, deadlineNanos);
                        netIn.flip();
                        SSLEngineResult result = engine.unwrap(netIn, early);
                        netIn.compact();
                        if (early.position() > 0) {
                            throw new IOException("server sent data before the handshake finished");
                        }
                        if (result.getStatus() == Status.BUFFER_UNDERFLOW) {
                            int n = socket.read(netIn);
                            if (n < 0) {
                                throw new EOFException("server closed the connection during the TLS handshake");
                            }
                            if (n == 0) {
                                await(key, SelectionKey.OP_READ, deadlineNanos);
                            }
                        } else {
                            check(result, "handshake unwrap");
                        }
                    }
                    default -> throw new IOException("unexpected TLS handshake status " + status);
                }
            }
        }
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        int start = dst.position();
        while (true) {
            recordBuffered = false;
            boolean closed = false;
            netIn.flip();
            try {
                while (netIn.hasRemaining()) {
                    if (dst.remaining() < applicationBufferBytes) {
                        recordBuffered = true;
                        break;
                    }
                    SSLEngineResult result = engine.unwrap(netIn, dst);
                    if (result.getStatus() == Status.BUFFER_UNDERFLOW) {
                        break;
                    }
                    if (result.getStatus() == Status.CLOSED) {
                        closed = true;
                        break;
                    }
                    check(result, "unwrap");
                    // TLS 1.3 sends session tickets and may update keys after the handshake.
                    afterRecord(result);
                }
            } finally {
                netIn.compact();
            }
            int produced = dst.position() - start;
            if (produced > 0 || recordBuffered) {
                return produced;
            }
            if (closed) {
                return -1;
            }
            int n = socket.read(netIn);
            if (n <= 0) {
                return n;
            }
        }
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        flush();
        // Encrypt only into an empty netOut, so what the caller handed over is always on its way.
        while (src.hasRemaining() && netOut.position() == 0) {
            SSLEngineResult result = engine.wrap(src, netOut);
            if (result.getStatus() == Status.CLOSED) {
                throw new EOFException("TLS session closed by the server");
            }
            check(result, "wrap");
            afterRecord(result);
            flush();
        }
    }

    @Override
    public boolean outputPending() {
        return netOut.position() > 0;
    }

    @Override
    public boolean inputBuffered() {
        return recordBuffered;
    }

    /** Idempotent: a run's teardown may close a wire its worker already closed. */
    @Override
    public void close() {
        if (released) {
            return;
        }
        released = true;
        engine.closeOutbound();
        Connector.closeQuietly(socket);
        // BoringSSL's engine holds native memory until released; the JDK's is not reference-counted.
        ReferenceCountUtil.release(engine);
    }

    private void afterRecord(SSLEngineResult result) throws IOException {
        if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) {
            runTasks();
        }
        if (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) {
            check(engine.wrap(EMPTY, netOut), "post-handshake wrap");
            flush();
        }
    }

    private void runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
    }

    private void flush() throws IOException {
        if (netOut.position() > 0) {
            netOut.flip();
            socket.write(netOut);
            netOut.compact();
        }
    }

    private void flushFully(SelectionKey key, long deadlineNanos) throws IOException {
        flush();
        while (netOut.position() > 0) {
            await(key, SelectionKey.OP_WRITE, deadlineNanos);
            flush();
        }
    }

    private static void await(SelectionKey key, int op, long deadlineNanos) throws IOException {
        long leftMillis = (deadlineNanos - System.nanoTime()) / 1_000_000;
        if (leftMillis <= 0) {
            throw new SocketTimeoutException("TLS handshake did not finish in time");
        }
        key.interestOps(op);
        key.selector().select(leftMillis);
        key.interestOps(0);
    }

    private static void check(SSLEngineResult result, String what) throws IOException {
        if (result.getStatus() != Status.OK) {
            throw new IOException("TLS " + what + ": " + result.getStatus());
        }
    }
}
