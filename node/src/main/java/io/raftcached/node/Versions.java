package io.raftcached.node;

/** Version strings a client or operator sees. */
final class Versions {
    static final String RAFTCACHED = "0.1.0";

    private Versions() {}
}
