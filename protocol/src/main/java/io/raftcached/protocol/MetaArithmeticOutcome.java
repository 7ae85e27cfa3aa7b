package io.raftcached.protocol;

/**
 * Result of a meta arithmetic command. A non-numeric value is not an outcome: the node writes
 * {@link Replies#CLIENT_ERROR_NON_NUMERIC} (always, q or not).
 */
public enum MetaArithmeticOutcome {
    /** The value was incremented or decremented: {@code HD} or {@code VA}; suppressed by q. */
    UPDATED,
    /** N created the item with J's value: {@code HD} or {@code VA}; memcached sends it even with q. */
    CREATED,
    /** {@code NF}: missing and no N. */
    NOT_FOUND,
    /** {@code EX}: C given and the CAS differs. */
    EXISTS
}
