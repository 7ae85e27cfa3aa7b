package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The cache families are memcached_exporter's mapping of the node's own stats replies: the values
 * a store and a node's counters hold come out under the exporter's names and labels, with its
 * arithmetic (sets are cmd_set less the cas commands counted in it).
 */
class CacheCollectorTest {
    private static final int ITEMS = 3;

    private final ServerConfig config = config();
    private final InProcessCache cache = new InProcessCache(config.store());
    private final NodeStats stats = new NodeStats();

    private static ServerConfig config() {
        ServerOptions options = new ServerOptions();
        new CommandLine(options).parseArgs("-p", "0", "--raft", "127.0.0.1:1");   // never bound: there is no Raft here
        return options.validate();
    }

    @AfterEach
    void close() {
        cache.close();
    }

    private String scrape() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        new PrometheusTextFormatWriter(false).write(out,
                new CacheCollector(new StatsReplies(cache, config, stats, new ConnectionRegistry())).collect());
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void storeAndCountersComeOutUnderTheExportersNamesAndLabels() throws Exception {
        for (int i = 0; i < ITEMS; i++) {
            cache.submit(Command.newBuilder().setOp(Op.STORE).setKey(ByteString.copyFromUtf8("key-" + i))
                    .setValue(ByteString.copyFromUtf8("value")).build()).get();
        }
        stats.setCommands.add(7);
        stats.casHits.add(1);
        stats.casMisses.add(1);
        stats.casBadValue.add(2);
        stats.getHits.add(5);
        stats.getMisses.add(4);
        stats.bytesRead.add(1234);

        String text = scrape();

        for (String line : new String[] {
            "memcached_up 1.0",
            "memcached_current_items " + ITEMS + ".0",
            "memcached_commands_total{command=\"set\",status=\"hit\"} 3.0",
            "memcached_commands_total{command=\"cas\",status=\"badval\"} 2.0",
            "memcached_commands_total{command=\"cas\",status=\"hit\"} 1.0",
            "memcached_commands_total{command=\"get\",status=\"hit\"} 5.0",
            "memcached_commands_total{command=\"get\",status=\"miss\"} 4.0",
            "memcached_read_bytes_total 1234.0",
            "memcached_limit_bytes " + (double) config.store().memoryLimitBytes(),
            "memcached_slab_current_items{slab=\"1\"} " + ITEMS + ".0",
            "memcached_slab_current_pages{slab=\"1\"} 1.0",
            "memcached_lru_crawler_enabled 1.0",
            "memcached_max_connections 1024.0",
        }) {
            assertTrue(text.contains("\n" + line + "\n"), "missing '" + line + "' in:\n" + text);
        }
        assertTrue(text.contains("\nmemcached_version{version=\""), text);
        assertEquals(1, text.lines().filter(line -> line.startsWith("memcached_slab_chunk_size_bytes{")).count(),
                "one series per slab class in use, no more: " + text);
    }
}
