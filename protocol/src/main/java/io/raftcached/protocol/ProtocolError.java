package io.raftcached.protocol;

/**
 * A command line memcached refuses; {@link #replyLine()} is the exact line it answers (without
 * "\r\n"). Internal to parsing: the decoder turns it into an {@link CommandType#ERROR_REPLY} request.
 * No stack trace, because a client can cause these at line rate.
 */
final class ProtocolError extends Exception {
    private static final long serialVersionUID = 1L;

    ProtocolError(String replyLine) {
        super(replyLine, null, false, false);
    }

    String replyLine() {
        return getMessage();
    }
}
