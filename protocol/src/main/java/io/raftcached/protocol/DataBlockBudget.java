package io.raftcached.protocol;

/**
 * Memory for the data blocks of storage commands, shared by every connection of a server
 * (memcached's {@code -o read_buf_mem_limit}). The decoder reserves a block's whole size once the
 * block is arriving ({@link TextProtocolDecoder#BLOCK_RESERVE_AT_BYTES}) and, when refused, stops
 * decoding that connection until {@code onAvailable} says to try again. A decoded request carries
 * its reservation ({@link Request#valueBytes()}): whoever takes the request releases it once the
 * value has moved on (to the log) or been dropped.
 */
public interface DataBlockBudget {
    /**
     * Reserves {@code sizeBytes}. When refused, {@code onAvailable} runs (on any thread, once) when
     * memory was released; the caller then asks again.
     */
    boolean tryReserve(long sizeBytes, Runnable onAvailable);

    void release(long sizeBytes);

    /** No limit: for tests and tools. */
    DataBlockBudget UNLIMITED = new DataBlockBudget() {
        @Override
        public boolean tryReserve(long sizeBytes, Runnable onAvailable) {
            return true;
        }

        @Override
        public void release(long sizeBytes) {
            // nothing reserved
        }
    };
}
