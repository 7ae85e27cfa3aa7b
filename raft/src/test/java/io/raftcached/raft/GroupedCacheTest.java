package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.alipay.sofa.jraft.entity.PeerId;
import com.google.protobuf.ByteString;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.raftcached.placement.ClusterMap;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.testing.Await;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node of several Raft groups in one JVM: placement, routing by slot, keyless writes, restart. */
class GroupedCacheTest {
    private static final FatalStop FAIL_ON_FATAL = (message, cause) -> {
        throw new AssertionError("fatal stop: " + message, cause);
    };

    @TempDir
    Path directory;

    private static RaftSettings settings(int nodeId, int port, List<RaftSettings.Peer> peers, Path data) {
        return new RaftSettings(nodeId, "127.0.0.1", port, peers, data, 1000, false, LogStore.SEGMENT, 3600, 0, 5_000, 0,
                "127.0.0.1:0", "raftcached", MemoryBudgets.defaultsFor(64L << 20, 64L << 20), PeerTls.Files.NONE, InjectedFaults.NONE);
    }

    private static List<RaftSettings.Peer> peers(int count) {
        return IntStream.rangeClosed(1, count).mapToObj(id -> new RaftSettings.Peer(id, "127.0.0.1", 7000 + id)).toList();
    }

    @Test
    void placementSplitsMemoryEvenlyAndSpreadsPreferredLeaders() {
        StoreConfig shape = StoreConfig.withMemory(64L * StoreConfig.MEGABYTE);
        ClusterMap map = GroupedCache.placement(settings(2, 7002, peers(3), directory), shape, 4);
        assertEquals(16L * StoreConfig.MEGABYTE, GroupedCache.groupShape(shape, map).memoryLimitBytes());
        Set<Integer> leaders = new HashSet<>();
        for (int group = 1; group <= 4; group++) {
            assertEquals(List.of(1, 2, 3), map.group(group).replicas().stream().sorted().toList(), "every member holds every group");
            leaders.add(map.group(group).leader());
        }
        assertEquals(Set.of(1, 2, 3), leaders, "four groups' preferred leaders cover the three members");
    }

    @Test
    void placementOnSixMembersGivesEachGroupThreeAndEachNodeTwo() {
        StoreConfig shape = StoreConfig.withMemory(128L * StoreConfig.MEGABYTE);
        ClusterMap map = GroupedCache.placement(settings(5, 7005, peers(6), directory), shape, 4);
        assertEquals(64L * StoreConfig.MEGABYTE, GroupedCache.groupShape(shape, map).memoryLimitBytes(),
                "12 replicas on 6 nodes: two groups a node, each half its -m");
        Set<Integer> leaders = new HashSet<>();
        for (int group = 1; group <= 4; group++) {
            assertEquals(3, Set.copyOf(map.group(group).replicas()).size());
            leaders.add(map.group(group).leader());
        }
        for (int node = 1; node <= 6; node++) {
            assertEquals(2, map.replicaCount(node), "node " + node + " holds two groups");
        }
        assertEquals(4, leaders.size(), "each group prefers a different leader");
        RaftSettings five = settings(1, 7001, peers(5), directory);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GroupedCache.placement(five, shape, 1)).getMessage()
                .contains("use at least 2 groups"));
        ClusterMap uneven = GroupedCache.placement(five, StoreConfig.withMemory(96L * StoreConfig.MEGABYTE), 4);
        assertEquals(32L * StoreConfig.MEGABYTE, GroupedCache.groupShape(shape, uneven).memoryLimitBytes(),
                "12 replicas on 5 nodes: up to three groups a node, each a third of its -m");
    }

    @Test
    void placementRefusesGroupsThatDoNotFit() {
        StoreConfig small = StoreConfig.withMemory(2L * StoreConfig.MEGABYTE);
        RaftSettings three = settings(1, 7001, peers(3), directory);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> GroupedCache.placement(three, small, 4)).getMessage()
                .contains("less than 1 MB"));
        assertThrows(IllegalArgumentException.class, () -> GroupedCache.placement(three, StoreConfig.defaults(), 0));
        assertThrows(IllegalArgumentException.class,
                () -> GroupedCache.placement(three, StoreConfig.defaults(), HostedGroup.COUNT_MAX + 1));
        assertThrows(IllegalArgumentException.class,
                () -> GroupedCache.placement(settings(1, 7001, peers(8), directory), StoreConfig.defaults(), 2));
    }

    @Test
    void keysGoToTheirSlotsGroupAndKeylessWritesToEveryGroupAcrossARestart() throws Exception {
        int port = ClusterNodeTest.freePort();
        RaftSettings settings = settings(1, port, List.of(), directory.resolve("n1"));
        StoreConfig shape = StoreConfig.withMemory(48L * StoreConfig.MEGABYTE);
        GroupedCache node = GroupedCache.start(settings, shape, FAIL_ON_FATAL, 3);
        try {
            Await.until("every group of the one-member node leads", Duration.ofSeconds(20),
                    () -> node.status().groupsLed == 3);
            for (int i = 0; i < 60; i++) {
                assertEquals(StoreResult.Status.STORED, node.submit(set("key" + i, "value" + i)).get(10, TimeUnit.SECONDS).status);
            }
            List<Long> itemsPerGroup = List.of(1, 2, 3).stream().map(g -> itemsIn(node, g)).toList();
            assertTrue(itemsPerGroup.stream().allMatch(count -> count > 0), "60 keys left a group empty: " + itemsPerGroup);
            assertEquals(60, node.store().currentItems(), "stats counts every group's items");
            assertEquals(48L * StoreConfig.MEGABYTE, node.store().config().memoryLimitBytes(), "limit_maxbytes is the node's -m");
            for (int i = 0; i < 60; i++) {
                String key = "key" + i;
                assertEquals(i, itemIndexOf(node, key), key + " is stored in the group that owns its slot");
            }
            assertTrue(Files.isDirectory(directory.resolve("n1").resolve("groups").resolve("g3")), "group 3 keeps its own directory");
            assertEquals(3, node.digests().size());
            node.submit(Command.newBuilder().setOp(Op.FLUSH_ALL).build()).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 60; i++) {
                assertNull(read(node, "key" + i), "flush_all empties every group, key" + i + "'s too");
            }
            node.submit(set("kept", "across restarts")).get(10, TimeUnit.SECONDS);
        } finally {
            node.close();
        }
        GroupedCache again = GroupedCache.start(settings, shape, FAIL_ON_FATAL, 3);
        try {
            Await.until("every group to catch up with its log", Duration.ofSeconds(20),
                    () -> again.readPermission() == ReadPermission.ALLOWED);
            assertEquals("across restarts", read(again, "kept"));
            assertNull(read(again, "key1"), "the flush was replayed too");
        } finally {
            again.close();
        }
    }

    @Test
    void eachGroupsRaftSeriesCarryItsGroupLabelAndASingleGroupsNone() {
        List<RaftMetrics> groups = RaftMetrics.perGroup(List.of(1, 2));
        groups.get(1).leaderChanges.inc();
        groups.get(1).leaderChanges.inc();
        groups.get(0).leaderChanges.inc();
        CounterSnapshot changes = (CounterSnapshot) groups.get(0).all().stream()
                .filter(collector -> collector.getPrometheusName().equals("raft_leader_changes_seen")).findFirst().orElseThrow().collect();
        assertEquals(Map.of("g1", 1.0, "g2", 2.0), changes.getDataPoints().stream()
                .collect(Collectors.toMap(point -> point.getLabels().get("group"), CounterSnapshot.CounterDataPointSnapshot::getValue)));
        RaftMetrics single = new RaftMetrics();
        single.leaderChanges.inc();
        CounterSnapshot unlabelled = (CounterSnapshot) single.all().stream()
                .filter(collector -> collector.getPrometheusName().equals("raft_leader_changes_seen")).findFirst().orElseThrow().collect();
        assertTrue(unlabelled.getDataPoints().get(0).getLabels().isEmpty(), "a node of one group keeps its series unlabelled");
    }

    @Test
    void eventsNameTheirGroupAfterTheirType() {
        assertEquals("type=raft_leader group=g3 role=leader term=2", GroupedCache.tagged("type=raft_leader role=leader term=2", 3));
        assertEquals("type=x group=g2", GroupedCache.tagged("type=x", 2));
    }

    @Test
    void aLeaderHandsOverToThePreferredVoterOnceSettledAndReadyAndNotAgainTooSoon() {
        PeerId self = PeerId.parsePeer("127.0.0.1:7001");
        PeerId preferred = PeerId.parsePeer("127.0.0.1:7002::3");
        List<PeerId> ready = List.of(self, preferred, PeerId.parsePeer("127.0.0.1:7003"));
        LeaderPreference preference = new LeaderPreference();
        long settle = TimeUnit.MILLISECONDS.toNanos(LeaderPreference.SETTLE_MILLIS);
        preference.becameLeader(0);
        assertNull(preference.transferTarget(true, self, ready, "127.0.0.1:7002", settle - 1), "a new leader serves first");
        assertNull(preference.transferTarget(false, self, ready, "127.0.0.1:7002", settle), "only a leader hands over");
        assertNull(preference.transferTarget(true, preferred, ready, "127.0.0.1:7002", settle), "the preferred leader keeps it");
        assertNull(preference.transferTarget(true, self, ready, "127.0.0.1:7009", settle), "a preferred node that is no voter");
        assertNull(preference.transferTarget(true, self, List.of(self), "127.0.0.1:7002", settle),
                "a preferred voter that is down or behind is not asked (a transferring leader refuses writes)");
        assertEquals(preferred, preference.transferTarget(true, self, ready, "127.0.0.1:7002", settle));
        assertNull(preference.transferTarget(true, self, ready, "127.0.0.1:7002", settle + 1), "a transfer that did not happen waits");
        long retry = TimeUnit.MILLISECONDS.toNanos(LeaderPreference.RETRY_MILLIS);
        assertEquals(preferred, preference.transferTarget(true, self, ready, "127.0.0.1:7002", settle + retry));
    }

    private static long itemsIn(GroupedCache node, int group) {
        return node.group(group).store().currentItems();
    }

    /** {@code key}'s number if the group its slot names holds it, else -1. */
    private static int itemIndexOf(GroupedCache node, String key) {
        byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
        ClusterNode owner = node.groupOf(bytes);
        String[] value = {null};
        owner.read(bytes, owner.readClockMillis(), Store.Lookup.live(false),
                item -> value[0] = new String(item.copyValue(), StandardCharsets.UTF_8));
        return value[0] == null ? -1 : Integer.parseInt(value[0].substring("value".length()));
    }

    private static String read(GroupedCache node, String key) {
        String[] value = {null};
        node.read(key.getBytes(StandardCharsets.UTF_8), node.readClockMillis(), Store.Lookup.live(false),
                item -> value[0] = new String(item.copyValue(), StandardCharsets.UTF_8));
        return value[0];
    }

    private static Command set(String key, String value) {
        return Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)).build();
    }
}
