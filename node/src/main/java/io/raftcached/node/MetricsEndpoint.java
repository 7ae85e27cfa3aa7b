package io.raftcached.node;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.raftcached.raft.ReplicatedCache;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * {@code /metrics} in Prometheus' text format, served by Prometheus' own Java client (client_java):
 * it is the reference implementation of the format, brings the JVM and process families
 * (GC, memory pools, threads, RSS) ready-made, and adds no metrics facade the node does not need.
 * Every family is read at scrape time from counters the node keeps anyway, on the endpoint's own
 * thread, without the apply lock.
 */
final class MetricsEndpoint implements AutoCloseable {
    private final HTTPServer server;
    private final ExecutorService executor;

    private MetricsEndpoint(HTTPServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    static MetricsEndpoint start(String host, int port, ReplicatedCache cluster, StatsReplies statsReplies, NodeStats stats)
            throws IOException {
        PrometheusRegistry registry = new PrometheusRegistry();
        JvmMetrics.builder().register(registry);
        registry.register(GcPauses.register());
        registry.register(new CacheCollector(statsReplies));
        registry.register(new RaftCollector(cluster, stats));
        cluster.metrics().all().forEach(registry::register);
        // One thread: scrapes are rare and each is cheap; a slow scraper waits rather than adds threads.
        ExecutorService executor = Executors.newSingleThreadExecutor(
                new io.netty.util.concurrent.DefaultThreadFactory("raftcached-metrics", true));
        HTTPServer.Builder builder = HTTPServer.builder().port(port).registry(registry).executorService(executor);
        if (host != null) {
            builder.hostname(host);
        }
        try {
            return new MetricsEndpoint(builder.buildAndStart(), executor);
        } catch (IOException e) {
            executor.shutdownNow();
            throw new IOException("cannot serve metrics on " + (host == null ? "*" : host) + ":" + port + ": " + e.getMessage(), e);
        }
    }

    int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.close();
        executor.shutdownNow();
    }
}
