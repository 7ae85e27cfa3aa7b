package io.raftcached.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.raftcached.proto.ClusterMapImage;
import io.raftcached.proto.MapChange;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Assume;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/**
 * Random clusters (3 to 12 nodes of mixed sizes, 1 to 24 groups), grown, drained and broken at
 * random while the balancer's moves finish or are given up at random: every map on the way keeps
 * its invariants (the map checks them on every change), no plan exceeds its move limit, and once
 * moves stop failing the balancer ends, within a bound, on a map where a brute-force search finds
 * no move it should still have made. Every change goes through its log entry ({@link MapChanges})
 * and every map through its snapshot image ({@link MapImages}) and back.
 */
class BalancerPropertiesTest {
    private static final long[] CAPACITIES_MB = {64, 128, 256, 512, 1024};
    private static final long[] GROUP_MEMORIES_MB = {16, 32, 64};

    @Property(tries = 300)
    void rebalancingEndsOnABalancedMap(@ForAll long seed) {
        Random random = new Random(seed);
        int replicationFactor = random.nextInt(4) == 0 ? 5 : 3;
        ClusterMap map = ClusterMap.empty(replicationFactor);
        int nodeCount = replicationFactor + random.nextInt(13 - replicationFactor);
        int nextNodeId = 1;
        for (; nextNodeId <= nodeCount; nextNodeId++) {
            map = map.withNode(nextNodeId, CAPACITIES_MB[random.nextInt(CAPACITIES_MB.length)]);
        }
        try {
            map = map.withGroups(1 + random.nextInt(24), GROUP_MEMORIES_MB[random.nextInt(GROUP_MEMORIES_MB.length)]);
        } catch (PlacementException noRoom) {
            Assume.that(false);
        }
        int movesMax = 1 + random.nextInt(3);
        for (int round = 0; round < 30; round++) {
            map = disturb(map, random, nextNodeId);
            nextNodeId = map.nodes().isEmpty() ? nextNodeId : Math.max(nextNodeId, map.nodes().lastKey() + 1);
            map = playRound(map, movesMax, random, true);
        }
        int roundsMax = 4 * (map.groups().size() * replicationFactor + map.nodes().size());
        for (int round = 0; ; round++) {
            if (round > roundsMax) {
                fail("no balance after " + roundsMax + " rounds:\n" + map);
            }
            if (Balancer.plan(map, movesMax).isEmpty() && map.movesInProgress() == 0) {
                break;
            }
            map = playRound(map, movesMax, random, false);
        }
        assertBalanced(map);
    }

    /** Sometimes adds a node, marks one draining, or removes a drained or (forced) a live one. */
    private static ClusterMap disturb(ClusterMap map, Random random, int nextNodeId) {
        List<Integer> ids = new ArrayList<>(map.nodes().keySet());
        int victim = ids.get(random.nextInt(ids.size()));
        MapChange change = switch (random.nextInt(8)) {
            case 0 -> MapChange.newBuilder().setAddNode(MapChange.AddNode.newBuilder().setId(nextNodeId)
                    .setCapacityMb(CAPACITIES_MB[random.nextInt(CAPACITIES_MB.length)])).build();
            case 1 -> MapChange.newBuilder().setDrainNode(victim).build();
            case 2 -> MapChange.newBuilder().setRemoveNode(MapChange.RemoveNode.newBuilder().setId(victim)
                    .setForce(map.replicaCount(victim) > 0)).build();
            default -> null;
        };
        if (change == null) {
            return map;
        }
        try {
            return logged(map, change);
        } catch (PlacementException refused) {
            assertEquals(MapImages.image(map), MapImages.image(MapImages.restore(MapImages.image(map))), "a refusal changed nothing");
            return map;
        }
    }

    /** Applies {@code change} as the metadata group would, then takes the new map through its image and back. */
    private static ClusterMap logged(ClusterMap map, MapChange change) {
        ClusterMap next = MapChanges.apply(map, change);
        ClusterMapImage image = MapImages.image(next);
        ClusterMap restored = MapImages.restore(image);
        assertEquals(image, MapImages.image(restored));
        assertEquals(next.toString(), restored.toString());
        return restored;
    }

    /**
     * Starts what the balancer plans; then, with {@code failures}, leaves some moves running and
     * gives some up, and without, finishes every move under way.
     */
    private static ClusterMap playRound(ClusterMap map, int movesMax, Random random, boolean failures) {
        List<Move> moves = Balancer.plan(map, movesMax);
        for (Move move : moves) {
            map = logged(map, MapChanges.of(move));
        }
        assertTrue(map.movesInProgress() <= movesMax, "moves under way " + map.movesInProgress() + ":\n" + map);
        for (ClusterMap.Group group : map.groups().values()) {
            if (group.moving() && (!failures || random.nextInt(3) != 0)) {
                map = logged(map, MapChanges.of(failures && random.nextInt(4) == 0 ? new Move.Abort(group.id()) : new Move.Finish(group.id())));
            }
        }
        return map;
    }

    /**
     * What no plan should leave behind, found by trying every node pair, with nothing moving:
     * a group short of voters while some node has room for it, a draining node that holds a
     * replica another node has room for, a memory move that evens out use, a leader transfer that
     * evens out leads.
     */
    private static void assertBalanced(ClusterMap map) {
        assertEquals(0, map.movesInProgress(), map.toString());
        for (ClusterMap.Group group : map.groups().values()) {
            for (ClusterMap.Node to : map.nodes().values()) {
                boolean fits = !to.draining() && !group.holds(to.id())
                        && map.usedMb(to.id()) + group.memoryMb() <= to.capacityMb();
                if (!fits) {
                    continue;
                }
                assertFalse(group.voters().size() < map.replicationFactor(), "g" + group.id() + " short, n" + to.id() + " has room:\n" + map);
                for (int from : group.voters()) {
                    assertFalse(map.node(from).draining(), "g" + group.id() + " left on draining n" + from + ":\n" + map);
                    assertTrue(map.fillsLess(from, -group.memoryMb(), to.id(), group.memoryMb()),
                            "g" + group.id() + " n" + from + " -> n" + to.id() + " evens memory:\n" + map);
                }
            }
            for (int voter : group.voters()) {
                boolean better = voter != group.leader() && !map.node(voter).draining()
                        && (map.node(group.leader()).draining() || map.leads(voter) <= map.leads(group.leader()) - 2);
                assertFalse(better, "g" + group.id() + " should be led by n" + voter + ":\n" + map);
            }
        }
    }
}
