package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Debian's {@code memcached-tool} (every verb: display, stats, settings, sizes, dump, keys) against
 * a node and against Debian's memcached holding the same items, each run with a deadline: the
 * outputs have the same shape, and the same items where they list items. Then against a member
 * of a three-node cluster, which lists items written through another member.
 */
class MemcachedToolTest {
    private static final Path TOOL = Path.of("/usr/share/memcached/scripts/memcached-tool");
    private static final long TOOL_DEADLINE_MILLIS = 30_000;
    private static final List<String> VERBS = List.of("display", "stats", "settings", "sizes", "dump", "keys");

    private static Subprocess.Result tool(int port, String verb) throws IOException, InterruptedException {
        Subprocess.Result result = Subprocess.run(List.of("perl", TOOL.toString(), "127.0.0.1:" + port, verb), TOOL_DEADLINE_MILLIS);
        assertEquals(0, result.exitCode(), result.toString());
        return result;
    }

    /** Items of several sizes (several slab classes), flags, a TTL, a key needing URI encoding. */
    private static void fill(int port) throws IOException {
        try (TextClient client = new TextClient(port)) {
            StringBuilder batch = new StringBuilder();
            for (int i = 0; i < 40; i++) {
                String value = "v".repeat(10 + i * 50);
                batch.append("set item:").append(i).append(' ').append(i).append(" 0 ").append(value.length())
                        .append(" noreply\r\n").append(value).append("\r\n");
            }
            batch.append("set expiring 7 3600 4 noreply\r\nsoon\r\nmn\r\n");
            assertEquals("MN", client.call(batch.toString()));
        }
    }

    /** What a verb printed, with what differs by nature between two servers (addresses, times, counters) masked. */
    private static List<String> shape(String verb, String output, int port) {
        List<String> lines = new ArrayList<>();
        for (String line : output.replace("127.0.0.1:" + port, "ADDR").split("\n")) {
            lines.add(switch (verb) {
                // "  1      96B         0s       1      40      no ..." : Max_age is a time
                case "display" -> line.replaceFirst("^(\\s*\\d+\\s+\\S+\\s+)\\d+s", "$1Ts");
                // key=... exp=... la=... cas=...: absolute times and a counter
                case "keys" -> line.replaceAll(" exp=\\d{5,}", " exp=T").replaceAll(" la=\\d+", " la=T").replaceAll(" cas=\\d+", " cas=N");
                // add <key> <flags> <absolute exp> <len>
                case "dump" -> line.replaceFirst("^(add \\S+ \\d+ )\\d{5,}", "$1T");
                default -> line;
            });
        }
        if (verb.equals("dump") || verb.equals("keys")) {
            return new ArrayList<>(new TreeSet<>(lines));   // listed in hash order, which is each server's own
        }
        return lines;
    }

    /** "name value" lines of stats and settings as a map. */
    private static Map<String, String> fields(String output) {
        Map<String, String> fields = new TreeMap<>();
        for (String line : output.split("\n")) {
            String[] parts = line.strip().split("\\s+", 2);
            if (!line.startsWith("#") && parts.length == 2) {
                fields.put(parts[0], parts[1]);
            }
        }
        return fields;
    }

    @Test
    void everyVerbGivesMemcachedsOutputShape() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(TOOL), TOOL + " is missing (apt-get install memcached)");
        try (DropInServers servers = DropInServers.start("memcached-tool")) {
            int memcached = servers.memcached().port();
            int node = servers.raftcached().port();
            fill(memcached);
            fill(node);
            for (String verb : VERBS) {
                String expected = tool(memcached, verb).out();
                String actual = tool(node, verb).out();
                if (verb.equals("stats") || verb.equals("settings")) {
                    Map<String, String> memcachedFields = fields(expected);
                    Map<String, String> nodeFields = fields(actual);
                    assertTrue(memcachedFields.size() > 20, expected);
                    assertTrue(nodeFields.keySet().containsAll(memcachedFields.keySet()), verb + ": every field memcached shows;"
                            + " missing " + new TreeSet<>(memcachedFields.keySet()).descendingSet().stream()
                                    .filter(name -> !nodeFields.containsKey(name)).toList());
                    assertEquals(expected.lines().findFirst().orElseThrow().replace(Integer.toString(memcached), "P"),
                            actual.lines().findFirst().orElseThrow().replace(Integer.toString(node), "P"), verb + " header");
                } else {
                    assertEquals(shape(verb, expected, memcached), shape(verb, actual, node), verb);
                }
                if (verb.equals("dump")) {
                    assertEquals(41, expected.lines().filter(line -> line.startsWith("add ")).count(), expected);
                }
            }
        }
    }

    @Test
    void everyVerbWorksAgainstAClusterMember() throws Exception {
        Assumptions.assumeTrue(Files.isReadable(TOOL), TOOL + " is missing (apt-get install memcached)");
        try (LocalCluster cluster = LocalCluster.start("memcached-tool-cluster", 3)) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess member = cluster.nodes.stream().filter(node -> node != leader).findFirst().orElseThrow();
            fill(leader.port);
            cluster.convergedDigests();
            for (String verb : VERBS) {
                String out = tool(member.port, verb).out();
                switch (verb) {
                    case "display" -> assertTrue(out.lines().count() > 2, out);
                    case "stats" -> assertEquals("41", fields(out).get("curr_items"), out);
                    case "settings" -> assertEquals("no", fields(out).get("detail_enabled"), out);
                    case "sizes" -> assertTrue(out.contains("sizes_status"), out);
                    case "dump" -> assertEquals(41, out.lines().filter(line -> line.startsWith("add ")).count(), out);
                    case "keys" -> assertEquals(41, out.lines().filter(line -> line.startsWith("key=")).count(), out);
                    default -> throw new AssertionError(verb);
                }
            }
        }
    }
}
