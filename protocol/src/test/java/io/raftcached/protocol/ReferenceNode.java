package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;
import io.raftcached.util.SafeNumbers;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * A deliberately small, single-threaded model of memcached 1.6.18's item semantics, driven through
 * this package's API exactly as the node will drive it: decoded {@link Request}s in, replies written
 * with {@link Replies} and {@link MetaResponseWriter}. It exists so {@link ReferenceNodeTest} can
 * replay the captured transcripts end to end; it is a test oracle and an example, not the store
 * (no memory limit, no LRU, no eviction, wall clock time).
 */
final class ReferenceNode {
    private static final long REALTIME_MAXDELTA = 60L * 60 * 24 * 30;

    private static final class Item {
        byte[] key;
        boolean binaryKey;
        int flags;
        long exptime; // absolute unix seconds; 0 = never
        byte[] value;
        long cas;
        long time; // last access
        boolean fetched;
        boolean stale;
        boolean tokenSent;
    }

    private final Map<ByteBuffer, Item> items = new HashMap<>();
    private final long processStarted = now() - 2; // memcached starts its clock 2 s early
    private long casCounter;
    // memcached's settings.oldest_live / oldest_cas: what flush_all made invisible
    private long oldestLive;
    private long oldestCas;

    private static long now() {
        return System.currentTimeMillis() / 1000;
    }

    /** memcached's realtime(EXPTIME_TO_POSITIVE_TIME(raw)) as an absolute time, 0 = never. */
    private long realtime(int raw) {
        long e = raw < 0 ? REALTIME_MAXDELTA + 1 : raw;
        if (e == 0) {
            return 0;
        }
        if (e > REALTIME_MAXDELTA) {
            return e <= processStarted ? 1 : e;
        }
        return now() + e;
    }

    private Item lookup(byte[] key) {
        Item it = items.get(ByteBuffer.wrap(key));
        if (it == null) {
            return null;
        }
        long now = now();
        boolean flushed = oldestLive != 0 && oldestLive <= now
                && (it.time <= oldestLive || (oldestCas != 0 && Long.compareUnsigned(it.cas, oldestCas) < 0));
        if ((it.exptime != 0 && it.exptime <= now) || flushed) {
            items.remove(ByteBuffer.wrap(key));
            return null;
        }
        return it;
    }

    private Item link(byte[] key, boolean binary, int flags, long exptime, byte[] value, long explicitCas) {
        Item it = new Item();
        it.key = key;
        it.binaryKey = binary;
        it.flags = flags;
        it.exptime = exptime;
        it.value = value;
        it.cas = explicitCas != 0 ? explicitCas : ++casCounter;
        it.time = now();
        items.put(ByteBuffer.wrap(key), it);
        return it;
    }

    /** Executes {@code r} and writes its reply; returns false when the connection must close. */
    boolean handle(Request r, ByteBuf out) {
        switch (r.type()) {
            case ERROR_REPLY -> {
                if (r.key() != null) {
                    items.remove(ByteBuffer.wrap(r.key())); // too-large set/ms unlinks the old value
                }
                Replies.writeErrorReply(out, r);
                return !r.closeConnection();
            }
            case GET, GETS, GAT, GATS -> retrieve(r, out);
            case SET, ADD, REPLACE, APPEND, PREPEND, CAS -> {
                long cas = r.type() == CommandType.CAS ? r.casUnique() : 0;
                MetaStoreOutcome o = store(r.type(), r.key(), false, r.clientFlags(), realtime(r.exptime()), r.value(), cas, false, 0);
                if (!r.noreply()) {
                    Replies.write(out, switch (o) {
                        case STORED -> ReplyLine.STORED;
                        case NOT_STORED -> ReplyLine.NOT_STORED;
                        case EXISTS -> ReplyLine.EXISTS;
                        case NOT_FOUND -> ReplyLine.NOT_FOUND;
                    });
                }
            }
            case INCR, DECR -> {
                Item it = lookup(r.key());
                String error = null;
                long[] result = new long[1];
                if (it == null) {
                    error = null;
                } else {
                    error = delta(it, r.type() == CommandType.INCR, r.delta(), result);
                }
                if (!r.noreply()) {
                    if (it == null) {
                        ReplyLine.NOT_FOUND.writeTo(out);
                    } else if (error != null) {
                        Replies.writeLine(out, error);
                    } else {
                        Replies.writeNumber(out, result[0]);
                    }
                }
            }
            case TOUCH -> {
                Item it = lookup(r.key());
                if (it != null) {
                    it.exptime = realtime(r.exptime());
                }
                if (!r.noreply()) {
                    (it != null ? ReplyLine.TOUCHED : ReplyLine.NOT_FOUND).writeTo(out);
                }
            }
            case DELETE -> {
                Item it = lookup(r.key());
                if (it != null) {
                    items.remove(ByteBuffer.wrap(r.key()));
                }
                if (!r.noreply()) {
                    (it != null ? ReplyLine.DELETED : ReplyLine.NOT_FOUND).writeTo(out);
                }
            }
            case FLUSH_ALL -> {
                if (r.errorLine() != null) {
                    if (!r.noreply()) {
                        Replies.writeLine(out, r.errorLine());
                    }
                    return true;
                }
                long when = r.exptime() > 0 ? realtime(r.exptime()) : now();
                oldestLive = when - 1;
                if (oldestLive <= now()) {
                    oldestCas = ++casCounter; // an immediate flush consumes a CAS id as its watermark
                }
                if (!r.noreply()) {
                    ReplyLine.OK.writeTo(out);
                }
            }
            case VERSION -> Replies.writeVersion(out, Replies.MEMCACHED_VERSION);
            case VERBOSITY -> {
                if (!r.noreply()) {
                    ReplyLine.OK.writeTo(out);
                }
            }
            case QUIT -> {
                return false;
            }
            case SHUTDOWN -> Replies.writeLine(out, Replies.ERROR_SHUTDOWN_DISABLED); // -A not given
            case STATS -> {
                if (!r.args().isEmpty() && r.arg(0).equals("reset")) {
                    ReplyLine.RESET.writeTo(out);
                } else {
                    ReplyLine.END.writeTo(out); // enough for "stats detail dump" on an idle server
                }
            }
            case ADMIN -> {
                if (!r.noreply()) {
                    ReplyLine.OK.writeTo(out);
                }
            }
            case META_GET -> metaGet(r, out);
            case META_SET -> metaSet(r, out);
            case META_DELETE -> metaDelete(r, out);
            case META_ARITHMETIC -> metaArithmetic(r, out);
            case META_NOOP -> MetaResponseWriter.writeNoop(out);
            case META_DEBUG -> {
                Item it = lookup(r.key());
                if (it == null) {
                    MetaResponseWriter.writeDebugMiss(out);
                } else {
                    long size = 48L + it.key.length + 1 + (it.flags != 0 ? 4 : 0) + it.value.length + 2 + 8;
                    MetaResponseWriter.writeDebug(out, view(it, false), slabClass(size), size);
                }
            }
        }
        return true;
    }

    private void retrieve(Request r, ByteBuf out) {
        boolean touch = r.type() == CommandType.GAT || r.type() == CommandType.GATS;
        boolean withCas = r.type() == CommandType.GETS || r.type() == CommandType.GATS;
        int mark = out.writerIndex();
        for (byte[] key : r.keys()) {
            Item it = lookup(key);
            if (it == null) {
                continue;
            }
            if (touch) {
                it.exptime = realtime(r.exptime());
            }
            if (withCas) {
                Replies.writeValueHeader(out, it.key, it.flags, it.value.length, it.cas);
            } else {
                Replies.writeValueHeader(out, it.key, it.flags, it.value.length);
            }
            Replies.writeDataBlock(out, it.value);
            it.fetched = true;
            it.time = now();
        }
        if (r.errorLine() != null) {
            out.writerIndex(mark); // memcached drops the values it had stacked
            Replies.writeLine(out, r.errorLine());
        } else {
            ReplyLine.END.writeTo(out);
        }
    }

    /** memcached's do_store_item. */
    private MetaStoreOutcome store(CommandType comm, byte[] key, boolean binary, int flags, long exptime,
                                   byte[] value, long cas, boolean setStale, long explicitCas) {
        Item old = lookup(key);
        if (old == null) {
            if (comm == CommandType.ADD || comm == CommandType.SET) {
                link(key, binary, flags, exptime, value, explicitCas);
                return MetaStoreOutcome.STORED;
            }
            return comm == CommandType.CAS ? MetaStoreOutcome.NOT_FOUND : MetaStoreOutcome.NOT_STORED;
        }
        switch (comm) {
            case ADD -> {
                return MetaStoreOutcome.NOT_STORED;
            }
            case CAS -> {
                if (cas != 0 && cas == old.cas) {
                    link(key, binary, flags, exptime, value, explicitCas);
                    return MetaStoreOutcome.STORED;
                }
                if (cas != 0 && setStale && Long.compareUnsigned(cas, old.cas) < 0) {
                    Item it = link(key, binary, flags, old.exptime, value, explicitCas);
                    it.stale = true;
                    it.tokenSent = old.tokenSent;
                    return MetaStoreOutcome.STORED;
                }
                return MetaStoreOutcome.EXISTS;
            }
            case APPEND, PREPEND -> {
                if (cas != 0 && cas != old.cas) {
                    return MetaStoreOutcome.EXISTS;
                }
                byte[] joined = comm == CommandType.APPEND ? concat(old.value, value) : concat(value, old.value);
                link(key, old.binaryKey, old.flags, old.exptime, joined, explicitCas);
                return MetaStoreOutcome.STORED;
            }
            default -> {
                link(key, binary, flags, exptime, value, explicitCas);
                return MetaStoreOutcome.STORED;
            }
        }
    }

    /** memcached's do_add_delta: null on success (result[0] set), else the error line. */
    private String delta(Item it, boolean incr, long delta, long[] result) {
        if (it.value.length == 0) {
            return Replies.CLIENT_ERROR_NON_NUMERIC;
        }
        long value;
        try {
            value = SafeNumbers.strtoull(it.value, 0, it.value.length);
        } catch (SafeNumbers.NotANumber e) {
            return Replies.CLIENT_ERROR_NON_NUMERIC;
        }
        if (incr) {
            value += delta;
        } else {
            value = Long.compareUnsigned(delta, value) > 0 ? 0 : value - delta;
        }
        byte[] digits = Wire.bytes(Long.toUnsignedString(value));
        if (digits.length <= it.value.length) {
            // in place, padded with spaces to the old length
            byte[] padded = new byte[it.value.length];
            Arrays.fill(padded, (byte) ' ');
            System.arraycopy(digits, 0, padded, 0, digits.length);
            it.value = padded;
            it.cas = ++casCounter;
        } else {
            Item fresh = link(it.key, it.binaryKey, it.flags, it.exptime, digits, 0);
            fresh.fetched = it.fetched;
        }
        result[0] = value;
        return null;
    }

    // ---- meta ----

    private final class View implements MetaItemView {
        final Item it;
        final long ttlBefore;
        final long lastAccess;
        final boolean fetchedBefore;
        final boolean tokenSentBefore;
        final boolean created;
        boolean won;

        View(Item it, boolean created) {
            this.it = it;
            this.created = created;
            long now = now();
            this.ttlBefore = it.exptime == 0 ? NO_EXPIRY : it.exptime - now;
            this.lastAccess = now - it.time;
            this.fetchedBefore = it.fetched;
            this.tokenSentBefore = it.tokenSent;
        }

        @Override public byte[] key() { return it.key; }
        @Override public boolean keyBinary() { return it.binaryKey; }
        @Override public int clientFlags() { return it.flags; }
        @Override public int valueLength() { return it.value.length; }
        @Override public long casUnique() { return it.cas; }
        @Override public long ttlSeconds() { return ttlBefore; }
        @Override public long ttlSecondsFor(int raw) {
            long e = realtime(raw);
            return e == 0 ? NO_EXPIRY : e - now();
        }
        @Override public long secondsSinceLastAccess() { return lastAccess; }
        @Override public boolean fetchedBefore() { return fetchedBefore; }
        @Override public boolean created() { return created; }
        @Override public boolean winTokenSentBefore() { return tokenSentBefore; }
        @Override public boolean stale() { return it.stale; }
        @Override public boolean wonToken() { return won; }
    }

    private View view(Item it, boolean created) {
        return new View(it, created);
    }

    private void metaGet(Request r, ByteBuf out) {
        MetaFlags f = r.meta();
        Item it = lookup(r.key());
        boolean created = false;
        if (it == null && f.hasVivify()) {
            it = link(r.key(), false, 0, 0, new byte[0], 0); // memcached does not mark it binary
            created = true;
        }
        if (it == null) {
            MetaResponseWriter.writeGetMiss(out, r);
            return;
        }
        View v = view(it, created);
        boolean won = created;
        for (byte flag : f.order()) {
            switch (flag) {
                case 'T' -> it.exptime = realtime(f.touchExptime());
                case 'N' -> {
                    if (created) {
                        it.exptime = realtime(f.vivifyExptime());
                    }
                }
                case 'R' -> {
                    if (!it.tokenSent && !created && it.exptime != 0 && it.exptime < realtime(f.recacheExptime())) {
                        won = true;
                    }
                }
                default -> {
                }
            }
        }
        if (it.stale && !it.tokenSent) {
            won = true;
        }
        if (won) {
            it.tokenSent = true;
        }
        v.won = won;
        MetaResponseWriter.writeGetHit(out, r, v);
        if (f.returnValue()) {
            Replies.writeDataBlock(out, it.value);
        }
        if (!f.noLruBump()) {
            it.fetched = true;
            it.time = now();
        }
    }

    private void metaSet(Request r, ByteBuf out) {
        MetaFlags f = r.meta();
        CommandType mode = r.metaSetMode();
        boolean setStale = f.invalidate() && mode == CommandType.CAS;
        MetaStoreOutcome o = store(mode, r.key(), f.keyBinary(), f.clientFlags(), realtime(f.touchExptime()), r.value(),
                f.hasCompareCas() ? f.compareCas() : 0, setStale, f.hasNewCas() ? f.newCas() : 0);
        Item it = o == MetaStoreOutcome.STORED ? lookup(r.key()) : null;
        MetaResponseWriter.writeSet(out, r, o, it == null ? 0 : it.cas);
    }

    private void metaDelete(Request r, ByteBuf out) {
        MetaFlags f = r.meta();
        Item it = lookup(r.key());
        MetaDeleteOutcome o;
        if (it == null) {
            o = MetaDeleteOutcome.NOT_FOUND;
        } else if (f.hasCompareCas() && it.cas != f.compareCas()) {
            o = MetaDeleteOutcome.EXISTS;
        } else if (f.invalidate()) {
            if (f.hasTouch()) {
                it.exptime = realtime(f.touchExptime());
            }
            it.stale = true;
            it.tokenSent = false;
            it.cas = f.hasNewCas() ? f.newCas() : ++casCounter;
            o = MetaDeleteOutcome.DELETED;
        } else {
            items.remove(ByteBuffer.wrap(r.key()));
            o = MetaDeleteOutcome.DELETED;
        }
        MetaResponseWriter.writeDelete(out, r, o);
    }

    private void metaArithmetic(Request r, ByteBuf out) {
        MetaFlags f = r.meta();
        Item it = lookup(r.key());
        long[] result = new long[1];
        MetaArithmeticOutcome o;
        View v = null;
        if (it == null) {
            if (!f.hasVivify()) {
                MetaResponseWriter.writeArithmetic(out, r, MetaArithmeticOutcome.NOT_FOUND, 0, null);
                return;
            }
            it = link(r.key(), false, 0, 0, Wire.bytes(Long.toUnsignedString(f.initial())), 0);
            result[0] = f.initial();
            o = MetaArithmeticOutcome.CREATED;
        } else if (f.hasCompareCas() && f.compareCas() != 0 && it.cas != f.compareCas()) {
            MetaResponseWriter.writeArithmetic(out, r, MetaArithmeticOutcome.EXISTS, 0, null);
            return;
        } else {
            String error = delta(it, r.metaIncrement(), f.delta(), result);
            if (error != null) {
                Replies.writeLine(out, error);
                return;
            }
            it = lookup(r.key()); // delta may have linked a new item
            o = MetaArithmeticOutcome.UPDATED;
        }
        v = view(it, o == MetaArithmeticOutcome.CREATED);
        for (byte flag : f.order()) {
            if (flag == 'T') {
                it.exptime = realtime(f.touchExptime());
            } else if (flag == 'N' && o == MetaArithmeticOutcome.CREATED) {
                it.exptime = realtime(f.vivifyExptime());
            }
        }
        MetaResponseWriter.writeArithmetic(out, r, o, result[0], v);
    }

    /** memcached's slab class for an item of this total size, default -n 48 -f 1.25. */
    static int slabClass(long size) {
        int cls = 1;
        long chunk = 96;
        while (size > chunk) {
            chunk = (long) (chunk * 1.25);
            if (chunk % 8 != 0) {
                chunk += 8 - chunk % 8;
            }
            cls++;
        }
        return cls;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
