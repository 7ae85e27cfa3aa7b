package io.raftcached.store;

/**
 * What applying one command returned: everything a reply needs, computed at apply time so every
 * replica computes the same answer. Values are copied out only for the node that will reply.
 */
public final class StoreResult {
    /** Ordinals are stored in snapshots' dedupe tables: append new statuses, never reorder. */
    public enum Status {
        STORED, NOT_STORED, EXISTS, NOT_FOUND, DELETED, TOUCHED,
        /** A get-and-touch or meta get found the item. */
        HIT,
        MISS,
        /** incr/decr/ma succeeded; {@link #number} holds the new value. */
        NUMBER,
        NON_NUMERIC,
        TOO_LARGE,
        OUT_OF_MEMORY,
        OK,
        /** The command could not be decoded (a newer log format?): nothing was changed. */
        INVALID,
        /** A slabs or lru_crawler command; {@link #number} is the {@link MaintenanceReply} ordinal. */
        MAINTENANCE
    }

    public Status status;
    /** The item's CAS after the command (for ms/ma 'c', gats, mg 'c'); 0 if none. */
    public long cas;
    /** incr/decr result, an unsigned 64-bit value. */
    public long number;
    public int clientFlags;
    /** TTL remaining in seconds before and after the command's own T/N changes; -1 = never. */
    public long ttlBeforeSeconds = -1;
    public long ttlAfterSeconds = -1;
    public int valueLength;
    /** The value without CRLF, only when the caller asked for it. */
    public byte[] value;
    public int slabClass;
    public long totalSizeBytes;
    public boolean keyBinary;
    /** Meta get: the client won the right to recache (W), the item is stale (X), a token was sent (Z). */
    public boolean won;
    public boolean stale;
    public boolean tokenAlreadySent;
    /** ma/mg created the item on a miss (N). */
    public boolean created;

    /** The replicated time the command was applied at, for computing TTLs in replies. */
    public long appliedNowMillis;

    public StoreResult(Status status) {
        this.status = status;
    }

    static StoreResult of(Status status) {
        return new StoreResult(status);
    }

    @Override
    public String toString() {
        return "StoreResult{" + status + ", cas=" + cas + ", number=" + Long.toUnsignedString(number) + "}";
    }
}
