package io.raftcached.protocol;

/** Result of a meta delete. */
public enum MetaDeleteOutcome {
    /** {@code HD}: deleted, or marked stale with I. */
    DELETED,
    /** {@code NF}: no such item. */
    NOT_FOUND,
    /** {@code EX}: C given and the item's CAS differs. */
    EXISTS
}
