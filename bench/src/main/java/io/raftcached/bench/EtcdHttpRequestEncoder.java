package io.raftcached.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Writes etcd v3 requests for its JSON gateway (grpc-gateway, served on the client port by etcd 3.4):
 * a set is {@code POST /v3/kv/put} with {@code {"key":"<base64>","value":"<base64>"}}, a get is
 * {@code POST /v3/kv/range} with {@code {"key":"<base64>"}}. HTTP/1.1, so the connection stays open.
 * Keys are {@code <prefix><n>} and the value is {@link RequestEncoder#value}, the same bytes the
 * memcached protocol stores, so both kinds of server hold the same data.
 *
 * <p>Everything but the key is precomputed; the key is base64-encoded in place, so encoding
 * allocates nothing. Not thread-safe (scratch arrays); each worker owns one.
 */
final class EtcdHttpRequestEncoder implements RequestWriter {
    private static final byte[] PUT_HEAD = ascii("POST /v3/kv/put HTTP/1.1\r\n");
    private static final byte[] RANGE_HEAD = ascii("POST /v3/kv/range HTTP/1.1\r\n");
    /** Host is required by HTTP/1.1 and ignored by etcd; the value is not checked. */
    private static final byte[] HEADERS = ascii("Host: etcd\r\nContent-Type: application/json\r\nContent-Length: ");
    private static final byte[] BODY_OPEN = ascii("\r\n\r\n{\"key\":\"");
    private static final byte[] RANGE_TAIL = ascii("\"}");
    private static final byte[] BASE64 = ascii("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    /** Digits of Long.MAX_VALUE. */
    private static final int KEY_DIGITS_MAX = 19;
    /** Digits of the longest Content-Length we can produce (an int). */
    private static final int LENGTH_DIGITS_MAX = 10;

    private final byte[] keyPrefix;
    /** {@code ","value":"<base64 value>"}}: the rest of every put body after the key. */
    private final byte[] putTail;
    /** The key being encoded: prefix, then digits. */
    private final byte[] key;
    private final byte[] digits = new byte[LENGTH_DIGITS_MAX + KEY_DIGITS_MAX];

    EtcdHttpRequestEncoder(String keyPrefix, int valueSizeBytes, long seed) {
        this.keyPrefix = ascii(keyPrefix);
        this.key = new byte[this.keyPrefix.length + KEY_DIGITS_MAX];
        System.arraycopy(this.keyPrefix, 0, key, 0, this.keyPrefix.length);
        String value = Base64.getEncoder().encodeToString(RequestEncoder.value(valueSizeBytes, seed));
        this.putTail = ascii("\",\"value\":\"" + value + "\"}");
    }

    @Override
    public int requestBytesMax() {
        return PUT_HEAD.length + HEADERS.length + LENGTH_DIGITS_MAX + BODY_OPEN.length + base64Length(key.length)
                + putTail.length;
    }

    @Override
    public void encodeGet(ByteBuffer out, long key) {
        encode(out, RANGE_HEAD, key, RANGE_TAIL);
    }

    @Override
    public void encodeSet(ByteBuffer out, long key) {
        encode(out, PUT_HEAD, key, putTail);
    }

    private void encode(ByteBuffer out, byte[] head, long keyNumber, byte[] tail) {
        int keyLength = keyPrefix.length + putDigits(keyNumber, key, keyPrefix.length);
        // Body: {"key":" + base64(key) + tail; BODY_OPEN also carries the blank line ending the headers.
        int bodyLength = BODY_OPEN.length - 4 + base64Length(keyLength) + tail.length;
        out.put(head);
        out.put(HEADERS);
        int lengthDigits = putDigits(bodyLength, digits, 0);
        out.put(digits, 0, lengthDigits);
        out.put(BODY_OPEN);
        putBase64(out, key, keyLength);
        out.put(tail);
    }

    /** Writes the decimal digits of {@code n} at {@code to[from..]}; returns how many. */
    private static int putDigits(long n, byte[] to, int from) {
        if (n < 0) {
            throw new IllegalArgumentException("key number must be >= 0: " + n);
        }
        int count = 0;
        long rest = n;
        do {
            count++;
            rest /= 10;
        } while (rest != 0);
        rest = n;
        for (int i = from + count - 1; i >= from; i--) {
            to[i] = (byte) ('0' + rest % 10);
            rest /= 10;
        }
        return count;
    }

    static int base64Length(int bytes) {
        return (bytes + 2) / 3 * 4;
    }

    /** Standard base64 with padding, as etcd's gateway expects for protobuf bytes fields. */
    private static void putBase64(ByteBuffer out, byte[] in, int length) {
        int i = 0;
        for (; i + 3 <= length; i += 3) {
            int bits = (in[i] & 0xff) << 16 | (in[i + 1] & 0xff) << 8 | (in[i + 2] & 0xff);
            out.put(BASE64[bits >>> 18]).put(BASE64[bits >>> 12 & 63]).put(BASE64[bits >>> 6 & 63])
                    .put(BASE64[bits & 63]);
        }
        int left = length - i;
        if (left == 1) {
            int bits = (in[i] & 0xff) << 16;
            out.put(BASE64[bits >>> 18]).put(BASE64[bits >>> 12 & 63]).put((byte) '=').put((byte) '=');
        } else if (left == 2) {
            int bits = (in[i] & 0xff) << 16 | (in[i + 1] & 0xff) << 8;
            out.put(BASE64[bits >>> 18]).put(BASE64[bits >>> 12 & 63]).put(BASE64[bits >>> 6 & 63])
                    .put((byte) '=');
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
