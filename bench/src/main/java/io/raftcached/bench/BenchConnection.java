package io.raftcached.bench;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;

/**
 * One non-blocking connection: keeps up to {@code pipeline} requests in flight, writes them in
 * batches, and matches replies to requests in order (memcached, and HTTP/1.1, answer each connection in order).
 * Owned by one {@link LoadWorker} thread; no locks. Buffers and the in-flight ring are allocated
 * once, so steady-state traffic allocates nothing.
 */
final class BenchConnection implements ReplyParser.Listener {
    static final byte OP_GET = 0;
    static final byte OP_SET = 1;
    /** A cache-aside set after a get missed: a set, counted apart too. */
    static final byte OP_FILL = 2;
    /** A level-triggered selector will call again; this only saves epoll round trips on big bursts. */
    private static final int READS_PER_WAKEUP_MAX = 8;
    private static final int READ_BUFFER_BYTES = 64 * 1024;
    /** Write buffer cap; with huge values we fill fewer requests per batch rather than grow. */
    private static final int WRITE_BUFFER_BYTES_MAX = 256 * 1024;

    final int id;
    final ServerAddress server;
    private final LoadWorker worker;
    private final Connector connector;
    private Wire wire;
    private SelectionKey key;
    private final ByteBuffer readBuffer = ByteBuffer.allocateDirect(READ_BUFFER_BYTES);
    /** Always in fill mode: bytes [0, position) are encoded but not yet written. */
    private final ByteBuffer writeBuffer;
    private final int requestBytesMax;
    private final ReplyReader parser;

    /** In-flight ring, oldest at {@code head}: when each request was written, its op, and its key number. */
    private final long[] sentNanos;
    private final byte[] sentOps;
    private final long[] sentKeys;
    private int head;
    private int inFlight;
    /** When the current batch of bytes arrived; the reply time of every reply parsed from it. */
    private long readNanos;
    /** Last time this connection got bytes, or started waiting for them; drives the read timeout. */
    private long lastProgressNanos;
    private boolean writeInterest;
    /** Replies after which this connection is replaced by a new one; 0 = never. */
    private final int reconnectInterval;
    private int issuedOnThisSocket;
    private int repliesOnThisSocket;

    BenchConnection(int id, ServerAddress server, Wire wire, Connector connector, LoadWorker worker, int pipeline,
            int requestBytesMax, ReplyReader parser, int reconnectInterval) {
        this.id = id;
        this.parser = parser;
        this.server = server;
        this.wire = wire;
        this.connector = connector;
        this.worker = worker;
        this.reconnectInterval = reconnectInterval;
        this.requestBytesMax = requestBytesMax;
        this.sentNanos = new long[pipeline];
        this.sentOps = new byte[pipeline];
        this.sentKeys = new long[pipeline];
        long wanted = (long) pipeline * requestBytesMax;
        this.writeBuffer = ByteBuffer.allocateDirect(
                (int) Math.max(requestBytesMax, Math.min(wanted, WRITE_BUFFER_BYTES_MAX)));
    }

    void register(Selector selector) throws IOException {
        key = wire.socket().register(selector, SelectionKey.OP_READ, this);
    }

    int inFlight() {
        return inFlight;
    }

    void onReady(int readyOps) throws IOException {
        if ((readyOps & SelectionKey.OP_WRITE) != 0) {
            flush();
        }
        if ((readyOps & SelectionKey.OP_READ) != 0) {
            read();
        }
        if (reconnectInterval > 0 && repliesOnThisSocket >= reconnectInterval && inFlight == 0) {
            // The next request is stamped before the new connection's connect and handshake: its
            // latency is what a client opening a connection for it would see.
            long startNanos = System.nanoTime();
            reconnect();
            fillAndFlush(startNanos);
            return;
        }
        fillAndFlush(System.nanoTime());
    }

    /**
     * Replaces the socket, blocking this worker for the connect and handshake (bounded by the
     * connect timeout): handshake-rate runs measure exactly that work, one handshake per thread at a time.
     */
    private void reconnect() throws IOException {
        Selector selector = key.selector();
        wire.close();
        wire = connector.open(server);
        key = wire.socket().register(selector, SelectionKey.OP_READ, this);
        writeInterest = false;
        issuedOnThisSocket = 0;
        repliesOnThisSocket = 0;
        worker.stats.connectionsOpened++;
    }

    private void read() throws IOException {
        // Past the cap only while TLS holds whole records already read: the selector won't wake for those.
        for (int i = 0; i < READS_PER_WAKEUP_MAX || wire.inputBuffered(); i++) {
            int n = wire.read(readBuffer);
            if (n < 0) {
                throw new EOFException(describe() + ": server closed the connection with "
                        + inFlight + " requests in flight");
            }
            if (n == 0) {
                return;
            }
            readNanos = System.nanoTime();
            lastProgressNanos = readNanos;
            readBuffer.flip();
            parser.parse(readBuffer, this);
            readBuffer.clear();
            if (n < READ_BUFFER_BYTES && !wire.inputBuffered()) {
                return; // the socket is very likely drained; don't pay for a read that returns 0
            }
        }
    }

    @Override
    public void onReply(ReplyKind kind, int valueCount, byte[] line, int lineLength) throws IOException {
        if (inFlight == 0) {
            throw new ReplyFormatException(describe() + ": reply with no request in flight (out of sync): "
                    + ReplyParser.text(line, lineLength));
        }
        int slot = head;
        head = head + 1 == sentOps.length ? 0 : head + 1;
        inFlight--;
        repliesOnThisSocket++;
        assert inFlight >= 0 && head >= 0 && head < sentOps.length;
        worker.onReply(this, sentOps[slot], sentKeys[slot], sentNanos[slot], readNanos, kind, valueCount, line, lineLength);
    }

    /** Tops the pipeline up to its depth (as far as the worker allows) and writes what is pending. */
    void fillAndFlush(long now) throws IOException {
        int before = inFlight;
        while (inFlight < sentOps.length && writeBuffer.remaining() >= requestBytesMax
                && (reconnectInterval == 0 || issuedOnThisSocket < reconnectInterval)) {
            byte op = worker.issue(now, writeBuffer);
            if (op < 0) {
                break;
            }
            int tail = head + inFlight;
            if (tail >= sentOps.length) {
                tail -= sentOps.length;
            }
            sentOps[tail] = op;
            sentKeys[tail] = worker.issuedKey();
            // Stamped now, written just below: latency counts from when the request left this process,
            // plus any time it waited here behind a full socket buffer (that wait is real).
            sentNanos[tail] = now;
            inFlight++;
            issuedOnThisSocket++;
        }
        assert inFlight <= sentOps.length : "pipeline depth exceeded";
        if (before == 0 && inFlight > 0) {
            lastProgressNanos = now;
        }
        if (writeBuffer.position() > 0 || wire.outputPending()) {
            flush();
        }
    }

    private void flush() throws IOException {
        writeBuffer.flip();
        wire.write(writeBuffer);
        writeBuffer.compact();
        boolean pending = writeBuffer.position() > 0 || wire.outputPending();
        if (pending != writeInterest) {
            key.interestOps(pending ? SelectionKey.OP_READ | SelectionKey.OP_WRITE : SelectionKey.OP_READ);
            writeInterest = pending;
        }
    }

    void checkReadTimeout(long now, long readTimeoutNanos) throws SocketTimeoutException {
        if (inFlight > 0 && now - lastProgressNanos > readTimeoutNanos) {
            throw new SocketTimeoutException(describe() + ": no reply within "
                    + readTimeoutNanos / 1_000_000 + " ms (" + inFlight + " requests in flight)");
        }
    }

    void close() {
        wire.close();
    }

    String describe() {
        return "connection " + id + " to " + server;
    }
}
