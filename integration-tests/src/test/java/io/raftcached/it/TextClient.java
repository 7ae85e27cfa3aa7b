package io.raftcached.it;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.net.SocketFactory;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;

/**
 * A raw memcached text-protocol connection for tests that pin exact bytes: write what you like,
 * read lines or an exact number of bytes, with explicit connect and read timeouts. Public for the
 * fault suite's workload, which must never wait without a bound either.
 */
public final class TextClient implements AutoCloseable {
    static final int TIMEOUT_MILLIS = 5_000;
    /** Longest reply line accepted; a longer one means the stream is not what the test thinks. */
    private static final int MAX_LINE_BYTES = 64 * 1024;
    /** More lines than any stats reply has (stats sizes with every bucket is the longest). */
    private static final int STATS_LINES_MAX = 100_000;

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    TextClient(int port) throws IOException {
        this("127.0.0.1", port);
    }

    TextClient(String host, int port) throws IOException {
        this(host, port, TIMEOUT_MILLIS, TIMEOUT_MILLIS);
    }

    public TextClient(String host, int port, int connectTimeoutMillis, int readTimeoutMillis) throws IOException {
        this(SocketFactory.getDefault(), host, port, connectTimeoutMillis, readTimeoutMillis);
    }

    /** Over sockets from {@code sockets}: an SSLSocketFactory's make a TLS connection (handshake done here). */
    TextClient(SocketFactory sockets, int port) throws IOException {
        this(sockets, "127.0.0.1", port, TIMEOUT_MILLIS, TIMEOUT_MILLIS);
    }

    private TextClient(SocketFactory sockets, String host, int port, int connectTimeoutMillis, int readTimeoutMillis)
            throws IOException {
        socket = sockets.createSocket();
        try {
            socket.connect(new InetSocketAddress(host, port), connectTimeoutMillis);
            socket.setSoTimeout(readTimeoutMillis);
            socket.setTcpNoDelay(true);
            if (socket instanceof SSLSocket tls) {
                tls.startHandshake();
            }
            in = new BufferedInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Whether the server on 127.0.0.1:{@code port} answers {@code version}; throws while nothing accepts connections there. */
    static boolean answersVersion(int port) throws IOException {
        return answersVersion(SocketFactory.getDefault(), port);
    }

    static boolean answersVersion(SocketFactory sockets, int port) throws IOException {
        try (TextClient client = new TextClient(sockets, port)) {
            return client.call("version\r\n").startsWith("VERSION ");
        }
    }

    /** The TLS session of a connection made with an SSLSocketFactory. */
    SSLSession tlsSession() {
        return ((SSLSocket) socket).getSession();
    }

    public TextClient send(String text) throws IOException {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    TextClient send(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        return this;
    }

    /** One reply line without its CRLF. */
    public String line() throws IOException {
        return line(true);
    }

    /** One line ended by LF, with or without CR before it (memcached's metadump ends item lines with LF). */
    String lineEndedByNewline() throws IOException {
        return line(false);
    }

    private String line(boolean crlfOnly) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed after: " + line.toString(StandardCharsets.ISO_8859_1));
            }
            if (b == '\n' && (previous == '\r' || !crlfOnly)) {
                byte[] bytes = line.toByteArray();
                return new String(bytes, 0, bytes.length - (previous == '\r' ? 1 : 0), StandardCharsets.ISO_8859_1);
            }
            line.write(b);
            if (line.size() > MAX_LINE_BYTES) {
                throw new IOException("reply line longer than " + MAX_LINE_BYTES + " bytes");
            }
            previous = b;
        }
    }

    /** Sends a command and returns its one-line reply. */
    public String call(String command) throws IOException {
        send(command);
        return line();
    }

    /**
     * {@code stats <args>} on this connection, as an ordered map. A connection kept open for it
     * reads stats even when a flood of connections keeps new ones out.
     */
    Map<String, String> stats(String args) throws IOException {
        send(args.isEmpty() ? "stats\r\n" : "stats " + args + "\r\n");
        Map<String, String> stats = new LinkedHashMap<>();
        for (int lines = 0; lines < STATS_LINES_MAX; lines++) {
            String line = line();
            if (line.equals("END")) {
                return stats;
            }
            if (!line.startsWith("STAT ")) {
                throw new IOException("unexpected stats line: " + line);
            }
            int space = line.indexOf(' ', 5);
            stats.put(line.substring(5, space), line.substring(space + 1));
        }
        throw new IOException("stats " + args + " did not end within " + STATS_LINES_MAX + " lines");
    }

    /** Reads exactly n bytes. */
    public byte[] bytes(int n) throws IOException {
        byte[] data = in.readNBytes(n);
        if (data.length != n) {
            throw new IOException("connection closed after " + data.length + " of " + n + " bytes");
        }
        return data;
    }

    /** Whether the server closed the connection (reads EOF) within the timeout. */
    boolean closedByServer() throws IOException {
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true;   // reset
        }
    }

    void readTimeout(int millis) throws IOException {
        socket.setSoTimeout(millis);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
