package io.raftcached.protocol;

/** Result of a meta set, and of the classic storage commands it mirrors. */
public enum MetaStoreOutcome {
    /** {@code HD} (STORED). */
    STORED,
    /** {@code NS} (NOT_STORED): add over a live item, replace/append/prepend of a missing one. */
    NOT_STORED,
    /** {@code EX} (EXISTS): CAS mismatch. */
    EXISTS,
    /** {@code NF} (NOT_FOUND): CAS given and the item is missing. */
    NOT_FOUND
}
