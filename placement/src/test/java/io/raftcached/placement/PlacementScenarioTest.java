package io.raftcached.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.protobuf.ByteString;
import io.raftcached.testing.DataDriven;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The cluster map and the balancer driven step by step from scenario files ({@code
 * testdata/placement/*.txt}), as etcd's raft interaction tests are. Regenerate expected output
 * with {@code -Drewrite=true} and review the diff.
 *
 * <p>Directives (a refused change prints {@code refused: <reason>} and leaves the map as it was):
 * <pre>
 * cluster [replicas=N]                  an empty map (3 replicas per group unless told)
 * add-node id=(N, ...) capacity=MB      nodes of that capacity
 * groups count=N memory=MB              the groups, placed and given the slot ranges
 * drain id=N                            mark a node to be emptied
 * remove id=N [force]                   remove a node (force: it is gone, its replicas dropped)
 * move group=N [from=N] to=N            start a move by hand
 * finish group=N | abort group=N        end the group's move
 * lead group=N to=N                     transfer a group's leadership by hand
 * plan [moves=N]                        the moves the balancer would start now (default 2)
 * rebalance [moves=N]                   rounds of: plan, start them all, finish them all, until
 *                                       the plan is empty; prints each round, then the map
 * show                                  the map
 * slot key=K                            a key's slot and group
 * </pre>
 */
class PlacementScenarioTest {
    private static final Path TESTDATA = Path.of("src/test/resources/testdata/placement");
    /** More rounds than any scenario needs: a rebalance that does not end is a bug. */
    private static final int ROUNDS_MAX = 100;

    private ClusterMap map;

    @TestFactory
    Stream<DynamicTest> scenarios() throws IOException {
        return DataDriven.scenarioFiles(TESTDATA).stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            map = ClusterMap.empty(3);
            DataDriven.run(file, this::handle);
        }));
    }

    private String handle(DataDriven.TestCase test) {
        try {
            return switch (test.command()) {
                case "cluster" -> change(ClusterMap.empty(test.intArg("replicas", 3)));
                case "add-node" -> {
                    ClusterMap next = map;
                    for (String id : test.args("id")) {
                        next = next.withNode(Integer.parseInt(id), test.longArg("capacity"));
                    }
                    yield change(next);
                }
                case "groups" -> change(map.withGroups(test.intArg("count"), test.longArg("memory")));
                case "drain" -> change(map.draining(test.intArg("id")));
                case "remove" -> change(map.withoutNode(test.intArg("id"), test.hasArg("force")));
                case "move" -> change(map.apply(new Move.Start(test.intArg("group"), test.intArg("from", 0), test.intArg("to"))));
                case "finish" -> change(map.apply(new Move.Finish(test.intArg("group"))));
                case "abort" -> change(map.apply(new Move.Abort(test.intArg("group"))));
                case "lead" -> change(map.apply(new Move.TransferLeader(test.intArg("group"), test.intArg("to"))));
                case "plan" -> String.join("\n", Balancer.plan(map, test.intArg("moves", 2)).stream().map(Move::toString).toList());
                case "rebalance" -> rebalance(test.intArg("moves", 2));
                case "show" -> map.toString();
                case "slot" -> {
                    byte[] key = test.stringArg("key").getBytes(StandardCharsets.US_ASCII);
                    assertEquals(HashSlots.slotOf(key), HashSlots.slotOf(ByteString.copyFrom(key)), "a key's slot read in place");
                    yield "slot " + HashSlots.slotOf(key) + ", g" + map.groupOfKey(key);
                }
                default -> throw new IllegalArgumentException(test.position() + ": unknown directive " + test.command());
            };
        } catch (PlacementException refused) {
            return "refused: " + refused.getMessage();
        }
    }

    private String change(ClusterMap next) {
        map = next;
        return map.toString();
    }

    private String rebalance(int movesMax) {
        StringBuilder out = new StringBuilder();
        for (int round = 1; round <= ROUNDS_MAX; round++) {
            List<Move> moves = Balancer.plan(map, movesMax);
            if (moves.isEmpty()) {
                return out.append(map).toString();
            }
            out.append("round ").append(round).append(": ")
                    .append(String.join(", ", moves.stream().map(Move::toString).toList())).append('\n');
            for (Move move : moves) {
                map = map.apply(move);
            }
            for (Move move : moves) {
                if (move instanceof Move.Start) {
                    map = map.apply(new Move.Finish(move.group()));
                }
            }
        }
        throw new AssertionError("no balance after " + ROUNDS_MAX + " rounds:\n" + out);
    }
}
