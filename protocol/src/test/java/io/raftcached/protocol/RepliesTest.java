package io.raftcached.protocol;

import org.junit.jupiter.api.Test;

import static io.raftcached.protocol.Wire.bytes;
import static io.raftcached.protocol.Wire.written;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Classic reply formatting; expected bytes captured from Debian memcached 1.6.18. */
class RepliesTest {

    @Test
    void constantLines() {
        assertEquals("STORED\r\n", written(ReplyLine.STORED::writeTo));
        assertEquals("NOT_STORED\r\n", written(ReplyLine.NOT_STORED::writeTo));
        assertEquals("EXISTS\r\n", written(ReplyLine.EXISTS::writeTo));
        assertEquals("NOT_FOUND\r\n", written(ReplyLine.NOT_FOUND::writeTo));
        assertEquals("DELETED\r\n", written(ReplyLine.DELETED::writeTo));
        assertEquals("TOUCHED\r\n", written(ReplyLine.TOUCHED::writeTo));
        assertEquals("OK\r\n", written(ReplyLine.OK::writeTo));
        assertEquals("END\r\n", written(b -> Replies.write(b, ReplyLine.END)));
        assertEquals("ERROR\r\n", written(ReplyLine.ERROR::writeTo));
        assertEquals("RESET\r\n", written(ReplyLine.RESET::writeTo));
        assertEquals("MN\r\n", written(ReplyLine.MN::writeTo));
        assertEquals("EN\r\n", written(ReplyLine.EN::writeTo));
        assertEquals(4, ReplyLine.OK.length());
    }

    @Test
    void valueHeaders() {
        // "get s4" after "set s4 4294967301 0 1": "VALUE s4 5 1\r\nx\r\nEND\r\n"
        assertEquals("VALUE s4 5 1\r\nx\r\nEND\r\n", written(b -> {
            Replies.writeValueHeader(b, bytes("s4"), 5, 1);
            Replies.writeDataBlock(b, bytes("x"));
            ReplyLine.END.writeTo(b);
        }));
        // flags are unsigned: "VALUE s5 4294967295 1"
        assertEquals("VALUE s5 4294967295 1\r\n", written(b -> Replies.writeValueHeader(b, bytes("s5"), -1, 1)));
        // gets: "VALUE c2 0 1 31"
        assertEquals("VALUE c2 0 1 31\r\n", written(b -> Replies.writeValueHeader(b, bytes("c2"), 0, 1, 31)));
        assertEquals("VALUE k 0 0 18446744073709551615\r\n",
                written(b -> Replies.writeValueHeader(b, bytes("k"), 0, 0, -1L)));
    }

    @Test
    void numbersOfIncrDecr() {
        // "incr i2 2" on 18446744073709551615 -> "1"; "decr i3 9" on 5 -> "0"; "decr i4 1" on 100 -> "99"
        assertEquals("1\r\n", written(b -> Replies.writeNumber(b, 1)));
        assertEquals("0\r\n", written(b -> Replies.writeNumber(b, 0)));
        assertEquals("99\r\n", written(b -> Replies.writeNumber(b, 99)));
        assertEquals("18446744073709551615\r\n", written(b -> Replies.writeNumber(b, -1L)));
    }

    @Test
    void linesStatsVersion() {
        assertEquals("VERSION 1.6.18\r\n", written(b -> Replies.writeVersion(b, Replies.MEMCACHED_VERSION)));
        assertEquals("STAT pid 5353\r\n", written(b -> Replies.writeStat(b, "pid", 5353)));
        assertEquals("STAT version 1.6.18\r\n", written(b -> Replies.writeStat(b, "version", "1.6.18")));
        assertEquals("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n",
                written(b -> Replies.writeLine(b, Replies.CLIENT_ERROR_NON_NUMERIC)));
        assertEquals("ERROR: shutdown not enabled\r\n", written(b -> Replies.writeLine(b, Replies.ERROR_SHUTDOWN_DISABLED)));
    }

    @Test
    void errorRequests() {
        assertEquals("CLIENT_ERROR bad data chunk\r\n",
                written(b -> Replies.writeErrorReply(b, Request.error(Replies.CLIENT_ERROR_BAD_DATA_CHUNK, false))));
        assertEquals("", written(b -> Replies.writeErrorReply(b, Request.error(null, true))));
    }
}
