package io.raftcached.placement;

import io.raftcached.proto.ClusterMapImage;
import io.raftcached.proto.MapGroup;
import io.raftcached.proto.MapNode;
import io.raftcached.proto.SlotRange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A {@link ClusterMap} as the metadata group's snapshots hold it, and back. An image whose parts
 * break a map invariant is a damaged snapshot: restoring it throws IllegalStateException, and the
 * node stops rather than serve from a map its peers do not have.
 */
public final class MapImages {
    private MapImages() {}

    public static ClusterMapImage image(ClusterMap map) {
        ClusterMapImage.Builder image = ClusterMapImage.newBuilder().setReplicationFactor(map.replicationFactor());
        for (ClusterMap.Node node : map.nodes().values()) {
            image.addNodes(MapNode.newBuilder().setId(node.id()).setCapacityMb(node.capacityMb()).setDraining(node.draining()));
        }
        for (ClusterMap.Group group : map.groups().values()) {
            image.addGroups(MapGroup.newBuilder().setId(group.id()).setMemoryMb(group.memoryMb())
                    .addAllReplicas(group.replicas()).setLeader(group.leader()).setIncoming(group.incoming())
                    .setLeaving(group.leaving()));
        }
        for (Map.Entry<Integer, Integer> range : map.slotRanges().entrySet()) {
            image.addSlotRanges(SlotRange.newBuilder().setFirstSlot(range.getKey()).setGroup(range.getValue()));
        }
        return image.build();
    }

    public static ClusterMap restore(ClusterMapImage image) {
        List<ClusterMap.Node> nodes = new ArrayList<>();
        for (MapNode node : image.getNodesList()) {
            nodes.add(new ClusterMap.Node(node.getId(), node.getCapacityMb(), node.getDraining()));
        }
        List<ClusterMap.Group> groups = new ArrayList<>();
        for (MapGroup group : image.getGroupsList()) {
            groups.add(new ClusterMap.Group(group.getId(), group.getMemoryMb(), group.getReplicasList(), group.getLeader(),
                    group.getIncoming(), group.getLeaving()));
        }
        SortedMap<Integer, Integer> slotRanges = new TreeMap<>();
        for (SlotRange range : image.getSlotRangesList()) {
            if (range.getFirstSlot() >= HashSlots.SLOT_COUNT || slotRanges.put(range.getFirstSlot(), range.getGroup()) != null) {
                throw new IllegalStateException("an image with slot range " + range.getFirstSlot());
            }
        }
        if (groups.isEmpty() != slotRanges.isEmpty()) {
            throw new IllegalStateException("an image with " + groups.size() + " groups and " + slotRanges.size() + " slot ranges");
        }
        try {
            return ClusterMap.restore(image.getReplicationFactor(), nodes, groups, slotRanges);
        } catch (PlacementException e) {
            throw new IllegalStateException("a damaged cluster map image: " + e.getMessage(), e);
        }
    }
}
