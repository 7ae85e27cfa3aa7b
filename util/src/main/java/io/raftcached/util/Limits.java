package io.raftcached.util;

/**
 * memcached's limits (memcached.h) that more than one module enforces: each defined here once.
 */
public final class Limits {
    /** memcached's KEY_MAX_LENGTH: a key is 1 to 250 bytes (a base64 key, once decoded). */
    public static final int KEY_MAX_BYTES = 250;
    /**
     * memcached's MAX_NUMBER_OF_SLAB_CLASSES: slab class ids are 1 to 63 whatever -f, -n and -I say
     * (0 is the global page pool), so an id fits six bits.
     */
    public static final int SLAB_CLASS_IDS = 64;

    private Limits() {}
}
