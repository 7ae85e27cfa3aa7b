package io.raftcached.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/**
 * What a {@link BenchConnection} reads and writes through, non-blocking: the socket itself
 * ({@link PlainWire}) or TLS over it ({@link TlsWire}).
 */
interface Wire {
    /** The socket, for the selector. */
    SocketChannel socket();

    /** Reads what has arrived into {@code dst} (fill mode); 0 if nothing yet, -1 at the end of the stream. */
    int read(ByteBuffer dst) throws IOException;

    /** Takes what it can of {@code src} without blocking, and sends bytes pending from earlier calls. */
    void write(ByteBuffer src) throws IOException;

    /** Bytes taken by {@link #write} but not on the socket yet: the connection must wait for OP_WRITE. */
    boolean outputPending();

    /** Bytes read from the socket that a further {@link #read} can return without the socket being readable. */
    boolean inputBuffered();

    void close();
}
