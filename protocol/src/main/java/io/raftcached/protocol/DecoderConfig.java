package io.raftcached.protocol;

import java.util.Objects;

/**
 * Limits and callbacks for one {@link TextProtocolDecoder}. Pass every value explicitly at the call
 * site; {@link #memcachedDefaults(ItemSizeCheck)} is for tests and tools.
 *
 * @param itemSizeCheck         whether a declared item fits (see {@link ItemSizeCheck})
 * @param maxLineBytes          a longer command line (not counting its "\r\n") closes the
 *                              connection (memcached: 2048), unless it is a get/gets; at least
 *                              {@link #MIN_MAX_LINE_BYTES}
 * @param maxMultigetLineBytes  bound on a get/gets line, which memcached lets grow without limit; a
 *                              longer one closes the connection. Must be at least maxLineBytes.
 */
public record DecoderConfig(ItemSizeCheck itemSizeCheck, int maxLineBytes, int maxMultigetLineBytes) {
    /** memcached's limit before it decides a newline-less buffer is garbage (try_read_command_ascii). */
    public static final int MEMCACHED_MAX_LINE_BYTES = 2048;
    /** Default bound for get/gets lines: 1 MiB, about 4000 keys of 250 bytes. */
    public static final int DEFAULT_MAX_MULTIGET_LINE_BYTES = 1 << 20;
    /**
     * The decoder tells a long get/gets line from garbage by the line's first bytes (up to 100
     * spaces, then "gets "), looking once the line is longer than maxLineBytes; below this bound
     * those bytes might not all have arrived, and the verdict would depend on packet boundaries.
     */
    public static final int MIN_MAX_LINE_BYTES = TextProtocolDecoder.MULTIGET_MAX_LEADING_SPACES + "gets ".length();
    /** A line is copied into one array; keep far from int overflow. */
    public static final int MAX_LINE_BYTES_CEILING = 1 << 30;

    public DecoderConfig {
        Objects.requireNonNull(itemSizeCheck, "itemSizeCheck");
        if (maxLineBytes < MIN_MAX_LINE_BYTES) {
            throw new IllegalArgumentException("maxLineBytes " + maxLineBytes + " < " + MIN_MAX_LINE_BYTES);
        }
        if (maxMultigetLineBytes > MAX_LINE_BYTES_CEILING) {
            throw new IllegalArgumentException("maxMultigetLineBytes above " + MAX_LINE_BYTES_CEILING);
        }
        if (maxMultigetLineBytes < maxLineBytes) {
            throw new IllegalArgumentException("maxMultigetLineBytes " + maxMultigetLineBytes
                    + " < maxLineBytes " + maxLineBytes);
        }
    }

    /** memcached's line limits with the given item size check. */
    public static DecoderConfig memcachedDefaults(ItemSizeCheck itemSizeCheck) {
        return new DecoderConfig(itemSizeCheck, MEMCACHED_MAX_LINE_BYTES, DEFAULT_MAX_MULTIGET_LINE_BYTES);
    }
}
