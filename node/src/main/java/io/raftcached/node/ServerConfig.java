package io.raftcached.node;

import io.raftcached.raft.RaftSettings;
import io.raftcached.store.StoreConfig;

/** A validated server configuration: the flags as parsed, the store's shape and the Raft settings. */
record ServerConfig(ServerOptions flags, StoreConfig store, RaftSettings raft, ServerOptions.Extended extended,
        int verbosity) {

    /** A flag memcached would accept but raftcached cannot honour, or a value out of range. */
    static final class InvalidFlagException extends RuntimeException {
        InvalidFlagException(String message) {
            super(message, null, false, false);
        }
    }
}
