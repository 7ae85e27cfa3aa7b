package io.raftcached.protocol;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.raftcached.protocol.Wire.assertErrorReply;
import static io.raftcached.protocol.Wire.decode;
import static io.raftcached.protocol.Wire.decoderReplies;
import static io.raftcached.protocol.Wire.one;
import static io.raftcached.protocol.Wire.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The classic commands: what the decoder emits for each command form and each error path.
 * Every expected reply line was captured from Debian memcached 1.6.18 sent the same bytes; the
 * full memcached reply is quoted in the comment where the decoder answers only part of it (the
 * rest comes from the store, shown here as {@code <TYPE>}).
 */
class ClassicCommandDecoderTest {

    // ---- dispatch and token counts (memcached's WANT_TOKENS answer a bare ERROR) ----

    @Test
    void linesThatAreNoCommandAnswerError() {
        assertErrorReply("\r\n", "ERROR");
        assertErrorReply("\n", "ERROR");
        assertErrorReply("a\r\n", "ERROR");              // commands are at least two bytes
        assertErrorReply("version\r\r\n", "ERROR");      // only one \r is stripped
        assertErrorReply("get\tfoo\r\n", "ERROR");       // tabs do not split tokens
        assertErrorReply("ver\u0000sion\r\n", "ERROR");  // a NUL ends the command: "ver"
        assertErrorReply("foo\r\n", "ERROR");
        assertErrorReply("foobar baz\r\n", "ERROR");
        assertErrorReply("GET foo\r\n", "ERROR");
        assertErrorReply("Version\r\n", "ERROR");
        assertErrorReply("\u0001\u0002\u0003\u00ff\u00fe\r\n", "ERROR");
        assertErrorReply("foo http/1.0\r\n", "ERROR");   // the HTTP check is case-sensitive
        assertErrorReply("mz foo\r\n", "ERROR");
        assertErrorReply("mgx foo\r\n", "ERROR");
        assertErrorReply("gx foo\r\n", "ERROR");
        assertErrorReply("misbehave\r\n", "ERROR");      // debug builds only
        assertErrorReply("debugtime 1\r\n", "ERROR");    // debug builds only
    }

    @Test
    void wrongTokenCountsAnswerError() {
        // memcached 1.6.18: "ERROR\r\n" for each
        for (String line : List.of("get", "get ", "gets", "gat", "gat ", "bget", "set k 0 0",
                "set k 0 0 1 noreply x", "add k 0 0", "cas k 0 0 1", "cas k 0 0 1 5 noreply x",
                "replace k 0 0", "prepend k", "append k", "incr", "incr k", "incr k 1 noreply x",
                "decr k", "delete", "delete d1 a b c", "touch", "touch t1", "touch t1 1 2 3",
                "flush_all 1 2 3", "verbosity", "verbosity 1 2 3", "mg", "mg ", "ms", "md", "ma",
                "cache_memlimit", "cache_memlimit 1 2 3", "lru", "extstore")) {
            assertErrorReply(line + "\r\n", "ERROR");
        }
    }

    @Test
    void leadingTrailingAndRepeatedSpacesAreIgnored() {
        assertEquals(CommandType.VERSION, one("  version  \r\n").type());
        Request r = one("get a   \r\n");
        assertEquals(1, r.keys().size());
        assertEquals(CommandType.GET, one("   get a\r\n").type());
    }

    @Test
    void versionQuitAndMnIgnoreExtraTokens() {
        assertEquals(CommandType.VERSION, one("version extra\r\n").type());
        assertEquals(CommandType.META_NOOP, one("mn foo bar\r\n").type());
        Request quit = one("quit extra stuff\r\n");
        assertEquals(CommandType.QUIT, quit.type());
        assertTrue(quit.closeConnection());
    }

    @Test
    void quitStopsReadingTheConnection() {
        // memcached 1.6.18: "STORED\r\nVALUE q1 0 1\r\nx\r\nEND\r\n" then close; the last get is not run
        List<Request> out = decode("set q1 0 0 1\r\nx\r\nget q1\r\nquit\r\nget q1\r\n");
        assertEquals("<SET><GET><QUIT>", decoderReplies(out));
    }

    @Test
    void httpRequestLinesCloseSilently() {
        // memcached 1.6.18: no reply, connection closed, following commands not run
        Wire.assertReplies("<CLOSE>", "GET / HTTP/1.1\r\nversion\r\n");
        Wire.assertReplies("<CLOSE>", "foo HTTP/1.0\r\n");
        Wire.assertReplies("<CLOSE>", "foo HTTP/\r\n");
        Wire.assertReplies("<CLOSE>", "POST /x HTTP/1.0\r\n");
        // but a known command keeps its meaning: get fetches keys "/" and "HTTP/1.1"
        assertEquals(2, one("get / HTTP/1.1\r\n").keys().size());
        // and commands starting with s/a/c/i/d/t/g answer ERROR before the HTTP check
        assertErrorReply("sxx HTTP/1.1\r\n", "ERROR");
    }

    // ---- retrieval ----

    @Test
    void getFamily() {
        Request get = one("get a b c\r\n");
        assertEquals(CommandType.GET, get.type());
        assertEquals(List.of("a", "b", "c"), get.keys().stream().map(Wire::text).toList());
        assertNull(get.errorLine());
        assertEquals(CommandType.GETS, one("gets a\r\n").type());
        assertEquals(CommandType.GET, one("bget bg1\r\n").type()); // memcached: VALUE bg1 5 2 like get
        Request gat = one("gat 100 t3 nokey\r\n");
        assertEquals(CommandType.GAT, gat.type());
        assertEquals(100, gat.exptime());
        assertEquals(2, gat.keys().size());
        Request gats = one("gats -1 nokey\r\n");
        assertEquals(CommandType.GATS, gats.type());
        assertEquals(-1, gats.exptime());
    }

    @Test
    void gatWithoutKeysAnswersEnd() {
        // memcached 1.6.18: "gat 10\r\n" -> "END\r\n"
        Request r = one("gat 10\r\n");
        assertEquals(CommandType.GAT, r.type());
        assertTrue(r.keys().isEmpty());
    }

    @Test
    void gatExptimeErrors() {
        assertErrorReply("gat x k\r\n", "CLIENT_ERROR invalid exptime argument");
        assertErrorReply("gats 99999999999999999999 k\r\n", "CLIENT_ERROR invalid exptime argument");
    }

    @Test
    void keysBeyondTheTokenLimitAreAllRead() {
        StringBuilder line = new StringBuilder("get");
        for (int i = 0; i < 40; i++) {
            line.append(" k").append(i);
        }
        line.append(" gm1\r\n");
        Request r = one(line.toString());
        assertEquals(41, r.keys().size());
        assertEquals("gm1", text(r.keys().get(40)));
    }

    @Test
    void aKeyOver250BytesFailsTheWholeGet() {
        String k251 = "a".repeat(251);
        assertErrorReply("get " + k251 + "\r\n", "CLIENT_ERROR bad command line format");
        assertEquals(CommandType.GET, one("get " + "a".repeat(250) + "\r\n").type());
        // memcached 1.6.18: "get glk <251 bytes> glk" -> only "CLIENT_ERROR bad command line format";
        // it fetched glk first (and gat would have touched it): the keys before are kept
        Request r = one("get glk " + k251 + " glk\r\n");
        assertEquals(CommandType.GET, r.type());
        assertEquals(List.of("glk"), r.keys().stream().map(Wire::text).toList());
        assertEquals("CLIENT_ERROR bad command line format", r.errorLine());
        Request gat = one("gat 100 gl " + k251 + "\r\n");
        assertEquals(CommandType.GAT, gat.type());
        assertEquals(1, gat.keys().size());
        assertEquals("CLIENT_ERROR bad command line format", gat.errorLine());
    }

    @Test
    void aNulEndsTheCommand() {
        // memcached 1.6.18: "get nul1\0zzz" fetches nul1
        Request r = one("get nul1\u0000zzz\r\n");
        assertEquals(List.of("nul1"), r.keys().stream().map(Wire::text).toList());
        assertEquals(CommandType.VERSION, one("version\u0000garbage\r\n").type());
    }

    // ---- storage ----

    @Test
    void setAndFriends() {
        Request set = one("set k 5 100 2\r\nhi\r\n");
        assertEquals(CommandType.SET, set.type());
        assertEquals("k", set.keyString());
        assertEquals(5, set.clientFlags());
        assertEquals(100, set.exptime());
        assertEquals("hi", text(set.value()));
        assertFalse(set.noreply());
        assertEquals(CommandType.ADD, one("add k 0 0 1\r\nx\r\n").type());
        assertEquals(CommandType.REPLACE, one("replace k 0 0 1\r\nx\r\n").type());
        assertEquals(CommandType.APPEND, one("append k 0 0 1\r\nx\r\n").type());
        assertEquals(CommandType.PREPEND, one("prepend k 0 0 1\r\nx\r\n").type());
        Request cas = one("cas c2 0 0 1 31\r\ny\r\n");
        assertEquals(CommandType.CAS, cas.type());
        assertEquals(31, cas.casUnique());
        assertEquals(-1L, one("cas c 0 0 1 18446744073709551615\r\nx\r\n").casUnique());
    }

    @Test
    void noreplyIsTheLastTokenAndJunkThereIsIgnored() {
        assertTrue(one("set s1 0 0 1 noreply\r\nx\r\n").noreply());
        assertTrue(one("cas c1 0 0 1 5 noreply\r\nx\r\n").noreply());
        // memcached 1.6.18: "set s2 0 0 1 junk" -> STORED
        assertFalse(one("set s2 0 0 1 junk\r\nx\r\n").noreply());
        assertFalse(one("set nr 0 0 1 NOREPLY\r\nx\r\n").noreply());
    }

    @Test
    void storageNumbersAsMemcachedParsesThem() {
        // memcached 1.6.18 then "get": flags shown 0, 5, 4294967295, 1, 7, 7, 8
        assertEquals(0, one("set s3 -0 0 1\r\nx\r\n").clientFlags());
        assertEquals(5, one("set s4 4294967301 0 1\r\nx\r\n").clientFlags());
        assertEquals(-1, one("set s5 18446744073709551615 0 1\r\nx\r\n").clientFlags());
        assertEquals(1, one("set s5 -18446744073709551615 0 1\r\nx\r\n").clientFlags());
        assertEquals(7, one("set s5 +7 0 1\r\nx\r\n").clientFlags());
        assertEquals(7, one("set s6 7\t 0 1\r\nx\r\n").clientFlags());
        assertEquals(8, one("set s6 8\rx 0 1\r\nx\r\n").clientFlags());
        // exptime 4294967297 is 1 (memcached: "mg s8 t" -> "HD t1")
        assertEquals(1, one("set s8 0 4294967297 1\r\nx\r\n").exptime());
        assertEquals(-1, one("set s8 0 -1 1\r\nx\r\n").exptime());
        // length 4294967297 is 1, 4294967296 is 0 (memcached stores "x" and "" respectively)
        assertEquals("x", text(one("set s7 0 0 4294967297\r\nx\r\n").value()));
        assertEquals("", text(one("set s7 0 0 4294967296\r\n\r\n").value()));
    }

    @Test
    void storageFormatErrorsLeaveTheDataToBeReadAsACommand() {
        // memcached 1.6.18: "CLIENT_ERROR bad command line format\r\nERROR\r\n" for each
        String bad = "CLIENT_ERROR bad command line format\r\nERROR\r\n";
        Wire.assertReplies(bad, "set s3 abc 0 1\r\nx\r\n");
        Wire.assertReplies(bad, "set s3 -1 0 1\r\nx\r\n");
        Wire.assertReplies(bad, "set s5 18446744073709551616 0 1\r\nx\r\n");
        Wire.assertReplies(bad, "set s7 0 0 -1\r\nx\r\n");
        Wire.assertReplies(bad, "set s7 0 0 abc\r\nx\r\n");
        Wire.assertReplies(bad, "set s7 0 0 2147483647\r\nx\r\n");
        Wire.assertReplies(bad, "set s7 0 0 2147483646\r\nx\r\n");
        Wire.assertReplies(bad, "set s7 0 0 9223372036854775807\r\nx\r\n");
        Wire.assertReplies(bad, "set s7 0 0 9223372036854775808\r\nx\r\n");
        Wire.assertReplies(bad, "set s8 0 abc 1\r\nx\r\n");
        Wire.assertReplies(bad, "set s8 0 99999999999999999999 1\r\nx\r\n");
        Wire.assertReplies(bad, "set " + "k".repeat(251) + " 0 0 1\r\nx\r\n");
        Wire.assertReplies(bad, "cas c1 0 0 1 abc\r\nx\r\n");
        Wire.assertReplies(bad, "cas c1 0 0 1 -1\r\nx\r\n");
        Wire.assertReplies(bad, "cas c1 0 0 1 18446744073709551616\r\nx\r\n");
        // memcached 1.6.18: "cas c1 0 0 1\r\nx\r\n" -> "ERROR\r\nERROR\r\n"
        Wire.assertReplies("ERROR\r\nERROR\r\n", "cas c1 0 0 1\r\nx\r\n");
    }

    @Test
    void noreplySilencesStorageFormatErrors() {
        // memcached 1.6.18: only "ERROR\r\n" (for the data line read as a command)
        Wire.assertReplies("ERROR\r\n", "set s9 0 0 noreply\r\nx\r\n");
        Wire.assertReplies("ERROR\r\n", "set s9 0 0 x noreply\r\nx\r\n");
        Wire.assertReplies("ERROR\r\n", "set " + "k".repeat(251) + " 0 0 1 noreply\r\nx\r\n");
    }

    @Test
    void badDataChunk() {
        // memcached 1.6.18: "set b1 0 0 3\r\nabcde\r\nget b1\r\n"
        //   -> "CLIENT_ERROR bad data chunk\r\nERROR\r\nEND\r\n": it read "abcde", then "\r\n" as a command
        Wire.assertReplies("CLIENT_ERROR bad data chunk\r\nERROR\r\n<GET>", "set b1 0 0 3\r\nabcde\r\nget b1\r\n");
        // "abc\nget b1\r\n" -> reads "abc\ng", then "et b1" is a command
        Wire.assertReplies("CLIENT_ERROR bad data chunk\r\nERROR\r\n", "set b1 0 0 3\r\nabc\nget b1\r\n");
        Wire.assertReplies("CLIENT_ERROR bad data chunk\r\n<GET>", "set b3 0 0 3\r\nabcXYget b3\r\n");
        Wire.assertReplies("CLIENT_ERROR bad data chunk\r\n<GET>", "set b3 0 0 1\r\nx\n\rget b3\r\n");
        // with noreply the chunk error is silent: memcached sends "ERROR\r\nEND\r\n"
        Wire.assertReplies("ERROR\r\n<GET>", "set b2 0 0 3 noreply\r\nabcde\r\nget b2\r\n");
    }

    @Test
    void aBareNewlineEndsLinesButNotDataBlocks() {
        // memcached 1.6.18: both store and fetch
        Wire.assertReplies("<SET><GET>", "set lf1 0 0 1\r\nx\r\nget lf1\n");
        Wire.assertReplies("<SET><GET>", "set lf2 0 0 1\nx\r\nget lf2\r\n");
    }

    @Test
    void dataMayContainAnyByte() {
        assertEquals("a\u0000b", text(one("set nd 0 0 3\r\na\u0000b\r\n").value()));
        assertEquals("a\r\nb", text(one("set nd 0 0 4\r\na\r\nb\r\n").value()));
    }

    @Test
    void tooLargeItemsAreRefusedAndTheirDataSwallowed() {
        int big = 2 * 1024 * 1024;
        String data = "y".repeat(big);
        // memcached 1.6.18: "set tl1 0 0 2097152" -> "SERVER_ERROR object too large for cache", the
        // 2 MiB + 2 bytes are discarded, "get tl1" -> END: set also unlinked the old tl1
        List<Request> out = decode("set tl1 0 0 " + big + "\r\n" + data + "\r\nget tl1\r\n");
        assertEquals("SERVER_ERROR object too large for cache\r\n<GET>", decoderReplies(out));
        assertEquals("tl1", out.get(0).keyString());
        // add/append/replace/cas do not unlink (memcached: the old value is still there)
        for (String cmd : List.of("add tl3 0 0 ", "append tl4 0 0 ", "replace tl5 0 0 ")) {
            out = decode(cmd + big + "\r\n" + data + "\r\nget x\r\n");
            assertEquals("SERVER_ERROR object too large for cache\r\n<GET>", decoderReplies(out));
            assertNull(out.get(0).key());
        }
        out = decode("cas tl6 0 0 " + big + " 1\r\n" + data + "\r\n");
        assertNull(out.get(0).key());
        // the swallow counts bytes, it does not look for \r\n (memcached: "XY" swallowed too)
        out = decode("set tl7 0 0 " + big + "\r\n" + data + "XYget tl7\r\n");
        assertEquals("SERVER_ERROR object too large for cache\r\n<GET>", decoderReplies(out));
    }

    @Test
    void tooLargeWithNoreplyStillUnlinksForSet() {
        String data = "y".repeat(2 * 1024 * 1024);
        // memcached 1.6.18: no reply; "get tl2" -> END
        List<Request> out = decode("set tl2 0 0 " + data.length() + " noreply\r\n" + data + "\r\nmn\r\n");
        assertEquals(2, out.size());
        assertEquals(CommandType.ERROR_REPLY, out.get(0).type());
        assertNull(out.get(0).errorLine());
        assertEquals("tl2", out.get(0).keyString());
        assertEquals(CommandType.META_NOOP, out.get(1).type());
        // add with noreply: nothing to say, nothing to do
        out = decode("add tl2 0 0 " + data.length() + " noreply\r\n" + data + "\r\nmn\r\n");
        assertEquals("<META_NOOP>", decoderReplies(out));
    }

    @Test
    void itemSizeCheckSeesKeyFlagsAndLength() {
        int[] seen = new int[3];
        ItemSizeCheck check = (k, f, v) -> {
            seen[0] = k;
            seen[1] = f;
            seen[2] = v;
            return true;
        };
        Wire.decode(DecoderConfig.memcachedDefaults(check), Wire.bytes("set abc 7 0 5\r\nhello\r\n"));
        assertEquals(3, seen[0]);
        assertEquals(7, seen[1]);
        assertEquals(5, seen[2]);
    }

    // ---- incr decr touch delete ----

    @Test
    void incrDecr() {
        Request incr = one("incr i1 3\r\n");
        assertEquals(CommandType.INCR, incr.type());
        assertEquals(3, incr.delta());
        assertTrue(one("incr i1 3 noreply\r\n").noreply());
        Request decr = one("decr i1 18446744073709551615\r\n");
        assertEquals(CommandType.DECR, decr.type());
        assertEquals(-1L, decr.delta());
        // memcached 1.6.18: incr by "-18446744073709551615" adds 1 (5 -> 6)
        assertEquals(1, one("incr i0 -18446744073709551615\r\n").delta());
    }

    @Test
    void incrDecrErrors() {
        assertErrorReply("incr k abc\r\n", "CLIENT_ERROR invalid numeric delta argument");
        assertErrorReply("incr k -1\r\n", "CLIENT_ERROR invalid numeric delta argument");
        assertErrorReply("decr k 18446744073709551616\r\n", "CLIENT_ERROR invalid numeric delta argument");
        assertErrorReply("incr " + "k".repeat(251) + " 1\r\n", "CLIENT_ERROR bad command line format");
        // memcached 1.6.18: "incr k abc noreply\r\nmn\r\n" -> "MN\r\n"
        Wire.assertReplies("<META_NOOP>", "incr k abc noreply\r\nmn\r\n");
    }

    @Test
    void touch() {
        Request t = one("touch t1 10\r\n");
        assertEquals(CommandType.TOUCH, t.type());
        assertEquals(10, t.exptime());
        assertTrue(one("touch t1 10 noreply\r\n").noreply());
        assertErrorReply("touch t1 abc\r\n", "CLIENT_ERROR invalid exptime argument");
        assertErrorReply("touch " + "k".repeat(251) + " 10\r\n", "CLIENT_ERROR bad command line format");
        // memcached 1.6.18: "touch t1 abc noreply" is silent
        Wire.assertReplies("<META_NOOP>", "touch t1 abc noreply\r\nmn\r\n");
    }

    @Test
    void deleteAndItsLegacyZero() {
        // memcached 1.6.18 for "delete d1", "delete d1 0", "delete d1 noreply", "delete d1 0 noreply"
        assertEquals(CommandType.DELETE, one("delete d1\r\n").type());
        assertFalse(one("delete d1 0\r\n").noreply());
        assertTrue(one("delete d1 noreply\r\n").noreply());
        assertTrue(one("delete d1 0 noreply\r\n").noreply());
        assertEquals(CommandType.DELETE, one("delete d\t0\r\n").type()); // one token "d\t0"
        String usage = "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
        assertErrorReply("delete d1 1\r\n", usage);
        assertErrorReply("delete d1 0 0\r\n", usage);
        assertErrorReply("delete d3 noreply 0\r\n", usage);
        assertErrorReply("delete " + "k".repeat(251) + "\r\n", "CLIENT_ERROR bad command line format");
        // memcached 1.6.18: silent, then MN
        Wire.assertReplies("<META_NOOP>", "delete d1 1 noreply\r\nmn\r\n");
        Wire.assertReplies("<META_NOOP>", "delete " + "k".repeat(251) + " noreply\r\nmn\r\n");
    }

    // ---- flush_all verbosity stats shutdown admin ----

    @Test
    void flushAll() {
        Request f = one("flush_all\r\n");
        assertEquals(CommandType.FLUSH_ALL, f.type());
        assertEquals(0, f.exptime());
        assertNull(f.errorLine());
        assertEquals(10, one("flush_all 10\r\n").exptime());
        assertEquals(-1, one("flush_all -1\r\n").exptime());
        Request nr = one("flush_all noreply\r\n");
        assertTrue(nr.noreply());
        assertEquals(0, nr.exptime());
        assertEquals(5, one("flush_all 5 noreply\r\n").exptime());
        // "flush_all 1 2": memcached reads the delay from the first argument and answers OK
        assertEquals(1, one("flush_all 1 2\r\n").exptime());
        // memcached checks -F before the argument, so the node answers this one
        assertEquals("CLIENT_ERROR invalid exptime argument", one("flush_all abc\r\n").errorLine());
        Request silent = one("flush_all abc noreply\r\n");
        assertTrue(silent.noreply());
        assertEquals("CLIENT_ERROR invalid exptime argument", silent.errorLine());
    }

    @Test
    void verbosity() {
        Request v = one("verbosity 1\r\n");
        assertEquals(CommandType.VERBOSITY, v.type());
        assertEquals(1, v.verbosityLevel());
        assertFalse(one("verbosity 1 foo\r\n").noreply()); // memcached: OK
        assertTrue(one("verbosity 1 noreply\r\n").noreply());
        assertErrorReply("verbosity abc\r\n", "CLIENT_ERROR bad command line format");
        assertErrorReply("verbosity -1\r\n", "CLIENT_ERROR bad command line format");
        // "verbosity noreply": noreply is the level token, the parse fails silently
        Wire.assertReplies("<META_NOOP>", "verbosity noreply\r\nmn\r\n");
    }

    @Test
    void statsCarriesItsArguments() {
        assertTrue(one("stats\r\n").args().isEmpty());
        Request r = one("stats cachedump 1 2\r\n");
        assertEquals(CommandType.STATS, r.type());
        assertEquals(List.of("cachedump", "1", "2"), r.args().stream().map(Wire::text).toList());
    }

    @Test
    void shutdownModes() {
        Request s = one("shutdown\r\n");
        assertEquals(CommandType.SHUTDOWN, s.type());
        assertNull(s.errorLine());
        assertFalse(s.shutdownGraceful());
        assertTrue(one("shutdown graceful\r\n").shutdownGraceful());
        // when shutdown is enabled (-A); otherwise memcached answers "ERROR: shutdown not enabled"
        assertEquals("CLIENT_ERROR invalid shutdown mode", one("shutdown foo\r\n").errorLine());
    }

    @Test
    void adminCommandsCarryAllTokens() {
        for (String line : List.of("slabs reassign 1 2", "slabs", "lru tune 10 20 0.1 2.0", "lru_crawler crawl all",
                "lru_crawler", "watch", "watch fetchers", "cache_memlimit 64", "extstore item_size 10",
                "refresh_certs")) {
            Request r = one(line + "\r\n");
            assertEquals(CommandType.ADMIN, r.type(), line);
            assertEquals(line, String.join(" ", r.args().stream().map(Wire::text).toList()));
        }
        assertTrue(one("cache_memlimit 64 noreply\r\n").noreply());
        assertTrue(one("slabs automove 0 noreply\r\n").noreply());
        assertFalse(one("slabs reassign 1 noreply\r\n").noreply());
    }
}
