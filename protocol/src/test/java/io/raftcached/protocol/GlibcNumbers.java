package io.raftcached.protocol;

import io.raftcached.util.SafeNumbers;
import java.math.BigInteger;

/**
 * An oracle for {@link SafeNumbers}, written from memcached 1.6.18's util.c ({@code safe_strtol},
 * {@code safe_strtoul}, {@code safe_strtoull}) and glibc's base-10 {@code strtol}/{@code strtoull}
 * on a 64-bit build, with {@link BigInteger} arithmetic instead of overflow tracking. A token ends
 * where memcached's tokenizer put its NUL. Each method returns null where memcached's returns false.
 */
final class GlibcNumbers {
    private GlibcNumbers() {
    }

    private static final BigInteger TWO_TO_64 = BigInteger.ONE.shiftLeft(64);
    private static final BigInteger UNSIGNED_LONG_MAX = TWO_TO_64.subtract(BigInteger.ONE);
    private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
    private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

    /** {@code safe_strtol}: strtol into a long, then stored into an int32_t. */
    static Integer safeStrtol(byte[] b, int from, int to) {
        BigInteger v = strto(b, from, to, false);
        return v == null ? null : v.intValue();
    }

    /** {@code safe_strtoul}: strtoul (64-bit) with the '-' check, stored into a uint32_t. */
    static Integer safeStrtoul(byte[] b, int from, int to) {
        Long v = safeStrtoull(b, from, to);
        return v == null ? null : (int) v.longValue();
    }

    /** {@code safe_strtoull}. */
    static Long safeStrtoull(byte[] b, int from, int to) {
        BigInteger v = strto(b, from, to, true);
        if (v == null) {
            return null;
        }
        long value = v.longValue();
        if (value < 0) {
            // "(long long) ull < 0" and strchr(str, '-'): the whole token, not only the digits
            for (int i = from; i < to; i++) {
                if (b[i] == '-') {
                    return null;
                }
            }
        }
        return value;
    }

    /**
     * glibc's conversion and memcached's end check: the value, or null for "no digits", ERANGE, or
     * an end pointer that is neither the token's end nor a C-locale space.
     */
    private static BigInteger strto(byte[] b, int from, int to, boolean unsigned) {
        int i = from;
        while (i < to && isSpace(b[i])) {
            i++;
        }
        boolean negative = false;
        if (i < to && (b[i] == '+' || b[i] == '-')) {
            negative = b[i] == '-';
            i++;
        }
        int digitsFrom = i;
        while (i < to && b[i] >= '0' && b[i] <= '9') {
            i++;
        }
        if (i == digitsFrom) {
            return null; // endptr == str
        }
        if (i < to && !isSpace(b[i])) {
            return null;
        }
        BigInteger magnitude = new BigInteger(new String(b, digitsFrom, i - digitsFrom, java.nio.charset.StandardCharsets.US_ASCII));
        if (unsigned) {
            if (magnitude.compareTo(UNSIGNED_LONG_MAX) > 0) {
                return null; // ERANGE
            }
            return negative ? TWO_TO_64.subtract(magnitude).mod(TWO_TO_64) : magnitude;
        }
        BigInteger value = negative ? magnitude.negate() : magnitude;
        if (value.compareTo(LONG_MIN) < 0 || value.compareTo(LONG_MAX) > 0) {
            return null; // ERANGE
        }
        return value;
    }

    /** C-locale isspace(). */
    private static boolean isSpace(byte c) {
        return c == ' ' || (c >= 0x09 && c <= 0x0d);
    }
}
