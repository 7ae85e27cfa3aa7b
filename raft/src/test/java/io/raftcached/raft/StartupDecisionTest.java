package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link StartupDecision} as a table: what a node finds, what its peers answer, what it does. */
class StartupDecisionTest {
    private static final String SHAPE = "-m 64 -n 48 -f 1.25 -I 1048576 -o slab_chunk_max=524288";
    private static final String OTHER_SHAPE = "-m 32 -n 48 -f 1.25 -I 1048576 -o slab_chunk_max=524288";
    private static final NodeIdentity NAMED = new NodeIdentity(2, 0, "cluster-a", SHAPE, "raftcached-aaaa");
    private static final NodeIdentity UNNAMED = new NodeIdentity(2, 0, "", "", "raftcached-aaaa");

    private static StartupDecision.Local local(NodeIdentity stored, boolean hasRaftState, int members) {
        return new StartupDecision.Local(2, SHAPE, stored, hasRaftState, members);
    }

    private static StartupDecision.Probe fresh(String peer) {
        return new StartupDecision.Probe(peer, "", "", "", "raftcached-aaaa");
    }

    private static StartupDecision.Probe member(String peer, String cluster, String shape, String leader) {
        return new StartupDecision.Probe(peer, cluster, shape, leader, "raftcached-aaaa");
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("restart with state", local(NAMED, true, 3), List.of(member("1", "cluster-a", SHAPE, "l")),
                        "Restart"),
                Arguments.of("restart of a cluster not yet named", local(UNNAMED, true, 3), List.of(), "Restart"),
                Arguments.of("restart when every peer is down", local(NAMED, true, 3), List.of(), "Restart"),
                Arguments.of("restart of another node's directory", new StartupDecision.Local(3, SHAPE, NAMED, true, 3),
                        List.of(), "Refuse: this data directory belongs to node 2, not node 3"),
                Arguments.of("restart with other flags than the cluster's", new StartupDecision.Local(2, OTHER_SHAPE, NAMED, true, 3),
                        List.of(), "Refuse: store shape mismatch: this node's cluster has " + SHAPE + " but it was started with "
                                + OTHER_SHAPE + "; start it with the cluster's values"),
                Arguments.of("an upgraded node of a cluster older than the modern LRU is told -o no_modern",
                        new StartupDecision.Local(2, SHAPE + " -o modern", NAMED, true, 3), List.of(),
                        "Refuse: store shape mismatch: this node's cluster has " + SHAPE + " but it was started with " + SHAPE
                                + " -o modern; the cluster was created before raftcached had memcached's modern LRU: start this"
                                + " node with -o no_modern (and the cluster's other values)"),
                Arguments.of("restart next to another cluster", local(NAMED, true, 3), List.of(member("1@h:1", "cluster-b", SHAPE, "")),
                        "Refuse: this node belongs to cluster cluster-a but peer 1@h:1 belongs to cluster cluster-b"),
                Arguments.of("restart next to another Raft group", local(UNNAMED, true, 3),
                        List.of(new StartupDecision.Probe("1@h:1", "", "", "", "raftcached-bbbb")),
                        "Refuse: this node runs Raft group raftcached-aaaa but peer 1@h:1 runs raftcached-bbbb: a node of another"
                                + " cluster at one of --peers' addresses"),
                Arguments.of("a peer still starting (or older than group ids) names no group", local(UNNAMED, true, 3),
                        List.of(new StartupDecision.Probe("1@h:1", "", "", "", "")), "Restart"),
                Arguments.of("a cluster older than group ids is joined in the legacy group", local(null, false, 3),
                        List.of(new StartupDecision.Probe("3", "cluster-a", SHAPE, "h:7003", "")), "Join: h:7003 in raftcached"),
                Arguments.of("identity without Raft state starts fresh", local(NAMED, false, 1), List.of(), "Bootstrap"),
                Arguments.of("one member bootstraps at once", local(null, false, 1), List.of(), "Bootstrap"),
                Arguments.of("a majority answers, no cluster yet", local(null, false, 3), List.of(fresh("1")), "Bootstrap"),
                Arguments.of("no majority yet", local(null, false, 3), List.of(),
                        "Wait: waiting for a majority of the 3 initial members to answer before bootstrapping (1 did)"),
                Arguments.of("two of five is no majority", local(null, false, 5), List.of(fresh("1")),
                        "Wait: waiting for a majority of the 5 initial members to answer before bootstrapping (2 did)"),
                Arguments.of("a cluster exists: join through its leader", local(null, false, 3),
                        List.of(fresh("1"), member("3", "cluster-a", SHAPE, "h:7003")), "Join: h:7003 in raftcached-aaaa"),
                Arguments.of("a cluster exists, leader unknown", local(null, false, 3), List.of(member("3", "cluster-a", "", "")),
                        "Join:  in raftcached-aaaa"),
                Arguments.of("a cluster of another shape is not joined", local(null, false, 3),
                        List.of(member("3", "cluster-a", OTHER_SHAPE, "h:7003")), "Refuse: refusing to join cluster cluster-a: it was"
                                + " created with " + OTHER_SHAPE + " but this node was started with " + SHAPE
                                + "; start it with the cluster's values"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(String name, StartupDecision.Local local, List<StartupDecision.Probe> probes, String expected) {
        assertEquals(expected, describe(StartupDecision.decide(local, probes)));
    }

    private static String describe(StartupDecision.Decision decision) {
        if (decision instanceof StartupDecision.Restart) {
            return "Restart";
        }
        if (decision instanceof StartupDecision.Bootstrap) {
            return "Bootstrap";
        }
        if (decision instanceof StartupDecision.Join join) {
            return "Join: " + join.leaderHint() + " in " + join.raftGroup();
        }
        if (decision instanceof StartupDecision.Wait wait) {
            return "Wait: " + wait.reason();
        }
        return "Refuse: " + ((StartupDecision.Refuse) decision).message();
    }
}
