package io.raftcached.store;

/**
 * The answers of memcached's {@code slabs reassign}, {@code slabs automove} and {@code
 * lru_crawler} commands, which go through the log here because they change replicated state. A
 * {@link StoreResult.Status#MAINTENANCE} result carries one as its {@link StoreResult#number}
 * (the ordinal: append, never reorder, dedupe tables store it).
 */
public enum MaintenanceReply {
    OK("OK"),
    REASSIGN_BUSY("BUSY currently processing reassign request"),
    REASSIGN_BADCLASS("BADCLASS invalid src or dst class id"),
    REASSIGN_NOSPARE("NOSPARE source class has no spare pages"),
    REASSIGN_SAME("SAME src and dst class are identical"),
    REASSIGN_DISABLED("CLIENT_ERROR slab reassignment disabled"),
    CRAWLER_DISABLED("CLIENT_ERROR lru crawler disabled"),
    CRAWLER_BADCLASS("BADCLASS invalid class id"),
    CRAWLER_BUSY("BUSY currently processing crawler request"),
    CRAWLER_ALREADY_ENABLED("ERROR failed to start lru crawler thread");

    private final String line;

    MaintenanceReply(String line) {
        this.line = line;
    }

    /** The reply line, without CRLF. */
    public String line() {
        return line;
    }

    public static MaintenanceReply of(StoreResult result) {
        return values()[(int) result.number];
    }
}
