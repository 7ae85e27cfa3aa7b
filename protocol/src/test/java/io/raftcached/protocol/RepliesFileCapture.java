package io.raftcached.protocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Re-captures {@code memcached-1.6.18-replies.txt}: replays every {@code >} line of the file
 * against a running memcached and rewrites the {@code <} lines from what it answers, templated
 * (see {@link RepliesFile#template}). Start a fresh server first, because some cases depend on a
 * clean cache:
 * <pre>
 *   memcached -u nobody -l 127.0.0.1 -p 22199 -U 0 &amp;
 *   java -cp target/test-classes:... io.raftcached.protocol.RepliesFileCapture 22199 \
 *        src/test/resources/memcached-1.6.18-replies.txt
 * </pre>
 * Review the diff: a CAS placeholder's number is the order of first appearance within its case.
 */
public final class RepliesFileCapture {
    private RepliesFileCapture() {
    }

    /**
     * Sent after each write: its reply marks the end of the write's reply without waiting for
     * silence, so captures are fast and TTLs do not tick. A miss on a key no case uses changes no
     * state.
     */
    static final String SENTINEL = "mg __replies_file_sentinel__ k Oend\r\n";
    static final String SENTINEL_REPLY = "EN k__replies_file_sentinel__ Oend\r\n";
    /** Upper bound on one reply; a write whose reply never completes fails the capture. */
    static final int REPLY_TIMEOUT_MILLIS = 5000;

    public static void main(String[] args) throws IOException {
        int port = Integer.parseInt(args[0]);
        Path file = Path.of(args[1]);
        RepliesFile.Parsed parsed = RepliesFile.parse(Files.readString(file, StandardCharsets.UTF_8));
        List<RepliesFile.Case> captured = new ArrayList<>();
        for (RepliesFile.Case c : parsed.cases()) {
            captured.add(capture(port, c));
            System.out.println("captured " + c.name());
        }
        Files.writeString(file, RepliesFile.format(new RepliesFile.Parsed(parsed.preamble(), captured)),
                StandardCharsets.UTF_8);
    }

    /** Empties the cache before a case, so cases neither depend on each other nor on earlier runs. */
    static void flushAll(int port) throws IOException {
        try (Connection conn = new Connection(port)) {
            String reply = conn.exchange("flush_all\r\n".getBytes(StandardCharsets.ISO_8859_1));
            if (!reply.equals("OK\r\n")) {
                throw new IOException("flush_all answered " + reply);
            }
        }
    }

    static RepliesFile.Case capture(int port, RepliesFile.Case c) throws IOException {
        flushAll(port);
        Map<String, String> casNames = new HashMap<>();
        Map<String, String> bound = new HashMap<>();
        List<RepliesFile.Step> steps = new ArrayList<>();
        try (Connection conn = new Connection(port)) {
            for (RepliesFile.Step s : c.steps()) {
                if (conn.closed) {
                    throw new IllegalStateException(c.name() + ": request after the connection closed");
                }
                String reply = conn.exchange(RepliesFile.renderSend(s.send(), bound, System.currentTimeMillis() / 1000));
                List<String> lines = RepliesFile.template(reply, conn.closed, casNames);
                casNames.forEach((value, name) -> bound.put("cas:" + name, value));
                steps.add(new RepliesFile.Step(s.send(), lines));
            }
        }
        return new RepliesFile.Case(c.name(), c.header(), steps);
    }

    /** A plain blocking socket; a write's reply ends at the sentinel's reply or at close. */
    static final class Connection implements AutoCloseable {
        private final Socket socket = new Socket();
        boolean closed;

        Connection(int port) throws IOException {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            socket.setSoTimeout(REPLY_TIMEOUT_MILLIS);
        }

        /** Sends {@code bytes} then the sentinel; returns the reply to {@code bytes} alone. */
        String exchange(byte[] bytes) throws IOException {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().write(SENTINEL.getBytes(StandardCharsets.ISO_8859_1));
            socket.getOutputStream().flush();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buf = new byte[65536];
            while (true) {
                String text = new String(got.toByteArray(), StandardCharsets.ISO_8859_1);
                if (text.endsWith(SENTINEL_REPLY)) {
                    return text.substring(0, text.length() - SENTINEL_REPLY.length());
                }
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException slow) {
                    throw new IOException("no complete reply within " + REPLY_TIMEOUT_MILLIS + " ms: " + text);
                } catch (IOException reset) {
                    n = -1;
                }
                if (n < 0) {
                    closed = true;
                    return text;
                }
                got.write(buf, 0, n);
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
