package io.raftcached.bench;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Incremental reply parser of a {@link Protocol}, fed whatever bytes the socket returned; calls the
 * listener once per complete reply, in order. One per connection.
 */
interface ReplyReader {
    /** Consumes every remaining byte of {@code in}; throws {@link ReplyFormatException} on malformed input. */
    void parse(ByteBuffer in, ReplyParser.Listener listener) throws IOException;
}
