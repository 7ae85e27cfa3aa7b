package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The -Y handler on an embedded channel: what memcached 1.6.18 answers to each input (the
 * integration test compares the same with the real memcached), and what it hands on after login.
 */
class AsciiAuthHandlerTest {
    private final NodeStats stats = new NodeStats();
    private EmbeddedChannel channel;

    @BeforeEach
    void connect(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("auth");
        Files.writeString(file, "alice:secret\n");
        channel = new EmbeddedChannel(new AsciiAuthHandler(AuthFile.load(file), stats, 20));
    }

    private String send(String text) {
        channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
        StringBuilder out = new StringBuilder();
        for (ByteBuf reply = channel.readOutbound(); reply != null; reply = channel.readOutbound()) {
            out.append(reply.toString(StandardCharsets.ISO_8859_1));
            reply.release();
        }
        return out.toString();
    }

    private String handedOn() {
        StringBuilder in = new StringBuilder();
        for (ByteBuf bytes = channel.readInbound(); bytes != null; bytes = channel.readInbound()) {
            in.append(bytes.toString(StandardCharsets.ISO_8859_1));
            bytes.release();
        }
        return in.toString();
    }

    @Test
    void everyCommandBeforeLoginIsUnauthenticatedAndTheConnectionStays() {
        for (String command : new String[] {"get a\r\n", "stats\r\n", "mg a v\r\n", "version\r\n", "quit\r\n", "\r\n",
            "shutdown\n", "set a 0 0 x\r\n", "set a 0 -1\r\n", "set a 0 0 -1\r\n", "set a 0 0 4294967296\r\n"}) {
            assertEquals("CLIENT_ERROR unauthenticated\r\n", send(command), command);
        }
        assertTrue(channel.isActive());
        assertEquals("", handedOn());
    }

    @Test
    void aSetWithUserAndPasswordLogsInAndWhatFollowsGoesToTheDecoder() {
        assertEquals("CLIENT_ERROR bad authentication token format\r\n", send("set k 0 0 3\r\nbar\r\n"));
        assertEquals("CLIENT_ERROR authentication failure\r\n", send("set k 0 0 10\r\nalice nope\r\n"));
        assertEquals("CLIENT_ERROR bad command line termination\r\n", send("set k 0 0 3\r\nabcde"));
        assertEquals(1, stats.authErrors.sum());
        assertEquals("STORED\r\n", send("set k 0 0 12 noreply\r\nalice secret\r\nget a\r\nset "));
        assertEquals("get a\r\nset ", handedOn());
        assertNull(channel.pipeline().get(AsciiAuthHandler.class));
        assertEquals(2, stats.authCommands.sum());
        assertEquals(1, stats.authErrors.sum());
    }

    @Test
    void answersToLinesReadTogetherOverwriteEachOtherAsMemcachedsDo() {
        assertEquals("CLIENT_ERROR unauthenticated\r\n", send("get a\r\nget b\r\nmn\r\n"));
        assertEquals("STORED\r\n", send("get a\r\nset k 0 0 12\r\nalice secret\r\n"));
    }

    @Test
    void oneAnswerPerRequestsPerEventPlusOne() {
        assertEquals("CLIENT_ERROR unauthenticated\r\n".repeat(2), send("get a\r\n".repeat(25)));
        assertEquals("CLIENT_ERROR unauthenticated\r\n", send("get a\r\n".repeat(21)));
    }

    @Test
    void aLoneNewlineWaitsForMoreInputAsInMemcached() {
        assertEquals("", send("\n"));
        assertEquals("CLIENT_ERROR unauthenticated\r\n", send("g"));
    }

    @Test
    void aDataBlockMayArriveInPieces() {
        assertEquals("", send("set k 0 0 12\r\nalice "));
        assertEquals("STORED\r\n", send("secret\r\n"));
    }

    @Test
    void aLongTokenIsRefusedAndJunkWithoutNewlineCloses() {
        assertEquals("CLIENT_ERROR auth token too long\r\n", send("set k 0 0 16385\r\n"));
        assertEquals("", send("x".repeat(AsciiAuthHandler.LINE_MAX_BYTES)));
        assertTrue(channel.isActive());
        send("x");
        assertFalse(channel.isActive());
    }
}
