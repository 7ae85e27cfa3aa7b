package io.raftcached.store;

/**
 * memcached's safe_strtoull() over an item's value bytes: optional leading whitespace and sign,
 * decimal digits, then end of value or whitespace; overflow and negative numbers are rejected.
 * The trailing CRLF memcached keeps with values counts as the terminating whitespace.
 */
final class Numbers {
    private Numbers() {}

    /** Returns the parsed value, or null if memcached would call the value non-numeric. */
    static Long parseUnsigned64(byte[] text) {
        int i = 0;
        int length = text.length;
        while (i < length && isSpace(text[i])) {
            i++;
        }
        boolean negative = false;
        if (i < length && (text[i] == '+' || text[i] == '-')) {
            negative = text[i] == '-';
            i++;
        }
        int digitsStart = i;
        long value = 0;
        boolean overflow = false;
        for (; i < length && text[i] >= '0' && text[i] <= '9'; i++) {
            int digit = text[i] - '0';
            // value * 10 + digit must stay below 2^64.
            if (Long.compareUnsigned(value, Long.divideUnsigned(-1L - digit, 10)) > 0) {
                overflow = true;
            }
            value = value * 10 + digit;
        }
        if (i == digitsStart || overflow) {
            return null;   // strtoull: no digits, or ERANGE
        }
        if (i < length && !isSpace(text[i]) && text[i] != 0) {   // C strings also end at NUL
            return null;
        }
        if (negative) {
            // strtoull negates; memcached rejects the result only when it looks negative as signed.
            value = -value;
            if (value < 0) {
                return null;
            }
        }
        return value;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\u000b' || b == '\f' || b == '\r';
    }
}
