package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class RequestEncoderTest {

    @Test
    void encodesGet() {
        RequestEncoder encoder = new RequestEncoder("key:", 3, 1);
        assertEquals("get key:0\r\n", encode(b -> encoder.encodeGet(b, 0)));
        assertEquals("get key:1234567\r\n", encode(b -> encoder.encodeGet(b, 1234567)));
        assertEquals("get key:" + Long.MAX_VALUE + "\r\n", encode(b -> encoder.encodeGet(b, Long.MAX_VALUE)));
    }

    @Test
    void encodesSetWithSeededValue() {
        RequestEncoder encoder = new RequestEncoder("k", 5, 7);
        String set = encode(b -> encoder.encodeSet(b, 42));
        assertTrue(set.matches("set k42 0 0 5\r\n[a-z]{5}\r\n"), set);
        assertEquals(set, encode(b -> new RequestEncoder("k", 5, 7).encodeSet(b, 42)), "same seed, same bytes");
        assertEquals("set k9 0 0 0\r\n\r\n", encode(b -> new RequestEncoder("k", 0, 1).encodeSet(b, 9)));
    }

    @Test
    void longestRequestFitsItsBound() {
        RequestEncoder encoder = new RequestEncoder("key:", 100, 1);
        ByteBuffer buffer = ByteBuffer.allocate(encoder.requestBytesMax());
        encoder.encodeSet(buffer, Long.MAX_VALUE);
        assertEquals(0, buffer.remaining());
    }

    private static String encode(java.util.function.Consumer<ByteBuffer> body) {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        body.accept(buffer);
        buffer.flip();
        return StandardCharsets.US_ASCII.decode(buffer).toString();
    }
}
