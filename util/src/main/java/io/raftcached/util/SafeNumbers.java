package io.raftcached.util;

/**
 * memcached's {@code safe_strtol}, {@code safe_strtoul} and {@code safe_strtoull} (util.c), which
 * wrap glibc's base-10 {@code strtol}/{@code strtoul}/{@code strtoull} on a 64-bit build. Reproduced
 * exactly because clients see the difference:
 * <ul>
 *   <li>leading C-locale whitespace (space, \t \n \v \f \r) is skipped and one '+' or '-' accepted;</li>
 *   <li>the digits may be followed by whitespace and anything after it ({@code "7\tx"} is 7);</li>
 *   <li>{@code safe_strtol} parses a 64-bit long and then truncates to int32, so exptime
 *       {@code 4294967297} is 1 and length {@code 4294967296} is 0 (verified on the binary);</li>
 *   <li>{@code safe_strtoul} parses an unsigned 64-bit value, refuses it only when it is negative as a
 *       signed long and the text has a '-', then truncates to uint32: flags {@code 4294967301} are 5,
 *       {@code -0} is 0 and {@code -18446744073709551615} is 1;</li>
 *   <li>{@code safe_strtoull} is the same at 64 bits without truncation.</li>
 * </ul>
 * Failure is signalled with the allocation-free {@link NotANumber#INSTANCE}. The protocol parses
 * command tokens with these; the store parses an item's value for incr and decr with {@link
 * #strtoullOfValue}.
 */
public final class SafeNumbers {
    private SafeNumbers() {
    }

    /** {@code safe_strtol} on a whole token (an admin command's argument); null where memcached refuses it. */
    public static Integer strtol32(String token) {
        byte[] bytes = token.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        try {
            return strtol32(bytes, 0, bytes.length);
        } catch (NotANumber e) {
            return null;
        }
    }

    /** {@code safe_strtoul} on a whole token, as an unsigned 32-bit value; null where memcached refuses it. */
    public static Long strtoul32(String token) {
        byte[] bytes = token.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        try {
            return Integer.toUnsignedLong(strtoul32(bytes, 0, bytes.length));
        } catch (NotANumber e) {
            return null;
        }
    }

    /** Thrown (one shared instance, no stack trace) when memcached's parser would return false. */
    public static final class NotANumber extends Exception {
        static final NotANumber INSTANCE = new NotANumber();
        private static final long serialVersionUID = 1L;

        private NotANumber() {
            super("not a number as memcached parses it", null, false, false);
        }
    }

    /** C locale isspace(). */
    public static boolean isCSpace(byte b) {
        return b == ' ' || (b >= 0x09 && b <= 0x0d);
    }

    /** {@code safe_strtol}: a signed 64-bit parse truncated to int32. */
    public static int strtol32(byte[] buf, int from, int to) throws NotANumber {
        int i = skipSpace(buf, from, to);
        boolean negative = false;
        if (i < to && (buf[i] == '+' || buf[i] == '-')) {
            negative = buf[i] == '-';
            i++;
        }
        int digitsFrom = i;
        long magnitude = 0; // unsigned accumulation, overflow tracked separately
        boolean overflow = false;
        for (; i < to && buf[i] >= '0' && buf[i] <= '9'; i++) {
            int d = buf[i] - '0';
            if (!overflow) {
                // accumulate up to 2^63 (9223372036854775808 = 922337203685477580 * 10 + 8), the largest
                // magnitude a signed long can hold (negated); a positive 2^63 is rejected below
                if (Long.compareUnsigned(magnitude, 922337203685477580L) > 0
                        || (magnitude == 922337203685477580L && d > 8)) {
                    overflow = true;
                } else {
                    magnitude = magnitude * 10 + d;
                }
            }
        }
        checkEnd(buf, digitsFrom, i, to);
        // magnitude <= 2^63 here unless overflow
        if (overflow || (!negative && magnitude == Long.MIN_VALUE)) {
            throw NotANumber.INSTANCE; // ERANGE
        }
        long value = negative ? -magnitude : magnitude;
        return (int) value;
    }

    /** {@code safe_strtoul}: an unsigned 64-bit parse with memcached's '-' check, truncated to uint32. */
    public static int strtoul32(byte[] buf, int from, int to) throws NotANumber {
        return (int) strtoull(buf, from, to);
    }

    /** {@code safe_strtoull}: unsigned 64-bit, returned in a long (read it with the unsigned helpers). */
    public static long strtoull(byte[] buf, int from, int to) throws NotANumber {
        int i = skipSpace(buf, from, to);
        boolean negative = false;
        if (i < to && (buf[i] == '+' || buf[i] == '-')) {
            negative = buf[i] == '-';
            i++;
        }
        int digitsFrom = i;
        long magnitude = 0;
        boolean overflow = false;
        for (; i < to && buf[i] >= '0' && buf[i] <= '9'; i++) {
            int d = buf[i] - '0';
            if (!overflow) {
                // 2^64-1 = 1844674407370955161 * 10 + 5
                if (Long.compareUnsigned(magnitude, 1844674407370955161L) > 0
                        || (magnitude == 1844674407370955161L && d > 5)) {
                    overflow = true;
                } else {
                    magnitude = magnitude * 10 + d;
                }
            }
        }
        checkEnd(buf, digitsFrom, i, to);
        if (overflow) {
            throw NotANumber.INSTANCE; // ERANGE
        }
        long value = negative ? -magnitude : magnitude;
        if (value < 0 && contains(buf, from, to, (byte) '-')) {
            throw NotANumber.INSTANCE;
        }
        return value;
    }

    /**
     * memcached's safe_strtoull over an item's value for incr/decr: C reads the value as a string,
     * so it ends at the first NUL, and the CRLF memcached keeps after the value ends the number.
     * Null where memcached calls the value non-numeric.
     */
    public static Long strtoullOfValue(byte[] value) {
        int end = 0;
        while (end < value.length && value[end] != 0) {
            end++;
        }
        try {
            return strtoull(value, 0, end);
        } catch (NotANumber e) {
            return null;
        }
    }

    private static int skipSpace(byte[] buf, int i, int to) {
        while (i < to && isCSpace(buf[i])) {
            i++;
        }
        return i;
    }

    /** No digits means no conversion; after the digits only the end of the token or a space may follow. */
    private static void checkEnd(byte[] buf, int digitsFrom, int end, int to) throws NotANumber {
        if (end == digitsFrom) {
            throw NotANumber.INSTANCE;
        }
        if (end < to && !isCSpace(buf[end])) {
            throw NotANumber.INSTANCE;
        }
    }

    private static boolean contains(byte[] buf, int from, int to, byte b) {
        for (int i = from; i < to; i++) {
            if (buf[i] == b) {
                return true;
            }
        }
        return false;
    }
}
