package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code --protocol=etcd-http}: request bytes and response parsing, no etcd needed. */
class EtcdHttpProtocolTest {

    private static final Pattern REQUEST = Pattern.compile(
            "POST (/v3/kv/\\w+) HTTP/1\\.1\r\nHost: etcd\r\nContent-Type: application/json\r\n"
                    + "Content-Length: (\\d+)\r\n\r\n(.*)", Pattern.DOTALL);

    @Test
    void setIsAPutWithBase64KeyAndTheBenchValue() {
        EtcdHttpRequestEncoder encoder = new EtcdHttpRequestEncoder("key:", 5, 7);
        for (long key : new long[] {0, 9, 42, 1234, 99_999, Long.MAX_VALUE}) {
            Matcher m = request(b -> encoder.encodeSet(b, key));
            assertEquals("/v3/kv/put", m.group(1));
            String body = m.group(3);
            assertEquals(Integer.parseInt(m.group(2)), body.length(), "Content-Length matches the body");
            String value = new String(RequestEncoder.value(5, 7), StandardCharsets.US_ASCII);
            assertEquals("{\"key\":\"" + b64("key:" + key) + "\",\"value\":\"" + b64(value) + "\"}", body);
        }
    }

    @Test
    void getIsARange() {
        EtcdHttpRequestEncoder encoder = new EtcdHttpRequestEncoder("k", 100, 1);
        Matcher m = request(b -> encoder.encodeGet(b, 12));
        assertEquals("/v3/kv/range", m.group(1));
        assertEquals("{\"key\":\"" + b64("k12") + "\"}", m.group(3));
        assertEquals(Integer.parseInt(m.group(2)), m.group(3).length());
    }

    @Test
    void longestRequestFitsItsBound() {
        EtcdHttpRequestEncoder encoder = new EtcdHttpRequestEncoder("key:", 100, 1);
        ByteBuffer buffer = ByteBuffer.allocate(encoder.requestBytesMax());
        encoder.encodeSet(buffer, Long.MAX_VALUE);
        assertTrue(buffer.remaining() < 10, "bound is tight up to the Content-Length digits");
    }

    /** What etcd 3.4's gateway answers, plus chunked and error shapes. */
    private static final String STREAM = ""
            + response("200 OK", "{\"header\":{\"cluster_id\":\"1\",\"revision\":\"2\",\"raft_term\":\"2\"}}")
            + response("200 OK", "{\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":\"a2V5OjE=\",\"value\":\"aGk=\"}],"
                    + "\"count\":\"1\"}")
            + "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n7\r\n{\"kvs\":\r\n3;x=y\r\n[]}\r\n0\r\nX-T: 1\r\n\r\n"
            + response("400 Bad Request", "{\"error\":\"bad key\",\"code\":3}")
            + response("503 Service Unavailable", "{\"error\":\"etcdserver: leader changed\",\"code\":14}")
            + "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

    private static final List<String> EXPECTED = List.of(
            "OK/0:HTTP/1.1 200 OK",
            "OK/1:HTTP/1.1 200 OK",
            "OK/1:HTTP/1.1 200 OK",
            "CLIENT_ERROR/0:HTTP/1.1 400 Bad Request {\"error\":\"bad key\",\"code\":3}",
            "SERVER_ERROR/0:HTTP/1.1 503 Service Unavailable {\"error\":\"etcdserver: leader changed\",\"code\":14}",
            "OK/0:HTTP/1.1 204 No Content");

    @Test
    void splitAnywhereGivesTheSameReplies() throws IOException {
        byte[] input = STREAM.getBytes(StandardCharsets.US_ASCII);
        assertEquals(EXPECTED, parse(input, new int[0]));
        for (int split = 0; split <= input.length; split++) {
            assertEquals(EXPECTED, parse(input, new int[] {split}), "split at " + split);
        }
        int[] everyByte = new int[input.length];
        for (int i = 0; i < input.length; i++) {
            everyByte[i] = i;
        }
        assertEquals(EXPECTED, parse(input, everyByte));
    }

    @Test
    void rejectsWhatCannotBeFramed() {
        assertMalformed("HTTP/1.1 200 OK\r\n\r\n", "neither Content-Length nor chunked");
        assertMalformed("HTTP/1.1 100 Continue\r\n\r\n", "interim");
        assertMalformed("STORED\r\n", "not an HTTP/1.x status line");
        assertMalformed("HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "not terminated by CRLF");
        assertMalformed("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n", "bad Content-Length");
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad HTTP chunk size");
        assertMalformed("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n", "chunk not followed");
    }

    private static void assertMalformed(String input, String messagePart) {
        ReplyFormatException e = assertThrows(ReplyFormatException.class,
                () -> parse(input.getBytes(StandardCharsets.US_ASCII), new int[0]), input);
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    private static List<String> parse(byte[] input, int[] splits) throws IOException {
        EtcdHttpReplyParser parser = new EtcdHttpReplyParser();
        List<String> out = new ArrayList<>();
        ReplyParser.Listener listener = (kind, values, line, length) ->
                out.add(kind + "/" + values + ":" + new String(line, 0, length, StandardCharsets.US_ASCII));
        int from = 0;
        for (int split : splits) {
            parser.parse(ByteBuffer.wrap(input, from, split - from).slice(), listener);
            from = split;
        }
        parser.parse(ByteBuffer.wrap(input, from, input.length - from), listener);
        assertTrue(parser.isIdle());
        return out;
    }

    private static String response(String status, String body) {
        return "HTTP/1.1 " + status + "\r\nContent-Type: application/json\r\nContent-Length: " + body.length()
                + "\r\n\r\n" + body;
    }

    private static Matcher request(java.util.function.Consumer<ByteBuffer> body) {
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        body.accept(buffer);
        buffer.flip();
        String text = StandardCharsets.US_ASCII.decode(buffer).toString();
        Matcher m = REQUEST.matcher(text);
        assertTrue(m.matches(), text);
        return m;
    }

    private static String b64(String s) {
        return Base64.getEncoder().encodeToString(s.getBytes(StandardCharsets.US_ASCII));
    }
}
