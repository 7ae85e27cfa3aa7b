package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A peer being down is news once, not a stack trace every heartbeat: with one node of three killed
 * for 30 s the others' logs grow by a few lines (one per state change, repeats counted), with no
 * stack trace; the leader says when the peer went and when it came back. Node 1 logs JSON lines
 * ({@code --log-format json}), and every line it writes is one JSON object.
 */
class LogVolumeTest {
    private static final long DOWN_MILLIS = 30_000;
    /** Seen: 2 to 8 lines (jraft's own replicator errors, each once, and raftcached's state changes). */
    private static final int LINES_GROWN_MAX = 20;
    /** sofa-common-tools prints this to stdout itself when its own logging is off, once at start. */
    private static final String SOFA_NOTICE = "Sofa-Middleware-Log SLF4J Warn";

    @Test
    void aPeerDownFor30SecondsCostsTheOthersAFewLinesAndNoStackTrace() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("log-volume", 3,
                id -> id == 1 ? List.of("--log-format", "json") : List.of())) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess victim = cluster.nodes.stream().filter(node -> node != leader).reduce((a, b) -> b).orElseThrow();
            List<NodeProcess> survivors = cluster.nodes.stream().filter(node -> node != victim).toList();
            List<Long> linesBefore = new ArrayList<>();
            for (NodeProcess node : survivors) {
                linesBefore.add(lines(node).count());
            }
            victim.kill();
            Thread.sleep(DOWN_MILLIS);
            for (int i = 0; i < survivors.size(); i++) {
                NodeProcess node = survivors.get(i);
                List<String> grown = lines(node).skip(linesBefore.get(i)).toList();
                System.out.printf("%s wrote %d lines while %s was down for %d s%n", node.name, grown.size(), victim.name,
                        DOWN_MILLIS / 1000);
                assertTrue(grown.size() <= LINES_GROWN_MAX, node.name + " wrote " + grown.size() + " lines while "
                        + victim.name + " was down:\n" + String.join("\n", grown));
                assertFalse(grown.stream().anyMatch(line -> line.startsWith("\tat ") || line.contains("\\tat ")),
                        node.name + " wrote a stack trace:\n" + String.join("\n", grown));
            }
            assertTrue(leader.logText().contains("peer 127.0.0.1:"), "the leader said a peer became unreachable:\n" + leader.tail());

            victim.start().awaitReady();
            Await.until(leader.name + " to say the peer is back", Duration.ofSeconds(30),
                    () -> leader.logText().contains(" is back after "), leader::tail);

            NodeProcess json = cluster.node(1);
            for (String line : lines(json).toList()) {
                if (line.startsWith("=== start") || line.startsWith(SOFA_NOTICE)) {
                    continue;
                }
                assertTrue(line.startsWith("{\"time\":\"") && line.endsWith("}"), json.name + " wrote a line that is not JSON: " + line);
            }
            assertTrue(lines(json).anyMatch(line -> line.contains("\"message\":\"raftcached ") && line.contains(" serving memcached's protocol")),
                    json.name + "'s start-up line is a JSON object");
        }
    }

    private static java.util.stream.Stream<String> lines(NodeProcess node) throws java.io.IOException {
        return Files.readAllLines(node.log, StandardCharsets.UTF_8).stream();
    }
}
