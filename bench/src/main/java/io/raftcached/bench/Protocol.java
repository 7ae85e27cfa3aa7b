package io.raftcached.bench;

import java.util.Locale;

/** What the generator speaks on its connections ({@code --protocol}). */
public enum Protocol {
    /** memcached ASCII {@code get} / {@code set}; pipelining allowed. */
    MEMCACHED("memcached") {
        @Override
        RequestWriter writer(String keyPrefix, int valueSizeBytes, long seed) {
            return new RequestEncoder(keyPrefix, valueSizeBytes, seed);
        }

        @Override
        ReplyReader reader() {
            return new ReplyParser();
        }
    },
    /**
     * etcd v3's JSON gateway over HTTP/1.1 keep-alive: sets are {@code POST /v3/kv/put}, gets are
     * {@code POST /v3/kv/range} (etcd's default, linearizable). One request in flight per connection,
     * as etcd's own benchmark clients do; see {@link EtcdHttpRequestEncoder}.
     */
    ETCD_HTTP("etcd-http") {
        @Override
        RequestWriter writer(String keyPrefix, int valueSizeBytes, long seed) {
            return new EtcdHttpRequestEncoder(keyPrefix, valueSizeBytes, seed);
        }

        @Override
        ReplyReader reader() {
            return new EtcdHttpReplyParser();
        }

        @Override
        int pipelineMax() {
            return 1;
        }
    };

    private final String label;

    Protocol(String label) {
        this.label = label;
    }

    abstract RequestWriter writer(String keyPrefix, int valueSizeBytes, long seed);

    abstract ReplyReader reader();

    /** Requests one connection may have in flight. */
    int pipelineMax() {
        return LoadProfile.PIPELINE_MAX;
    }

    public String label() {
        return label;
    }

    public static Protocol parse(String text) {
        for (Protocol protocol : values()) {
            if (protocol.label.equals(text.trim().toLowerCase(Locale.ROOT))) {
                return protocol;
            }
        }
        throw new IllegalArgumentException("protocol must be memcached or etcd-http, got '" + text + "'");
    }
}
