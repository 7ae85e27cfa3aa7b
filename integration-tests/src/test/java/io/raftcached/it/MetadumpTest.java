package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code lru_crawler metadump}, which operators (and memcached-tool's dump) use to see what a
 * cache holds: the same lines as memcached's for the same commands — live items only, keys
 * URI-encoded, fetched or not — then END, and a dump of many items streamed whole. The order is
 * not compared: memcached's LRU maintainer thread moves items between its LRUs when it wakes, so
 * the order it walks them in depends on timing (raftcached's moves happen at fixed log indexes).
 */
class MetadumpTest {
    /** exp and la are absolute times, cas a counter: compared by kind, not value. */
    private static final Pattern LINE = Pattern.compile(
            "key=(\\S+) exp=(-1|\\d+) la=(\\d+) cas=(\\d+) fetch=(yes|no) cls=(\\d+) size=(\\d+)");

    @Test
    void listsTheLiveItemsAsMemcachedDoes() throws Exception {
        try (DropInServers servers = DropInServers.start("metadump")) {
            assertEquals(sorted(dump(servers.memcached())), sorted(dump(servers.raftcached())));
        }
    }

    private static List<String> sorted(List<String> lines) {
        return lines.stream().sorted().toList();
    }

    /** Writes the same items to a server and returns its metadump with times and CAS values masked. */
    private static List<String> dump(DropInServers.Target target) throws IOException {
        long nowSeconds = System.currentTimeMillis() / 1000;
        try (TextClient client = new TextClient(target.port())) {
            assertEquals("STORED", client.call("set alpha 0 0 5\r\nvalue\r\n"));
            assertEquals("STORED", client.call("set a%20b 5 100 3\r\nxyz\r\n"));
            assertEquals("STORED", client.call("set gone 0 -1 1\r\nx\r\n"));
            assertEquals("STORED", client.call("set later 0 0 10\r\n0123456789\r\n"));
            client.send("get alpha\r\n");
            assertTrue(client.line().startsWith("VALUE alpha"));
            client.line();
            assertEquals("END", client.line());
            client.send("lru_crawler metadump all\r\n");
            List<String> lines = new ArrayList<>();
            for (String line = client.lineEndedByNewline(); !line.equals("END"); line = client.lineEndedByNewline()) {
                lines.add(mask(line, nowSeconds, target.name()));
            }
            return lines;
        }
    }

    private static String mask(String line, long nowSeconds, String server) {
        Matcher fields = LINE.matcher(line);
        assertTrue(fields.matches(), server + " sent an odd metadump line: " + line);
        long exp = Long.parseLong(fields.group(2));
        String expiry = exp == -1 ? "never" : Math.abs(exp - (nowSeconds + 100)) <= 5 ? "in 100 s" : "at " + exp;
        long la = Long.parseLong(fields.group(3));
        assertTrue(Math.abs(la - nowSeconds) <= 5, server + ": la is the item's last update, now: " + line);
        return "key=" + fields.group(1) + " exp " + expiry + " fetch=" + fields.group(5) + " cls=" + fields.group(6)
                + " size=" + fields.group(7);
    }

    @Test
    void aLargeDumpIsStreamedWhole() throws Exception {
        try (DropInServers servers = DropInServers.start("metadump-large", List.of("-m", "64"), List.of())) {
            int items = 50_000;
            String value = "v".repeat(200);
            try (TextClient client = new TextClient(servers.raftcached().port())) {
                for (int from = 0; from < items; from += 500) {
                    StringBuilder batch = new StringBuilder();
                    for (int i = from; i < from + 500; i++) {
                        batch.append("set item-").append(i).append(" 0 0 ").append(value.length()).append(" noreply\r\n")
                                .append(value).append("\r\n");
                    }
                    client.send(batch.append("mn\r\n").toString());
                    assertEquals("MN", client.line());
                }
                client.send("lru_crawler metadump all\r\n");
                int lines = 0;
                for (String line = client.lineEndedByNewline(); !line.equals("END"); line = client.lineEndedByNewline()) {
                    assertTrue(LINE.matcher(line).matches(), line);
                    lines++;
                }
                assertEquals(items, lines, "every item listed once");
                assertEquals("VERSION 1.6.18", client.call("version\r\n"), "the connection goes on after a dump");
            }
        }
    }
}
