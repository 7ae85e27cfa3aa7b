package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.DropInServers.Target;
import io.raftcached.protocol.RepliesFile;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Hostile and broken input, each on a connection of its own: the reply is memcached's, byte for
 * byte (or a clean close where memcached closes), and afterwards the node, a connection that was
 * already open, and a new connection all keep working. Declared-huge values are swallowed without
 * buffering: the node's resident memory stays flat while 200 MB stream in.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BadInputTest {
    private static final int READ_TIMEOUT_MILLIS = 5_000;
    static final String CLOSE = "<close>";
    private static final String KEY_250 = "k".repeat(250);
    private static final String KEY_251 = "k".repeat(251);

    private DropInServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = DropInServers.start("bad-input");
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    /** One bad input and memcached 1.6.18's exact reply to it; CLOSE at the end: it then closes. */
    record Case(String name, byte[] input, String reply) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Case text(String name, String input, String reply) {
        return new Case(name, input.getBytes(StandardCharsets.ISO_8859_1), reply);
    }

    static List<Case> cases() {
        return List.of(
                text("key of 250 bytes is fine", "set " + KEY_250 + " 0 0 1\r\nx\r\nget " + KEY_250 + "\r\n",
                        "STORED\r\nVALUE " + KEY_250 + " 0 1\r\nx\r\nEND\r\n"),
                text("set with a 251-byte key", "set " + KEY_251 + " 0 0 1\r\nx\r\n",
                        "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
                text("get with a 251-byte key", "get " + KEY_251 + "\r\n", "CLIENT_ERROR bad command line format\r\n"),
                text("bad data chunk", "set bd 0 0 1\r\nxyz\r\nget bd\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n"),
                text("negative length", "set nl 0 0 -1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
                text("length 2147483647", "set hl 0 0 2147483647\r\n", "CLIENT_ERROR bad command line format\r\n"),
                text("length above 2^63", "set hl 0 0 99999999999999999999\r\n", "CLIENT_ERROR bad command line format\r\n"),
                // memcached parses the length into an int32: 4294967296 becomes 0, an empty value
                text("length 4294967296 is an int32 0", "set h0 0 0 4294967296\r\n\r\nget h0\r\n",
                        "STORED\r\nVALUE h0 0 0\r\n\r\nEND\r\n"),
                text("a write pipelined after a get of two values of almost 1 MB is answered in its place",
                        "set nearly-1mb 0 0 1048455\r\n" + "v".repeat(1_048_455) + "\r\nget nearly-1mb nearly-1mb\r\n"
                                + "incr absent 1\r\nmn\r\n",
                        "STORED\r\n" + ("VALUE nearly-1mb 0 1048455\r\n" + "v".repeat(1_048_455) + "\r\n").repeat(2)
                                + "END\r\nNOT_FOUND\r\nMN\r\n"),
                text("value over -I, sent in full", "set big 0 0 2000000\r\n" + "v".repeat(2_000_000) + "\r\nget big\r\n",
                        "SERVER_ERROR object too large for cache\r\nEND\r\n"),
                text("non-numeric incr delta", "incr nn abc\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
                text("negative incr delta", "incr nn -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
                text("incr of a non-numeric value", "set nv 0 0 3\r\nabc\r\nincr nv 1\r\n",
                        "STORED\r\nCLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
                text("non-numeric flags", "set nf abc 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
                text("non-numeric touch exptime", "touch nt abc\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
                text("unknown command", "bogus\r\n", "ERROR\r\n"),
                text("empty line", "\r\n", "ERROR\r\n"),
                text("control bytes", "\u0001\u0002\u00ff\u00fe\r\n", "ERROR\r\n"),
                text("a line that never ends", "x".repeat(3000), CLOSE),
                text("an HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", CLOSE));
    }

    Stream<Arguments> targetsAndCases() {
        return servers.both().flatMap(target -> cases().stream().map(c -> Arguments.of(target.get()[0], c)));
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("targetsAndCases")
    void badInputGetsMemcachedsReply(Target target, Case c) throws Exception {
        DropInServers.assumeRunnable(target);
        try (TextClient witness = new TextClient(target.port())) {
            assertEquals("STORED", witness.call("set witness 0 0 2\r\nok\r\n"));
            String reply = exchange(target.port(), c.input(), c.reply().endsWith(CLOSE));
            assertEquals(escape(c.reply()), escape(reply), c.name());
            assertStillServing(target, witness);
        }
    }

    /**
     * Binary garbage: a first byte of 0x80 is memcached's binary protocol, which raftcached does
     * not speak: it closes at once, sending nothing. (memcached parses a binary header and waits
     * for the rest; it is not compared.)
     */
    @Test
    void binaryGarbageClosesCleanly() throws Exception {
        Target target = servers.raftcached();
        Random random = new Random(42);
        for (int round = 0; round < 5; round++) {
            byte[] garbage = new byte[4096];
            random.nextBytes(garbage);
            garbage[0] = (byte) 0x80;
            try (TextClient witness = new TextClient(target.port())) {
                assertEquals("STORED", witness.call("set witness 0 0 2\r\nok\r\n"));
                assertEquals(CLOSE, exchange(target.port(), garbage, true), "round " + round);
                assertStillServing(target, witness);
            }
        }
    }

    /**
     * Where raftcached differs on purpose: memcached drops replies still queued from the same read
     * when it closes on an over-long line; raftcached sends them first, in order.
     */
    @Test
    void repliesBeforeAnOverlongLineAreSent() throws Exception {
        Target target = servers.raftcached();
        String reply = exchange(target.port(), ("version\r\n" + "set ".repeat(10) + "y".repeat(3000))
                .getBytes(StandardCharsets.US_ASCII), true);
        assertEquals("VERSION 1.6.18\r\n" + CLOSE, reply);
    }

    /** Random bytes cut into short lines (no 0x80 first, no over-long line): the same bytes back as memcached's. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void textGarbageAnswersLikeMemcached(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        Random random = new Random(1234);
        ByteArrayOutputStream garbage = new ByteArrayOutputStream();
        for (int line = 0; line < 40; line++) {
            byte[] bytes = new byte[1 + random.nextInt(100)];
            random.nextBytes(bytes);
            for (int i = 0; i < bytes.length; i++) {
                if (bytes[i] == '\n' || bytes[i] == 0 || bytes[i] == (byte) 0x80) {
                    bytes[i] = 'x';
                }
            }
            garbage.write(bytes);
            garbage.write('\n');
        }
        try (TextClient witness = new TextClient(target.port())) {
            String reply = exchange(target.port(), garbage.toByteArray(), false);
            assertEquals("ERROR\r\n".repeat(40), reply);
            assertStillServing(target, witness);
        }
    }

    Stream<Arguments> targets() {
        return servers.both();
    }

    /**
     * A value declared at 2,000,000,000 bytes is refused at once and its data swallowed as it
     * arrives: 200 MB streamed in do not grow the node's resident set by more than a few tens of MB.
     */
    @Test
    void hugeDeclaredValueIsSwallowedWithoutBuffering() throws Exception {
        Target target = servers.raftcached();
        streamAfter(target, "set warm 0 0 2000000000\r\n", 20L << 20);   // JIT, buffers, heap reach their working size
        long rssBeforeKb = residentKb(target.pid());
        try (TextClient witness = new TextClient(target.port());
                Socket socket = connect(target.port())) {
            socket.getOutputStream().write("set huge 0 0 2000000000\r\n".getBytes(StandardCharsets.US_ASCII));
            long peakKb = stream(socket, 200L << 20, target.pid());
            long rssAfterKb = residentKb(target.pid());
            assertTrue(peakKb - rssBeforeKb < 48 * 1024, "resident set grew from " + rssBeforeKb + " kB to a peak of "
                    + peakKb + " kB while swallowing 200 MB");
            assertTrue(rssAfterKb - rssBeforeKb < 48 * 1024, "resident set " + rssBeforeKb + " -> " + rssAfterKb + " kB");
            // memcached answers once the whole declared value has been swallowed; raftcached at once
            socket.setSoTimeout(READ_TIMEOUT_MILLIS);
            assertEquals("SERVER_ERROR object too large for cache\r\n", readLine(socket.getInputStream()));
            assertStillServing(target, witness);
        }
    }

    /**
     * Declared lengths memcached cannot take as a value: 2147483647 is refused as a bad command
     * line, 4294967296 becomes an empty value whose missing "\r\n" is a bad data chunk; either way
     * the streamed bytes are then a line that never ends, and the connection closes. The node
     * neither buffers them nor stops serving others.
     */
    @Test
    void hugeInvalidLengthsCloseWithoutBuffering() throws Exception {
        Target target = servers.raftcached();
        for (String header : List.of("set h1 0 0 2147483647\r\n", "set h2 0 0 4294967296\r\n", "set h3 0 0 4294967297\r\n")) {
            long rssBeforeKb = residentKb(target.pid());
            try (TextClient witness = new TextClient(target.port())) {
                String reply = streamAfter(target, header, 200L << 20);
                assertTrue(List.of("CLIENT_ERROR bad command line format\r\n", "CLIENT_ERROR bad data chunk\r\n", "")
                        .contains(reply), header + " answered " + escape(reply));
                assertTrue(residentKb(target.pid()) - rssBeforeKb < 48 * 1024, header + " grew the resident set");
                assertStillServing(target, witness);
            }
        }
    }

    // --- helpers ----------------------------------------------------------------------------

    /** A set/get on the connection opened before the bad input, and a version on a new one. */
    static void assertStillServing(Target target, TextClient witness) throws IOException {
        assertEquals("STORED", witness.call("set witness 0 0 5\r\nfresh\r\n"), target + ": the open connection");
        assertEquals("VALUE witness 0 5", witness.call("get witness\r\n"));
        assertEquals("fresh", witness.line());
        assertEquals("END", witness.line());
        try (TextClient fresh = new TextClient(target.port())) {
            assertEquals("VERSION 1.6.18", fresh.call("version\r\n"), target + ": a new connection");
        }
    }

    static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        socket.connect(new InetSocketAddress("127.0.0.1", port), READ_TIMEOUT_MILLIS);
        socket.setSoTimeout(READ_TIMEOUT_MILLIS);
        return socket;
    }

    /**
     * Sends {@code input} on a new connection and returns everything the server sent: up to its
     * close (expectClose, marked with CLOSE), or else up to the reply of an {@code mn} sent after it.
     */
    static String exchange(int port, byte[] input, boolean expectClose) throws IOException {
        try (Socket socket = connect(port)) {
            OutputStream out = socket.getOutputStream();
            try {
                out.write(input);
                if (!expectClose) {
                    out.write("mn\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
            } catch (IOException closedWhileWriting) {
                // the server closed before reading all of it; what it sent is read below
            }
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[65536];
            long deadline = System.nanoTime() + READ_TIMEOUT_MILLIS * 1_000_000L;
            while (System.nanoTime() < deadline) {
                String text = got.toString(StandardCharsets.ISO_8859_1);
                if (!expectClose && text.endsWith("MN\r\n")) {
                    return text.substring(0, text.length() - 4);
                }
                int n;
                try {
                    n = in.read(buffer);
                } catch (SocketTimeoutException open) {
                    return text + "<still open>";
                } catch (IOException reset) {
                    n = -1;
                }
                if (n < 0) {
                    return text + CLOSE;
                }
                got.write(buffer, 0, n);
            }
            return got.toString(StandardCharsets.ISO_8859_1) + "<timeout>";
        }
    }

    /** Sends {@code header} then up to {@code bytes} of 'x' on a new connection; returns what came back before it closed. */
    private static String streamAfter(Target target, String header, long bytes) throws IOException {
        try (Socket socket = connect(target.port())) {
            socket.getOutputStream().write(header.getBytes(StandardCharsets.US_ASCII));
            stream(socket, bytes, target.pid());
            socket.shutdownOutput();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            try {
                socket.getInputStream().transferTo(got);
            } catch (IOException resetOrTimeout) {
                // closed by the server with data unread: a reset
            }
            return got.toString(StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "";
        }
    }

    /** Writes up to {@code bytes} of 'x'; stops early if the server closes. Returns the peak RSS seen, in kB. */
    private static long stream(Socket socket, long bytes, long pid) throws IOException {
        byte[] chunk = new byte[1 << 20];
        Arrays.fill(chunk, (byte) 'x');
        long peakKb = residentKb(pid);
        OutputStream out = socket.getOutputStream();
        for (long sent = 0; sent < bytes; sent += chunk.length) {
            try {
                out.write(chunk);
            } catch (IOException closedByServer) {
                break;
            }
            if ((sent >> 20) % 16 == 0) {
                peakKb = Math.max(peakKb, residentKb(pid));
            }
        }
        out.flush();
        return Math.max(peakKb, residentKb(pid));
    }

    static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int i = 0; i < 4096; i++) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            line.write(b);
            if (b == '\n') {
                break;
            }
        }
        return line.toString(StandardCharsets.ISO_8859_1);
    }

    /** VmRSS of a process, from /proc. */
    static long residentKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IOException("no VmRSS for pid " + pid);
    }

    private static String escape(String text) {
        return RepliesFile.escape(text.replace(CLOSE, "\u0000CLOSE")).replace("\\x00CLOSE", CLOSE);
    }
}
