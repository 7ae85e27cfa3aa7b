package io.raftcached.bench;

import java.util.Locale;

/** How each request picks its key number in {@code [0, key-space)}. */
public enum KeyPattern {
    /** Uniformly random, from a per-thread generator seeded with {@code --seed}. */
    RANDOM,
    /**
     * Thread t walks its own slice of the key space in order, wrapping around. With
     * {@code --requests} equal to the key space and ratio 0:1 this sets every key exactly once.
     */
    SEQUENTIAL,
    /**
     * Zipf-distributed with {@code --zipf-exponent} ({@link ZipfKeys}): key 0 the most popular, a
     * long tail of rare keys, as in cache traces; drawn from the same per-thread seeded generator.
     */
    ZIPF;

    public static KeyPattern parse(String text) {
        try {
            return valueOf(text.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key pattern must be random, sequential or zipf, got '" + text + "'");
        }
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
