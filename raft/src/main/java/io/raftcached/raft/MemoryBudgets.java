package io.raftcached.raft;

/**
 * How much memory each path a value can take may hold, in bytes (and counts where entries are
 * small). Every one is a flag; the defaults are shares of the heap (and of direct memory for
 * replies), chosen so that all of them full at once, with the copies a value makes on its way
 * (decoder, batch, jraft's log entry), stay well under {@code -Xmx}. A full budget pauses the
 * client that filled it; nothing fails for lack of memory.
 *
 * @param clientInputBytes data blocks being read and requests read but not yet handed on, over all
 *                         connections (memcached's {@code -o read_buf_mem_limit})
 * @param clientOutputBytes replies written but not yet taken by the sockets, over all connections
 *                          (memcached's {@code -o resp_obj_mem_limit})
 * @param writeBytes this node's writes admitted into its write stream and not yet applied
 * @param forwardBytes on the leader: batches forwarded by followers, admitted and not yet committed
 * @param logBytes on the leader: entries it proposed (its own batches and forwarded ones) that jraft
 *                 holds until they are applied here; jraft keeps each once in its queues and its
 *                 in-memory log, and copies it into the AppendEntries requests in flight to each
 *                 follower (bounded in number by {@link JraftOptions}), so this is the smallest
 *                 share of the heap
 * @param readsWaitingMax linearizable reads and readers waiting for an applied index, node-wide
 */
public record MemoryBudgets(long clientInputBytes, long clientOutputBytes, long writeBytes, long forwardBytes,
        long logBytes, int readsWaitingMax) {
    public static final long MEGABYTE = 1024 * 1024;
    /** No budget below this: one item of memcached's default 1 MB limit, with room to spare. */
    public static final long BYTES_MIN = 4 * MEGABYTE;
    public static final int READS_WAITING_MAX_DEFAULT = 16_384;

    public MemoryBudgets {
        for (long budget : new long[] {clientInputBytes, clientOutputBytes, writeBytes, forwardBytes, logBytes}) {
            if (budget < BYTES_MIN) {
                throw new IllegalArgumentException("memory budgets are at least " + BYTES_MIN / MEGABYTE + " MB, got "
                        + budget + " bytes");
            }
        }
        if (readsWaitingMax < 1) {
            throw new IllegalArgumentException("reads waiting must be at least 1, got " + readsWaitingMax);
        }
    }

    /**
     * One of {@code groups} groups' share of the budgets the Raft path holds (writes, forwarded
     * batches, the leader's entries, waiting reads), so a node of many groups holds no more than
     * a node of one; the client buffers stay the node's.
     */
    public MemoryBudgets perGroup(int groups) {
        return new MemoryBudgets(clientInputBytes, clientOutputBytes, Math.max(BYTES_MIN, writeBytes / groups),
                Math.max(BYTES_MIN, forwardBytes / groups), Math.max(BYTES_MIN, logBytes / groups),
                Math.max(1, readsWaitingMax / groups));
    }

    /**
     * Defaults for a heap of {@code heapBytes} and {@code directBytes} of direct memory: an eighth of
     * the heap for client input and for this node's writes, a sixteenth for forwarded batches, a
     * thirty-second for the leader's entries in jraft, a quarter of direct memory for replies.
     */
    public static MemoryBudgets defaultsFor(long heapBytes, long directBytes) {
        return new MemoryBudgets(Math.max(BYTES_MIN, heapBytes / 8), Math.max(BYTES_MIN, directBytes / 4),
                Math.max(BYTES_MIN, heapBytes / 8), Math.max(BYTES_MIN, heapBytes / 16), Math.max(BYTES_MIN, heapBytes / 32),
                READS_WAITING_MAX_DEFAULT);
    }
}
