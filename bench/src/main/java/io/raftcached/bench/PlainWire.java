package io.raftcached.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** The socket as it is: no buffering of its own. */
record PlainWire(SocketChannel socket) implements Wire {
    @Override
    public int read(ByteBuffer dst) throws IOException {
        return socket.read(dst);
    }

    @Override
    public void write(ByteBuffer src) throws IOException {
        socket.write(src);
    }

    @Override
    public boolean outputPending() {
        return false;
    }

    @Override
    public boolean inputBuffered() {
        return false;
    }

    @Override
    public void close() {
        Connector.closeQuietly(socket);
    }
}
