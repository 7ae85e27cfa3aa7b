package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@code stats detail on|off|dump} and {@code -D}: the same traffic gives memcached's per-prefix
 * lines, in memcached's order, on a node as on Debian's memcached.
 */
class StatsDetailTest {
    /** Gets (hits and misses), sets of every storage command, deletes, gat; some keys without a prefix. */
    private static final String TRAFFIC = "set user:1 0 0 1\r\na\r\nset user:2 0 0 1\r\nb\r\nadd user:1 0 0 1\r\nc\r\n"
            + "set cart:9 0 0 1\r\nd\r\nappend cart:9 0 0 1\r\ne\r\nset plain 0 0 1\r\nf\r\nget user:1 user:3 cart:9 plain\r\n"
            + "gets user:2\r\ndelete user:2\r\ndelete session:x\r\ngat 100 cart:9 cart:8\r\nset img:a 0 0 1\r\ng\r\n"
            + "set css:b 0 0 1\r\nh\r\nset js:c 0 0 1\r\ni\r\nmn\r\n";

    @Test
    void statsDetailOnCountsPerPrefixAsMemcachedDoes() throws Exception {
        try (DropInServers servers = DropInServers.start("stats-detail")) {
            List<String> memcached = detail(servers.memcached().port(), "stats detail on\r\n", ':');
            assertTrue(memcached.contains("PREFIX user get 3 hit 2 set 3 del 1"), memcached.toString());
            assertEquals(memcached, detail(servers.raftcached().port(), "stats detail on\r\n", ':'));
        }
    }

    @Test
    void dashDSetsTheDelimiterAndTurnsDetailOn() throws Exception {
        try (DropInServers servers = DropInServers.start("stats-detail-d", List.of("-D", "/"), List.of("-D", "/"))) {
            List<String> memcached = detail(servers.memcached().port(), "", '/');
            assertEquals(memcached, detail(servers.raftcached().port(), "", '/'));
        }
    }

    /** Runs the traffic (with ':' swapped for {@code delimiter}), then returns settings, the dump, and the dump after off and reset. */
    private static List<String> detail(int port, String turnOn, char delimiter) throws IOException {
        List<String> seen = new ArrayList<>();
        try (TextClient client = new TextClient(port)) {
            if (!turnOn.isEmpty()) {
                assertEquals("OK", client.call(turnOn));
            }
            var settings = client.stats("settings");
            seen.add("stat_key_prefix " + settings.get("stat_key_prefix") + " detail_enabled " + settings.get("detail_enabled"));
            client.send(TRAFFIC.replace(':', delimiter));
            for (String line = client.line(); !line.equals("MN"); line = client.line()) {
                seen.add("reply " + line);
            }
            seen.addAll(dump(client));
            assertEquals("OK", client.call("stats detail off\r\n"));
            assertEquals("STORED", client.call("set user" + delimiter + "9 0 0 1\r\nz\r\n"));
            seen.add("after off:");
            seen.addAll(dump(client));
            assertEquals("RESET", client.call("stats reset\r\n"));
            seen.add("after reset:");
            seen.addAll(dump(client));
            assertEquals("CLIENT_ERROR usage: stats detail on|off|dump", client.call("stats detail sideways\r\n"));
        }
        return seen;
    }

    private static List<String> dump(TextClient client) throws IOException {
        List<String> lines = new ArrayList<>();
        client.send("stats detail dump\r\n");
        for (String line = client.line(); !line.equals("END"); line = client.line()) {
            lines.add(line);
        }
        return lines;
    }
}
