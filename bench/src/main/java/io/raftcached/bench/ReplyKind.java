package io.raftcached.bench;

/** The line that ends one memcached ASCII reply (doc/protocol.txt). VALUE lines are not replies by themselves. */
public enum ReplyKind {
    END,
    STORED,
    NOT_STORED,
    EXISTS,
    NOT_FOUND,
    DELETED,
    TOUCHED,
    /** The server did not recognise the command. */
    ERROR,
    /** The request was malformed; the line carries a message. */
    CLIENT_ERROR,
    /** The server failed to execute the request; the line carries a message. */
    SERVER_ERROR,
    /**
     * Not memcached: a success reply of a request/response protocol (etcd over HTTP, a 2xx status)
     * to whichever request it answers; the value count says whether a get found its key.
     */
    OK;

    public boolean isError() {
        return this == ERROR || this == CLIENT_ERROR || this == SERVER_ERROR;
    }
}
