/**
 * The memcached 1.6.18 ASCII text protocol: framing, parsing and reply formatting, byte for byte as
 * Debian's memcached 1.6.18 behaves. Knows nothing of Raft or of the store.
 *
 * <h2>How the node uses this package</h2>
 * <ol>
 *   <li>Put a {@link io.raftcached.protocol.TextProtocolDecoder} (one per connection, it is stateful)
 *       in the pipeline, built from a {@link io.raftcached.protocol.DecoderConfig}. It emits one
 *       {@link io.raftcached.protocol.Request} per command, in the order the client sent them.</li>
 *   <li>Execute each request against the store (reads locally, writes through the log), then write
 *       the reply with {@link io.raftcached.protocol.Replies} (classic commands) or
 *       {@link io.raftcached.protocol.MetaResponseWriter} (mg ms md ma mn me), in request order.</li>
 *   <li>A request of type {@link io.raftcached.protocol.CommandType#ERROR_REPLY} is an error the
 *       decoder found itself; it still takes its turn in the reply order
 *       ({@link io.raftcached.protocol.Replies#writeErrorReply}).</li>
 * </ol>
 *
 * <p>Where this package knowingly differs from memcached 1.6.18, the class that does so says why in
 * its Javadoc; the list is summarised on {@link io.raftcached.protocol.TextProtocolDecoder}.
 */
package io.raftcached.protocol;
