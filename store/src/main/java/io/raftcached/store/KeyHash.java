package io.raftcached.store;

/**
 * A fast 64-bit hash of key bytes, identical for a key in a {@code byte[]} and in item memory.
 * Only the index layout depends on it, never a replicated result, so each process may use its
 * own seed (tests do, to prove it).
 */
final class KeyHash {
    private static final long MULTIPLIER_1 = 0x9E3779B97F4A7C15L;
    private static final long MULTIPLIER_2 = 0xC2B2AE3D27D4EB4FL;

    private KeyHash() {}

    static long hash(byte[] key, int length, long seed) {
        return hash(key, OffHeap.BYTE_ARRAY_OFFSET, length, seed);
    }

    static long hashAt(long address, int length, long seed) {
        return hash(null, address, length, seed);
    }

    private static long hash(Object base, long offset, int length, long seed) {
        long h = seed ^ (length * MULTIPLIER_1);
        int i = 0;
        for (; i + 8 <= length; i += 8) {
            long word = OffHeap.UNSAFE.getLong(base, offset + i);
            h = Long.rotateLeft(h ^ (word * MULTIPLIER_2), 31) * MULTIPLIER_1;
        }
        if (i < length) {
            long tail = 0;
            for (int shift = 0; i < length; i++, shift += 8) {
                tail |= (OffHeap.UNSAFE.getByte(base, offset + i) & 0xFFL) << shift;
            }
            h = Long.rotateLeft(h ^ (tail * MULTIPLIER_2), 31) * MULTIPLIER_1;
        }
        return mix(h);
    }

    /** MurmurHash3's finalizer: every input bit affects every output bit. */
    private static long mix(long h) {
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }
}
