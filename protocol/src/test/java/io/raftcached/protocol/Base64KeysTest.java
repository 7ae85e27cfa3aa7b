package io.raftcached.protocol;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * memcached's base64.c semantics. Cases marked "binary" were checked against Debian memcached
 * 1.6.18 with {@code mg <key> b k}, which echoes the decoded key re-encoded.
 */
class Base64KeysTest {

    private static String decode(String s) {
        byte[] b = bytes(s);
        byte[] d = Base64Keys.decode(b, 0, b.length);
        return d == null ? null : text(d);
    }

    @Test
    void decodesStandardBase64() {
        assertEquals("foo", decode("Zm9v"));
        assertEquals("fo", decode("Zm8="));        // binary: EN kZm8= b
        assertEquals("f", decode("Zg=="));         // binary: EN kZg== b
        assertEquals("foobar", decode("Zm9vYmFy"));
    }

    @Test
    void skipsBytesOutsideTheAlphabet() {
        assertEquals("foo", decode("Zm!9v"));      // binary: mg Zm!9v b k hits key foo
        assertEquals("foo", decode("Z m9v\t"));
    }

    @Test
    void failsLikeMemcached() {
        assertNull(decode("Zm9"));                 // binary: CLIENT_ERROR error decoding key
        assertNull(decode("!!!!"));                // binary: error decoding key
        assertNull(decode("Z==="));                // binary: error decoding key
        assertNull(decode("===="));
        assertNull(decode("Zm9vYg==garbage"));     // binary: 15 alphabet bytes
        assertNull(decode(""));
    }

    @Test
    void stopsAfterTheFirstPaddedBlock() {
        assertEquals("f", decode("Zg==Zm9v"));
    }

    @Test
    void encodesWithPadding() {
        assertEquals("AAEC/w==", text(Base64Keys.encode(new byte[]{0, 1, 2, (byte) 0xff})));
        assertEquals("Zm9v", text(Base64Keys.encode(bytes("foo"))));
        assertEquals("Zm8=", text(Base64Keys.encode(bytes("fo"))));
        assertEquals("", text(Base64Keys.encode(new byte[0])));
    }

    @Test
    void roundTripsAllByteValues() {
        byte[] all = new byte[256];
        for (int i = 0; i < 256; i++) {
            all[i] = (byte) i;
        }
        byte[] enc = Base64Keys.encode(all);
        assertArrayEquals(all, Base64Keys.decode(enc, 0, enc.length));
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] b) {
        return new String(b, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
