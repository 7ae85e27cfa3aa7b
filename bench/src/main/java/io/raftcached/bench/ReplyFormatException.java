package io.raftcached.bench;

import java.io.IOException;

/** The byte stream from the server is not a well-formed sequence of memcached ASCII replies. */
public final class ReplyFormatException extends IOException {
    public ReplyFormatException(String message) {
        super(message);
    }
}
