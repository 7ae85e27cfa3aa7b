package io.raftcached.bench;

import java.util.List;

/**
 * Everything one load run needs, validated, in the units the engine uses.
 *
 * @param requests requests issued after warm-up, over all threads; 0 means bounded by duration only
 * @param protocol what the connections speak
 * @param zipfExponent the exponent of the {@link KeyPattern#ZIPF} pattern (unused by the others)
 * @param cacheAside whether a get that misses is followed by a set of the same key, as an application
 *     filling its cache from a database does; those fill sets come on top of the get:set ratio
 * @param tls how connections speak TLS, or null for plaintext
 * @param reconnectInterval replies after which a connection is closed and a new one opened (a new TLS
 *     handshake), as memtier's --reconnect-interval; 0 = keep every connection for the whole run
 */
public record LoadProfile(
        List<ServerAddress> servers,
        int threads,
        int connections,
        int pipeline,
        int getWeight,
        int setWeight,
        long keySpace,
        KeyPattern keyPattern,
        String keyPrefix,
        int valueSizeBytes,
        long warmupNanos,
        long durationNanos,
        long requests,
        long seed,
        int connectTimeoutMillis,
        int readTimeoutMillis,
        Protocol protocol,
        double zipfExponent,
        boolean cacheAside,
        TlsSettings tls,
        int reconnectInterval) {

    public static final int THREADS_MAX = 256;
    public static final int CONNECTIONS_MAX = 10_000;
    public static final int PIPELINE_MAX = 1024;
    /** memcached's default item size limit. */
    public static final int VALUE_SIZE_BYTES_MAX = 1024 * 1024;
    public static final int KEY_PREFIX_LENGTH_MAX = 200;
    /** Past this the head key takes almost every draw; nothing useful is measured there. */
    public static final double ZIPF_EXPONENT_MAX = 10;
    public static final double ZIPF_EXPONENT_DEFAULT = 0.99;

    public LoadProfile {
        servers = List.copyOf(servers);
        check(!servers.isEmpty(), "at least one server");
        check(threads >= 1 && threads <= THREADS_MAX, "threads in 1.." + THREADS_MAX);
        check(connections >= threads && connections <= CONNECTIONS_MAX,
                "connections in threads(" + threads + ").." + CONNECTIONS_MAX);
        check(pipeline >= 1 && pipeline <= PIPELINE_MAX, "pipeline in 1.." + PIPELINE_MAX);
        check(pipeline <= protocol.pipelineMax(), "pipeline at most " + protocol.pipelineMax()
                + " with protocol " + protocol.label());
        check(getWeight >= 0 && setWeight >= 0 && getWeight + setWeight > 0
                && getWeight + setWeight <= 1_000_000, "ratio weights >= 0, not both 0, sum <= 1000000");
        check(keySpace >= 1, "key space >= 1");
        check(valueSizeBytes >= 0 && valueSizeBytes <= VALUE_SIZE_BYTES_MAX,
                "value size in 0.." + VALUE_SIZE_BYTES_MAX);
        check(keyPrefix.length() <= KEY_PREFIX_LENGTH_MAX && keyPrefix.chars().allMatch(c -> c > 0x20 && c < 0x7f),
                "key prefix printable ASCII without spaces, at most " + KEY_PREFIX_LENGTH_MAX + " chars");
        // memcached keys are at most 250 bytes; 19 digits is the longest key number.
        check(keyPrefix.length() + Long.toString(keySpace - 1).length() <= 250, "keys at most 250 bytes");
        check(warmupNanos >= 0, "warmup >= 0");
        check(durationNanos > 0, "duration > 0");
        check(requests >= 0, "requests >= 0");
        check(connectTimeoutMillis >= 1 && readTimeoutMillis >= 1, "timeouts >= 1 ms");
        check(zipfExponent > 0 && zipfExponent <= ZIPF_EXPONENT_MAX, "Zipf exponent in (0, " + ZIPF_EXPONENT_MAX + "]");
        check(reconnectInterval >= 0, "reconnect interval >= 0");
    }

    /** A memcached-protocol profile. */
    public LoadProfile(List<ServerAddress> servers, int threads, int connections, int pipeline, int getWeight,
            int setWeight, long keySpace, KeyPattern keyPattern, String keyPrefix, int valueSizeBytes,
            long warmupNanos, long durationNanos, long requests, long seed, int connectTimeoutMillis,
            int readTimeoutMillis) {
        this(servers, threads, connections, pipeline, getWeight, setWeight, keySpace, keyPattern, keyPrefix,
                valueSizeBytes, warmupNanos, durationNanos, requests, seed, connectTimeoutMillis, readTimeoutMillis,
                Protocol.MEMCACHED, ZIPF_EXPONENT_DEFAULT, false, null, 0);
    }

    public boolean isRequestBounded() {
        return requests > 0;
    }

    public String ratioLabel() {
        return getWeight + ":" + setWeight;
    }

    /** The key pattern as the report names it, with the Zipf exponent where it applies. */
    public String keyPatternLabel() {
        return keyPattern == KeyPattern.ZIPF
                ? keyPattern.label() + " s=" + java.math.BigDecimal.valueOf(zipfExponent).stripTrailingZeros().toPlainString()
                : keyPattern.label();
    }

    /** The same targets, TLS and timeouts, setting every key once in order on kept connections: the prefill pass. */
    public LoadProfile prefill(int prefillPipeline, long timeoutNanos) {
        return new LoadProfile(servers, threads, connections, Math.min(prefillPipeline, protocol.pipelineMax()), 0, 1,
                keySpace, KeyPattern.SEQUENTIAL, keyPrefix, valueSizeBytes, 0, timeoutNanos, keySpace, seed,
                connectTimeoutMillis, readTimeoutMillis, protocol, zipfExponent, false, tls, 0);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalArgumentException("invalid load profile: need " + what);
        }
    }
}
