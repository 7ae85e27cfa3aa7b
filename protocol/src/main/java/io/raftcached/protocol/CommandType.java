package io.raftcached.protocol;

/**
 * Every command the decoder can emit. One value per distinct behaviour; aliases are folded in
 * ({@code bget} decodes as {@link #GET}, memcached treats it exactly like {@code get}).
 */
public enum CommandType {
    // Retrieval: many keys, replies are VALUE blocks then END.
    GET, GETS, GAT, GATS,
    // Storage: one key and a data block.
    SET, ADD, REPLACE, APPEND, PREPEND, CAS,
    DELETE, INCR, DECR, TOUCH,
    FLUSH_ALL, VERSION, VERBOSITY, QUIT, SHUTDOWN, STATS,
    // Meta commands.
    META_GET, META_SET, META_DELETE, META_ARITHMETIC, META_NOOP, META_DEBUG,
    /**
     * Commands the node may answer itself or refuse (slabs, lru, lru_crawler, watch, cache_memlimit,
     * extstore, refresh_certs); {@link Request#args()} holds every token including the command name.
     */
    ADMIN,
    /**
     * An error the decoder detected. Not a client command: {@link Request#errorLine()} is the exact
     * reply line (or null when memcached stays silent because of noreply) and
     * {@link Request#closeConnection()} says whether to close after writing it.
     */
    ERROR_REPLY;

    /** True for get, gets, gat, gats (and bget). */
    public boolean isRetrieval() {
        return this == GET || this == GETS || this == GAT || this == GATS;
    }

    /** True for the commands followed by a data block: set add replace append prepend cas. */
    public boolean isStorage() {
        return this == SET || this == ADD || this == REPLACE || this == APPEND || this == PREPEND || this == CAS;
    }

    /** True for mg ms md ma mn me. */
    public boolean isMeta() {
        return this == META_GET || this == META_SET || this == META_DELETE || this == META_ARITHMETIC
                || this == META_NOOP || this == META_DEBUG;
    }
}
