package io.raftcached.protocol;

/**
 * What the store knows about the item a meta command found or created, as
 * {@link MetaResponseWriter} needs it to write memcached 1.6.18's reply. The node implements it
 * (typically a small per-request adapter over the store's result). Times are whole seconds.
 *
 * <p>Values are those <em>before</em> this request changed the item, except where noted, because
 * memcached writes most return flags while it walks the request's flags in order: a {@code t}
 * before a {@code T} shows the old TTL, after it the new one. The writer replays that walk using
 * {@link #ttlSeconds()} and {@link #ttlSecondsFor(int)}; the store must leave the item with the TTL
 * of the last of T/N that applied (mg: T always, N only when it created the item).
 */
public interface MetaItemView {
    /** A TTL value meaning "never expires" (memcached exptime 0), printed as {@code t-1}. */
    long NO_EXPIRY = Long.MIN_VALUE;

    /** The key as stored (decoded bytes for binary keys). */
    byte[] key();

    /**
     * Whether the item was stored by {@code ms} with {@code b}: then mg's {@code k} and me print the
     * key base64-encoded (mg adds " b"). Items vivified by mg N or ma N are stored <em>without</em>
     * this mark even when the request used b (memcached 1.6.18, verified), so later mg {@code k}
     * prints their raw bytes.
     */
    boolean keyBinary();

    /** Client flags (uint32). */
    int clientFlags();

    /** Value length in bytes, without "\r\n" ({@code s}, and the n of {@code VA n} for mg). */
    int valueLength();

    /** The CAS unique after this request's changes (uint64); mg N gives a created item its CAS. */
    long casUnique();

    /**
     * Remaining TTL when the request started, exptime minus now, or {@link #NO_EXPIRY}. An item just
     * created by N starts at {@link #NO_EXPIRY} (memcached allocates it with exptime 0).
     */
    long ttlSeconds();

    /**
     * The remaining TTL the item gets from a T or N flag with this raw exptime, computed with the
     * store's clock and rules (30-day rule, negative = past): exptime minus now, or {@link #NO_EXPIRY}
     * for 0. May be negative (memcached prints it as uint32, e.g. {@code t4294967090} after T-1).
     */
    long ttlSecondsFor(int rawExptime);

    /** Seconds since last access before this request ({@code l}; uint32 in memcached). */
    long secondsSinceLastAccess();

    /** Whether the item had been fetched before this request ({@code h1}; me {@code fetch=yes}). */
    boolean fetchedBefore();

    /** mg N / ma N created the item in this request. */
    boolean created();

    /**
     * The item had already handed out a win token before this request: mg appends {@code Z}.
     */
    boolean winTokenSentBefore();

    /** The item is marked stale (md with I): mg appends {@code X}. */
    boolean stale();

    /**
     * This request won the recache token: mg appends {@code W}. memcached's rule, which the store
     * must apply: N created the item; or R was given, no token was sent before, the item was not
     * just created, it has an expiry and that expiry is earlier than R's; or the item is stale and no
     * token was sent before. Winning marks the item token-sent (later requests see Z).
     */
    boolean wonToken();
}
