package io.raftcached.it.jepsen;

import io.raftcached.it.TextClient;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One raw memcached text-protocol connection with explicit connect and read timeouts: a cut link
 * stalls TCP rather than resetting it, so nothing here may wait without a bound. After any
 * timeout or I/O error the connection is useless (a late reply would be taken for the next
 * request's), so callers close it and open a fresh one.
 */
final class WorkloadConnection implements AutoCloseable {
    final String host;
    final int port;
    private final TextClient client;

    WorkloadConnection(String host, int port, int connectTimeoutMillis, int readTimeoutMillis) throws IOException {
        this.host = host;
        this.port = port;
        client = new TextClient(host, port, connectTimeoutMillis, readTimeoutMillis);
    }

    void send(String text) throws IOException {
        client.send(text);
    }

    String line() throws IOException {
        return client.line();
    }

    String call(String command) throws IOException {
        return client.call(command);
    }

    private byte[] bytes(int n) throws IOException {
        return client.bytes(n);
    }

    /** A value read by get/gets: its data and CAS unique (0 for get), or null for a miss. */
    record Item(String value, long cas) {}

    /**
     * {@code get}/{@code gets} of one key. Returns null for a miss; throws {@link ServerError} for a
     * SERVER_ERROR (the read was refused) and IOException for anything unexpected.
     */
    Item get(String key, boolean withCas) throws IOException {
        send(getRequest(key, withCas));
        return item(key, withCas);
    }

    static String getRequest(String key, boolean withCas) {
        return (withCas ? "gets " : "get ") + key + "\r\n";
    }

    /** The reply to a {@link #getRequest} sent earlier (the next reply on this connection); as {@link #get}. */
    Item item(String key, boolean withCas) throws IOException {
        String line = line();
        if (line.equals("END")) {
            return null;
        }
        if (line.startsWith("SERVER_ERROR")) {
            throw new ServerError(line);
        }
        String[] header = line.split(" ");
        if (header.length < 4 || !header[0].equals("VALUE") || !header[1].equals(key)) {
            throw new IOException("unexpected reply to get " + key + ": " + line);
        }
        byte[] data = bytes(Integer.parseInt(header[3]) + 2);
        String end = line();
        if (!end.equals("END")) {
            throw new IOException("'" + end + "' after the value of " + key + " instead of END");
        }
        long cas = withCas && header.length >= 5 ? Long.parseLong(header[4]) : 0;
        return new Item(new String(data, 0, data.length - 2, StandardCharsets.ISO_8859_1), cas);
    }

    /** {@code stats <args>} (or plain stats) as a map. */
    Map<String, String> stats(String args) throws IOException {
        send(args.isEmpty() ? "stats\r\n" : "stats " + args + "\r\n");
        Map<String, String> stats = new LinkedHashMap<>();
        for (int i = 0; i < 10_000; i++) {
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
        throw new IOException("stats reply longer than 10000 lines");
    }

    /** A SERVER_ERROR reply: the connection is still in step, the request was answered. */
    static final class ServerError extends IOException {
        private static final long serialVersionUID = 1L;

        ServerError(String line) {
            super(line);
        }

        String line() {
            return getMessage();
        }
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException ignored) {
            // closing a broken socket: nothing to do
        }
    }
}
