package io.raftcached.placement;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What every node of a many-group cluster must agree on: its nodes and their memory, its groups
 * with their replicas and preferred leader, and which group owns each hash slot. Immutable: each
 * change returns a new map, so the metadata group can apply one change per log entry and every
 * replica computes the same map. A change the map refuses throws {@link PlacementException} and
 * leaves it as it was.
 *
 * <p>Invariants, checked on every new map: a group's replicas are distinct nodes of the map;
 * it has at most {@code replicationFactor} voters and one more replica only while a move runs;
 * its leader is one of its voters; no node holds more group memory than its capacity; every slot
 * belongs to a group.
 */
public final class ClusterMap {
    public static final int NODES_MAX = 1_024;
    public static final int GROUPS_MAX = 1_024;
    public static final int REPLICATION_FACTOR_MAX = 7;
    /** A node's memory and a group's, as -m takes it: at most memcached's 64-bit limit in MB is far more than any machine. */
    public static final long MEMORY_MB_MAX = 1L << 30;

    /** A node of the cluster: how much group memory it may hold, and whether it is being emptied. */
    public record Node(int id, long capacityMb, boolean draining) {}

    /**
     * A Raft group: its store's memory, its replicas (voters in the order they joined, then the
     * incoming replica while a move runs), its preferred leader, and the move under way
     * ({@code incoming} joins, {@code leaving} leaves once it is promoted; 0 when none).
     */
    public record Group(int id, long memoryMb, List<Integer> replicas, int leader, int incoming, int leaving) {
        public Group {
            replicas = List.copyOf(replicas);
        }

        public boolean moving() {
            return incoming != 0;
        }

        public boolean holds(int node) {
            return replicas.contains(node);
        }

        /** The replicas that vote: all but the incoming one. */
        public List<Integer> voters() {
            if (incoming == 0) {
                return replicas;
            }
            List<Integer> voters = new ArrayList<>(replicas);
            voters.remove(Integer.valueOf(incoming));
            return voters;
        }

        /** A voter that stays when the running move completes: may lead, may leave. */
        boolean settled(int node) {
            return holds(node) && node != incoming && node != leaving;
        }

        Group with(List<Integer> newReplicas, int newLeader, int newIncoming, int newLeaving) {
            return new Group(id, memoryMb, newReplicas, newLeader, newIncoming, newLeaving);
        }
    }

    private final int replicationFactor;
    private final SortedMap<Integer, Node> nodes;
    private final SortedMap<Integer, Group> groups;
    /** First slot of each range → the group that owns it; empty until groups exist. */
    private final SortedMap<Integer, Integer> slotRanges;

    private ClusterMap(int replicationFactor, SortedMap<Integer, Node> nodes, SortedMap<Integer, Group> groups,
            SortedMap<Integer, Integer> slotRanges) {
        this.replicationFactor = replicationFactor;
        this.nodes = Collections.unmodifiableSortedMap(nodes);
        this.groups = Collections.unmodifiableSortedMap(groups);
        this.slotRanges = Collections.unmodifiableSortedMap(slotRanges);
        checkInvariants();
    }

    /** A map from its parts, as an image holds them; throws IllegalStateException if they break an invariant. */
    static ClusterMap restore(int replicationFactor, List<Node> nodeList, List<Group> groupList,
            SortedMap<Integer, Integer> slotRanges) {
        checkReplicationFactor(replicationFactor);
        SortedMap<Integer, Node> nodes = new TreeMap<>();
        nodeList.forEach(node -> nodes.put(node.id(), node));
        SortedMap<Integer, Group> groups = new TreeMap<>();
        groupList.forEach(group -> groups.put(group.id(), group));
        if (nodes.size() != nodeList.size() || groups.size() != groupList.size()) {
            throw new IllegalStateException("an image with a node or group id twice");
        }
        return new ClusterMap(replicationFactor, nodes, groups, new TreeMap<>(slotRanges));
    }

    public static ClusterMap empty(int replicationFactor) {
        checkReplicationFactor(replicationFactor);
        return new ClusterMap(replicationFactor, new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
    }

    public int replicationFactor() {
        return replicationFactor;
    }

    public SortedMap<Integer, Node> nodes() {
        return nodes;
    }

    public SortedMap<Integer, Group> groups() {
        return groups;
    }

    public Group group(int id) {
        Group group = groups.get(id);
        if (group == null) {
            throw new PlacementException("no group " + id);
        }
        return group;
    }

    public Node node(int id) {
        Node node = nodes.get(id);
        if (node == null) {
            throw new PlacementException("no node " + id);
        }
        return node;
    }

    /** The group that owns {@code key}'s slot. */
    public int groupOfKey(byte[] key) {
        return groupOfSlot(HashSlots.slotOf(key));
    }

    public int groupOfSlot(int slot) {
        if (slot < 0 || slot >= HashSlots.SLOT_COUNT) {
            throw new IllegalArgumentException("slot " + slot);
        }
        if (slotRanges.isEmpty()) {
            throw new PlacementException("the cluster has no groups yet");
        }
        return slotRanges.get(slotRanges.headMap(slot + 1).lastKey());
    }

    /** Slot ranges as first slot → owning group. */
    public SortedMap<Integer, Integer> slotRanges() {
        return slotRanges;
    }

    /** Group memory on {@code node}, counting a replica that is still arriving or leaving. */
    public long usedMb(int node) {
        long usedMb = 0;
        for (Group group : groups.values()) {
            if (group.holds(node)) {
                usedMb += group.memoryMb();
            }
        }
        return usedMb;
    }

    /** Group memory on {@code node} once the moves under way complete: what balancing goes by. */
    long settledMb(int node) {
        long settledMb = 0;
        for (Group group : groups.values()) {
            if (group.holds(node) && group.leaving() != node) {
                settledMb += group.memoryMb();
            }
        }
        return settledMb;
    }

    public int replicaCount(int node) {
        int count = 0;
        for (Group group : groups.values()) {
            if (group.holds(node)) {
                count++;
            }
        }
        return count;
    }

    /** How many groups prefer {@code node} as their leader. */
    public int leads(int node) {
        int count = 0;
        for (Group group : groups.values()) {
            if (group.leader() == node) {
                count++;
            }
        }
        return count;
    }

    public int movesInProgress() {
        int count = 0;
        for (Group group : groups.values()) {
            if (group.moving()) {
                count++;
            }
        }
        return count;
    }

    public ClusterMap withNode(int id, long capacityMb) {
        if (id <= 0) {
            throw new PlacementException("node ids start at 1, got " + id);
        }
        if (nodes.containsKey(id)) {
            throw new PlacementException("node " + id + " is already in the cluster");
        }
        if (nodes.size() >= NODES_MAX) {
            throw new PlacementException("the cluster has " + NODES_MAX + " nodes, the most it takes");
        }
        checkMemory("node " + id + "'s memory", capacityMb);
        SortedMap<Integer, Node> newNodes = new TreeMap<>(nodes);
        newNodes.put(id, new Node(id, capacityMb, false));
        return new ClusterMap(replicationFactor, newNodes, new TreeMap<>(groups), new TreeMap<>(slotRanges));
    }

    /**
     * Creates groups 1..{@code count} of {@code memoryMb} each, splitting the slots into equal
     * ranges, each group on the {@code replicationFactor} nodes with the most room (so a cluster
     * of equal nodes gets equal shares) and led by the one of them that leads fewest.
     */
    public ClusterMap withGroups(int count, long memoryMb) {
        if (!groups.isEmpty()) {
            throw new PlacementException("the cluster already has " + groups.size() + " groups");
        }
        if (count < 1 || count > GROUPS_MAX) {
            throw new PlacementException("groups must be 1 to " + GROUPS_MAX + ", got " + count);
        }
        checkMemory("a group's memory", memoryMb);
        ClusterMap map = this;
        for (int id = 1; id <= count; id++) {
            List<Integer> chosen = new ArrayList<>();
            for (int i = 0; i < replicationFactor; i++) {
                int node = map.roomiest(memoryMb, chosen);
                if (node == 0) {
                    throw new PlacementException("no room for group " + id + ": it needs " + memoryMb + " MB on "
                            + replicationFactor + " nodes that are not draining");
                }
                chosen.add(node);
            }
            int leader = chosen.get(0);
            for (int node : chosen) {
                if (map.leads(node) < map.leads(leader)) {
                    leader = node;
                }
            }
            SortedMap<Integer, Group> newGroups = new TreeMap<>(map.groups);
            newGroups.put(id, new Group(id, memoryMb, chosen, leader, 0, 0));
            map = new ClusterMap(replicationFactor, new TreeMap<>(nodes), newGroups, new TreeMap<>());
        }
        SortedMap<Integer, Integer> ranges = new TreeMap<>();
        for (int ordinal = 0; ordinal < count; ordinal++) {
            ranges.put(HashSlots.rangeStart(ordinal, count), ordinal + 1);
        }
        return new ClusterMap(replicationFactor, new TreeMap<>(nodes), new TreeMap<>(map.groups), ranges);
    }

    /** Marks a node to be emptied: the balancer moves its replicas and leaders elsewhere. */
    public ClusterMap draining(int id) {
        Node node = node(id);
        SortedMap<Integer, Node> newNodes = new TreeMap<>(nodes);
        newNodes.put(id, new Node(id, node.capacityMb(), true));
        return new ClusterMap(replicationFactor, newNodes, new TreeMap<>(groups), new TreeMap<>(slotRanges));
    }

    /**
     * Removes a node. Without {@code force} it must hold no replica (drain it first); with it (a
     * node that is gone for good) its replicas are dropped and the balancer replaces them, unless
     * one was the last voter of its group.
     */
    public ClusterMap withoutNode(int id, boolean force) {
        node(id);
        SortedMap<Integer, Group> newGroups = new TreeMap<>(groups);
        for (Group group : groups.values()) {
            if (!group.holds(id)) {
                continue;
            }
            if (!force) {
                throw new PlacementException("node " + id + " still holds a replica of group " + group.id()
                        + ": drain it first");
            }
            List<Integer> voters = new ArrayList<>(group.voters());
            voters.remove(Integer.valueOf(id));
            if (voters.isEmpty()) {
                throw new PlacementException("node " + id + " holds the last voter of group " + group.id());
            }
            List<Integer> replicas = new ArrayList<>(group.replicas());
            replicas.remove(Integer.valueOf(id));
            int incoming = group.incoming() == id ? 0 : group.incoming();
            int leaving = group.leaving() == id || incoming == 0 ? 0 : group.leaving();
            int leader = group.leader() == id ? voters.get(0) : group.leader();
            newGroups.put(group.id(), group.with(replicas, leader, incoming, leaving));
        }
        SortedMap<Integer, Node> newNodes = new TreeMap<>(nodes);
        newNodes.remove(id);
        return new ClusterMap(replicationFactor, newNodes, newGroups, new TreeMap<>(slotRanges));
    }

    public ClusterMap apply(Move move) {
        Group group = group(move.group());
        Group changed;
        if (move instanceof Move.Start start) {
            changed = start(group, start);
        } else if (move instanceof Move.Finish) {
            if (!group.moving()) {
                throw new PlacementException("group " + group.id() + " has no move to finish");
            }
            List<Integer> replicas = new ArrayList<>(group.replicas());
            replicas.remove(Integer.valueOf(group.leaving()));
            // The new replica takes over the leaving one's share of leadership; the balancer evens it out later.
            int leader = group.leader() == group.leaving() ? group.incoming() : group.leader();
            changed = group.with(replicas, leader, 0, 0);
        } else if (move instanceof Move.Abort) {
            if (!group.moving()) {
                throw new PlacementException("group " + group.id() + " has no move to abort");
            }
            List<Integer> replicas = new ArrayList<>(group.replicas());
            replicas.remove(Integer.valueOf(group.incoming()));
            changed = group.with(replicas, group.leader(), 0, 0);
        } else {
            Move.TransferLeader transfer = (Move.TransferLeader) move;
            if (!group.voters().contains(transfer.to())) {
                throw new PlacementException("node " + transfer.to() + " is not a voter of group " + group.id());
            }
            changed = group.with(group.replicas(), transfer.to(), group.incoming(), group.leaving());
        }
        SortedMap<Integer, Group> newGroups = new TreeMap<>(groups);
        newGroups.put(changed.id(), changed);
        return new ClusterMap(replicationFactor, new TreeMap<>(nodes), newGroups, new TreeMap<>(slotRanges));
    }

    private Group start(Group group, Move.Start start) {
        if (group.moving()) {
            throw new PlacementException("group " + group.id() + " is already moving to node " + group.incoming());
        }
        Node to = node(start.to());
        if (group.holds(to.id())) {
            throw new PlacementException("node " + to.id() + " already holds group " + group.id());
        }
        if (to.draining()) {
            throw new PlacementException("node " + to.id() + " is draining");
        }
        if (usedMb(to.id()) + group.memoryMb() > to.capacityMb()) {
            throw new PlacementException("node " + to.id() + " has no room for group " + group.id() + " ("
                    + group.memoryMb() + " MB; " + usedMb(to.id()) + " of " + to.capacityMb() + " MB used)");
        }
        if (start.from() == 0) {
            if (group.voters().size() >= replicationFactor) {
                throw new PlacementException("group " + group.id() + " already has " + replicationFactor + " replicas");
            }
        } else if (!group.voters().contains(start.from())) {
            throw new PlacementException("node " + start.from() + " is not a voter of group " + group.id());
        }
        List<Integer> replicas = new ArrayList<>(group.replicas());
        replicas.add(to.id());
        return group.with(replicas, group.leader(), to.id(), start.from());
    }

    /**
     * The node, not draining and not in {@code excluded}, with room for {@code memoryMb} more now,
     * where it leaves the smallest share of its capacity used once the moves under way complete
     * (then fewest replicas, then lowest id); 0 if none has room.
     */
    int roomiest(long memoryMb, List<Integer> excluded) {
        int best = 0;
        for (Node node : nodes.values()) {
            if (node.draining() || excluded.contains(node.id()) || usedMb(node.id()) + memoryMb > node.capacityMb()) {
                continue;
            }
            if (best == 0 || fillsLess(node.id(), memoryMb, best, memoryMb)
                    || (!fillsLess(best, memoryMb, node.id(), memoryMb) && replicaCount(node.id()) < replicaCount(best))) {
                best = node.id();
            }
        }
        return best;
    }

    /**
     * Whether node {@code a} with {@code addA} MB more is less full (as a share of its capacity)
     * than {@code b} with {@code addB}, once the moves under way complete.
     */
    boolean fillsLess(int a, long addA, int b, long addB) {
        return (settledMb(a) + addA) * node(b).capacityMb() < (settledMb(b) + addB) * node(a).capacityMb();
    }

    private static void checkReplicationFactor(int replicationFactor) {
        if (replicationFactor < 1 || replicationFactor > REPLICATION_FACTOR_MAX) {
            throw new PlacementException("replicas must be 1 to " + REPLICATION_FACTOR_MAX + ", got " + replicationFactor);
        }
    }

    private static void checkMemory(String what, long memoryMb) {
        if (memoryMb < 1 || memoryMb > MEMORY_MB_MAX) {
            throw new PlacementException(what + " must be 1 to " + MEMORY_MB_MAX + " MB, got " + memoryMb);
        }
    }

    private void checkInvariants() {
        if (!nodes.isEmpty() && nodes.firstKey() < 1 || !groups.isEmpty() && groups.firstKey() < 1) {
            throw new IllegalStateException("node and group ids start at 1: " + nodes.keySet() + ", " + groups.keySet());
        }
        for (Group group : groups.values()) {
            List<Integer> replicas = group.replicas();
            if (replicas.stream().distinct().count() != replicas.size() || !nodes.keySet().containsAll(replicas)) {
                throw new IllegalStateException("group " + group.id() + " has replicas " + replicas);
            }
            if (group.voters().size() > replicationFactor || group.voters().isEmpty()) {
                throw new IllegalStateException("group " + group.id() + " has voters " + group.voters());
            }
            if (!group.voters().contains(group.leader())) {
                throw new IllegalStateException("group " + group.id() + " is led by " + group.leader() + ", not a voter");
            }
            boolean moveConsistent = group.moving()
                    ? group.holds(group.incoming()) && (group.leaving() == 0 || group.voters().contains(group.leaving()))
                    : group.leaving() == 0;
            if (!moveConsistent) {
                throw new IllegalStateException("group " + group.id() + " has an inconsistent move " + group);
            }
        }
        for (Node node : nodes.values()) {
            if (usedMb(node.id()) > node.capacityMb()) {
                throw new IllegalStateException("node " + node.id() + " holds " + usedMb(node.id()) + " of "
                        + node.capacityMb() + " MB");
            }
        }
        if (!slotRanges.isEmpty() && (slotRanges.firstKey() != 0 || !groups.keySet().containsAll(slotRanges.values()))) {
            throw new IllegalStateException("slot ranges " + slotRanges + " for groups " + groups.keySet());
        }
    }

    /** One line per node, then per group, then the slot ranges: what {@code status} prints. */
    @Override
    public String toString() {
        StringBuilder out = new StringBuilder();
        for (Node node : nodes.values()) {
            List<Integer> held = new ArrayList<>();
            for (Group group : groups.values()) {
                if (group.holds(node.id())) {
                    held.add(group.id());
                }
            }
            out.append("n").append(node.id()).append(": ").append(usedMb(node.id())).append('/')
                    .append(node.capacityMb()).append(" MB, groups ").append(held).append(", leads ")
                    .append(leads(node.id())).append(node.draining() ? ", draining" : "").append('\n');
        }
        for (Group group : groups.values()) {
            out.append("g").append(group.id()).append(": ").append(group.memoryMb()).append(" MB on ")
                    .append(group.voters()).append(", leader n").append(group.leader());
            if (group.moving()) {
                out.append(group.leaving() == 0 ? ", adding n" + group.incoming()
                        : ", moving n" + group.leaving() + " -> n" + group.incoming());
            }
            out.append('\n');
        }
        List<Map.Entry<Integer, Integer>> ranges = new ArrayList<>(slotRanges.entrySet());
        for (int i = 0; i < ranges.size(); i++) {
            int end = i + 1 < ranges.size() ? ranges.get(i + 1).getKey() - 1 : HashSlots.SLOT_COUNT - 1;
            out.append(i == 0 ? "slots: " : ", ").append(ranges.get(i).getKey()).append('-').append(end)
                    .append(" g").append(ranges.get(i).getValue());
        }
        return out.toString();
    }
}
