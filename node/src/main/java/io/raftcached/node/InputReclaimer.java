package io.raftcached.node;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Gives the client input budget back to the clients that use it. A data block is reserved whole
 * once it is arriving (so blocks never wait on each other half-read), and a reservation is held
 * until the block is complete; a sender that stops half-way would hold its share for as long as it
 * likes, and enough of them would make every other writer of the node wait. So: once a connection
 * has waited {@link #STALL_MILLIS} for input memory, the node closes the connection whose reserved
 * block has gone longest without receiving {@link io.raftcached.protocol.TextProtocolDecoder#BLOCK_PROGRESS_BYTES}
 * — if that is {@link #STALL_MILLIS} or more, and the node itself was not what kept it from
 * reading — with memcached's "SERVER_ERROR out of memory reading request", counted in
 * {@code read_buf_oom} as memcached counts connections closed for lack of memory. A sender that
 * keeps sending is never closed, however slow its block, and nothing is closed while no one waits.
 * A client that does not read its replies holds input memory the same way, in requests read and
 * not executed while its socket is full: it counts as stalled from when the socket filled.
 *
 * <p>{@link #check} runs every {@link #CHECK_INTERVAL_MILLIS} and closes at most one connection per
 * run: each frees at least one reserved block, which wakes every waiter.
 */
final class InputReclaimer {
    /** How long a waiter waits, and input memory may go without moving on, before it is reclaimed. */
    static final long STALL_MILLIS = 1_000;
    private static final long STALL_NANOS = TimeUnit.MILLISECONDS.toNanos(STALL_MILLIS);
    static final long CHECK_INTERVAL_MILLIS = 250;
    /** A connection's answer when it is not waiting, or holds no reclaimable block. */
    static final long NEVER = Long.MAX_VALUE;

    /** What the reclaimer needs of a connection; the two times are read from the checking thread. */
    interface Connection {
        /** Since when this connection waits for input memory, or {@link #NEVER}. */
        long waitingForMemorySinceNanos();

        /**
         * Since when this connection's input memory has not moved on by its client's doing: its
         * reserved data block has gone without progress while the node was reading it, or its
         * requests read and not executed wait for it to read its replies. {@link #NEVER} when it
         * holds none, or the node itself paused the connection.
         */
        long inputStalledSinceNanos();

        /** Closes the connection, on its own thread, if its input is still stalled by then. */
        void reclaimInput();
    }

    private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
    private final LongSupplier nanoClock;

    InputReclaimer(LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
    }

    long nanoTime() {
        return nanoClock.getAsLong();
    }

    /** Whether something that began at {@code sinceNanos} (or {@link #NEVER}) has lasted {@link #STALL_MILLIS}. */
    boolean lastedTooLong(long sinceNanos) {
        return sinceNanos != NEVER && nanoClock.getAsLong() - sinceNanos >= STALL_NANOS;
    }

    void add(Connection connection) {
        connections.add(connection);
    }

    void remove(Connection connection) {
        connections.remove(connection);
    }

    /**
     * Closes the most stalled block's connection if some connection has waited long enough for
     * input memory. Returns the connection asked to close, or null.
     */
    Connection check() {
        boolean starved = false;
        Connection mostStalled = null;
        long stalledSince = NEVER;
        for (Connection connection : connections) {
            starved |= lastedTooLong(connection.waitingForMemorySinceNanos());
            long stalled = connection.inputStalledSinceNanos();
            if (lastedTooLong(stalled) && (mostStalled == null || stalled - stalledSince < 0)) {
                mostStalled = connection;
                stalledSince = stalled;
            }
        }
        if (!starved || mostStalled == null) {
            return null;
        }
        mostStalled.reclaimInput();
        return mostStalled;
    }
}
