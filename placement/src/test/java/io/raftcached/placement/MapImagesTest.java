package io.raftcached.placement;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.ClusterMapImage;
import io.raftcached.proto.MapChange;
import io.raftcached.proto.MapGroup;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** What the metadata group must not accept from a snapshot or its log. */
class MapImagesTest {
    private static ClusterMapImage sixNodesFourGroups() {
        ClusterMap map = ClusterMap.empty(3);
        for (int id = 1; id <= 6; id++) {
            map = map.withNode(id, 256);
        }
        return MapImages.image(map.withGroups(4, 64));
    }

    @Test
    void aSnapshotImageComesBackAsTheSameMap() {
        ClusterMapImage image = sixNodesFourGroups();
        ClusterMap restored = MapImages.restore(image);
        assertEquals(image, MapImages.image(restored));
        assertEquals(3, restored.groupOfKey("foo".getBytes(StandardCharsets.US_ASCII)), "foo's slot 12182 is in the third quarter");
    }

    @Test
    void aDamagedImageStopsTheNodeInsteadOfServingAnotherMap() {
        ClusterMapImage image = sixNodesFourGroups();
        MapGroup first = image.getGroups(0);
        ClusterMapImage twice = image.toBuilder().setGroups(0, first.toBuilder().setReplicas(1, first.getReplicas(0))).build();
        assertTrue(assertThrows(IllegalStateException.class, () -> MapImages.restore(twice)).getMessage().contains("replicas"));
        ClusterMapImage overfull = image.toBuilder().setNodes(0, image.getNodes(0).toBuilder().setCapacityMb(64)).build();
        assertThrows(IllegalStateException.class, () -> MapImages.restore(overfull));
        ClusterMapImage lostSlots = image.toBuilder().removeSlotRanges(0).build();
        assertThrows(IllegalStateException.class, () -> MapImages.restore(lostSlots));
        ClusterMapImage noSlots = image.toBuilder().clearSlotRanges().build();
        assertThrows(IllegalStateException.class, () -> MapImages.restore(noSlots));
        ClusterMapImage noReplication = image.toBuilder().setReplicationFactor(0).build();
        assertThrows(IllegalStateException.class, () -> MapImages.restore(noReplication));
    }

    @Test
    void aChangeOfAnUnknownKindIsNotARefusal() {
        ClusterMap map = MapImages.restore(sixNodesFourGroups());
        assertThrows(IllegalStateException.class, () -> MapChanges.apply(map, MapChange.getDefaultInstance()));
        assertThrows(PlacementException.class, () -> MapChanges.apply(map, MapChange.newBuilder().setDrainNode(9).build()));
    }
}
