package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.DropInServers.Target;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A client that writes much faster than it reads. Its own node: when the node fails this, it
 * stalls for minutes (see the test), which must not take other test classes down with it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SlowReaderTest {
    private DropInServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = DropInServers.start("slow-reader");
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    Stream<Arguments> targets() {
        return servers.both();
    }

    /**
     * A client that pipelines many gets of a large value and only then starts reading: memcached
     * stops processing the connection's input while its replies cannot be sent, so its memory
     * stays flat and every reply arrives once the client reads. The node must do the same: its
     * output per connection is bounded, the connection is not dropped, and others keep working.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void clientThatDoesNotReadGetsEveryReplyLater(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        int valueBytes = 900_000;
        int gets = 600;   // 540 MB of replies: more than the node's heap and direct memory together
        byte[] value = new byte[valueBytes];
        Arrays.fill(value, (byte) 'b');
        String key = "unread-" + target.name();
        try (TextClient witness = new TextClient(target.port()); Socket socket = BadInputTest.connect(target.port())) {
            OutputStream out = socket.getOutputStream();
            out.write(("set " + key + " 0 0 " + valueBytes + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(value);
            out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            assertEquals("STORED\r\n", BadInputTest.readLine(in));
            long rssBeforeKb = BadInputTest.residentKb(target.pid());
            // The requests are small; they fit the socket buffers while no reply is read.
            out.write(("get " + key + "\r\n").repeat(gets).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(1_500);   // let the server do whatever it does with them
            long rssUnreadKb = BadInputTest.residentKb(target.pid());
            BadInputTest.assertStillServing(target, witness);

            String header = "VALUE " + key + " 0 " + valueBytes + "\r\n";
            byte[] expected = new byte[header.length() + valueBytes + "\r\nEND\r\n".length()];
            System.arraycopy(header.getBytes(StandardCharsets.US_ASCII), 0, expected, 0, header.length());
            System.arraycopy(value, 0, expected, header.length(), valueBytes);
            System.arraycopy("\r\nEND\r\n".getBytes(StandardCharsets.US_ASCII), 0, expected, header.length() + valueBytes, 7);
            socket.setSoTimeout(20_000);
            for (int i = 0; i < gets; i++) {
                byte[] reply = in.readNBytes(expected.length);
                assertEquals(expected.length, reply.length, "reply " + i + " of " + gets + " cut short: the connection was closed"
                        + " (resident set " + rssBeforeKb + " -> " + rssUnreadKb + " kB while unread)");
                assertTrue(Arrays.equals(expected, reply), "reply " + i + " differs");
            }
            assertTrue(rssUnreadKb - rssBeforeKb < 96 * 1024, "resident set grew from " + rssBeforeKb + " to "
                    + rssUnreadKb + " kB while the replies were not read");
        }
    }
}
