package io.raftcached.raft;

/**
 * How this node stops when going on would be wrong: an entry that cannot be applied as the other
 * replicas apply it, another cluster's data, a Raft instance in its error state. The server's
 * {@code Main} implements it (only it ends the process); tests record the call instead.
 */
@FunctionalInterface
public interface FatalStop {
    /** Must not return normally in production; {@code cause} may be null. */
    void stop(String message, Throwable cause);
}
