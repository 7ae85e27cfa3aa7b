package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static io.raftcached.protocol.Wire.bytes;
import static io.raftcached.protocol.Wire.decoderReplies;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Memory stays bounded whatever a client sends. Each test streams far more than the test JVM's
 * heap (-Xmx512m) could hold if the decoder buffered it, in 64 KiB reads as Netty delivers them, and
 * checks the decoder's cumulation buffer after every read.
 */
class DecoderMemoryBoundsTest {
    private static final int READ_BYTES = 64 * 1024;
    private static final long HUNDRED_MIB = 100L * 1024 * 1024;

    /** Streams {@code total} bytes of {@code fill} and returns the largest buffered size seen. */
    private static int stream(EmbeddedChannel ch, long total, byte fill) {
        byte[] chunk = new byte[READ_BYTES];
        Arrays.fill(chunk, fill);
        TextProtocolDecoder decoder = ch.pipeline().get(TextProtocolDecoder.class);
        int maxBuffered = 0;
        for (long sent = 0; sent < total; sent += chunk.length) {
            ch.writeInbound(Unpooled.wrappedBuffer(chunk));
            maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes());
        }
        return maxBuffered;
    }

    private static void write(EmbeddedChannel ch, String s) {
        ch.writeInbound(Unpooled.wrappedBuffer(bytes(s)));
    }

    @Test
    void garbageWithoutNewlinesClosesAndIsNotBuffered() {
        EmbeddedChannel ch = Wire.channel();
        int maxBuffered = stream(ch, HUNDRED_MIB, (byte) 'x');
        List<Request> out = Wire.drain(ch);
        assertEquals("<CLOSE>", decoderReplies(out));
        assertTrue(maxBuffered <= READ_BYTES, "buffered " + maxBuffered);
        ch.finishAndReleaseAll();
    }

    @Test
    void aTwoGigabyteDeclaredLengthIsSwallowedWithoutAllocation() {
        EmbeddedChannel ch = Wire.channel();
        // memcached 1.6.18 answers "SERVER_ERROR object too large for cache" and discards the block
        write(ch, "set k 0 0 2147483645\r\n");
        int maxBuffered = stream(ch, HUNDRED_MIB, (byte) 'v');
        assertEquals("SERVER_ERROR object too large for cache\r\n", decoderReplies(Wire.drain(ch)));
        assertEquals(0, maxBuffered);
        ch.finishAndReleaseAll();
    }

    @Test
    void theSwallowEndsExactlyAfterTheDeclaredBytes() {
        EmbeddedChannel ch = Wire.channel();
        long declared = 20L * 1024 * 1024 + 3; // not a multiple of the read size
        write(ch, "ms big " + declared + " T0\r\n");
        stream(ch, declared + 2 - (declared + 2) % READ_BYTES, (byte) 'v');
        byte[] tail = new byte[(int) ((declared + 2) % READ_BYTES)];
        Arrays.fill(tail, (byte) 'v');
        ch.writeInbound(Unpooled.wrappedBuffer(tail));
        write(ch, "mn\r\n");
        assertEquals("SERVER_ERROR object too large for cache\r\n<META_NOOP>", decoderReplies(Wire.drain(ch)));
        ch.finishAndReleaseAll();
    }

    @Test
    void anAcceptedValueIsCopiedOutAsItArrives() {
        EmbeddedChannel ch = Wire.channel();
        int length = 1000 * 1000;
        write(ch, "set k 0 0 " + length + "\r\n");
        TextProtocolDecoder decoder = ch.pipeline().get(TextProtocolDecoder.class);
        byte[] chunk = new byte[READ_BYTES];
        Arrays.fill(chunk, (byte) 'v');
        int sent = 0;
        while (sent < length) {
            int n = Math.min(chunk.length, length - sent);
            ch.writeInbound(Unpooled.wrappedBuffer(chunk, 0, n));
            sent += n;
            assertEquals(0, decoder.bufferedBytes());
        }
        write(ch, "\r\n");
        List<Request> out = Wire.drain(ch);
        assertEquals(1, out.size());
        assertEquals(length, out.get(0).value().length);
        ch.finishAndReleaseAll();
    }

    @Test
    void aMultigetLineIsBoundedThenClosed() {
        EmbeddedChannel ch = Wire.channel();
        write(ch, "get ");
        int maxBuffered = stream(ch, HUNDRED_MIB, (byte) 'k');
        assertEquals("<CLOSE>", decoderReplies(Wire.drain(ch)));
        assertTrue(maxBuffered <= DecoderConfig.DEFAULT_MAX_MULTIGET_LINE_BYTES + 2 + READ_BYTES,
                "buffered " + maxBuffered);
        ch.finishAndReleaseAll();
    }

    @Test
    void afterCloseEverythingIsDiscarded() {
        EmbeddedChannel ch = Wire.channel();
        write(ch, "quit\r\n");
        int maxBuffered = stream(ch, 10L * 1024 * 1024, (byte) '\n');
        assertEquals("<QUIT>", decoderReplies(Wire.drain(ch)));
        assertEquals(0, maxBuffered);
        ch.finishAndReleaseAll();
    }

    @Test
    void manySmallCommandsInOneReadAreAllDecoded() {
        // pipelining depth is the node's to bound (it stops reading); the decoder keeps no backlog
        ByteBuf many = Unpooled.buffer();
        for (int i = 0; i < 10_000; i++) {
            many.writeBytes(bytes("mn\r\n"));
        }
        EmbeddedChannel ch = Wire.channel();
        ch.writeInbound(many);
        assertEquals(10_000, Wire.drain(ch).size());
        assertEquals(0, ch.pipeline().get(TextProtocolDecoder.class).bufferedBytes());
        ch.finishAndReleaseAll();
    }
}
