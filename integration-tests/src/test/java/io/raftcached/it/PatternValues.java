package io.raftcached.it;

import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Random;

/**
 * Values of any length up to {@link #LENGTH_MAX_BYTES}, each a slice of one seeded pool of letters
 * and digits at an offset derived from its key: a test writes gigabytes without keeping them and
 * still checks every byte it reads back, and a value shifted or taken from another key shows. No
 * spaces or line ends, so a value never looks like part of a reply line.
 */
final class PatternValues {
    static final int LENGTH_MAX_BYTES = 2 << 20;
    private static final byte[] POOL = new byte[2 * LENGTH_MAX_BYTES];
    private static final byte[] ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    static {
        Random random = new Random(0x5EED_2024L);
        for (int i = 0; i < POOL.length; i++) {
            POOL[i] = ALPHABET[random.nextInt(ALPHABET.length)];
        }
    }

    private PatternValues() {}

    private static int offset(String key, int lengthBytes) {
        if (lengthBytes < 0 || lengthBytes > LENGTH_MAX_BYTES) {
            throw new IllegalArgumentException("a pattern value has 0.." + LENGTH_MAX_BYTES + " bytes, not " + lengthBytes);
        }
        return Math.floorMod(key.hashCode() * 0x9E3779B1, LENGTH_MAX_BYTES);
    }

    /** The value of {@code key} with {@code lengthBytes} bytes. */
    static byte[] of(String key, int lengthBytes) {
        int from = offset(key, lengthBytes);
        return Arrays.copyOfRange(POOL, from, from + lengthBytes);
    }

    /** Writes the value of {@code key} without copying it. */
    static void write(OutputStream out, String key, int lengthBytes) throws IOException {
        out.write(POOL, offset(key, lengthBytes), lengthBytes);
    }

    /** Whether {@code data[from..from+lengthBytes)} is the value of {@code key}. */
    static boolean matches(String key, byte[] data, int from, int lengthBytes) {
        int start = offset(key, lengthBytes);
        return data.length >= from + lengthBytes
                && Arrays.equals(data, from, from + lengthBytes, POOL, start, start + lengthBytes);
    }
}
