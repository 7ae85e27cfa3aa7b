package io.raftcached.bench;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Writes {@code get <key>\r\n} and {@code set <key> 0 0 <n>\r\n<data>\r\n} into a buffer, with keys
 * {@code <prefix><n>}. Everything but the key digits is precomputed, so encoding allocates nothing.
 * Not thread-safe (one scratch array); each worker owns one.
 */
public final class RequestEncoder implements RequestWriter {
    private static final byte[] GET = ascii("get ");
    private static final byte[] SET = ascii("set ");
    private static final byte[] CRLF = ascii("\r\n");
    /** Digits of Long.MAX_VALUE. */
    private static final int KEY_DIGITS_MAX = 19;

    private final byte[] keyPrefix;
    /** {@code " 0 0 <n>\r\n"}: flags 0, no expiry, then the value length. */
    private final byte[] setHeaderTail;
    /** The value followed by CRLF; the same bytes for every set of the run. */
    private final byte[] valueAndCrlf;
    private final byte[] digits = new byte[KEY_DIGITS_MAX + 1];

    public RequestEncoder(String keyPrefix, int valueSizeBytes, long seed) {
        if (valueSizeBytes < 0) {
            throw new IllegalArgumentException("value size must be >= 0: " + valueSizeBytes);
        }
        this.keyPrefix = ascii(keyPrefix);
        this.setHeaderTail = ascii(" 0 0 " + valueSizeBytes + "\r\n");
        this.valueAndCrlf = new byte[valueSizeBytes + CRLF.length];
        System.arraycopy(value(valueSizeBytes, seed), 0, valueAndCrlf, 0, valueSizeBytes);
        System.arraycopy(CRLF, 0, valueAndCrlf, valueSizeBytes, CRLF.length);
    }

    /** The value every set of a run stores, whatever the protocol: printable bytes drawn from {@code seed}. */
    static byte[] value(int valueSizeBytes, long seed) {
        // Printable, seeded bytes: compressible-looking data would flatter nobody, but readable dumps help.
        byte[] value = new byte[valueSizeBytes];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < valueSizeBytes; i++) {
            value[i] = (byte) ('a' + random.nextInt(26));
        }
        return value;
    }

    @Override
    public int requestBytesMax() {
        return SET.length + keyPrefix.length + KEY_DIGITS_MAX + setHeaderTail.length + valueAndCrlf.length;
    }

    @Override
    public void encodeGet(ByteBuffer out, long key) {
        out.put(GET);
        putKey(out, key);
        out.put(CRLF);
    }

    @Override
    public void encodeSet(ByteBuffer out, long key) {
        out.put(SET);
        putKey(out, key);
        out.put(setHeaderTail);
        out.put(valueAndCrlf);
    }

    private void putKey(ByteBuffer out, long key) {
        if (key < 0) {
            throw new IllegalArgumentException("key number must be >= 0: " + key);
        }
        out.put(keyPrefix);
        int start = digits.length;
        long rest = key;
        do {
            digits[--start] = (byte) ('0' + (rest % 10));
            rest /= 10;
        } while (rest != 0);
        out.put(digits, start, digits.length - start);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
