package io.raftcached.protocol;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.raftcached.protocol.Wire.assertErrorReply;
import static io.raftcached.protocol.Wire.decode;
import static io.raftcached.protocol.Wire.decoderReplies;
import static io.raftcached.protocol.Wire.one;
import static io.raftcached.protocol.Wire.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Meta commands (mg ms md ma mn me) and their flags. Every expected error line was captured from
 * Debian memcached 1.6.18 sent the same bytes; notice that md and ma word all flag errors
 * "CLIENT_ERROR invalid or duplicate flag" where mg and ms say what went wrong.
 */
class MetaCommandDecoderTest {
    private static final String FLAGS_17 = "v s t c f k h l q u Oop P L I N30 R30 T30";

    // ---- flag parsing (mg wording) ----

    @Test
    void flagsAreKeptInRequestOrder() {
        Request r = one("mg mh1 s v f t c k Oabc h l\r\n");
        assertEquals(CommandType.META_GET, r.type());
        assertEquals("mh1", r.keyString());
        assertEquals("svftckOhl", text(r.meta().order()));
        assertEquals("Oabc", text(r.meta().opaqueToken()));
        assertTrue(r.meta().returnValue());
        assertFalse(r.meta().noReply());
    }

    @Test
    void onlyTheFirstByteOfAFlagCounts() {
        // memcached 1.6.18: "mg k kextra Oxy vvv" on a miss -> "EN kk Oxy"
        Request r = one("mg k kextra Oxy vvv\r\n");
        assertEquals("kOv", text(r.meta().order()));
        assertTrue(r.meta().returnValue());
        // an O alone is an empty opaque, echoed as " O" (memcached: "EN O kk")
        assertEquals("O", text(one("mg k O k\r\n").meta().opaqueToken()));
    }

    @Test
    void numericFlags() {
        MetaFlags f = one("mg k N30 T-1 R4294967297\r\n").meta();
        assertTrue(f.hasVivify());
        assertEquals(30, f.vivifyExptime());
        assertTrue(f.hasTouch());
        assertEquals(-1, f.touchExptime());
        assertTrue(f.hasRecache());
        assertEquals(1, f.recacheExptime());
        MetaFlags s = one("ms k 1 F4294967297 C18446744073709551615 I q MR\r\nx\r\n").meta();
        assertEquals(1, s.clientFlags());  // memcached: "ms md2 2 F4294967297" then "mg md2 f" -> "HD f1"
        assertTrue(s.hasCompareCas());
        assertEquals(-1L, s.compareCas());
        assertTrue(s.invalidate());
        assertTrue(s.noReply());
        assertEquals('R', s.mode());
        MetaFlags a = one("ma k D18446744073709551615 J7 N0 MD\r\n").meta();
        assertEquals(-1L, a.delta());
        assertEquals(7, a.initial());
        assertEquals(1, one("ma k\r\n").meta().delta()); // ma defaults to a delta of one
    }

    @Test
    void flagErrorsOnMg() {
        assertErrorReply("mg k v v\r\n", "CLIENT_ERROR duplicate flag");
        assertErrorReply("mg k x\r\n", "CLIENT_ERROR invalid flag");
        assertErrorReply("mg k Z\r\n", "CLIENT_ERROR invalid flag");
        assertErrorReply("mg k \u0080\r\n", "CLIENT_ERROR duplicate flag"); // bytes >= 127
        assertErrorReply("mg k \u007f\r\n", "CLIENT_ERROR duplicate flag");
        assertErrorReply("mg k Nabc\r\n", "CLIENT_ERROR bad token in command line format");
        assertErrorReply("mg k T\r\n", "CLIENT_ERROR bad token in command line format");
        assertErrorReply("mg k R1x\r\n", "CLIENT_ERROR bad token in command line format");
        assertErrorReply("mg k Cx\r\n", "CLIENT_ERROR bad token in command line format");
        assertErrorReply("mg k Fx\r\n", "CLIENT_ERROR bad command line format");
        assertErrorReply("mg k MSS\r\n", "CLIENT_ERROR incorrect length for M token");
        assertErrorReply("mg k Mxy\r\n", "CLIENT_ERROR incorrect length for M token");
        assertErrorReply("mg k Jx\r\n", "CLIENT_ERROR invalid numeric initial value");
        assertErrorReply("mg k Dx\r\n", "CLIENT_ERROR invalid numeric delta value");
        assertErrorReply("mg k q Tx\r\n", "CLIENT_ERROR bad token in command line format"); // q never hides errors
    }

    @Test
    void theLastArgumentErrorWinsButDuplicateAndInvalidStopAtOnce() {
        assertErrorReply("mg k Tx Jx\r\n", "CLIENT_ERROR invalid numeric initial value");
        assertErrorReply("mg k Tx Tx\r\n", "CLIENT_ERROR duplicate flag");
        assertErrorReply("mg k Tx z\r\n", "CLIENT_ERROR invalid flag");
        assertErrorReply("mg k z Tx\r\n", "CLIENT_ERROR invalid flag");
        assertErrorReply("mg k Tx Fx\r\n", "CLIENT_ERROR bad token in command line format");
    }

    @Test
    void mgLimits() {
        assertErrorReply("mg " + "k".repeat(251) + " v\r\n", "CLIENT_ERROR bad command line format");
        // 17 flags fit (memcached vivified k: "VA 0 s0 t-1 c85 f0 kk h0 l0 Oop W")
        assertEquals(CommandType.META_GET, one("mg k " + FLAGS_17 + "\r\n").type());
        assertErrorReply("mg k " + FLAGS_17 + " Cx\r\n", "CLIENT_ERROR options flags are too long");
        // memcached 1.6.18: "EN Oaaa...(31 a)"
        assertEquals(CommandType.META_GET, one("mg k O" + "a".repeat(31) + "\r\n").type());
        assertErrorReply("mg k O" + "a".repeat(32) + "\r\n", "CLIENT_ERROR opaque token too long");
        assertErrorReply("mg k q O" + "a".repeat(32) + "\r\n", "CLIENT_ERROR opaque token too long");
    }

    @Test
    void unusedButKnownFlagsAreAccepted() {
        // memcached 1.6.18: "mg k M1 I u P L" -> "HD Z" on the vivified k
        MetaFlags f = one("mg k M1 I u P L\r\n").meta();
        assertTrue(f.noLruBump());
        assertEquals('1', f.mode());
    }

    @Test
    void emptyTokensBetweenFlagsAreSkipped() {
        assertEquals("v", text(one("mg k  v\r\n").meta().order()));
    }

    // ---- base64 keys ----

    @Test
    void binaryKeysAreDecodedWhereTheFlagStands() {
        Request r = one("mg Zm9v b k\r\n");
        assertEquals("foo", r.keyString());
        assertTrue(r.meta().keyBinary());
        assertArrayEquals(new byte[]{0, 1, 2, (byte) 0xff}, one("ms AAEC/w== 2 b\r\nhi\r\n").key());
        assertErrorReply("mg Zm9 b k\r\n", "CLIENT_ERROR error decoding key");
        assertErrorReply("mg !!!! b k\r\n", "CLIENT_ERROR error decoding key");
        assertErrorReply("mg Z=== b k\r\n", "CLIENT_ERROR error decoding key");
        assertErrorReply("mg Zm9 b Tx\r\n", "CLIENT_ERROR bad token in command line format");
        assertErrorReply("mg k Tx b\r\n", "CLIENT_ERROR error decoding key");
        // the 250-byte limit applies to the encoded key
        assertErrorReply("mg " + "QUFB".repeat(63) + " b\r\n", "CLIENT_ERROR bad command line format");
        assertEquals(186, one("mg " + "QUFB".repeat(62) + " b\r\n").key().length);
    }

    // ---- E: raftcached follows memcached >= 1.6.21 ----

    @Test
    void explicitNewCasIsAcceptedUnlike1618() {
        // memcached 1.6.18 answers "CLIENT_ERROR invalid flag" to "mg k E5" and "ms me1 1 E5";
        // raftcached accepts E<uint64> on every meta command, as 1.6.21+ do (deliberate deviation)
        MetaFlags f = one("ms me1 1 E18446744073709551615\r\nx\r\n").meta();
        assertTrue(f.hasNewCas());
        assertEquals(-1L, f.newCas());
        assertTrue(one("mg k E5\r\n").meta().hasNewCas());
        assertEquals(5, one("md k E5\r\n").meta().newCas());
        assertEquals(5, one("ma k E5\r\n").meta().newCas());
        assertFalse(one("mg k\r\n").meta().hasNewCas());
        // a bad E argument is worded as in 1.6.30
        Wire.assertDeviatingErrorReply("mg k Ex\r\n", "CLIENT_ERROR bad token in command line format",
                "CLIENT_ERROR invalid flag\r\n");
        assertErrorReply("md k E-1\r\n", "CLIENT_ERROR invalid or duplicate flag");
    }

    // ---- ms ----

    @Test
    void metaSet() {
        Request r = one("ms msb2 2 T30 F5 c k O1\r\nhi\r\n");
        assertEquals(CommandType.META_SET, r.type());
        assertEquals("msb2", r.keyString());
        assertEquals("hi", text(r.value()));
        assertEquals(5, r.clientFlags());
        assertEquals(30, r.exptime());
        assertEquals(CommandType.SET, r.metaSetMode());
        assertEquals("TFckO", text(r.meta().order()));
        assertEquals("x", text(one("ms mv 4294967297 \r\nx\r\n").value())); // memcached: length 1
    }

    @Test
    void metaSetModes() {
        assertEquals(CommandType.SET, one("ms k 1 MS\r\nx\r\n").metaSetMode());
        assertEquals(CommandType.ADD, one("ms k 1 ME\r\nx\r\n").metaSetMode());
        assertEquals(CommandType.APPEND, one("ms k 1 MA\r\nx\r\n").metaSetMode());
        assertEquals(CommandType.PREPEND, one("ms k 1 MP\r\nx\r\n").metaSetMode());
        assertEquals(CommandType.REPLACE, one("ms k 1 MR\r\nx\r\n").metaSetMode());
        // a CAS value turns set and replace into cas; add/append/prepend keep their mode
        assertEquals(CommandType.CAS, one("ms k 1 C5\r\nx\r\n").metaSetMode());
        assertEquals(CommandType.CAS, one("ms k 1 MR C5\r\nx\r\n").metaSetMode());
        assertEquals(CommandType.APPEND, one("ms k 1 MA C5\r\nx\r\n").metaSetMode());
        assertEquals(5, one("ms k 1 MA C5\r\nx\r\n").casUnique());
    }

    @Test
    void metaSetErrorsBeforeTheLengthLeaveTheDataAsACommand() {
        // memcached 1.6.18, each then "ERROR\r\n" for the data line
        Wire.assertReplies("CLIENT_ERROR bad command line format\r\n<SET>", "ms k\r\nset k 0 0 2\r\nhi\r\n");
        Wire.assertReplies("CLIENT_ERROR bad command line format\r\nERROR\r\n", "ms k x\r\nhi\r\n");
        Wire.assertReplies("CLIENT_ERROR bad command line format\r\nERROR\r\n", "ms k -1\r\nhi\r\n");
        Wire.assertReplies("CLIENT_ERROR bad command line format\r\nERROR\r\n", "ms " + "k".repeat(251) + " 2\r\nhi\r\n");
        Wire.assertReplies("CLIENT_ERROR options flags too long\r\nERROR\r\n", "ms k 1 " + FLAGS_17 + "\r\nx\r\n");
        // "ms Zm9v b 1": the length token is "b"
        Wire.assertReplies("CLIENT_ERROR bad command line format\r\nERROR\r\n", "ms Zm9v b 1\r\nx\r\n");
        assertErrorReply("ms\r\n", "ERROR");
    }

    @Test
    void metaSetErrorsAfterTheLengthSwallowTheData() {
        // memcached 1.6.18: the error, then "MN" (the data block was discarded)
        Wire.assertReplies("CLIENT_ERROR duplicate flag\r\n<META_NOOP>", "ms md1 2 T1 T2\r\nhi\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR invalid flag\r\n<META_NOOP>", "ms md1 2 x\r\nhi\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR bad token in command line format\r\n<META_NOOP>", "ms md1 2 Tx\r\nhi\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR bad command line format\r\n<META_NOOP>", "ms md1 2 Fx\r\nhi\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR bad command line format\r\n<META_NOOP>", "ms md1 2 F-1\r\nhi\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR error decoding key\r\n<META_NOOP>", "ms Zm9 3 b k\r\nbaz\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR invalid mode for ms M token\r\n<META_NOOP>", "ms mm3 1 MX\r\nx\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR invalid mode for ms M token\r\n<META_NOOP>", "ms mm3 1 MX q\r\nx\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR invalid mode for ms M token\r\n", "ms mm2 1 Ms\r\nx\r\n");
        Wire.assertReplies("CLIENT_ERROR opaque token too long\r\n<META_NOOP>", "ms k 1 O" + "a".repeat(33) + "\r\nx\r\nmn\r\n");
        // the mode error wins over the opaque one
        Wire.assertReplies("CLIENT_ERROR invalid mode for ms M token\r\n<META_NOOP>", "ms k 1 MX O" + "a".repeat(33) + "\r\nx\r\nmn\r\n");
        // the swallow counts bytes: a short block eats the next command (memcached: then "ERROR")
        Wire.assertReplies("CLIENT_ERROR bad token in command line format\r\nERROR\r\n", "ms sw1 5 Tx\r\nhi\r\nmn\r\n");
    }

    @Test
    void metaSetBadDataChunkIgnoresQ() {
        // memcached 1.6.18: "CLIENT_ERROR bad data chunk\r\nERROR\r\nMN\r\n" with or without q
        Wire.assertReplies("CLIENT_ERROR bad data chunk\r\nERROR\r\n<META_NOOP>", "ms bc1 1\r\nxyz\r\nmn\r\n");
        Wire.assertReplies("CLIENT_ERROR bad data chunk\r\nERROR\r\n<META_NOOP>", "ms bc1 1 q\r\nxyz\r\nmn\r\n");
    }

    @Test
    void metaSetTooLargeUnlinksInEveryModeAndIgnoresQ() {
        String data = "y".repeat(2 * 1024 * 1024);
        // memcached 1.6.18: "ms tl8 2097152 MA" -> SERVER_ERROR, then "get tl8" -> END (unlinked)
        List<Request> out = decode("ms tl8 " + data.length() + " MA\r\n" + data + "\r\nmn\r\n");
        assertEquals("SERVER_ERROR object too large for cache\r\n<META_NOOP>", decoderReplies(out));
        assertEquals("tl8", out.get(0).keyString());
        out = decode("ms tl9 " + data.length() + " q\r\n" + data + "\r\nmn\r\n");
        assertEquals("SERVER_ERROR object too large for cache\r\n<META_NOOP>", decoderReplies(out));
        // the size check sees the decoded key
        int[] keyLength = new int[1];
        Wire.decode(DecoderConfig.memcachedDefaults((k, f, v) -> {
            keyLength[0] = k;
            return true;
        }), Wire.bytes("ms Zm9vYmFy 3 b F9\r\nbaz\r\n"));
        assertEquals(6, keyLength[0]);
    }

    // ---- md ma ----

    @Test
    void metaDelete() {
        Request r = one("md mdh k O5 c q I T30 C7\r\n");
        assertEquals(CommandType.META_DELETE, r.type());
        assertTrue(r.meta().noReply());
        assertTrue(r.meta().invalidate());
        assertEquals(30, r.meta().touchExptime());
        assertEquals(7, r.meta().compareCas());
        // memcached 1.6.18: 16 flags after the key fit, 17 with q too (20 tokens with the terminal)
        assertEquals(CommandType.META_DELETE, one("md k " + FLAGS_17 + "\r\n").type());
    }

    @Test
    void metaDeleteAndArithmeticWordEveryFlagErrorTheSame() {
        String e = "CLIENT_ERROR invalid or duplicate flag";
        for (String flags : List.of("x", "v v", "Tx", "Fx", "Mab", "b", "D-1", "Dx", "Jx", "MII")) {
            assertErrorReply("md k " + flags + "\r\n", e);
            assertErrorReply("ma k " + flags + "\r\n", e);
        }
        assertErrorReply("ma k D18446744073709551616 v\r\n", e);
        assertErrorReply("md k O" + "a".repeat(33) + "\r\n", "CLIENT_ERROR opaque token too long");
        assertErrorReply("ma nokey O" + "a".repeat(33) + "\r\n", "CLIENT_ERROR opaque token too long");
        assertErrorReply("md " + "k".repeat(251) + "\r\n", "CLIENT_ERROR bad command line format");
        assertErrorReply("ma " + "k".repeat(251) + "\r\n", "CLIENT_ERROR bad command line format");
        assertErrorReply("md k " + FLAGS_17 + " Cx\r\n", "CLIENT_ERROR options flags too long");
        assertErrorReply("ma k " + FLAGS_17 + " Cx\r\n", "CLIENT_ERROR options flags too long");
    }

    @Test
    void metaArithmeticModes() {
        assertTrue(one("ma k\r\n").metaIncrement());
        assertTrue(one("ma k MI\r\n").metaIncrement());
        assertTrue(one("ma k M+\r\n").metaIncrement());
        assertFalse(one("ma k MD\r\n").metaIncrement());
        assertFalse(one("ma k M-\r\n").metaIncrement());
        assertErrorReply("ma k MX\r\n", "CLIENT_ERROR invalid mode for ma M token");
        assertErrorReply("ma k Mx\r\n", "CLIENT_ERROR invalid mode for ma M token");
        assertErrorReply("ma k Md\r\n", "CLIENT_ERROR invalid mode for ma M token");
        Request r = one("ma ma1 M+ D3 v c t k O9\r\n");
        assertEquals(CommandType.META_ARITHMETIC, r.type());
        assertEquals(3, r.delta());
        assertEquals("MDvctkO", text(r.meta().order()));
    }

    // ---- mn me ----

    @Test
    void metaNoopAndDebug() {
        assertEquals(CommandType.META_NOOP, one("mn\r\n").type());
        Request me = one("me meh\r\n");
        assertEquals(CommandType.META_DEBUG, me.type());
        assertEquals("meh", me.keyString());
        assertNull(me.meta());
        assertEquals("meh", one("me meh extra\r\n").keyString());
        assertEquals("meh", one("me bWVo b\r\n").keyString());
        assertEquals("bWVo", one("me bWVo bb\r\n").keyString()); // only a lone "b" means base64
        assertErrorReply("me\r\n", "CLIENT_ERROR bad command line format");
        assertErrorReply("me " + "k".repeat(251) + "\r\n", "CLIENT_ERROR bad command line format");
        assertErrorReply("me meh b\r\n", "CLIENT_ERROR bad command line format");
        assertErrorReply("me !!! b\r\n", "CLIENT_ERROR bad command line format");
    }
}
