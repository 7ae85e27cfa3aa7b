package io.raftcached.store;

import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.store.StoreResult.Status;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * memcached's semantics written the simple way — a map, unbounded memory, no slabs — to check
 * the real store against. It predicts statuses, numbers, values, flags, TTLs and CAS values.
 */
final class ReferenceModel {
    static final class Entry {
        byte[] value;
        int flags;
        long exptime;   // absolute unix seconds, 0 = never
        long cas;
        long time;
        boolean stale;
        boolean tokenSent;

        Entry copy() {
            Entry e = new Entry();
            e.value = value.clone();
            e.flags = flags;
            e.exptime = exptime;
            e.cas = cas;
            e.time = time;
            e.stale = stale;
            e.tokenSent = tokenSent;
            return e;
        }
    }

    final Map<String, Entry> entries = new HashMap<>();
    long casCounter;
    long nowSeconds;
    long oldestLive;   // unix seconds; 0 = no flush
    long oldestCas;

    void setNow(long unixMillis) {
        nowSeconds = Math.max(nowSeconds, Math.floorDiv(unixMillis, 1000));
    }

    private long exptimeFor(long raw) {
        if (raw < 0) {
            return 1;   // long past
        }
        if (raw == 0) {
            return 0;
        }
        if (raw > 2_592_000) {
            return raw;
        }
        return nowSeconds + raw;
    }

    private boolean live(Entry e, long at) {
        boolean flushed = oldestLive != 0 && oldestLive <= at
                && (e.time <= oldestLive || (oldestCas != 0 && e.cas != 0 && e.cas < oldestCas));
        boolean expired = e.exptime != 0 && e.exptime <= at;
        return !flushed && !expired;
    }

    /** What a read at {@code atSeconds} sees. */
    Entry read(String key, long atSeconds) {
        Entry e = entries.get(key);
        return e != null && live(e, atSeconds) ? e : null;
    }

    private Entry lookupForWrite(String key) {
        Entry e = entries.get(key);
        if (e != null && !live(e, nowSeconds)) {
            entries.remove(key);
            return null;
        }
        return e;
    }

    private Entry fresh(byte[] value, int flags, long exptime) {
        Entry e = new Entry();
        e.value = value;
        e.flags = flags;
        e.exptime = exptime;
        e.time = nowSeconds;
        return e;
    }

    private void link(String key, Entry e) {
        e.time = nowSeconds;
        e.cas = ++casCounter;
        entries.put(key, e);
    }

    private static boolean has(Command c, CommandOption o) {
        return (c.getOptions() & o.getNumber()) != 0;
    }

    StoreResult apply(Command c) {
        String key = c.getKey().toString(StandardCharsets.ISO_8859_1);
        switch (c.getOp()) {
            case STORE: return store(key, c);
            case DELETE: {
                Entry e = lookupForWrite(key);
                if (e == null) {
                    return new StoreResult(Status.NOT_FOUND);
                }
                entries.remove(key);
                return new StoreResult(Status.DELETED);
            }
            case ARITH: return arith(key, c);
            case TOUCH:
            case GET_TOUCH: {
                Entry e = lookupForWrite(key);
                boolean get = c.getOp() == io.raftcached.proto.Op.GET_TOUCH;
                if (e == null) {
                    return new StoreResult(get ? Status.MISS : Status.NOT_FOUND);
                }
                if (e.time < nowSeconds - 60) {
                    e.time = nowSeconds;
                }
                e.exptime = exptimeFor(c.getExptime());
                StoreResult r = new StoreResult(get ? Status.HIT : Status.TOUCHED);
                r.cas = e.cas;
                r.value = e.value.clone();
                r.clientFlags = e.flags;
                return r;
            }
            case FLUSH_ALL: {
                long delay = c.getExptime();
                long newOldest = delay > 0 ? (delay > 2_592_000 ? delay : nowSeconds + delay) : nowSeconds;
                oldestLive = newOldest - 1;
                if (oldestLive <= nowSeconds) {
                    oldestCas = ++casCounter;
                }
                return new StoreResult(Status.OK);
            }
            default:
                throw new IllegalArgumentException("model does not cover " + c.getOp());
        }
    }

    private StoreResult store(String key, Command c) {
        byte[] value = c.getValue().toByteArray();
        Entry old = lookupForWrite(key);
        long requestCas = has(c, CommandOption.HAS_COMPARE_CAS) ? c.getCompareCas() : 0;
        Status status = Status.NOT_STORED;
        Entry stored = null;
        switch (c.getMode()) {
            case MODE_SET -> stored = fresh(value, c.getClientFlags(), exptimeFor(c.getExptime()));
            case MODE_ADD -> {
                if (old == null) {
                    stored = fresh(value, c.getClientFlags(), exptimeFor(c.getExptime()));
                } else if (old.time < nowSeconds - 60) {
                    old.time = nowSeconds;
                }
            }
            case MODE_REPLACE -> {
                if (old != null) {
                    stored = fresh(value, c.getClientFlags(), exptimeFor(c.getExptime()));
                }
            }
            case MODE_APPEND, MODE_PREPEND -> {
                if (old != null) {
                    byte[] joined = new byte[old.value.length + value.length];
                    boolean append = c.getMode() == io.raftcached.proto.StoreMode.MODE_APPEND;
                    System.arraycopy(append ? old.value : value, 0, joined, 0, append ? old.value.length : value.length);
                    System.arraycopy(append ? value : old.value, 0, joined, append ? old.value.length : value.length,
                            append ? value.length : old.value.length);
                    stored = fresh(joined, old.flags, old.exptime);
                }
            }
            case MODE_CAS -> {
                if (old == null) {
                    status = Status.NOT_FOUND;
                } else if (old.cas == requestCas) {
                    stored = fresh(value, c.getClientFlags(), exptimeFor(c.getExptime()));
                } else {
                    status = Status.EXISTS;
                }
            }
            default -> throw new IllegalArgumentException();
        }
        StoreResult r;
        if (stored != null) {
            link(key, stored);
            r = new StoreResult(Status.STORED);
            r.cas = stored.cas;
        } else {
            r = new StoreResult(status);
        }
        return r;
    }

    private static final BigInteger TWO_64 = BigInteger.ONE.shiftLeft(64);

    private StoreResult arith(String key, Command c) {
        Entry e = lookupForWrite(key);
        if (e == null) {
            return new StoreResult(Status.NOT_FOUND);
        }
        // strtoull: whitespace, an optional '+', digits, then whitespace (anything after it) or the end.
        java.util.regex.Matcher number = java.util.regex.Pattern.compile("\\s*\\+?([0-9]+)(\\s[\\s\\S]*)?")
                .matcher(new String(e.value, StandardCharsets.ISO_8859_1));
        if (!number.matches()) {
            return new StoreResult(Status.NON_NUMERIC);
        }
        BigInteger value = new BigInteger(number.group(1));
        if (value.compareTo(TWO_64) >= 0) {
            return new StoreResult(Status.NON_NUMERIC);
        }
        BigInteger delta = new BigInteger(Long.toUnsignedString(c.getDelta()));
        BigInteger updated = has(c, CommandOption.DECREMENT)
                ? value.subtract(delta).max(BigInteger.ZERO)
                : value.add(delta).mod(TWO_64);
        byte[] newDigits = updated.toString().getBytes(StandardCharsets.ISO_8859_1);
        if (newDigits.length <= e.value.length) {
            byte[] padded = new byte[e.value.length];
            Arrays.fill(padded, (byte) ' ');
            System.arraycopy(newDigits, 0, padded, 0, newDigits.length);
            e.value = padded;
            e.cas = ++casCounter;
            if (e.time < nowSeconds - 60) {
                e.time = nowSeconds;
            }
        } else {
            Entry grown = fresh(newDigits, e.flags, e.exptime);
            link(key, grown);
            e = grown;
        }
        StoreResult r = new StoreResult(Status.NUMBER);
        r.number = updated.longValue();
        r.cas = e.cas;
        return r;
    }
}
