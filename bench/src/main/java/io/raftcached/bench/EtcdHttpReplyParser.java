package io.raftcached.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Incremental parser for the HTTP/1.1 responses of etcd's JSON gateway, fed whatever bytes the
 * socket returned. Bodies are delimited by {@code Content-Length} or chunked encoding (a response
 * that ends only at connection close cannot be used on a kept-alive connection and is rejected).
 *
 * <p>Each response becomes one {@link ReplyParser.Listener#onReply} call: a 2xx status is
 * {@link ReplyKind#OK}, with a value count of 1 if the body holds {@code "kvs"} (a range that found
 * its key; the gateway leaves empty fields out), else 0; 4xx is {@code CLIENT_ERROR}, 5xx
 * {@code SERVER_ERROR}, anything else {@code ERROR}. The reply text is the status line, followed for
 * errors by the start of the body (etcd puts its error message there). Body bytes are scanned, not
 * kept, so parsing allocates nothing unless the input is malformed.
 */
final class EtcdHttpReplyParser implements ReplyReader {
    private static final int LINE_LENGTH_MAX = ReplyParser.LINE_LENGTH_MAX;
    /** Far more than etcd sends; a response with more header lines means we lost sync. */
    private static final int HEADER_LINES_MAX = 100;
    /** Status line plus this much of an error body is kept for the error samples. */
    private static final int REPLY_TEXT_MAX = 400;
    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte[] HTTP_1 = ascii("HTTP/1.");
    private static final byte[] CONTENT_LENGTH = ascii("content-length:");
    private static final byte[] TRANSFER_ENCODING = ascii("transfer-encoding:");
    private static final byte[] CHUNKED = ascii("chunked");
    private static final byte[] KVS = ascii("\"kvs\"");

    private enum State { STATUS_LINE, HEADER_LINE, BODY, CHUNK_SIZE_LINE, CHUNK_DATA, CHUNK_DATA_END, TRAILER_LINE }

    private State state = State.STATUS_LINE;
    /** The current line, including its CR once seen; +1 leaves room for that CR. */
    private final byte[] line = new byte[LINE_LENGTH_MAX + 1];
    private int lineLength;
    private final byte[] reply = new byte[REPLY_TEXT_MAX];
    private int replyLength;
    private int status;
    private int headerLines;
    private long contentLength;
    private boolean chunked;
    /** Body (or chunk) bytes still to come. */
    private long remaining;
    /** How much of {@link #KVS} the body bytes just seen match; KVS.length once found. */
    private int kvsMatched;

    @Override
    public void parse(ByteBuffer in, ReplyParser.Listener listener) throws IOException {
        while (in.hasRemaining()) {
            if (state == State.BODY || state == State.CHUNK_DATA) {
                int n = (int) Math.min(in.remaining(), remaining);
                for (int i = 0; i < n; i++) {
                    onBodyByte(in.get());
                }
                remaining -= n;
                if (remaining == 0) {
                    if (state == State.BODY) {
                        complete(listener);
                    } else {
                        state = State.CHUNK_DATA_END;
                    }
                }
                continue;
            }
            byte b = in.get();
            if (b != LF) {
                if (lineLength == line.length) {
                    throw new ReplyFormatException("HTTP reply line longer than " + LINE_LENGTH_MAX + " bytes: "
                            + ReplyParser.text(line, Math.min(lineLength, 80)) + "...");
                }
                line[lineLength++] = b;
                continue;
            }
            if (lineLength == 0 || line[lineLength - 1] != CR) {
                throw new ReplyFormatException("HTTP reply line not terminated by CRLF: "
                        + ReplyParser.text(line, lineLength));
            }
            int length = lineLength - 1;
            lineLength = 0;
            onLine(length, listener);
        }
    }

    /** True when no response is partly parsed. */
    boolean isIdle() {
        return state == State.STATUS_LINE && lineLength == 0;
    }

    private void onLine(int length, ReplyParser.Listener listener) throws IOException {
        switch (state) {
            case STATUS_LINE -> onStatusLine(length);
            case HEADER_LINE -> {
                if (length == 0) {
                    onHeadersEnd(listener);
                } else if (++headerLines > HEADER_LINES_MAX) {
                    throw new ReplyFormatException("HTTP reply with more than " + HEADER_LINES_MAX + " header lines");
                } else {
                    onHeader(length);
                }
            }
            case CHUNK_SIZE_LINE -> {
                long size = parseHex(length);
                if (size == 0) {
                    state = State.TRAILER_LINE;
                } else {
                    remaining = size;
                    state = State.CHUNK_DATA;
                }
            }
            case CHUNK_DATA_END -> {
                if (length != 0) {
                    throw new ReplyFormatException("HTTP chunk not followed by CRLF");
                }
                state = State.CHUNK_SIZE_LINE;
            }
            case TRAILER_LINE -> {
                if (length == 0) {
                    complete(listener);
                }
            }
            default -> throw new IllegalStateException("line in state " + state);
        }
    }

    /** {@code HTTP/1.x NNN reason}. */
    private void onStatusLine(int length) throws ReplyFormatException {
        boolean wellFormed = length >= HTTP_1.length + 5 && startsWith(HTTP_1, length, false)
                && isDigit(line[HTTP_1.length]) && line[HTTP_1.length + 1] == ' ' && isDigit(line[HTTP_1.length + 2])
                && isDigit(line[HTTP_1.length + 3]) && isDigit(line[HTTP_1.length + 4])
                && (length == HTTP_1.length + 5 || line[HTTP_1.length + 5] == ' ');
        if (!wellFormed) {
            throw new ReplyFormatException("not an HTTP/1.x status line: " + ReplyParser.text(line, length));
        }
        int at = HTTP_1.length + 2;
        status = (line[at] - '0') * 100 + (line[at + 1] - '0') * 10 + (line[at + 2] - '0');
        if (status < 200) {
            throw new ReplyFormatException("interim HTTP responses are not expected: " + ReplyParser.text(line, length));
        }
        replyLength = Math.min(length, reply.length);
        System.arraycopy(line, 0, reply, 0, replyLength);
        headerLines = 0;
        contentLength = -1;
        chunked = false;
        kvsMatched = 0;
        state = State.HEADER_LINE;
    }

    private void onHeader(int length) throws ReplyFormatException {
        if (startsWith(CONTENT_LENGTH, length, true)) {
            int from = skipSpaces(CONTENT_LENGTH.length, length);
            int to = length;
            while (to > from && line[to - 1] == ' ') {
                to--;
            }
            if (from == to || to - from > 12) {
                throw new ReplyFormatException("bad Content-Length: " + ReplyParser.text(line, length));
            }
            long value = 0;
            for (int i = from; i < to; i++) {
                if (!isDigit(line[i])) {
                    throw new ReplyFormatException("bad Content-Length: " + ReplyParser.text(line, length));
                }
                value = value * 10 + (line[i] - '0');
            }
            contentLength = value;
        } else if (startsWith(TRANSFER_ENCODING, length, true) && contains(CHUNKED, TRANSFER_ENCODING.length, length)) {
            chunked = true;
        }
    }

    private void onHeadersEnd(ReplyParser.Listener listener) throws IOException {
        if (status >= 300 && replyLength < reply.length) {
            reply[replyLength++] = ' ';
        }
        if (chunked) {
            state = State.CHUNK_SIZE_LINE;
        } else if (contentLength < 0) {
            throw new ReplyFormatException("HTTP reply with neither Content-Length nor chunked encoding: "
                    + ReplyParser.text(reply, replyLength));
        } else if (contentLength == 0) {
            complete(listener);
        } else {
            remaining = contentLength;
            state = State.BODY;
        }
    }

    private void onBodyByte(byte b) {
        if (kvsMatched < KVS.length) {
            kvsMatched = b == KVS[kvsMatched] ? kvsMatched + 1 : b == KVS[0] ? 1 : 0;
        }
        if (status >= 300 && replyLength < reply.length) {
            reply[replyLength++] = b;
        }
    }

    private void complete(ReplyParser.Listener listener) throws IOException {
        ReplyKind kind = status < 300 ? ReplyKind.OK
                : status >= 400 && status < 500 ? ReplyKind.CLIENT_ERROR
                : status >= 500 ? ReplyKind.SERVER_ERROR
                : ReplyKind.ERROR;
        int values = status < 300 && kvsMatched == KVS.length ? 1 : 0;
        state = State.STATUS_LINE;
        listener.onReply(kind, values, reply, replyLength);
    }

    /** A chunk-size line: hex digits, optionally followed by {@code ;extensions}. */
    private long parseHex(int length) throws ReplyFormatException {
        long size = 0;
        int i = 0;
        for (; i < length && line[i] != ';' && line[i] != ' '; i++) {
            int digit = Character.digit(line[i], 16);
            if (digit < 0 || i >= 8) {
                throw new ReplyFormatException("bad HTTP chunk size: " + ReplyParser.text(line, length));
            }
            size = size * 16 + digit;
        }
        if (i == 0) {
            throw new ReplyFormatException("bad HTTP chunk size: " + ReplyParser.text(line, length));
        }
        return size;
    }

    private boolean startsWith(byte[] prefix, int length, boolean ignoreCase) {
        if (length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            byte b = ignoreCase ? lower(line[i]) : line[i];
            if (b != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean contains(byte[] word, int from, int length) {
        for (int start = from; start + word.length <= length; start++) {
            int i = 0;
            while (i < word.length && lower(line[start + i]) == word[i]) {
                i++;
            }
            if (i == word.length) {
                return true;
            }
        }
        return false;
    }

    private int skipSpaces(int from, int length) {
        int i = from;
        while (i < length && (line[i] == ' ' || line[i] == '\t')) {
            i++;
        }
        return i;
    }

    private static byte lower(byte b) {
        return b >= 'A' && b <= 'Z' ? (byte) (b + 32) : b;
    }

    private static boolean isDigit(byte b) {
        return b >= '0' && b <= '9';
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
