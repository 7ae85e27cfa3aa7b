package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplyParserTest {

    /** Every reply shape the bench can meet, including data that itself contains CRLF and "END". */
    private static final String STREAM = ""
            + "VALUE key:1 0 5\r\nhello\r\nEND\r\n"
            + "END\r\n"
            + "STORED\r\n"
            + "VALUE a 1 3 99\r\nabc\r\nVALUE b 4294967295 0\r\n\r\nVALUE c 0 8\r\nEND\r\n\r\nx\r\nEND\r\n"
            + "NOT_STORED\r\nEXISTS\r\nNOT_FOUND\r\nDELETED\r\nTOUCHED\r\n"
            + "ERROR\r\n"
            + "CLIENT_ERROR bad data chunk\r\n"
            + "SERVER_ERROR out of memory storing object\r\n"
            + "VALUE k 0 2\r\nhi\r\nSERVER_ERROR object too large for cache\r\n"
            + "END\r\n";

    private static final List<String> EXPECTED = List.of(
            "END/1:END",
            "END/0:END",
            "STORED/0:STORED",
            "END/3:END",
            "NOT_STORED/0:NOT_STORED", "EXISTS/0:EXISTS", "NOT_FOUND/0:NOT_FOUND", "DELETED/0:DELETED",
            "TOUCHED/0:TOUCHED",
            "ERROR/0:ERROR",
            "CLIENT_ERROR/0:CLIENT_ERROR bad data chunk",
            "SERVER_ERROR/0:SERVER_ERROR out of memory storing object",
            "SERVER_ERROR/1:SERVER_ERROR object too large for cache",
            "END/0:END");

    @Test
    void parsesWholeStream() throws IOException {
        assertEquals(EXPECTED, parseInChunks(bytes(STREAM), new int[0]));
    }

    @Test
    void splitAtEveryOffsetGivesTheSameReplies() throws IOException {
        byte[] input = bytes(STREAM);
        for (int split = 0; split <= input.length; split++) {
            assertEquals(EXPECTED, parseInChunks(input, new int[] {split}), "split at " + split);
        }
    }

    @Test
    void splitAtEveryPairOfOffsetsGivesTheSameReplies() throws IOException {
        byte[] input = bytes(STREAM);
        for (int first = 0; first <= input.length; first++) {
            for (int second = first; second <= input.length; second += 7) {
                assertEquals(EXPECTED, parseInChunks(input, new int[] {first, second}),
                        "split at " + first + " and " + second);
            }
        }
    }

    @Test
    void oneByteAtATimeGivesTheSameReplies() throws IOException {
        byte[] input = bytes(STREAM);
        int[] splits = new int[input.length];
        for (int i = 0; i < splits.length; i++) {
            splits[i] = i;
        }
        assertEquals(EXPECTED, parseInChunks(input, splits));
    }

    @Test
    void idleOnlyBetweenReplies() throws IOException {
        ReplyParser parser = new ReplyParser();
        List<String> out = new ArrayList<>();
        parser.parse(ByteBuffer.wrap(bytes("VALUE k 0 1\r\n")), collector(out));
        assertEquals(false, parser.isIdle());
        parser.parse(ByteBuffer.wrap(bytes("x\r\nEND\r")), collector(out));
        assertEquals(false, parser.isIdle());
        parser.parse(ByteBuffer.wrap(bytes("\n")), collector(out));
        assertTrue(parser.isIdle());
        assertEquals(List.of("END/1:END"), out);
    }

    @Test
    void rejectsMalformedInput() {
        assertMalformed("STORED\n", "not terminated by CRLF");
        assertMalformed("BOGUS\r\n", "unexpected reply line: BOGUS");
        assertMalformed("ERRORS\r\n", "unexpected reply line");
        assertMalformed("VALUE k 0 3\r\nabcd\r\n", "not followed by CRLF");
        assertMalformed("VALUE k 0 x\r\n", "malformed VALUE line");
        assertMalformed("VALUE k 0\r\n", "malformed VALUE line");
        assertMalformed("VALUE k 0 3 \r\n", "malformed VALUE line");
        assertMalformed("VALUE  0 3\r\n", "malformed VALUE line");
        assertMalformed("VALUE k 0 99999999999\r\n", "malformed VALUE line");
        assertMalformed("VALUE k 0 2000000000\r\n", "exceeds");
        assertMalformed("VALUE k 0 1\r\nx\r\nSTORED\r\n", "instead of END");
        assertMalformed("X".repeat(ReplyParser.LINE_LENGTH_MAX + 2) + "\r\n", "longer than");
    }

    @Test
    void longestAllowedLineIsAccepted() throws IOException {
        String message = "SERVER_ERROR " + "m".repeat(ReplyParser.LINE_LENGTH_MAX - 13);
        List<String> out = parseInChunks(bytes(message + "\r\n"), new int[0]);
        assertEquals(1, out.size());
        assertTrue(out.get(0).startsWith("SERVER_ERROR/0:SERVER_ERROR mmm"));
    }

    private static void assertMalformed(String input, String messagePart) {
        ReplyFormatException e = assertThrows(ReplyFormatException.class,
                () -> parseInChunks(bytes(input), new int[0]), input);
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    /** Feeds {@code input} cut at the given ascending offsets, each chunk in its own buffer. */
    private static List<String> parseInChunks(byte[] input, int[] splits) throws IOException {
        ReplyParser parser = new ReplyParser();
        List<String> out = new ArrayList<>();
        int from = 0;
        for (int split : splits) {
            parser.parse(ByteBuffer.wrap(input, from, split - from).slice(), collector(out));
            from = split;
        }
        ByteBuffer last = ByteBuffer.wrap(input, from, input.length - from);
        parser.parse(last, collector(out));
        assertEquals(0, last.remaining(), "parser consumes all input");
        assertTrue(parser.isIdle());
        return out;
    }

    private static ReplyParser.Listener collector(List<String> out) {
        return (kind, valueCount, line, lineLength) ->
                out.add(kind + "/" + valueCount + ":" + new String(line, 0, lineLength, StandardCharsets.US_ASCII));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
