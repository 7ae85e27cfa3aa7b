package io.raftcached.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Incremental parser for memcached ASCII replies, fed whatever bytes the socket returned.
 *
 * <p>A reply is either a storage/delete/touch status line, an error line, or zero or more
 * {@code VALUE <key> <flags> <bytes> [<cas>]\r\n<data>\r\n} blocks closed by {@code END\r\n}. The
 * parser calls {@link Listener#onReply} once per complete reply, with the number of VALUE blocks it
 * held. Value data is skipped, never copied; status lines are copied into one reusable array, so
 * parsing allocates nothing unless the input is malformed.
 *
 * <p>Any malformed input throws {@link ReplyFormatException}; the parser (and its connection) is
 * then unusable, because the position of the next reply is unknown.
 */
public final class ReplyParser implements ReplyReader {
    /** memcached's longest status line is far shorter; anything longer means we lost sync. */
    public static final int LINE_LENGTH_MAX = 2048;
    /** Far above memcached's 1 MiB default item limit; bounds what a corrupt header can make us skip. */
    public static final int VALUE_LENGTH_MAX = 1 << 30;
    /** Bound on VALUE blocks in one reply (a multi-get of this many keys is already absurd for a bench). */
    public static final int VALUES_PER_REPLY_MAX = 1 << 20;

    private static final byte CR = '\r';
    private static final byte LF = '\n';
    private static final byte[] VALUE_SP = ascii("VALUE ");
    private static final byte[] END = ascii("END");
    private static final byte[] STORED = ascii("STORED");
    private static final byte[] NOT_STORED = ascii("NOT_STORED");
    private static final byte[] EXISTS = ascii("EXISTS");
    private static final byte[] NOT_FOUND = ascii("NOT_FOUND");
    private static final byte[] DELETED = ascii("DELETED");
    private static final byte[] TOUCHED = ascii("TOUCHED");
    private static final byte[] ERROR = ascii("ERROR");
    private static final byte[] CLIENT_ERROR = ascii("CLIENT_ERROR");
    private static final byte[] SERVER_ERROR = ascii("SERVER_ERROR");

    /** Receives complete replies. {@code line} is only valid during the call. */
    public interface Listener {
        void onReply(ReplyKind kind, int valueCount, byte[] line, int lineLength) throws IOException;
    }

    /** The current line, including its CR once seen; +1 leaves room for that CR. */
    private final byte[] line = new byte[LINE_LENGTH_MAX + 1];
    private int lineLength;
    /** VALUE blocks seen in the reply being parsed. */
    private int valueCount;
    /** Bytes of value data still to skip, including the data block's trailing CRLF. */
    private long dataRemaining;

    /** Consumes every remaining byte of {@code in}, calling the listener for each reply it completes. */
    @Override
    public void parse(ByteBuffer in, Listener listener) throws IOException {
        while (in.hasRemaining()) {
            if (dataRemaining > 2) {
                int skip = (int) Math.min(in.remaining(), dataRemaining - 2);
                in.position(in.position() + skip);
                dataRemaining -= skip;
            } else if (dataRemaining > 0) {
                byte expected = dataRemaining == 2 ? CR : LF;
                if (in.get() != expected) {
                    throw new ReplyFormatException("value data block is not followed by CRLF");
                }
                dataRemaining--;
            } else {
                byte b = in.get();
                if (b == LF) {
                    onLine(listener);
                } else {
                    if (lineLength == line.length) {
                        throw new ReplyFormatException("reply line longer than " + LINE_LENGTH_MAX
                                + " bytes: " + text(line, Math.min(lineLength, 80)) + "...");
                    }
                    line[lineLength++] = b;
                }
            }
        }
    }

    /** True when no reply is partly parsed (no partial line, no VALUE block awaiting its END). */
    public boolean isIdle() {
        return lineLength == 0 && valueCount == 0 && dataRemaining == 0;
    }

    private void onLine(Listener listener) throws IOException {
        if (lineLength == 0 || line[lineLength - 1] != CR) {
            throw new ReplyFormatException("reply line not terminated by CRLF: " + text(line, lineLength));
        }
        int length = lineLength - 1;
        lineLength = 0;
        if (startsWith(VALUE_SP, length)) {
            onValueHeader(length);
            return;
        }
        ReplyKind kind = classify(length);
        if (kind == null) {
            throw new ReplyFormatException("unexpected reply line: " + text(line, length));
        }
        if (valueCount > 0 && kind != ReplyKind.END && !kind.isError()) {
            throw new ReplyFormatException("VALUE block followed by " + text(line, length) + " instead of END");
        }
        int values = valueCount;
        valueCount = 0;
        listener.onReply(kind, values, line, length);
    }

    private ReplyKind classify(int length) {
        // Ordered by how often a load run sees them.
        if (equalsLine(END, length)) return ReplyKind.END;
        if (equalsLine(STORED, length)) return ReplyKind.STORED;
        if (equalsLine(NOT_STORED, length)) return ReplyKind.NOT_STORED;
        if (equalsLine(EXISTS, length)) return ReplyKind.EXISTS;
        if (equalsLine(NOT_FOUND, length)) return ReplyKind.NOT_FOUND;
        if (equalsLine(DELETED, length)) return ReplyKind.DELETED;
        if (equalsLine(TOUCHED, length)) return ReplyKind.TOUCHED;
        if (isWord(ERROR, length)) return ReplyKind.ERROR;
        if (isWord(CLIENT_ERROR, length)) return ReplyKind.CLIENT_ERROR;
        if (isWord(SERVER_ERROR, length)) return ReplyKind.SERVER_ERROR;
        return null;
    }

    /** {@code VALUE <key> <flags> <bytes> [<cas>]}: only {@code <bytes>} matters to us. */
    private void onValueHeader(int length) throws ReplyFormatException {
        int keyEnd = tokenEnd(VALUE_SP.length, length);
        int flagsEnd = tokenEnd(keyEnd + 1, length);
        int bytesStart = flagsEnd + 1;
        int bytesEnd = tokenEnd(bytesStart, length);
        boolean wellFormed = keyEnd > VALUE_SP.length && flagsEnd > keyEnd + 1 && bytesEnd > bytesStart
                && isDigits(keyEnd + 1, flagsEnd) && isDigits(bytesStart, bytesEnd)
                && (bytesEnd == length || (bytesEnd + 1 < length && isDigits(bytesEnd + 1, length)));
        if (!wellFormed || bytesEnd - bytesStart > 10) {
            throw new ReplyFormatException("malformed VALUE line: " + text(line, length));
        }
        long bytes = 0;
        for (int i = bytesStart; i < bytesEnd; i++) {
            bytes = bytes * 10 + (line[i] - '0');
        }
        if (bytes > VALUE_LENGTH_MAX) {
            throw new ReplyFormatException("VALUE of " + bytes + " bytes exceeds " + VALUE_LENGTH_MAX);
        }
        if (valueCount == VALUES_PER_REPLY_MAX) {
            throw new ReplyFormatException("more than " + VALUES_PER_REPLY_MAX + " VALUE blocks in one reply");
        }
        valueCount++;
        dataRemaining = bytes + 2;
    }

    /** Index of the first space at or after {@code from}, or {@code length}. */
    private int tokenEnd(int from, int length) {
        int i = from;
        while (i < length && line[i] != ' ') {
            i++;
        }
        return i;
    }

    private boolean isDigits(int from, int to) {
        if (from >= to) {
            return false;
        }
        for (int i = from; i < to; i++) {
            if (line[i] < '0' || line[i] > '9') {
                return false;
            }
        }
        return true;
    }

    private boolean startsWith(byte[] prefix, int length) {
        if (length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (line[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private boolean equalsLine(byte[] word, int length) {
        return length == word.length && startsWith(word, length);
    }

    /** The line is {@code word} alone or {@code word} followed by a space and a message. */
    private boolean isWord(byte[] word, int length) {
        return startsWith(word, length) && (length == word.length || line[word.length] == ' ');
    }

    /** A printable rendering of a reply line, for error messages and error samples. */
    public static String text(byte[] bytes, int length) {
        int shown = Math.min(length, 200);
        StringBuilder sb = new StringBuilder(shown + 3);
        for (int i = 0; i < shown; i++) {
            int c = bytes[i] & 0xff;
            sb.append(c >= 0x20 && c < 0x7f ? (char) c : '?');
        }
        if (shown < length) {
            sb.append("...");
        }
        return sb.toString();
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
