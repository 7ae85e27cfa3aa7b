package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * Reply lines of the classic text protocol, exactly as memcached 1.6.18 writes them, and the
 * helpers to write them into a {@link ByteBuf}. Every line ends with "\r\n"; helpers add it.
 *
 * <p>The node writes, per command (memcached's own choice of lines):
 * <ul>
 *   <li>get/gets/gat/gats: per hit {@link #writeValueHeader} then the data and "\r\n"
 *       ({@link #writeDataBlock}), then {@link ReplyLine#END}. gets and gats add the CAS.</li>
 *   <li>set/add/replace/append/prepend/cas: STORED, NOT_STORED, EXISTS, NOT_FOUND
 *       ({@link ReplyLine}); {@link #SERVER_ERROR_OUT_OF_MEMORY_STORING} when the store is full.</li>
 *   <li>delete: DELETED / NOT_FOUND; touch: TOUCHED / NOT_FOUND.</li>
 *   <li>incr/decr: {@link #writeNumber} / NOT_FOUND / {@link #CLIENT_ERROR_NON_NUMERIC}.</li>
 *   <li>flush_all, verbosity: OK; version: {@link #writeVersion}; stats:
 *       {@link #writeStat}... then END; stats reset: RESET.</li>
 *   <li>With classic noreply, write nothing at all, errors included.</li>
 * </ul>
 */
public final class Replies {
    private Replies() {
    }

    /** The version string memcached 1.6.18 reports; raftcached reports it so clients see 1.6.18. */
    public static final String MEMCACHED_VERSION = "1.6.18";

    // Error lines (without "\r\n"), word for word as 1.6.18 sends them.
    public static final String ERROR_LINE = "ERROR";
    public static final String CLIENT_ERROR_BAD_FORMAT = "CLIENT_ERROR bad command line format";
    public static final String CLIENT_ERROR_BAD_DATA_CHUNK = "CLIENT_ERROR bad data chunk";
    public static final String CLIENT_ERROR_INVALID_EXPTIME = "CLIENT_ERROR invalid exptime argument";
    public static final String CLIENT_ERROR_INVALID_DELTA = "CLIENT_ERROR invalid numeric delta argument";
    public static final String CLIENT_ERROR_DELETE_USAGE =
            "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]";
    public static final String CLIENT_ERROR_NON_NUMERIC =
            "CLIENT_ERROR cannot increment or decrement non-numeric value";
    public static final String CLIENT_ERROR_INVALID_SHUTDOWN = "CLIENT_ERROR invalid shutdown mode";
    public static final String CLIENT_ERROR_FLUSH_DISABLED = "CLIENT_ERROR flush_all not allowed";
    public static final String ERROR_SHUTDOWN_DISABLED = "ERROR: shutdown not enabled";
    public static final String SERVER_ERROR_TOO_LARGE = "SERVER_ERROR object too large for cache";
    public static final String SERVER_ERROR_OUT_OF_MEMORY_STORING = "SERVER_ERROR out of memory storing object";
    /** incr/decr that could not allocate the grown number. */
    public static final String SERVER_ERROR_OUT_OF_MEMORY = "SERVER_ERROR out of memory";

    private static final byte[] CRLF = {'\r', '\n'};
    private static final byte[] VALUE_PREFIX = ascii("VALUE ");
    private static final byte[] STAT_PREFIX = ascii("STAT ");
    private static final byte[] VERSION_PREFIX = ascii("VERSION ");

    /** Writes a constant reply line such as {@link ReplyLine#STORED}. */
    public static void write(ByteBuf out, ReplyLine line) {
        line.writeTo(out);
    }

    /** Writes {@code text} (ASCII / ISO-8859-1) followed by "\r\n". */
    public static void writeLine(ByteBuf out, String text) {
        writeAscii(out, text);
        out.writeBytes(CRLF);
    }

    /**
     * Writes the reply of a decoder-detected error: {@link Request#errorLine()} and "\r\n", or
     * nothing when the line is null (noreply, or a silent close).
     */
    public static void writeErrorReply(ByteBuf out, Request request) {
        if (request.errorLine() != null) {
            writeLine(out, request.errorLine());
        }
    }

    /** {@code VALUE <key> <flags> <bytes>\r\n} (get, gat). Follow it with {@link #writeDataBlock}. */
    public static void writeValueHeader(ByteBuf out, byte[] key, int clientFlags, int valueLength) {
        out.writeBytes(VALUE_PREFIX);
        out.writeBytes(key);
        out.writeByte(' ');
        writeUnsigned(out, clientFlags & 0xffffffffL);
        out.writeByte(' ');
        writeUnsigned(out, valueLength);
        out.writeBytes(CRLF);
    }

    /** {@code VALUE <key> <flags> <bytes> <cas>\r\n} (gets, gats). Follow it with {@link #writeDataBlock}. */
    public static void writeValueHeader(ByteBuf out, byte[] key, int clientFlags, int valueLength, long casUnique) {
        out.writeBytes(VALUE_PREFIX);
        out.writeBytes(key);
        out.writeByte(' ');
        writeUnsigned(out, clientFlags & 0xffffffffL);
        out.writeByte(' ');
        writeUnsigned(out, valueLength);
        out.writeByte(' ');
        writeUnsigned(out, casUnique);
        out.writeBytes(CRLF);
    }

    /** The data of a VALUE or VA block followed by "\r\n". */
    public static void writeDataBlock(ByteBuf out, byte[] value) {
        out.writeBytes(value);
        out.writeBytes(CRLF);
    }

    /**
     * The reply of a successful incr/decr: the new value as an unsigned 64-bit decimal, without
     * the space padding memcached may leave in the stored value.
     */
    public static void writeNumber(ByteBuf out, long unsignedValue) {
        writeUnsigned(out, unsignedValue);
        out.writeBytes(CRLF);
    }

    /** {@code STAT <name> <value>\r\n}. */
    public static void writeStat(ByteBuf out, String name, String value) {
        out.writeBytes(STAT_PREFIX);
        writeAscii(out, name);
        out.writeByte(' ');
        writeAscii(out, value);
        out.writeBytes(CRLF);
    }

    /** {@code STAT <name> <value>\r\n} for a signed number. */
    public static void writeStat(ByteBuf out, String name, long value) {
        out.writeBytes(STAT_PREFIX);
        writeAscii(out, name);
        out.writeByte(' ');
        writeAscii(out, Long.toString(value));
        out.writeBytes(CRLF);
    }

    /** {@code VERSION <version>\r\n}. */
    public static void writeVersion(ByteBuf out, String version) {
        out.writeBytes(VERSION_PREFIX);
        writeAscii(out, version);
        out.writeBytes(CRLF);
    }

    /** Writes an unsigned 64-bit decimal. */
    static void writeUnsigned(ByteBuf out, long value) {
        if (value >= 0 && value < 10) {
            out.writeByte('0' + (int) value);
            return;
        }
        writeAscii(out, Long.toUnsignedString(value));
    }

    static void writeAscii(ByteBuf out, String text) {
        out.writeCharSequence(text, StandardCharsets.ISO_8859_1);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

}
