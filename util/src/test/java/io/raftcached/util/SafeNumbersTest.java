package io.raftcached.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/**
 * memcached's safe_strto* semantics. The cases marked "binary" were checked end to end against
 * Debian memcached 1.6.18 (e.g. {@code set k 4294967301 0 1} then {@code get k} shows flags 5).
 */
class SafeNumbersTest {

    private static int l32(String s) throws SafeNumbers.NotANumber {
        byte[] b = bytes(s);
        return SafeNumbers.strtol32(b, 0, b.length);
    }

    private static int ul32(String s) throws SafeNumbers.NotANumber {
        byte[] b = bytes(s);
        return SafeNumbers.strtoul32(b, 0, b.length);
    }

    private static long ull(String s) throws SafeNumbers.NotANumber {
        byte[] b = bytes(s);
        return SafeNumbers.strtoull(b, 0, b.length);
    }

    @Test
    void strtolParsesSigned64ThenTruncatesToInt32() throws Exception {
        assertEquals(0, l32("0"));
        assertEquals(-1, l32("-1"));
        assertEquals(7, l32("+7"));
        assertEquals(1, l32("4294967297"));        // binary: exptime 4294967297 gives t1
        assertEquals(0, l32("4294967296"));        // binary: set length 4294967296 stores 0 bytes
        assertEquals(-1, l32("9223372036854775807"));
        assertEquals(0, l32("-9223372036854775808"));
        assertEquals(Integer.MAX_VALUE, l32("2147483647"));
    }

    @Test
    void strtolRejectsOverflowOfLongAndGarbage() {
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("9223372036854775808")); // binary: bad format
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("-9223372036854775809"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("99999999999999999999"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32(""));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("abc"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("1x"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("-"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("+-1"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("0x10"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("\t"));
    }

    @Test
    void whitespaceBeforeAndAfterDigitsIsAccepted() throws Exception {
        // binary: "set s6 7\tx 0 1" stores flags 7; "8\rx" stores flags 8
        assertEquals(7, ul32("7\tx"));
        assertEquals(8, ul32("8\rx"));
        assertEquals(5, l32("\t5"));
        assertEquals(5, l32("\u000b5\u000c"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("5\u0001"));
        assertThrows(SafeNumbers.NotANumber.class, () -> l32("5\u0085"));
    }

    @Test
    void strtoulWrapsNegativesUnlessTheyLookNegativeAndTruncates() throws Exception {
        assertEquals(0, ul32("-0"));                               // binary: flags 0
        assertEquals(5, ul32("4294967301"));                       // binary: flags 5
        assertEquals(0, ul32("4294967296"));                       // binary: flags 0
        assertEquals(-1, ul32("4294967295"));
        assertEquals(-1, ul32("18446744073709551615"));            // binary: flags 4294967295
        assertEquals(1, ul32("-18446744073709551615"));            // binary: flags 1
        assertThrows(SafeNumbers.NotANumber.class, () -> ul32("-1")); // binary: bad format
        assertThrows(SafeNumbers.NotANumber.class, () -> ul32("18446744073709551616"));
    }

    @Test
    void strtoullIsUnsigned64() throws Exception {
        assertEquals(-1L, ull("18446744073709551615"));
        assertEquals(Long.MIN_VALUE, ull("9223372036854775808"));
        assertEquals(6 - 5, ull("-18446744073709551615"));         // binary: incr by it adds 1
        assertEquals(0, ull("-0"));
        assertThrows(SafeNumbers.NotANumber.class, () -> ull("-1"));  // binary: invalid numeric delta
        assertThrows(SafeNumbers.NotANumber.class, () -> ull("-9223372036854775808"));
        assertThrows(SafeNumbers.NotANumber.class, () -> ull("18446744073709551616"));
        assertThrows(SafeNumbers.NotANumber.class, () -> ull("184467440737095516150"));
    }

    @Test
    void parsesWithinTheGivenRangeOnly() throws Exception {
        byte[] b = bytes("xx123yy");
        assertEquals(123, SafeNumbers.strtol32(b, 2, 5));
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    @Test
    void aValueEndsAtItsFirstNulAsACStringDoes() {
        assertEquals(12L, SafeNumbers.strtoullOfValue(bytes("12")), "the value's CRLF, not stored here, ends it");
        assertEquals(12L, SafeNumbers.strtoullOfValue(bytes("12\0abc")));
        assertEquals(12L, SafeNumbers.strtoullOfValue(bytes(" 12 x")));
        assertEquals(null, SafeNumbers.strtoullOfValue(bytes("\0 12")));
        assertEquals(null, SafeNumbers.strtoullOfValue(bytes("12x")));
        assertEquals(null, SafeNumbers.strtoullOfValue(bytes("-1")));
        assertEquals(null, SafeNumbers.strtoullOfValue(bytes("18446744073709551616")));
        assertEquals(-1L, SafeNumbers.strtoullOfValue(bytes("18446744073709551615")));
    }
}
