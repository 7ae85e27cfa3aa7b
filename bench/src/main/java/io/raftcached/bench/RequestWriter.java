package io.raftcached.bench;

import java.nio.ByteBuffer;

/**
 * Encodes one request of a {@link Protocol} into a connection's write buffer. Implementations own
 * scratch space and are used by one worker thread; encoding must not allocate.
 */
interface RequestWriter {
    /** The longest request this writer can produce; callers keep at least this much room. */
    int requestBytesMax();

    void encodeGet(ByteBuffer out, long key);

    void encodeSet(ByteBuffer out, long key);
}
