package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The cache's families under the names and labels prometheus/memcached_exporter gives them, so a
 * memcached dashboard or alert works unchanged against {@code /metrics}. They are read from this
 * node's own {@code stats}, {@code stats settings}, {@code stats items} and {@code stats slabs}
 * replies and mapped as the exporter maps them: one source for both windows, so a memcached_exporter
 * pointed at the client port and this endpoint always agree. Counters the exporter exposes without
 * a {@code _total} suffix (uptime, per-slab LRU moves) are gauges here, which keeps their names.
 */
final class CacheCollector implements MultiCollector {
    private static final String[] COMMANDS_WITH_HITS = {"get", "delete", "incr", "decr", "cas", "touch"};

    private final StatsReplies stats;

    CacheCollector(StatsReplies stats) {
        this.stats = stats;
    }

    @Override
    public MetricSnapshots collect() {
        MetricFamilies out = new MetricFamilies();
        Map<String, String> general = parse(stats::general);
        Map<String, String> settings = parse(stats::settings);
        general(out, general);
        settings(out, settings);
        Map<String, String> slabsReply = parse(stats::slabs);
        perClass(parse(stats::items), "items:").forEach((slab, fields) -> items(out, slab, fields));
        perClass(slabsReply, "").forEach((slab, fields) -> slabs(out, slab, fields));
        gauge(out, "memcached_malloced_bytes", "Number of bytes of memory allocated to slab pages.", slabsReply, "total_malloced");
        return out.build();
    }

    private static void general(MetricFamilies out, Map<String, String> s) {
        out.gauge("memcached_up", "Could the memcached server be reached.", 1);
        out.gauge("memcached_version", "The version of this memcached server.", 1, "version", s.get("version"));
        gauge(out, "memcached_uptime_seconds", "Number of seconds since the server started.", s, "uptime");
        gauge(out, "memcached_time_seconds", "current UNIX time according to the server.", s, "time");
        counter(out, "memcached_process_user_cpu_seconds", "Accumulated user time for this process.", s, "rusage_user");
        counter(out, "memcached_process_system_cpu_seconds", "Accumulated system time for this process.", s, "rusage_system");
        String commandsHelp = "Total number of all requests broken down by command (get, set, etc.) and status.";
        for (String op : COMMANDS_WITH_HITS) {
            counter(out, "memcached_commands", commandsHelp, s, op + "_hits", "command", op, "status", "hit");
            counter(out, "memcached_commands", commandsHelp, s, op + "_misses", "command", op, "status", "miss");
        }
        counter(out, "memcached_commands", commandsHelp, s, "cas_badval", "command", "cas", "status", "badval");
        counter(out, "memcached_commands", commandsHelp, s, "cmd_flush", "command", "flush", "status", "hit");
        // As the exporter does: memcached counts cas commands again in cmd_set.
        out.counter("memcached_commands", commandsHelp, number(s, "cmd_set")
                - number(s, "cas_misses") - number(s, "cas_hits") - number(s, "cas_badval"), "command", "set", "status", "hit");
        gauge(out, "memcached_current_bytes", "Current number of bytes used to store items.", s, "bytes");
        gauge(out, "memcached_limit_bytes", "Number of bytes this server is allowed to use for storage.", s, "limit_maxbytes");
        gauge(out, "memcached_current_items", "Current number of items stored by this instance.", s, "curr_items");
        counter(out, "memcached_items", "Total number of items stored during the life of this instance.", s, "total_items");
        counter(out, "memcached_read_bytes", "Total number of bytes read by this server from network.", s, "bytes_read");
        counter(out, "memcached_written_bytes", "Total number of bytes sent by this server to network.", s, "bytes_written");
        // with -Z only, as the stat
        counter(out, "memcached_ssl_handshake_errors", "Total number of failed TLS handshakes.", s, "ssl_handshake_errors");
        gauge(out, "memcached_current_connections", "Current number of open connections.", s, "curr_connections");
        counter(out, "memcached_connections", "Total number of connections opened since the server started running.", s,
                "total_connections");
        counter(out, "memcached_connections_rejected", "Total number of connections rejected due to hitting the -c limit.",
                s, "rejected_connections");
        counter(out, "memcached_connections_yielded", "Total number of connections yielded due to hitting the -R limit.",
                s, "conn_yields");
        counter(out, "memcached_connections_listener_disabled",
                "Number of times that memcached has hit its connections limit and disabled its listener.", s, "listen_disabled_num");
        counter(out, "memcached_items_evicted", "Total number of valid items removed from cache to free memory for new items.",
                s, "evictions");
        counter(out, "memcached_items_reclaimed", "Total number of times an entry was stored using memory from an expired entry.",
                s, "reclaimed");
        counter(out, "memcached_item_too_large", "The number of times an item exceeded the max-item-size when being stored.",
                s, "store_too_large");
        counter(out, "memcached_item_no_memory", "The number of times an item could not be stored due to no more memory.",
                s, "store_no_memory");
        counter(out, "memcached_lru_crawler_starts", "Times an LRU crawler was started.", s, "lru_crawler_starts");
        counter(out, "memcached_direct_reclaims", "Times worker threads had to directly reclaim or evict items.", s,
                "direct_reclaims");
        counter(out, "memcached_lru_crawler_items_checked", "Total items examined by LRU Crawler.", s, "crawler_items_checked");
        counter(out, "memcached_lru_crawler_reclaimed", "Total items freed by LRU Crawler.", s, "crawler_reclaimed");
        counter(out, "memcached_lru_crawler_moves_to_cold", "Total number of items moved from HOT/WARM to COLD LRU's.", s,
                "moves_to_cold");
        counter(out, "memcached_lru_crawler_moves_to_warm", "Total number of items moved from COLD to WARM LRU.", s,
                "moves_to_warm");
        counter(out, "memcached_lru_crawler_moves_within_lru", "Total number of items reshuffled within HOT or WARM LRU's.",
                s, "moves_within_lru");
        gauge(out, "memcached_accepting_connections", "The Memcached server is currently accepting new connections.", s,
                "accepting_conns");
    }

    private static void settings(MetricFamilies out, Map<String, String> s) {
        gauge(out, "memcached_max_connections", "Maximum number of clients allowed.", s, "maxconns");
        if (!"yes".equals(s.get("lru_crawler"))) {
            return;
        }
        out.gauge("memcached_lru_crawler_enabled", "Whether the LRU crawler is enabled.", 1);
        gauge(out, "memcached_lru_crawler_sleep", "Microseconds to sleep between LRU crawls.", s, "lru_crawler_sleep");
        gauge(out, "memcached_lru_crawler_to_crawl", "Max items to crawl per slab per run.", s, "lru_crawler_tocrawl");
        out.gauge("memcached_lru_crawler_maintainer_thread", "Split LRU mode and background threads.",
                "yes".equals(s.get("lru_maintainer_thread")) ? 1 : 0);
        gauge(out, "memcached_lru_crawler_hot_percent", "Percent of slab memory reserved for HOT LRU.", s, "hot_lru_pct");
        gauge(out, "memcached_lru_crawler_warm_percent", "Percent of slab memory reserved for WARM LRU.", s, "warm_lru_pct");
        gauge(out, "memcached_lru_crawler_hot_max_factor", "Set idle age of HOT LRU to COLD age * this", s, "hot_max_factor");
        gauge(out, "memcached_lru_crawler_warm_max_factor", "Set idle age of WARM LRU to COLD age * this", s, "warm_max_factor");
    }

    private static void items(MetricFamilies out, String slab, Map<String, String> u) {
        gauge(out, "memcached_slab_current_items", "Number of items currently stored in this slab class.", u, "number",
                "slab", slab);
        gauge(out, "memcached_slab_items_age_seconds", "Number of seconds the oldest item has been in the slab class.", u,
                "age", "slab", slab);
        String hitsHelp = "Number of get_hits to the LRU.";
        counter(out, "memcached_slab_lru_hits", hitsHelp, u, "hits_to_hot", "slab", slab, "lru", "hot");
        counter(out, "memcached_slab_lru_hits", hitsHelp, u, "hits_to_warm", "slab", slab, "lru", "warm");
        counter(out, "memcached_slab_lru_hits", hitsHelp, u, "hits_to_cold", "slab", slab, "lru", "cold");
        counter(out, "memcached_slab_lru_hits", hitsHelp, u, "hits_to_temp", "slab", slab, "lru", "temporary");
        counter(out, "memcached_slab_items_crawler_reclaimed", "Number of items freed by the LRU Crawler.", u,
                "crawler_reclaimed", "slab", slab);
        counter(out, "memcached_slab_items_evicted", "Total number of times an item had to be evicted from the LRU before it expired.",
                u, "evicted", "slab", slab);
        counter(out, "memcached_slab_items_evicted_nonzero",
                "Total number of times an item which had an explicit expire time set had to be evicted from the LRU before it expired.",
                u, "evicted_nonzero", "slab", slab);
        gauge(out, "memcached_slab_items_evicted_time_seconds",
                "Seconds since the last access for the most recent item evicted from this class.", u, "evicted_time", "slab", slab);
        counter(out, "memcached_slab_items_evicted_unfetched", "Total number of items evicted and never fetched.", u,
                "evicted_unfetched", "slab", slab);
        counter(out, "memcached_slab_items_expired_unfetched",
                "Total number of valid items evicted from the LRU which were never touched after being set.", u,
                "expired_unfetched", "slab", slab);
        counter(out, "memcached_slab_items_outofmemory",
                "Total number of items for this slab class that have triggered an out of memory error.", u, "outofmemory",
                "slab", slab);
        counter(out, "memcached_slab_items_reclaimed", "Total number of items reclaimed.", u, "reclaimed", "slab", slab);
        counter(out, "memcached_slab_items_tailrepairs", "Total number of times the entries for a particular ID need repairing.",
                u, "tailrepairs", "slab", slab);
        gauge(out, "memcached_slab_mem_requested_bytes", "Number of bytes of memory actual items take up within a slab.", u,
                "mem_requested", "slab", slab);
        gauge(out, "memcached_slab_items_moves_to_cold", "Number of items moved from HOT or WARM into COLD.", u,
                "moves_to_cold", "slab", slab);
        gauge(out, "memcached_slab_items_moves_to_warm", "Number of items moves from COLD into WARM.", u, "moves_to_warm",
                "slab", slab);
        gauge(out, "memcached_slab_items_moves_within_lru", "Number of times active items were bumped within HOT or WARM.", u,
                "moves_within_lru", "slab", slab);
        gauge(out, "memcached_slab_hot_items", "Number of items presently stored in the HOT LRU.", u, "number_hot", "slab", slab);
        gauge(out, "memcached_slab_warm_items", "Number of items presently stored in the WARM LRU.", u, "number_warm", "slab", slab);
        gauge(out, "memcached_slab_cold_items", "Number of items presently stored in the COLD LRU.", u, "number_cold", "slab", slab);
        gauge(out, "memcached_slab_temporary_items", "Number of items presently stored in the TEMPORARY LRU.", u, "number_temp",
                "slab", slab);
        gauge(out, "memcached_slab_hot_age_seconds", "Age of the oldest item in HOT LRU.", u, "age_hot", "slab", slab);
        gauge(out, "memcached_slab_warm_age_seconds", "Age of the oldest item in WARM LRU.", u, "age_warm", "slab", slab);
    }

    private static void slabs(MetricFamilies out, String slab, Map<String, String> v) {
        String commandsHelp = "Total number of all requests broken down by command (get, set, etc.) and status per slab.";
        for (String op : COMMANDS_WITH_HITS) {
            counter(out, "memcached_slab_commands", commandsHelp, v, op + "_hits", "slab", slab, "command", op, "status", "hit");
        }
        counter(out, "memcached_slab_commands", commandsHelp, v, "cas_badval", "slab", slab, "command", "cas", "status", "badval");
        out.counter("memcached_slab_commands", commandsHelp,
                number(v, "cmd_set") - number(v, "cas_hits") - number(v, "cas_badval"), "slab", slab, "command", "set", "status", "hit");
        gauge(out, "memcached_slab_chunk_size_bytes", "Number of bytes allocated to each chunk within this slab class.", v,
                "chunk_size", "slab", slab);
        gauge(out, "memcached_slab_chunks_per_page", "Number of chunks within a single page for this slab class.", v,
                "chunks_per_page", "slab", slab);
        gauge(out, "memcached_slab_current_pages", "Number of pages allocated to this slab class.", v, "total_pages", "slab", slab);
        gauge(out, "memcached_slab_current_chunks", "Number of chunks allocated to this slab class.", v, "total_chunks",
                "slab", slab);
        gauge(out, "memcached_slab_chunks_used", "Number of chunks allocated to an item.", v, "used_chunks", "slab", slab);
        gauge(out, "memcached_slab_chunks_free", "Number of chunks not yet allocated items.", v, "free_chunks", "slab", slab);
        gauge(out, "memcached_slab_chunks_free_end", "Number of free chunks at the end of the last allocated page.", v,
                "free_chunks_end", "slab", slab);
    }

    /** A stat the reply has, as a gauge; one it lacks (a mode that is off) is left out, as the exporter does. */
    private static void gauge(MetricFamilies out, String name, String help, Map<String, String> stats, String key,
            String... labels) {
        if (stats.containsKey(key)) {
            out.gauge(name, help, number(stats, key), labels);
        }
    }

    private static void counter(MetricFamilies out, String name, String help, Map<String, String> stats, String key,
            String... labels) {
        if (stats.containsKey(key)) {
            out.counter(name, help, number(stats, key), labels);
        }
    }

    private static double number(Map<String, String> stats, String key) {
        String value = stats.get(key);
        return value == null ? 0 : Double.parseDouble(value);
    }

    /** A stats reply's {@code STAT key value} lines, in order. */
    static Map<String, String> parse(Consumer<ByteBuf> reply) {
        ByteBuf buffer = Unpooled.buffer(16 * 1024);
        try {
            reply.accept(buffer);
            Map<String, String> stats = new LinkedHashMap<>();
            for (String line : buffer.toString(StandardCharsets.US_ASCII).split("\r\n")) {
                if (line.startsWith("STAT ")) {
                    int space = line.indexOf(' ', 5);
                    stats.put(line.substring(5, space), line.substring(space + 1));
                }
            }
            return stats;
        } finally {
            buffer.release();
        }
    }

    /** {@code <prefix><class>:<field>} stats grouped by slab class, in class order. */
    private static Map<String, Map<String, String>> perClass(Map<String, String> stats, String prefix) {
        Map<String, Map<String, String>> classes = new TreeMap<>((a, b) -> Integer.compare(Integer.parseInt(a), Integer.parseInt(b)));
        stats.forEach((key, value) -> {
            if (!key.startsWith(prefix)) {
                return;
            }
            int colon = key.indexOf(':', prefix.length());
            if (colon < 0) {
                return;
            }
            classes.computeIfAbsent(key.substring(prefix.length(), colon), slab -> new LinkedHashMap<>())
                    .put(key.substring(colon + 1), value);
        });
        return classes;
    }
}
