package io.raftcached.placement;

import java.util.ArrayList;
import java.util.List;

/**
 * Plans the moves that take a {@link ClusterMap} towards a balanced one, in this order: replace
 * the replicas of groups short of them, empty draining nodes, even out memory, take leadership off
 * draining nodes, even out leadership. Deterministic (ties go to the lowest id), so a new metadata
 * leader plans what the old one would have.
 *
 * <p>Memory is even when no replica can move from a node {@code s} to a node {@code t} with
 * {@code (used(t) + m) / capacity(t) <= (used(s) - m) / capacity(s)}: on equal nodes, when replica
 * counts differ by at most one. Each such move lowers {@code sum(used² / capacity)} over the nodes
 * (and each leadership transfer {@code sum(leads²)}), so repeated plans end, on any map.
 */
public final class Balancer {
    private Balancer() {}

    /**
     * The moves to start now. At most {@code movesMax} replica moves run at once (each copies a
     * group's store, so they share the network and the disks), counting those already under way;
     * leadership transfers are cheap and not limited.
     */
    public static List<Move> plan(ClusterMap map, int movesMax) {
        if (movesMax < 1) {
            throw new IllegalArgumentException("movesMax " + movesMax);
        }
        List<Move> moves = new ArrayList<>();
        ClusterMap work = map;
        int room = movesMax - map.movesInProgress();
        for (ClusterMap.Group group : map.groups().values()) {
            if (room > 0 && !group.moving() && group.voters().size() < map.replicationFactor()) {
                int to = work.roomiest(group.memoryMb(), group.replicas());
                if (to != 0) {
                    work = take(work, new Move.Start(group.id(), 0, to), moves);
                    room--;
                }
            }
        }
        for (ClusterMap.Node node : map.nodes().values()) {
            for (ClusterMap.Group group : map.groups().values()) {
                if (room > 0 && node.draining() && !work.group(group.id()).moving() && group.holds(node.id())) {
                    int to = work.roomiest(group.memoryMb(), group.replicas());
                    if (to != 0) {
                        work = take(work, new Move.Start(group.id(), node.id(), to), moves);
                        room--;
                    }
                }
            }
        }
        for (; room > 0; room--) {
            Move.Start start = evenOutMemory(work);
            if (start == null) {
                break;
            }
            work = take(work, start, moves);
        }
        for (ClusterMap.Group group : map.groups().values()) {
            if (work.node(group.leader()).draining()) {
                int to = fewestLeads(work, work.group(group.id()), Integer.MAX_VALUE);
                if (to != 0) {
                    work = take(work, new Move.TransferLeader(group.id(), to), moves);
                }
            }
        }
        // Each transfer lowers sum(leads²) by at least 2, so this ends well within the bound.
        for (int transfers = 0; transfers < map.groups().size() * map.groups().size(); transfers++) {
            Move.TransferLeader transfer = evenOutLeads(work);
            if (transfer == null) {
                break;
            }
            work = take(work, transfer, moves);
        }
        return moves;
    }

    private static ClusterMap take(ClusterMap work, Move move, List<Move> moves) {
        moves.add(move);
        return work.apply(move);
    }

    /** The first replica move (fullest source first) that makes memory more even, or null. */
    private static Move.Start evenOutMemory(ClusterMap map) {
        List<ClusterMap.Node> sources = new ArrayList<>(map.nodes().values());
        // Fullest first; a stable sort keeps equal nodes in id order.
        sources.sort((a, b) -> map.fillsLess(a.id(), 0, b.id(), 0) ? 1 : map.fillsLess(b.id(), 0, a.id(), 0) ? -1 : 0);
        for (ClusterMap.Node source : sources) {
            if (source.draining()) {
                continue;
            }
            for (ClusterMap.Group group : map.groups().values()) {
                if (group.moving() || !group.settled(source.id())) {
                    continue;
                }
                int to = map.roomiest(group.memoryMb(), group.replicas());
                if (to != 0 && !map.fillsLess(source.id(), -group.memoryMb(), to, group.memoryMb())) {
                    return new Move.Start(group.id(), source.id(), to);
                }
            }
        }
        return null;
    }

    /** The first leadership transfer from the node leading most that leaves leads more even, or null. */
    private static Move.TransferLeader evenOutLeads(ClusterMap map) {
        List<ClusterMap.Node> sources = new ArrayList<>(map.nodes().values());
        sources.sort((a, b) -> Integer.compare(map.leads(b.id()), map.leads(a.id())));
        for (ClusterMap.Node source : sources) {
            for (ClusterMap.Group group : map.groups().values()) {
                if (group.leader() == source.id()) {
                    int to = fewestLeads(map, group, map.leads(source.id()) - 2);
                    if (to != 0) {
                        return new Move.TransferLeader(group.id(), to);
                    }
                }
            }
        }
        return null;
    }

    /** The settled voter of {@code group}, not draining, that leads fewest groups, at most {@code leadsMax}; 0 if none. */
    private static int fewestLeads(ClusterMap map, ClusterMap.Group group, int leadsMax) {
        int best = 0;
        for (int node : group.replicas()) {
            if (node == group.leader() || !group.settled(node) || map.node(node).draining()
                    || map.leads(node) > leadsMax) {
                continue;
            }
            if (best == 0 || map.leads(node) < map.leads(best)) {
                best = node;
            }
        }
        return best;
    }
}
