package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.raftcached.protocol.Replies;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * memcached's per-prefix stats ({@code stats detail on|off|dump}, {@code -D <char>}): for each key
 * prefix (the bytes before the first delimiter; keys without one are not counted), the gets, hits,
 * sets and deletes this node's clients sent. A local fact, like {@code get_hits}.
 *
 * <p>{@code stats detail dump} lists prefixes in memcached's order: by murmur3 hash of the prefix
 * modulo 256, newest first within a bucket, so the same traffic dumps the same lines on both.
 * Unlike memcached, the table is bounded ({@link #PREFIXES_MAX}): a client sending endless new
 * prefixes cannot grow the node's heap; past the bound new prefixes go uncounted.
 */
final class PrefixStats {
    /** memcached's PREFIX_HASH_SIZE. */
    private static final int HASH_BUCKETS = 256;
    /** Distinct prefixes kept; each costs its bytes plus ~80. */
    static final int PREFIXES_MAX = 10_000;

    private static final class Prefix {
        final byte[] name;
        long gets;
        long hits;
        long sets;
        long deletes;

        Prefix(byte[] name) {
            this.name = name;
        }
    }

    private final byte delimiter;
    private volatile boolean enabled;
    /** Per bucket, newest first (memcached prepends to its chain). Guarded by this. */
    private final List<List<Prefix>> buckets = new ArrayList<>(HASH_BUCKETS);
    private int prefixes;

    PrefixStats(char delimiter, boolean enabled) {
        this.delimiter = (byte) delimiter;
        this.enabled = enabled;
        for (int i = 0; i < HASH_BUCKETS; i++) {
            buckets.add(new ArrayList<>());
        }
    }

    char delimiter() {
        return (char) (delimiter & 0xff);
    }

    boolean enabled() {
        return enabled;
    }

    void enable(boolean on) {
        enabled = on;
    }

    /** A get, gets, gat or gats of one key. */
    void recordGet(byte[] key, boolean hit) {
        if (enabled) {
            record(key, hit ? 0b0011 : 0b0001);
        }
    }

    /** A set, add, replace, append, prepend or cas, counted when sent whatever its outcome, as memcached does. */
    void recordSet(byte[] key) {
        if (enabled) {
            record(key, 0b0100);
        }
    }

    /** A delete, counted when sent whatever its outcome. */
    void recordDelete(byte[] key) {
        if (enabled) {
            record(key, 0b1000);
        }
    }

    private synchronized void record(byte[] key, int what) {
        Prefix prefix = find(key);
        if (prefix == null) {
            return;
        }
        prefix.gets += what & 1;
        prefix.hits += (what >> 1) & 1;
        prefix.sets += (what >> 2) & 1;
        prefix.deletes += (what >> 3) & 1;
    }

    private Prefix find(byte[] key) {
        int length = 0;
        while (length < key.length && key[length] != delimiter) {
            length++;
        }
        if (length == key.length) {
            return null;
        }
        List<Prefix> bucket = buckets.get(Integer.remainderUnsigned(murmur3(key, length), HASH_BUCKETS));
        for (Prefix prefix : bucket) {
            if (Arrays.equals(prefix.name, 0, prefix.name.length, key, 0, length)) {
                return prefix;
            }
        }
        if (prefixes >= PREFIXES_MAX) {
            return null;
        }
        Prefix prefix = new Prefix(Arrays.copyOf(key, length));
        bucket.add(0, prefix);
        prefixes++;
        return prefix;
    }

    /** {@code stats detail dump}: memcached's lines, then END. */
    synchronized void dump(ByteBuf out) {
        for (List<Prefix> bucket : buckets) {
            for (Prefix prefix : bucket) {
                Replies.writeLine(out, "PREFIX " + new String(prefix.name, StandardCharsets.ISO_8859_1) + " get " + prefix.gets
                        + " hit " + prefix.hits + " set " + prefix.sets + " del " + prefix.deletes);
            }
        }
        Replies.writeLine(out, "END");
    }

    /** {@code stats reset} clears the table, as memcached's does. */
    synchronized void clear() {
        buckets.forEach(List::clear);
        prefixes = 0;
    }

    /** memcached's default hash (MurmurHash3_x86_32, seed 0) over the first {@code length} bytes. */
    static int murmur3(byte[] data, int length) {
        int h = 0;
        int blocks = length / 4;
        for (int i = 0; i < blocks; i++) {
            int at = i * 4;
            int k = (data[at] & 0xff) | (data[at + 1] & 0xff) << 8 | (data[at + 2] & 0xff) << 16 | (data[at + 3] & 0xff) << 24;
            h ^= mixK(k);
            h = Integer.rotateLeft(h, 13) * 5 + 0xe6546b64;
        }
        int tail = blocks * 4;
        int k = 0;
        switch (length & 3) {
            case 3:
                k ^= (data[tail + 2] & 0xff) << 16;
                // fall through
            case 2:
                k ^= (data[tail + 1] & 0xff) << 8;
                // fall through
            case 1:
                k ^= data[tail] & 0xff;
                h ^= mixK(k);
                break;
            default:
                break;
        }
        h ^= length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    private static int mixK(int k) {
        return Integer.rotateLeft(k * 0xcc9e2d51, 15) * 0x1b873593;
    }
}
