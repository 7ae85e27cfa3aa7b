package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * On one connection, requests take effect in the order sent, in every read mode: a read sees the
 * connection's earlier writes and never a later one, also when reads wait for a linearizable
 * barrier. Each trial sends one packet to a follower under a steady write load — writes, reads,
 * meta reads, gat and a delete, interleaved on one key — and every reply must be the one the order
 * implies. memcached's own answer to the reproduction ({@code get k} then {@code set k}
 * in one packet) is the old value; with linearizable reads raftcached answered the new one in 76
 * of 300 trials.
 */
class ConnectionOrderTest {
    private static final int TRIALS_PER_MODE = 1_000;
    /**
     * One packet: set v1, get, get before set v2, get, mg, ms v3, mg, gat, delete, get. Each reply
     * line (or value) the order implies, "_" standing for the key.
     */
    /** Trials an overloaded machine may see refused (timed out) rather than answered, per mode. */
    private static final int REFUSED_TRIALS_MAX = 10;
    private static final String PACKET = "set _ 0 0 2\r\nv1\r\nget _\r\nget _\r\nset _ 0 0 2\r\nv2\r\nget _\r\nmg _ v\r\n"
            + "ms _ 2\r\nv3\r\nmg _ v\r\ngat 0 _\r\ndelete _\r\nget _\r\n";
    private static final List<String> EXPECTED = List.of("STORED", "VALUE _ 0 2", "v1", "END", "VALUE _ 0 2", "v1", "END",
            "STORED", "VALUE _ 0 2", "v2", "END", "VA 2", "v2", "HD", "VA 2", "v3", "VALUE _ 0 2", "v3", "END", "DELETED",
            "END");

    @Test
    void pipelinedMixedRequestsOnAFollowerUnderLoadTakeEffectInOrder() throws Exception {
        Map<Integer, Integer> linearizablePorts = new HashMap<>();
        for (int id = 1; id <= 3; id++) {
            linearizablePorts.put(id, Ports.free());
        }
        try (LocalCluster cluster = LocalCluster.start("order", 3,
                id -> List.of("--linearizable-port", linearizablePorts.get(id).toString()))) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess follower = cluster.nodes.stream().filter(n -> n != leader).findFirst().orElseThrow();
            NodeProcess other = cluster.nodes.stream().filter(n -> n != leader && n != follower).findFirst().orElseThrow();
            try (WriteLoad load = new WriteLoad("order-load", List.of(leader, other), 2, 100, 2).start()) {
                Map<String, Integer> modes = Map.of("local reads", follower.port,
                        "linearizable reads", linearizablePorts.get(cluster.nodes.indexOf(follower) + 1));
                for (Map.Entry<String, Integer> mode : modes.entrySet()) {
                    List<String> violations = trials(mode.getKey(), mode.getValue());
                    assertEquals(List.of(), violations.subList(0, Math.min(10, violations.size())),
                            violations.size() + " of " + TRIALS_PER_MODE + " trials with " + mode.getKey() + " broke the order");
                    System.out.printf("%s on a follower under load: %d trials of %d pipelined requests, 0 out of order%n",
                            mode.getKey(), TRIALS_PER_MODE, 10);
                }
                assertTrue(load.ackCount() > 0, "the write load must have run");
            }
        }
    }

    /**
     * Runs trials on a connection to {@code port} until {@link #TRIALS_PER_MODE} of them were
     * answered whole; returns what was out of order. A SERVER_ERROR (a read barrier or a write that
     * timed out on an overloaded machine) is an answer the protocol allows, not a violation: that
     * trial is dropped with its connection, and at most {@link #REFUSED_TRIALS_MAX} may be.
     */
    private static List<String> trials(String mode, int port) throws Exception {
        List<String> violations = new ArrayList<>();
        int answered = 0;
        int refused = 0;
        TextClient client = new TextClient(port);
        try {
            for (int trial = 0; answered < TRIALS_PER_MODE; trial++) {
                String key = "order-" + mode.charAt(0) + "-" + trial;
                client.send(PACKET.replace("_", key));
                boolean whole = true;
                for (int line = 0; line < EXPECTED.size() && whole; line++) {
                    String expected = EXPECTED.get(line).replace("_", key);
                    String got = client.line();
                    if (got.startsWith("SERVER_ERROR")) {
                        assertTrue(++refused <= REFUSED_TRIALS_MAX, mode + ": too many trials refused, the last: " + got);
                        client.close();
                        client = new TextClient(port);
                        whole = false;
                    } else if (!got.equals(expected)) {
                        violations.add(mode + " trial " + trial + " reply " + line + ": expected '" + expected + "', got '" + got + "'");
                        return violations;   // the reply stream is out of step: nothing after is comparable
                    }
                }
                answered += whole ? 1 : 0;
            }
        } finally {
            client.close();
        }
        return violations;
    }
}
