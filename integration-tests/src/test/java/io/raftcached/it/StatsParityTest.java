package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

/**
 * {@code stats}, {@code stats settings|items|slabs|sizes|conns} after the same commands on a fresh
 * raftcached node and a fresh memcached 1.6.18: the same STAT names in the same order (raftcached
 * may add names starting with raft_ or raftcached_), and equal values for everything determined
 * by the commands and the flags — item counts and bytes, per-class chunk sizes, pages, chunks and
 * requested memory, command counters, evictions of the same data past -m. Values that depend on
 * time, process or when background work runs (memcached's maintainer and crawler threads wake on
 * their own schedule; raftcached's run on the log's clock) are listed where they are skipped.
 */
class StatsParityTest {
    private static final Predicate<String> RAFTCACHED_OWN = name -> name.startsWith("raft_") || name.startsWith("raftcached_");

    /** General stats that differ for reasons other than the data: time, process, memcached's internals. */
    private static final Set<String> GENERAL_NOT_COMPARED = Set.of("pid", "uptime", "time", "libevent", "rusage_user",
            "rusage_system", "total_connections", "connection_structures", "curr_connections", "response_obj_count",
            "response_obj_bytes", "read_buf_count", "read_buf_bytes", "read_buf_bytes_free", "reserved_fds",
            // memcached's LRU crawler wakes on its own schedule: whether it checked an item yet is timing
            "lru_crawler_starts", "crawler_items_checked", "crawler_reclaimed", "lru_maintainer_juggles", "moves_to_cold", "moves_to_warm", "moves_within_lru",
            "direct_reclaims", "bytes_read", "bytes_written", "hash_bytes", "hash_power_level", "threads",
            // a tail item kept because a command holds it: memcached's maintainer thread and raftcached's
            // end-of-entry juggle meet it at different moments
            "lrutail_reflocked");
    /** Settings that name machinery raftcached does not have (its own index hash, no UDP), or the port. */
    private static final Set<String> SETTINGS_NOT_COMPARED = Set.of("tcpport", "oldest", "binding_protocol",
            "hash_algorithm", "num_threads", "num_threads_per_udp",
            // memcached's default is 0 (unlimited); raftcached always bounds its buffers (README: Limits)
            "read_buf_mem_limit");
    /**
     * Per-class item stats that move with the segmented LRU's background moves and the crawler:
     * equal in kind, different in timing (threads there, log seconds here).
     */
    private static final List<String> ITEMS_NOT_COMPARED = List.of("number_hot", "number_warm", "number_cold", "age_hot",
            "age_warm", "age", "evicted_time", "moves_to_cold", "moves_to_warm", "moves_within_lru", "direct_reclaims",
            "hits_to_hot", "hits_to_warm", "hits_to_cold", "hits_to_temp", "lrutail_reflocked",
            // memcached's background crawler checks items on its own schedule
            "crawler_items_checked", "crawler_reclaimed");

    @Test
    void sameCommandsSameStats() throws Exception {
        MemcachedProcess.assumeInstalled();
        try (DropInServers servers = DropInServers.start("stats-parity")) {
            int memcached = servers.memcached().port();
            int raftcached = servers.raftcached().port();
            assertEquals(workload(memcached), workload(raftcached), "both servers answered the workload the same way");

            Map<String, String> general = compareNames(memcached, raftcached, "");
            compareValues(general, MemcachedProcess.statsOf(raftcached, ""), name -> !GENERAL_NOT_COMPARED.contains(name));
            assertTrue(Long.parseLong(general.get("curr_items")) > 30, "the workload stored items: " + general);

            Map<String, String> settings = compareNames(memcached, raftcached, "settings");
            compareValues(settings, MemcachedProcess.statsOf(raftcached, "settings"), name -> !SETTINGS_NOT_COMPARED.contains(name));

            Map<String, String> items = compareNames(memcached, raftcached, "items");
            compareValues(items, MemcachedProcess.statsOf(raftcached, "items"),
                    name -> ITEMS_NOT_COMPARED.stream().noneMatch(skipped -> name.endsWith(":" + skipped)));

            Map<String, String> slabs = compareNames(memcached, raftcached, "slabs");
            assertTrue(slabs.containsKey("39:chunk_size"), "the 900 KB value made a chunked item in the largest class: " + slabs);
            compareValues(slabs, MemcachedProcess.statsOf(raftcached, "slabs"), name -> true);

            Map<String, String> sizes = compareNames(memcached, raftcached, "sizes");
            compareValues(sizes, MemcachedProcess.statsOf(raftcached, "sizes"), name -> true);

            // stats conns: one listener and this connection; fds and ports differ, the shape must not.
            // The previous stats call's connection may still be listed until the server sees it close.
            List<String> memcachedConns = connsShape(MemcachedProcess.statsOf(memcached, "conns"));
            assertEquals(memcachedConns, Await.value("stats conns shaped as memcached's", Duration.ofSeconds(5),
                    () -> connsShape(MemcachedProcess.statsOf(raftcached, "conns")), memcachedConns::equals));
        }
    }

    @Test
    void evictionsOfTheSameDataPastTheMemoryLimit() throws Exception {
        MemcachedProcess.assumeInstalled();
        try (DropInServers servers = DropInServers.start("stats-evictions", List.of("-m", "8"), List.of("-m", "8"))) {
            for (int port : List.of(servers.memcached().port(), servers.raftcached().port())) {
                fill(port, 12_000, 1000);
            }
            Map<String, String> memcached = MemcachedProcess.statsOf(servers.memcached().port(), "");
            Map<String, String> raftcached = MemcachedProcess.statsOf(servers.raftcached().port(), "");
            assertTrue(Long.parseLong(memcached.get("evictions")) > 1000, "memcached evicted: " + memcached);
            String why = "; raftcached store_no_memory " + raftcached.get("store_no_memory") + ", raft_writes_failed "
                    + raftcached.get("raft_writes_failed") + ", raft_writes_outcome_unknown " + raftcached.get("raft_writes_outcome_unknown")
                    + ", cmd_set " + raftcached.get("cmd_set") + " (memcached " + memcached.get("cmd_set") + ")";
            for (String name : List.of("curr_items", "total_items", "bytes", "evictions", "evicted_unfetched", "limit_maxbytes")) {
                assertEquals(memcached.get(name), raftcached.get(name), name + why);
            }
            Map<String, String> memcachedSlabs = MemcachedProcess.statsOf(servers.memcached().port(), "slabs");
            compareValues(memcachedSlabs, MemcachedProcess.statsOf(servers.raftcached().port(), "slabs"), name -> true);
            Map<String, String> memcachedItems = MemcachedProcess.statsOf(servers.memcached().port(), "items");
            compareValues(memcachedItems, MemcachedProcess.statsOf(servers.raftcached().port(), "items"),
                    name -> name.endsWith(":number") || name.endsWith(":evicted") || name.endsWith(":evicted_nonzero")
                            || name.endsWith(":mem_requested") || name.endsWith(":outofmemory"));
        }
    }

    /** With -M, sets past -m are refused ("out of memory storing object") at the same item as in memcached. */
    @Test
    void disabledEvictionsRefuseTheSameSets() throws Exception {
        MemcachedProcess.assumeInstalled();
        List<String> noEvictions = List.of("-m", "8", "-M");
        try (DropInServers servers = DropInServers.start("stats-no-evictions", noEvictions, noEvictions)) {
            List<Map<String, Integer>> replies = new ArrayList<>();
            for (int port : List.of(servers.memcached().port(), servers.raftcached().port())) {
                replies.add(fillCountingReplies(port, 12_000, 1000));
            }
            assertTrue(replies.get(0).getOrDefault("SERVER_ERROR out of memory storing object", 0) > 1000,
                    "memcached ran out of memory: " + replies.get(0));
            assertEquals(replies.get(0), replies.get(1));
            Map<String, String> memcached = MemcachedProcess.statsOf(servers.memcached().port(), "");
            Map<String, String> raftcached = MemcachedProcess.statsOf(servers.raftcached().port(), "");
            for (String name : List.of("curr_items", "total_items", "bytes", "evictions", "store_no_memory")) {
                assertEquals(memcached.get(name), raftcached.get(name), name);
            }
        }
    }

    @Test
    void sizeHistogramWithTrackSizes() throws Exception {
        MemcachedProcess.assumeInstalled();
        List<String> trackSizes = List.of("-o", "track_sizes");
        try (DropInServers servers = DropInServers.start("stats-sizes", trackSizes, trackSizes)) {
            List<Map<String, String>> histograms = new ArrayList<>();
            for (int port : List.of(servers.memcached().port(), servers.raftcached().port())) {
                try (TextClient client = new TextClient(port)) {
                    int[] sizes = {1, 10, 100, 1000, 5000, 100_000, 700_000, 100};
                    for (int i = 0; i < sizes.length; i++) {
                        assertEquals("STORED", store(client, "set", "sized-" + i, 0, "x".repeat(sizes[i])));
                    }
                    assertEquals("DELETED", client.call("delete sized-2\r\n"));
                }
                histograms.add(MemcachedProcess.statsOf(port, "sizes"));
            }
            assertEquals("1", histograms.get(0).get("1088"), "memcached's 32-byte buckets: " + histograms.get(0));
            assertEquals(histograms.get(0), histograms.get(1));
            assertEquals(new ArrayList<>(histograms.get(0).keySet()), new ArrayList<>(histograms.get(1).keySet()), "bucket order");
        }
    }

    /** memcached's names, in order, are raftcached's once raftcached's own are left out. Returns memcached's stats. */
    private static Map<String, String> compareNames(int memcached, int raftcached, String args) throws IOException {
        Map<String, String> expected = MemcachedProcess.statsOf(memcached, args);
        Map<String, String> actual = MemcachedProcess.statsOf(raftcached, args);
        List<String> actualNames = actual.keySet().stream().filter(RAFTCACHED_OWN.negate()).toList();
        assertEquals(new ArrayList<>(expected.keySet()), actualNames, "names of 'stats " + args + "'");
        return expected;
    }

    private static void compareValues(Map<String, String> expected, Map<String, String> actual, Predicate<String> compared) {
        Map<String, String> different = new LinkedHashMap<>();
        for (Map.Entry<String, String> stat : expected.entrySet()) {
            if (compared.test(stat.getKey()) && !stat.getValue().equals(actual.get(stat.getKey()))) {
                different.put(stat.getKey(), "memcached " + stat.getValue() + ", raftcached " + actual.get(stat.getKey()));
            }
        }
        assertEquals(Map.of(), different, "values that differ");
    }

    private static List<String> connsShape(Map<String, String> conns) {
        return conns.entrySet().stream()
                .map(e -> e.getKey().replaceFirst("^\\d+:", "") + "=" + (e.getKey().endsWith(":state") ? e.getValue()
                        : e.getKey().endsWith("addr") ? e.getValue().replaceFirst(":\\d+$", "") : "n"))
                .toList();
    }

    /**
     * The same commands for both servers, each reply recorded: storage of every slab size up to a
     * chunked item, hits and misses, deletes, arithmetic, cas, touch, gat, append, expired items.
     */
    private static List<String> workload(int port) throws IOException {
        List<String> replies = new ArrayList<>();
        try (TextClient client = new TextClient(port)) {
            int[] sizes = {1, 10, 50, 100, 500, 1000, 5000, 20_000, 100_000, 600_000, 900_000};
            for (int i = 0; i < sizes.length; i++) {
                for (int j = 0; j < 3; j++) {
                    replies.add(store(client, "set", "size-" + i + "-" + j, j, "v".repeat(sizes[i])));
                }
            }
            replies.add(store(client, "set", "counter", 0, "10"));
            replies.add(store(client, "add", "counter", 0, "11"));
            replies.add(store(client, "replace", "missing", 0, "x"));
            replies.add(store(client, "append", "size-0-0", 0, "++"));
            replies.add(store(client, "prepend", "size-0-1", 0, "--"));
            // No expired items: memcached frees one when a read finds it, raftcached only when a write does
            // (a local read never changes replicated state), so curr_items and bytes would differ until then.
            replies.add(call(client, "get size-0-0 size-1-1 missing\r\n", "END"));
            replies.add(call(client, "gets size-2-0\r\n", "END").replaceAll(" \\d+\\r\\n", " <cas>\r\n"));
            replies.add(call(client, "get missing-too\r\n", "END"));
            replies.add(call(client, "incr counter 5\r\n", null));
            replies.add(call(client, "decr counter 100\r\n", null));
            replies.add(call(client, "incr missing 1\r\n", null));
            replies.add(call(client, "decr missing 1\r\n", null));
            replies.add(call(client, "delete size-3-2\r\n", null));
            replies.add(call(client, "delete missing\r\n", null));
            replies.add(call(client, "touch size-4-0 3600\r\n", null));
            replies.add(call(client, "touch missing 3600\r\n", null));
            replies.add(call(client, "gat 3600 size-4-1 missing\r\n", "END"));
            String gets = call(client, "gets size-5-0\r\n", "END");
            String cas = gets.split("\r\n")[0].split(" ")[4];
            replies.add(store(client, "cas", "size-5-0", 0, "new", 0, cas));
            replies.add(store(client, "cas", "size-5-0", 0, "newer", 0, cas));
            replies.add(store(client, "cas", "missing", 0, "x", 0, "1"));
            replies.add(call(client, "mg size-6-0 v\r\n", null) + client.line());
            replies.add(call(client, "mg missing v\r\n", null));
            replies.add(call(client, "mg size-6-1 s T3600\r\n", null));
            replies.add(call(client, "mg missing s T3600\r\n", null));
            replies.add(call(client, "ms meta-counter 1\r\n7\r\n", null));
            replies.add(call(client, "ma meta-counter\r\n", null));
            replies.add(call(client, "ma meta-counter MD\r\n", null));
            replies.add(call(client, "ma missing\r\n", null));
            replies.add(call(client, "ma missing MD\r\n", null));
            replies.add(call(client, "ma meta-created N0 J5\r\n", null));
            replies.add(call(client, "md size-7-2\r\n", null));
            replies.add(call(client, "md missing\r\n", null));
            replies.add(call(client, "me size-7-1\r\n", null).replaceAll("cas=\\d+ ", "cas=<cas> ").replaceAll("la=\\d+", "la=<la>"));
        }
        return replies;
    }

    private static String store(TextClient client, String command, String key, int flags, String value) throws IOException {
        return store(client, command, key, flags, value, 0);
    }

    private static String store(TextClient client, String command, String key, int flags, String value, int exptime)
            throws IOException {
        return client.call(command + " " + key + " " + flags + " " + exptime + " " + value.length() + "\r\n" + value + "\r\n");
    }

    private static String store(TextClient client, String command, String key, int flags, String value, int exptime,
            String cas) throws IOException {
        return client.call(command + " " + key + " " + flags + " " + exptime + " " + value.length() + " " + cas + "\r\n"
                + value + "\r\n");
    }

    /** Sends a command; reads one line, or lines up to {@code endLine} (values are short, single-line). */
    private static String call(TextClient client, String command, String endLine) throws IOException {
        String line = client.call(command);
        if (endLine == null) {
            return line;
        }
        StringBuilder reply = new StringBuilder(line).append("\r\n");
        for (int lines = 0; !line.equals(endLine) && lines < 1000; lines++) {
            line = client.line();
            reply.append(line).append("\r\n");
        }
        return reply.toString();
    }

    private static Map<String, Integer> fillCountingReplies(int port, int count, int size) throws IOException {
        byte[] value = "v".repeat(size).getBytes(StandardCharsets.US_ASCII);
        int window = 500;
        Map<String, Integer> replies = new java.util.TreeMap<>();
        try (TextClient client = new TextClient(port)) {
            client.readTimeout(30_000);
            for (int from = 0; from < count; from += window) {
                ByteArrayOutputStream batch = new ByteArrayOutputStream();
                int to = Math.min(count, from + window);
                for (int i = from; i < to; i++) {
                    batch.write(("set full-" + i + " 0 0 " + size + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    batch.write(value);
                    batch.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                client.send(batch.toByteArray());
                for (int i = from; i < to; i++) {
                    replies.merge(client.line(), 1, Integer::sum);
                }
            }
        }
        return replies;
    }

    /**
     * {@code count} sets of {@code size}-byte values, pipelined in windows of 500 with their
     * replies read (every one must be STORED). Windows, not one unbounded noreply stream: the node
     * refuses writes beyond 4096 in flight (see WriteBackpressureTest), and this test is about stats.
     */
    private static void fill(int port, int count, int size) throws IOException {
        byte[] value = "v".repeat(size).getBytes(StandardCharsets.US_ASCII);
        int window = 500;
        try (TextClient client = new TextClient(port)) {
            client.readTimeout(30_000);
            for (int from = 0; from < count; from += window) {
                ByteArrayOutputStream batch = new ByteArrayOutputStream();
                int to = Math.min(count, from + window);
                for (int i = from; i < to; i++) {
                    batch.write(("set evict-" + i + " 0 0 " + size + "\r\n").getBytes(StandardCharsets.US_ASCII));
                    batch.write(value);
                    batch.write("\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                client.send(batch.toByteArray());
                for (int i = from; i < to; i++) {
                    assertEquals("STORED", client.line(), "set evict-" + i);
                }
            }
        }
    }
}
