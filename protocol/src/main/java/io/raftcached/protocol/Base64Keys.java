package io.raftcached.protocol;

import java.util.Arrays;

/**
 * Base64 for binary keys (the meta {@code b} flag), with the exact semantics of memcached's
 * base64.c, which are not those of {@link java.util.Base64}:
 * <ul>
 *   <li>decoding skips every byte outside the alphabet (so {@code "Zm!9v"} is {@code "foo"});</li>
 *   <li>it fails when the count of alphabet bytes ('=' included) is zero or not a multiple of 4;</li>
 *   <li>it stops after the first 4-byte block that holds padding, ignoring the rest
 *       ({@code "Zg==Zm9v"} is {@code "f"}), and fails on three or four '=' in that block;</li>
 *   <li>encoding is standard, with '=' padding.</li>
 * </ul>
 */
final class Base64Keys {
    private Base64Keys() {
    }

    private static final byte[] ALPHABET =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final int INVALID = 0x80;
    /** memcached's dtable: alphabet value, 0 for '=', 0x80 for anything else. */
    private static final int[] DECODE = new int[256];

    static {
        Arrays.fill(DECODE, INVALID);
        for (int i = 0; i < ALPHABET.length; i++) {
            DECODE[ALPHABET[i]] = i;
        }
        DECODE['='] = 0;
    }

    /** Decodes {@code src[from, to)}; returns null where memcached's base64_decode returns 0. */
    static byte[] decode(byte[] src, int from, int to) {
        int count = 0;
        for (int i = from; i < to; i++) {
            if (DECODE[src[i] & 0xff] != INVALID) {
                count++;
            }
        }
        if (count == 0 || count % 4 != 0) {
            return null;
        }
        byte[] out = new byte[count / 4 * 3];
        int pos = 0;
        int[] block = new int[4];
        int inBlock = 0;
        int pad = 0;
        for (int i = from; i < to; i++) {
            int v = DECODE[src[i] & 0xff];
            if (v == INVALID) {
                continue;
            }
            if (src[i] == '=') {
                pad++;
            }
            block[inBlock++] = v;
            if (inBlock == 4) {
                out[pos++] = (byte) ((block[0] << 2) | (block[1] >> 4));
                out[pos++] = (byte) ((block[1] << 4) | (block[2] >> 2));
                out[pos++] = (byte) ((block[2] << 6) | block[3]);
                inBlock = 0;
                if (pad != 0) {
                    if (pad == 1) {
                        pos -= 1;
                    } else if (pad == 2) {
                        pos -= 2;
                    } else {
                        return null; // invalid padding
                    }
                    break;
                }
            }
        }
        if (pos == 0) {
            return null; // memcached reports a zero-length result as failure
        }
        return pos == out.length ? out : Arrays.copyOf(out, pos);
    }

    /** Standard base64 with padding, as memcached writes binary keys back. */
    static byte[] encode(byte[] src) {
        byte[] out = new byte[(src.length + 2) / 3 * 4];
        int pos = 0;
        int i = 0;
        for (; src.length - i >= 3; i += 3) {
            int a = src[i] & 0xff, b = src[i + 1] & 0xff, c = src[i + 2] & 0xff;
            out[pos++] = ALPHABET[a >> 2];
            out[pos++] = ALPHABET[((a & 0x03) << 4) | (b >> 4)];
            out[pos++] = ALPHABET[((b & 0x0f) << 2) | (c >> 6)];
            out[pos++] = ALPHABET[c & 0x3f];
        }
        int left = src.length - i;
        if (left > 0) {
            int a = src[i] & 0xff;
            out[pos++] = ALPHABET[a >> 2];
            if (left == 1) {
                out[pos++] = ALPHABET[(a & 0x03) << 4];
                out[pos++] = '=';
            } else {
                int b = src[i + 1] & 0xff;
                out[pos++] = ALPHABET[((a & 0x03) << 4) | (b >> 4)];
                out[pos++] = ALPHABET[(b & 0x0f) << 2];
            }
            out[pos++] = '=';
        }
        return out;
    }
}
