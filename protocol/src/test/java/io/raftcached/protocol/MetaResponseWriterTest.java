package io.raftcached.protocol;

import org.junit.jupiter.api.Test;

import static io.raftcached.protocol.Wire.one;
import static io.raftcached.protocol.Wire.written;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Meta replies. Each case replays a request captured against Debian memcached 1.6.18 with the item
 * state memcached had, and expects the line memcached sent (quoted in the assertion).
 */
class MetaResponseWriterTest {

    private static String mgHit(String line, FakeItem item) {
        Request r = one(line + "\r\n");
        return written(b -> MetaResponseWriter.writeGetHit(b, r, item));
    }

    private static String mgMiss(String line) {
        Request r = one(line + "\r\n");
        return written(b -> MetaResponseWriter.writeGetMiss(b, r));
    }

    // ---- mg ----

    @Test
    void mgHitEchoesFlagsInRequestOrder() {
        // after "set mh1 9 0 2\r\nhi\r\n" and one fetch
        FakeItem mh1 = FakeItem.of("mh1").value(2).flags(9).cas(81);
        mh1.fetched = true;
        assertEquals("HD\r\n", mgHit("mg mh1", mh1));
        assertEquals("VA 2\r\n", mgHit("mg mh1 v", mh1));
        assertEquals("VA 2 s2 f9 t-1 c81 kmh1 Oabc h1 l0\r\n", mgHit("mg mh1 s v f t c k Oabc h l", mh1));
        assertEquals("VA 2 Oabc kmh1 c81 f9 t-1 s2\r\n", mgHit("mg mh1 Oabc k c f t s v", mh1));
        // q hides only misses
        assertEquals("HD\r\n", mgHit("mg mh1 q", mh1));
        assertEquals("VA 2\r\n", mgHit("mg mh1 q v", mh1));
        assertEquals("VA 1 khq\r\n", mgHit("mg hq q k v", FakeItem.of("hq").value(1)));
    }

    @Test
    void mgHitLastAccessAndHitBefore() {
        // "mg lh h l" twice after set, then "mg lh u h": "HD h0 l0", "HD h1 l0", "HD h1"
        FakeItem lh = FakeItem.of("lh").value(1);
        assertEquals("HD h0 l0\r\n", mgHit("mg lh h l", lh));
        lh.fetched = true;
        assertEquals("HD h1 l0\r\n", mgHit("mg lh h l", lh));
        assertEquals("HD h1\r\n", mgHit("mg lh u h", lh));
        lh.lastAccess = 4294967296L + 7; // printed as uint32
        assertEquals("HD l7\r\n", mgHit("mg lh l", lh));
    }

    @Test
    void mgTtlFollowsTouchAndVivifyInFlagOrder() {
        // "set ttx 0 100 1": "mg ttx t T30" -> "HD t100"; then "mg ttx t" -> "HD t30"; "mg ttx T0 t" -> "HD t-1"
        assertEquals("HD t100\r\n", mgHit("mg ttx t T30", FakeItem.of("ttx").ttl(100)));
        assertEquals("HD t30\r\n", mgHit("mg ttx t", FakeItem.of("ttx").ttl(30)));
        assertEquals("HD t-1\r\n", mgHit("mg ttx T0 t", FakeItem.of("ttx").ttl(30)));
        // vivified: "mg ntx N30 t T60 c" -> "HD t30 c157 W", "mg ntx2 T60 N30 t" -> "HD t30 W"
        FakeItem ntx = FakeItem.of("ntx").cas(157);
        ntx.created = true;
        ntx.won = true;
        assertEquals("HD t30 c157 W\r\n", mgHit("mg ntx N30 t T60 c", ntx));
        assertEquals("HD t30 W\r\n", mgHit("mg ntx2 T60 N30 t", ntx));
        // N does nothing on an existing item: "mg mv1 s v t c" after vivify -> "VA 0 s0 t30 c86 Z"
        FakeItem mv1 = FakeItem.of("mv1").cas(86).ttl(30);
        mv1.tokenSent = true;
        assertEquals("VA 0 s0 t30 c86 Z\r\n", mgHit("mg mv1 N99 s v t c", mv1));
        // "mg mh2 T-1 t": the item is now in the past; memcached printed exptime - now as uint32
        FakeItem mh2 = FakeItem.of("mh2").ttl(1000);
        mh2.ttlFor = raw -> -206;
        assertEquals("HD t4294967090\r\n", mgHit("mg mh2 T-1 t", mh2));
    }

    @Test
    void mgVivifyWithAllSeventeenFlags() {
        // "mg k v s t c f k h l q u Oop P L I N30 R30 T30" on a miss -> "VA 0 s0 t-1 c85 f0 kk h0 l0 Oop W"
        FakeItem k = FakeItem.of("k").cas(85);
        k.created = true;
        k.won = true;
        assertEquals("VA 0 s0 t-1 c85 f0 kk h0 l0 Oop W\r\n",
                mgHit("mg k v s t c f k h l q u Oop P L I N30 R30 T30", k));
    }

    @Test
    void mgWinFlagsComeZThenXThenW() {
        // recache: "mg mr1 R200 c" -> "HD c88 W", again -> "HD c88 Z"
        FakeItem mr1 = FakeItem.of("mr1").cas(88).ttl(100);
        mr1.won = true;
        assertEquals("HD c88 W\r\n", mgHit("mg mr1 R200 c", mr1));
        mr1.won = false;
        mr1.tokenSent = true;
        assertEquals("HD c88 Z\r\n", mgHit("mg mr1 R200 c", mr1));
        // stale after "md ms1 I": "HD c90 X W", then "HD c90 Z X", "VA 1 Z X"
        FakeItem ms1 = FakeItem.of("ms1").cas(90).value(1);
        ms1.stale = true;
        ms1.won = true;
        assertEquals("HD c90 X W\r\n", mgHit("mg ms1 c", ms1));
        ms1.won = false;
        ms1.tokenSent = true;
        assertEquals("HD c90 Z X\r\n", mgHit("mg ms1 c", ms1));
        assertEquals("VA 1 Z X\r\n", mgHit("mg ms1 v", ms1));
        // "md ms2 I T30" then "mg ms2 t c" -> "HD t30 c92 X W"
        FakeItem ms2 = FakeItem.of("ms2").cas(92).ttl(30);
        ms2.stale = true;
        ms2.won = true;
        assertEquals("HD t30 c92 X W\r\n", mgHit("mg ms2 t c", ms2));
    }

    @Test
    void mgReturnsKeysAsTheItemStoresThem() {
        // "ms AAEC/w== 2 b" then "mg AAEC/w== b k v c" -> "VA 2 kAAEC/w== b c84"
        FakeItem bin = new FakeItem().value(2).cas(84);
        bin.key = new byte[]{0, 1, 2, (byte) 0xff};
        bin.keyBinary = true;
        assertEquals("VA 2 kAAEC/w== b c84\r\n", mgHit("mg AAEC/w== b k v c", bin));
        // "set foo" then "mg Zm9v b k v" -> "VA 1 kfoo": the stored key is not binary
        assertEquals("VA 1 kfoo\r\n", mgHit("mg Zm9v b k v", FakeItem.of("foo").value(1)));
        // vivified with b: memcached does not mark the item binary -> "VA 0 kfoobin1 W"
        FakeItem viv = FakeItem.of("foobin1");
        viv.created = true;
        viv.won = true;
        assertEquals("VA 0 kfoobin1 W\r\n", mgHit("mg Zm9vYmluMQ== b N30 k v", viv));
    }

    @Test
    void mgMissEchoesOnlyOpaqueAndKey() {
        assertEquals("EN\r\n", mgMiss("mg mk1"));
        assertEquals("EN\r\n", mgMiss("mg mk1 v"));
        assertEquals("EN kmk1 O123\r\n", mgMiss("mg mk1 k O123 v s t c f"));
        assertEquals("", mgMiss("mg mk1 q"));
        assertEquals("", mgMiss("mg mk1 q k"));
        assertEquals("EN Oaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n", mgMiss("mg k O" + "a".repeat(31)));
        assertEquals("EN O kk\r\n", mgMiss("mg k O k"));
        assertEquals("EN kk Oxy\r\n", mgMiss("mg k kextra Oxy vvv"));
        // binary keys are re-encoded: "mg Zm8= b k" -> "EN kZm8= b"
        assertEquals("EN kZm9v b\r\n", mgMiss("mg Zm9v b k"));
        assertEquals("EN kZm8= b\r\n", mgMiss("mg Zm8= b k"));
        assertEquals("EN kZm9v b\r\n", mgMiss("mg Zm!9v b k"));
    }

    // ---- ms ----

    private static String ms(String line, MetaStoreOutcome outcome, long cas) {
        Request r = one(line + "\r\nx\r\n");
        return written(b -> MetaResponseWriter.writeSet(b, r, outcome, cas));
    }

    @Test
    void msEchoesOpaqueKeyAndCasEvenOnFailure() {
        assertEquals("HD\r\n", ms("ms msb 1", MetaStoreOutcome.STORED, 95));
        assertEquals("HD c96 kmsb2 O1\r\n", ms("ms msb2 1 c k O1", MetaStoreOutcome.STORED, 96));
        assertEquals("", ms("ms msb2 1 q", MetaStoreOutcome.STORED, 97));
        assertEquals("NS kmsb2 c0 O2\r\n", ms("ms msb2 1 ME k c O2", MetaStoreOutcome.NOT_STORED, 97));
        assertEquals("NS c0\r\n", ms("ms mm1 1 MA c", MetaStoreOutcome.NOT_STORED, 0));
        assertEquals("NS O1\r\n", ms("ms mm1 1 ME O1 q", MetaStoreOutcome.NOT_STORED, 0));
        assertEquals("HD c103\r\n", ms("ms mc1 1 c", MetaStoreOutcome.STORED, 103));
        assertEquals("EX c0\r\n", ms("ms mc1 1 C1 c", MetaStoreOutcome.EXISTS, 103));
        assertEquals("EX\r\n", ms("ms mc1 1 C999 q", MetaStoreOutcome.EXISTS, 0));
        assertEquals("NF c0\r\n", ms("ms mcnone 1 C5 c", MetaStoreOutcome.NOT_FOUND, 0));
        assertEquals("NS c0 knf1 O9\r\n", ms("ms nf1 1 MR c k O9", MetaStoreOutcome.NOT_STORED, 0));
        // "ms Zm9vYmFy 3 b k" -> "HD kZm9vYmFy b"
        Request r = one("ms Zm9vYmFy 3 b k\r\nbaz\r\n");
        assertEquals("HD kZm9vYmFy b\r\n", written(b -> MetaResponseWriter.writeSet(b, r, MetaStoreOutcome.STORED, 1)));
    }

    // ---- md ----

    private static String md(String line, MetaDeleteOutcome outcome) {
        Request r = one(line + "\r\n");
        return written(b -> MetaResponseWriter.writeDelete(b, r, outcome));
    }

    @Test
    void mdEchoesOpaqueAndKeyAndQHidesOnlyHd() {
        assertEquals("NF\r\n", md("md k1nope", MetaDeleteOutcome.NOT_FOUND));
        assertEquals("NF\r\n", md("md k1nope q", MetaDeleteOutcome.NOT_FOUND));
        assertEquals("NF kk1nope O5\r\n", md("md k1nope k O5 c t", MetaDeleteOutcome.NOT_FOUND));
        assertEquals("HD kmdh O5\r\n", md("md mdh k O5 c", MetaDeleteOutcome.DELETED));
        assertEquals("", md("md mdh q", MetaDeleteOutcome.DELETED));
        assertEquals("EX kmdc\r\n", md("md mdc C1 k", MetaDeleteOutcome.EXISTS));
        assertEquals("EX\r\n", md("md mdc C1 q", MetaDeleteOutcome.EXISTS));
        assertEquals("HD kZm9v b\r\n", md("md Zm9v b k", MetaDeleteOutcome.DELETED));
        assertEquals("HD kk Oop\r\n", md("md k v s t c f k h l u Oop P L I N30 R30 T30", MetaDeleteOutcome.DELETED));
    }

    // ---- ma ----

    private static String ma(String line, MetaArithmeticOutcome outcome, long value, FakeItem item) {
        Request r = one(line + "\r\n");
        return written(b -> MetaResponseWriter.writeArithmetic(b, r, outcome, value, item));
    }

    @Test
    void maUpdates() {
        // "set ma1 0 0 1\r\n5": ma ma1 -> HD; v -> "VA 1\r\n7"; D10 v -> "VA 2\r\n17"; MD D100 v -> "VA 1\r\n0"
        FakeItem ma1 = FakeItem.of("ma1").cas(124);
        assertEquals("HD\r\n", ma("ma ma1", MetaArithmeticOutcome.UPDATED, 6, ma1));
        assertEquals("VA 1\r\n7\r\n", ma("ma ma1 v", MetaArithmeticOutcome.UPDATED, 7, ma1));
        assertEquals("VA 2\r\n17\r\n", ma("ma ma1 D10 v", MetaArithmeticOutcome.UPDATED, 17, ma1));
        assertEquals("VA 1\r\n0\r\n", ma("ma ma1 MD D100 v", MetaArithmeticOutcome.UPDATED, 0, ma1));
        assertEquals("VA 1 c124 t-1 kma1 O9\r\n3\r\n", ma("ma ma1 M+ D3 v c t k O9", MetaArithmeticOutcome.UPDATED, 3, ma1));
        assertEquals("", ma("ma ma1 q", MetaArithmeticOutcome.UPDATED, 4, ma1));
        assertEquals("", ma("ma ma1 q v", MetaArithmeticOutcome.UPDATED, 5, ma1));
        // "ma ma8 D18446744073709551615 v" on 0 -> "VA 20\r\n18446744073709551615"
        assertEquals("VA 20\r\n18446744073709551615\r\n",
                ma("ma ma8 D18446744073709551615 v", MetaArithmeticOutcome.UPDATED, -1L, ma1));
    }

    @Test
    void maTtlAndOrder() {
        // "set ma2 0 100 1": "ma ma2 O1 k c t v" -> "VA 1 O1 kma2 c128 t100\r\n6"
        assertEquals("VA 1 O1 kma2 c128 t100\r\n6\r\n",
                ma("ma ma2 O1 k c t v", MetaArithmeticOutcome.UPDATED, 6, FakeItem.of("ma2").cas(128).ttl(100)));
        assertEquals("HD t100 c129\r\n", ma("ma ma2 t c", MetaArithmeticOutcome.UPDATED, 7, FakeItem.of("ma2").cas(129).ttl(100)));
        // T applies where it stands: "ma ma2 t T30 c" -> "HD t100 c130"; "ma ma3 T30 t" -> "HD t30"
        assertEquals("HD t100 c130\r\n", ma("ma ma2 t T30 c", MetaArithmeticOutcome.UPDATED, 8, FakeItem.of("ma2").cas(130).ttl(100)));
        assertEquals("HD t30\r\n", ma("ma ma3 T30 t", MetaArithmeticOutcome.UPDATED, 6, FakeItem.of("ma3").ttl(100)));
    }

    @Test
    void maCreatesWithNAndQDoesNotHideIt() {
        FakeItem created = FakeItem.of("mav1").cas(133);
        created.created = true;
        assertEquals("VA 2\r\n13\r\n", ma("ma mav1 N0 J13 v", MetaArithmeticOutcome.CREATED, 13, created));
        FakeItem mav2 = FakeItem.of("mav2").cas(135);
        mav2.created = true;
        assertEquals("VA 1 t30 c135\r\n7\r\n", ma("ma mav2 N30 J7 t v c", MetaArithmeticOutcome.CREATED, 7, mav2));
        assertEquals("HD\r\n", ma("ma mav3 N30 q", MetaArithmeticOutcome.CREATED, 0, created));
        // N on an existing item changes nothing
        assertEquals("HD t-1\r\n", ma("ma mav1 N30 t", MetaArithmeticOutcome.UPDATED, 14, FakeItem.of("mav1")));
        // binary key echoed as sent: "ma Zm9v b N0 k v" -> "VA 1 kZm9v b\r\n0"
        assertEquals("VA 1 kZm9v b\r\n0\r\n", ma("ma Zm9v b N0 k v", MetaArithmeticOutcome.CREATED, 0, created));
    }

    @Test
    void maMissesAndCasMismatch() {
        assertEquals("NF\r\n", ma("ma nokey", MetaArithmeticOutcome.NOT_FOUND, 0, null));
        assertEquals("NF\r\n", ma("ma nokey q", MetaArithmeticOutcome.NOT_FOUND, 0, null));
        assertEquals("NF knokey O1\r\n", ma("ma nokey k O1 v t c", MetaArithmeticOutcome.NOT_FOUND, 0, null));
        assertEquals("NF\r\n", ma("ma mav4 J5 v", MetaArithmeticOutcome.NOT_FOUND, 0, null));
        assertEquals("EX\r\n", ma("ma ma6 C1", MetaArithmeticOutcome.EXISTS, 0, null));
        assertEquals("EX\r\n", ma("ma ma6 C1 q", MetaArithmeticOutcome.EXISTS, 0, null));
        assertEquals("NF kZm9v b\r\n", ma("ma Zm9v b k", MetaArithmeticOutcome.NOT_FOUND, 0, null));
    }

    // ---- mn me ----

    @Test
    void noopAndDebug() {
        assertEquals("MN\r\n", written(MetaResponseWriter::writeNoop));
        assertEquals("EN\r\n", written(MetaResponseWriter::writeDebugMiss));
        // "set meh 5 100 3" then "me meh": 1.6.18 prints the remaining TTL negated
        FakeItem meh = FakeItem.of("meh").cas(147).ttl(100);
        assertEquals("ME meh exp=-100 la=0 cas=147 fetch=no cls=1 size=69\r\n",
                written(b -> MetaResponseWriter.writeDebug(b, meh, 1, 69)));
        meh.fetched = true;
        assertEquals("ME meh exp=-100 la=0 cas=147 fetch=yes cls=1 size=69\r\n",
                written(b -> MetaResponseWriter.writeDebug(b, meh, 1, 69)));
        FakeItem bin = new FakeItem().cas(84);
        bin.key = new byte[]{0, 1, 2, (byte) 0xff};
        bin.keyBinary = true;
        bin.fetched = true;
        assertEquals("ME AAEC/w== exp=-1 la=0 cas=84 fetch=yes cls=1 size=65\r\n",
                written(b -> MetaResponseWriter.writeDebug(b, bin, 1, 65)));
        assertEquals("ME meb exp=-1 la=0 cas=148 fetch=no cls=9 size=562\r\n",
                written(b -> MetaResponseWriter.writeDebug(b, FakeItem.of("meb").cas(148), 9, 562)));
    }

    @Test
    void keyBytesAreWrittenRaw() {
        // keys are bytes, not text: a Latin-1 byte goes back as the same single byte
        assertEquals("EN k\u00e9\r\n", mgMiss("mg \u00e9 k"));
    }
}
