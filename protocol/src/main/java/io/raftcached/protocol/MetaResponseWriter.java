package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;

/**
 * Writes the replies of the meta commands exactly as memcached 1.6.18 does. The node calls one
 * method per executed request; each writes the whole status line (or nothing, when q suppresses
 * it). Return flags are echoed in request order ({@link MetaFlags#order()}).
 *
 * <h2>Which flags each reply echoes (1.6.18, verified against the binary)</h2>
 * <table>
 *   <caption>echoed flags</caption>
 *   <tr><th>reply</th><th>flags, in request order</th><th>q suppresses</th></tr>
 *   <tr><td>mg hit: {@code VA <n>} / {@code HD}</td><td>s t c f l h O k, then Z X W</td><td>nothing</td></tr>
 *   <tr><td>mg miss: {@code EN}</td><td>O k (request key)</td><td>EN</td></tr>
 *   <tr><td>ms: {@code HD NS EX NF}</td><td>O k c ({@code c0} unless stored)</td><td>HD</td></tr>
 *   <tr><td>md: {@code HD NF EX}</td><td>O k</td><td>HD</td></tr>
 *   <tr><td>ma: {@code HD} / {@code VA <n>}</td><td>c t O k</td><td>HD/VA of an update, not of a creation</td></tr>
 *   <tr><td>ma: {@code NF EX}</td><td>O k</td><td>nothing</td></tr>
 * </table>
 * A returned key is base64-encoded with " b" appended when binary: for mg hits when the stored item
 * is binary ({@link MetaItemView#keyBinary()}), otherwise when the request used b.
 */
public final class MetaResponseWriter {
    private MetaResponseWriter() {
    }

    private static final byte[] CRLF = {'\r', '\n'};

    /**
     * mg hit: {@code VA <size> <flags>\r\n} (with v) or {@code HD <flags>\r\n}. With v the caller then
     * writes the value and "\r\n" ({@link Replies#writeDataBlock}).
     */
    public static void writeGetHit(ByteBuf out, Request request, MetaItemView item) {
        MetaFlags flags = request.meta();
        if (flags.returnValue()) {
            out.writeByte('V').writeByte('A').writeByte(' ');
            Replies.writeUnsigned(out, item.valueLength());
        } else {
            out.writeByte('H').writeByte('D');
        }
        long ttl = item.ttlSeconds();
        for (byte f : flags.order()) {
            switch (f) {
                case 'T' -> ttl = item.ttlSecondsFor(flags.touchExptime());
                case 'N' -> {
                    if (item.created()) {
                        ttl = item.ttlSecondsFor(flags.vivifyExptime());
                    }
                }
                case 's' -> {
                    flag(out, 's');
                    Replies.writeUnsigned(out, item.valueLength());
                }
                case 't' -> {
                    flag(out, 't');
                    writeTtl(out, ttl);
                }
                case 'c' -> {
                    flag(out, 'c');
                    Replies.writeUnsigned(out, item.casUnique());
                }
                case 'f' -> {
                    flag(out, 'f');
                    Replies.writeUnsigned(out, item.clientFlags() & 0xffffffffL);
                }
                case 'l' -> {
                    flag(out, 'l');
                    Replies.writeUnsigned(out, item.secondsSinceLastAccess() & 0xffffffffL);
                }
                case 'h' -> {
                    flag(out, 'h');
                    out.writeByte(item.fetchedBefore() ? '1' : '0');
                }
                case 'O' -> writeOpaque(out, flags);
                case 'k' -> writeKey(out, item.key(), item.keyBinary());
                default -> {
                }
            }
        }
        // Z before X before W, and never Z with W (memcached's order)
        if (item.winTokenSentBefore()) {
            flag(out, 'Z');
        }
        if (item.stale()) {
            flag(out, 'X');
        }
        if (item.wonToken()) {
            flag(out, 'W');
        }
        out.writeBytes(CRLF);
    }

    /** mg miss: {@code EN <O k>\r\n}, nothing with q. */
    public static void writeGetMiss(ByteBuf out, Request request) {
        MetaFlags flags = request.meta();
        if (flags.noReply()) {
            return;
        }
        out.writeByte('E').writeByte('N');
        writeOpaqueAndKey(out, request);
        out.writeBytes(CRLF);
    }

    /**
     * ms: {@code HD|NS|EX|NF <O k c>\r\n}; HD is suppressed by q.
     *
     * @param casUnique the stored item's CAS for {@link MetaStoreOutcome#STORED}; memcached prints
     *                  {@code c0} for every other outcome, whatever is passed
     */
    public static void writeSet(ByteBuf out, Request request, MetaStoreOutcome outcome, long casUnique) {
        MetaFlags flags = request.meta();
        switch (outcome) {
            case STORED -> {
                if (flags.noReply()) {
                    return;
                }
                out.writeByte('H').writeByte('D');
            }
            case NOT_STORED -> out.writeByte('N').writeByte('S');
            case EXISTS -> out.writeByte('E').writeByte('X');
            case NOT_FOUND -> out.writeByte('N').writeByte('F');
        }
        long cas = outcome == MetaStoreOutcome.STORED ? casUnique : 0;
        for (byte f : flags.order()) {
            switch (f) {
                case 'O' -> writeOpaque(out, flags);
                case 'k' -> writeKey(out, request.key(), flags.keyBinary());
                case 'c' -> {
                    flag(out, 'c');
                    Replies.writeUnsigned(out, cas);
                }
                default -> {
                }
            }
        }
        out.writeBytes(CRLF);
    }

    /** md: {@code HD|NF|EX <O k>\r\n}; HD is suppressed by q. */
    public static void writeDelete(ByteBuf out, Request request, MetaDeleteOutcome outcome) {
        MetaFlags flags = request.meta();
        switch (outcome) {
            case DELETED -> {
                if (flags.noReply()) {
                    return;
                }
                out.writeByte('H').writeByte('D');
            }
            case NOT_FOUND -> out.writeByte('N').writeByte('F');
            case EXISTS -> out.writeByte('E').writeByte('X');
        }
        writeOpaqueAndKey(out, request);
        out.writeBytes(CRLF);
    }

    /**
     * ma. For {@link MetaArithmeticOutcome#UPDATED} and {@link MetaArithmeticOutcome#CREATED}:
     * {@code HD <c t O k>\r\n}, or with v {@code VA <digits> <c t O k>\r\n<number>\r\n} (the number
     * without the space padding the stored value may keep). For NF/EX: {@code NF|EX <O k>\r\n}.
     *
     * @param newValue the result (uint64), ignored for NF/EX
     * @param item     the updated or created item (for c and t); may be null for NF/EX
     */
    public static void writeArithmetic(ByteBuf out, Request request, MetaArithmeticOutcome outcome,
                                       long newValue, MetaItemView item) {
        MetaFlags flags = request.meta();
        switch (outcome) {
            case NOT_FOUND, EXISTS -> {
                boolean notFound = outcome == MetaArithmeticOutcome.NOT_FOUND;
                out.writeByte(notFound ? 'N' : 'E').writeByte(notFound ? 'F' : 'X');
                writeOpaqueAndKey(out, request);
                out.writeBytes(CRLF);
                return;
            }
            case UPDATED -> {
                if (flags.noReply()) {
                    return;
                }
            }
            case CREATED -> {
                // memcached's q only covers the update path
            }
        }
        String number = Long.toUnsignedString(newValue);
        if (flags.returnValue()) {
            out.writeByte('V').writeByte('A').writeByte(' ');
            Replies.writeUnsigned(out, number.length());
        } else {
            out.writeByte('H').writeByte('D');
        }
        long ttl = item.ttlSeconds();
        for (byte f : flags.order()) {
            switch (f) {
                case 'c' -> {
                    flag(out, 'c');
                    Replies.writeUnsigned(out, item.casUnique());
                }
                case 't' -> {
                    flag(out, 't');
                    writeTtl(out, ttl);
                }
                case 'T' -> ttl = item.ttlSecondsFor(flags.touchExptime());
                case 'N' -> {
                    if (outcome == MetaArithmeticOutcome.CREATED) {
                        ttl = item.ttlSecondsFor(flags.vivifyExptime());
                    }
                }
                case 'O' -> writeOpaque(out, flags);
                case 'k' -> writeKey(out, request.key(), flags.keyBinary());
                default -> {
                }
            }
        }
        if (flags.returnValue()) {
            out.writeBytes(CRLF);
            Replies.writeAscii(out, number);
        }
        out.writeBytes(CRLF);
    }

    /** mn: {@code MN\r\n}. */
    public static void writeNoop(ByteBuf out) {
        ReplyLine.MN.writeTo(out);
    }

    /**
     * me hit: {@code ME <key> exp=<e> la=<l> cas=<c> fetch=<yes|no> cls=<class> size=<bytes>\r\n}.
     * The key is base64 (without " b") when the item is binary. Note memcached 1.6.18 prints
     * {@code exp} as now minus exptime, i.e. the remaining TTL negated ({@code exp=-100} for an item
     * with 100 s left; later releases fixed the sign), and -1 without expiry.
     *
     * @param slabClassId    the item's slab class ({@code cls})
     * @param itemTotalBytes the item's total size with header ({@code size}, memcached's ITEM_ntotal)
     */
    public static void writeDebug(ByteBuf out, MetaItemView item, int slabClassId, long itemTotalBytes) {
        out.writeByte('M').writeByte('E').writeByte(' ');
        out.writeBytes(item.keyBinary() ? Base64Keys.encode(item.key()) : item.key());
        Replies.writeAscii(out, " exp=");
        long ttl = item.ttlSeconds();
        Replies.writeAscii(out, ttl == MetaItemView.NO_EXPIRY ? "-1" : Integer.toString((int) -ttl));
        Replies.writeAscii(out, " la=");
        Replies.writeUnsigned(out, item.secondsSinceLastAccess() & 0xffffffffL);
        Replies.writeAscii(out, " cas=");
        Replies.writeUnsigned(out, item.casUnique());
        Replies.writeAscii(out, item.fetchedBefore() ? " fetch=yes" : " fetch=no");
        Replies.writeAscii(out, " cls=");
        Replies.writeUnsigned(out, slabClassId & 0xffffffffL);
        Replies.writeAscii(out, " size=");
        Replies.writeUnsigned(out, itemTotalBytes);
        out.writeBytes(CRLF);
    }

    /** me miss: {@code EN\r\n}. */
    public static void writeDebugMiss(ByteBuf out) {
        ReplyLine.EN.writeTo(out);
    }

    private static void writeOpaqueAndKey(ByteBuf out, Request request) {
        MetaFlags flags = request.meta();
        for (byte f : flags.order()) {
            if (f == 'O') {
                writeOpaque(out, flags);
            } else if (f == 'k') {
                writeKey(out, request.key(), flags.keyBinary());
            }
        }
    }

    private static void flag(ByteBuf out, char c) {
        out.writeByte(' ').writeByte(c);
    }

    /** memcached prints -1 for no expiry, else exptime - now as uint32. */
    private static void writeTtl(ByteBuf out, long ttl) {
        if (ttl == MetaItemView.NO_EXPIRY) {
            out.writeByte('-').writeByte('1');
        } else {
            Replies.writeUnsigned(out, ttl & 0xffffffffL);
        }
    }

    private static void writeOpaque(ByteBuf out, MetaFlags flags) {
        out.writeByte(' ');
        out.writeBytes(flags.opaqueToken());
    }

    private static void writeKey(ByteBuf out, byte[] key, boolean binary) {
        flag(out, 'k');
        if (binary) {
            out.writeBytes(Base64Keys.encode(key));
            out.writeByte(' ').writeByte('b');
        } else {
            out.writeBytes(key);
        }
    }
}
