package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus scrapes a 3-node cluster's {@code /metrics}: the Raft families say one leader
 * that every node knows, the cache families carry memcached_exporter's names with the values the
 * writes and reads produced, each node's output passes {@code promtool check metrics}, and the
 * alert rules in deploy/monitoring load and stay quiet on a healthy cluster.
 */
class PrometheusScrapeTest {
    private static final Duration SCRAPED_TIMEOUT = Duration.ofSeconds(90);
    private static final int KEYS = 100;
    private static final int HITS = 50;
    private static final int MISSES = 10;
    static final Path ALERT_RULES = Path.of("..", "deploy", "monitoring", "raftcached-alerts.yml");
    static final Path DASHBOARD = Path.of("..", "deploy", "monitoring", "raftcached-dashboard.json");
    private static final Pattern DASHBOARD_EXPR = Pattern.compile("\"expr\": \"((?:[^\"\\\\]|\\\\.)*)\"");
    private static final Pattern RULE_EXPR = Pattern.compile("(?m)^\\s+expr: (.+)$");
    private static final Pattern METRIC_NAME = Pattern.compile("\\b(?:raft|raftcached|memcached|jvm|process)_[a-z_]+\\b");
    /**
     * Every family memcached_exporter derives from {@code stats}, {@code stats settings},
     * {@code stats items} and {@code stats slabs} of a memcached with default flags (segmented
     * LRU, crawler on), by its names.
     */
    private static final List<String> EXPORTER_FAMILIES = List.of("memcached_up", "memcached_version",
            "memcached_uptime_seconds", "memcached_time_seconds", "memcached_process_user_cpu_seconds_total",
            "memcached_process_system_cpu_seconds_total", "memcached_commands_total", "memcached_current_bytes",
            "memcached_limit_bytes", "memcached_current_items", "memcached_items_total", "memcached_read_bytes_total",
            "memcached_written_bytes_total", "memcached_current_connections", "memcached_connections_total",
            "memcached_connections_rejected_total", "memcached_connections_yielded_total",
            "memcached_connections_listener_disabled_total", "memcached_items_evicted_total", "memcached_items_reclaimed_total",
            "memcached_item_too_large_total", "memcached_item_no_memory_total", "memcached_lru_crawler_starts_total",
            "memcached_direct_reclaims_total", "memcached_lru_crawler_items_checked_total", "memcached_lru_crawler_reclaimed_total",
            "memcached_lru_crawler_moves_to_cold_total", "memcached_lru_crawler_moves_to_warm_total",
            "memcached_lru_crawler_moves_within_lru_total", "memcached_malloced_bytes", "memcached_accepting_connections",
            "memcached_max_connections", "memcached_lru_crawler_enabled", "memcached_lru_crawler_sleep",
            "memcached_lru_crawler_to_crawl", "memcached_lru_crawler_maintainer_thread", "memcached_lru_crawler_hot_percent",
            "memcached_lru_crawler_warm_percent", "memcached_lru_crawler_hot_max_factor", "memcached_lru_crawler_warm_max_factor",
            "memcached_slab_current_items", "memcached_slab_items_age_seconds", "memcached_slab_lru_hits_total",
            "memcached_slab_items_crawler_reclaimed_total", "memcached_slab_items_evicted_total",
            "memcached_slab_items_evicted_nonzero_total", "memcached_slab_items_evicted_time_seconds",
            "memcached_slab_items_evicted_unfetched_total", "memcached_slab_items_expired_unfetched_total",
            "memcached_slab_items_outofmemory_total", "memcached_slab_items_reclaimed_total",
            "memcached_slab_items_tailrepairs_total", "memcached_slab_mem_requested_bytes", "memcached_slab_items_moves_to_cold",
            "memcached_slab_items_moves_to_warm", "memcached_slab_items_moves_within_lru", "memcached_slab_hot_items",
            "memcached_slab_warm_items", "memcached_slab_cold_items", "memcached_slab_hot_age_seconds",
            "memcached_slab_warm_age_seconds", "memcached_slab_commands_total", "memcached_slab_chunk_size_bytes",
            "memcached_slab_chunks_per_page", "memcached_slab_current_pages", "memcached_slab_current_chunks",
            "memcached_slab_chunks_used", "memcached_slab_chunks_free", "memcached_slab_chunks_free_end");
    /** The Raft, JVM and process families the dashboard and the alert rules use. */
    private static final List<String> NODE_FAMILIES = List.of("raft_has_leader", "raft_is_leader", "raft_term",
            "raft_leader_changes_seen_total", "raft_commit_index", "raft_applied_index", "raft_proposals_pending",
            "raft_proposals_failed_total", "raft_ready", "raft_dedupe_hits_total", "raft_read_clock_offset_seconds",
            "raft_log_append_duration_seconds_bucket", "raft_apply_duration_seconds_bucket",
            "raft_snapshot_save_duration_seconds_bucket", "raft_forward_duration_seconds_bucket", "raft_snapshots_saved_total",
            "raftcached_slab_pages", "jvm_gc_collection_seconds_count", "jvm_memory_used_bytes", "jvm_threads_current",
            "process_resident_memory_bytes");

    @Test
    void prometheusScrapesEveryNodeAndSeesTheClusterAndTheCache() throws Exception {
        Assumptions.assumeTrue(Subprocess.isInstalled(PrometheusProcess.BINARY) && Subprocess.isInstalled("promtool"),
                "Debian's prometheus package is not installed (apt-get install prometheus)");
        List<Integer> metricsPorts = List.of(Ports.free(), Ports.free(), Ports.free());
        try (LocalCluster cluster = LocalCluster.start("prometheus-scrape", 3,
                id -> List.of("--metrics-port", Integer.toString(metricsPorts.get(id - 1))))) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess follower = cluster.nodes.stream().filter(node -> node != leader).findFirst().orElseThrow();
            try (TextClient client = new TextClient(follower.port)) {
                for (int i = 0; i < KEYS; i++) {
                    assertEquals("STORED", client.call("set key-" + i + " 0 0 5\r\nvalue\r\n"));
                }
            }
            try (TextClient client = new TextClient(leader.port)) {
                // stats, not a get: the gets below are counted exactly.
                ClusterChecks.awaitStats(leader, "", stats -> Integer.toString(KEYS).equals(stats.get("curr_items")), 10_000,
                        "the leader to hold every key");
                for (int i = 0; i < HITS; i++) {
                    assertEquals("VALUE key-" + i + " 0 5", client.call("get key-" + i + "\r\n"));
                    assertEquals("value", client.line());
                    assertEquals("END", client.line());
                }
                for (int i = 0; i < MISSES; i++) {
                    assertEquals("END", client.call("get missing-" + i + "\r\n"));
                }
            }
            StringBuilder allText = new StringBuilder();
            for (int i = 0; i < metricsPorts.size(); i++) {
                String text = MetricsScrape.get(metricsPorts.get(i));
                allText.append(text);
                checkMetrics(cluster.nodes.get(i).name, text);
                for (String family : concat(EXPORTER_FAMILIES, NODE_FAMILIES)) {
                    assertTrue(text.contains("\n" + family + " ") || text.contains("\n" + family + "{"),
                            cluster.nodes.get(i).name + "'s /metrics has " + family);
                }
            }

            try (PrometheusProcess prometheus = PrometheusProcess.start("prometheus-scrape", metricsPorts, List.of(ALERT_RULES))) {
                Await.until("Prometheus to scrape all three nodes", SCRAPED_TIMEOUT,
                        () -> prometheus.value("count(up{job=\"raftcached\"} == 1)") == 3, prometheus::tail);
                assertEquals(3, prometheus.value("count(raft_has_leader == 1)"), "every node knows a leader");
                assertEquals(1, prometheus.value("sum(raft_is_leader)"), "exactly one leader");
                assertEquals(2, prometheus.value("count(raft_follower_lag_entries)"), "the leader reports both followers' lag");
                assertTrue(prometheus.value("count(sum by (peer) (raft_peer_sent_bytes_total) > " + KEYS * 5 + ")") >= 2,
                        "the leader counts the bytes it sent each follower, at least the values it replicated");
                assertEquals(3, prometheus.value("count(raft_ready == 1)"), "every node serves reads");
                assertEquals(KEYS, prometheus.value("min(memcached_current_items)"), "every replica holds the keys");
                assertEquals(KEYS, prometheus.value("max(memcached_current_items)"), "no replica holds more");
                assertEquals(HITS, prometheus.value("sum(memcached_commands_total{command=\"get\",status=\"hit\"})"));
                assertEquals(MISSES, prometheus.value("sum(memcached_commands_total{command=\"get\",status=\"miss\"})"));
                assertEquals(KEYS, prometheus.value("sum(memcached_commands_total{command=\"set\",status=\"hit\"})"));
                assertTrue(prometheus.value("sum(raft_forwarded_batches_total{instance=\"127.0.0.1:"
                        + metricsPorts.get(cluster.nodes.indexOf(follower)) + "\"})") > 0, "the follower forwarded the sets");
                assertTrue(prometheus.value("min(raft_log_append_duration_seconds_count)") > 0, "every node timed log appends");
                assertEquals(3, prometheus.value("count(process_resident_memory_bytes > 0)"));
                assertEquals(0, prometheus.value("count(ALERTS{alertstate=\"firing\"}) or vector(0)"),
                        "no alert fires on a healthy cluster: " + prometheus.query("ALERTS"));
                List<String> expressions = new ArrayList<>(matches(DASHBOARD_EXPR, Files.readString(DASHBOARD)));
                expressions.addAll(matches(RULE_EXPR, Files.readString(ALERT_RULES)));
                assertTrue(expressions.size() > 30, "found the dashboard's and the rules' expressions: " + expressions);
                for (String expression : expressions) {
                    String query = expression.replace("\\\"", "\"").replace("$__rate_interval", "1m").replace("$job", "raftcached")
                            .replace("$instance", ".*");
                    prometheus.query(query);   // throws unless Prometheus accepts it
                    for (String name : matches(METRIC_NAME, query)) {
                        assertTrue(allText.indexOf("\n" + name) >= 0, "the nodes serve " + name + ", used by " + expression);
                    }
                }
            }
        }
    }

    private static void checkMetrics(String node, String text) throws Exception {
        Path file = Files.createTempFile(NodeProcess.TEST_DIRECTORY, "metrics-", ".txt");
        try {
            Files.writeString(file, text, StandardCharsets.UTF_8);
            Subprocess.Result check = Subprocess.run(List.of("bash", "-c", "promtool check metrics < '" + file + "'"), 30_000);
            assertEquals(0, check.exitCode(), node + ": promtool check metrics: " + check);
        } finally {
            Files.deleteIfExists(file);
        }
    }

    private static List<String> matches(Pattern pattern, String text) {
        List<String> found = new ArrayList<>();
        Matcher matcher = pattern.matcher(text);
        while (matcher.find()) {
            found.add(matcher.groupCount() == 0 ? matcher.group() : matcher.group(1));
        }
        return found;
    }

    private static List<String> concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }
}
