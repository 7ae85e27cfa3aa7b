package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.testing.Await;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Three ClusterNodes in one JVM on loopback: writes through any node apply everywhere. */
class ClusterNodeTest {
    @TempDir
    Path directory;
    private final List<ClusterNode> nodes = new ArrayList<>();

    @AfterEach
    void stop() {
        nodes.forEach(ClusterNode::close);
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static Command set(String key, String value) {
        return Command.newBuilder().setOp(Op.STORE).setMode(StoreMode.MODE_SET)
                .setKey(ByteString.copyFromUtf8(key)).setValue(ByteString.copyFromUtf8(value)).build();
    }

    private static Command incr(String key) {
        return Command.newBuilder().setOp(Op.ARITH).setKey(ByteString.copyFromUtf8(key)).setDelta(1).build();
    }

    /** No node in these tests may find a reason to stop. */
    private static final FatalStop FAIL_ON_FATAL = (message, cause) -> {
        throw new AssertionError("fatal stop: " + message, cause);
    };

    private static String read(ClusterNode node, String key) {
        String[] value = {null};
        node.read(key.getBytes(StandardCharsets.UTF_8), node.readClockMillis(), Store.Lookup.live(false),
                item -> value[0] = new String(item.copyValue(), StandardCharsets.UTF_8));
        return value[0];
    }

    @Test
    void writesThroughEveryNodeReachEveryReplica() throws Exception {
        List<RaftSettings.Peer> peers = List.of(new RaftSettings.Peer(1, "127.0.0.1", freePort()),
                new RaftSettings.Peer(2, "127.0.0.1", freePort()), new RaftSettings.Peer(3, "127.0.0.1", freePort()));
        List<Thread> starters = new ArrayList<>();
        ClusterNode[] started = new ClusterNode[3];
        for (RaftSettings.Peer peer : peers) {
            RaftSettings settings = new RaftSettings(peer.nodeId(), peer.host(), peer.port(), peers,
                    directory.resolve("n" + peer.nodeId()), 1000, false, LogStore.ROCKSDB, 3600, 0, 5_000, 0, "127.0.0.1:0", "raftcached",
                    MemoryBudgets.defaultsFor(64L << 20, 64L << 20), PeerTls.Files.NONE, InjectedFaults.NONE);
            Thread starter = new Thread(() -> {
                try {
                    started[peer.nodeId() - 1] = ClusterNode.start(settings, StoreConfig.defaults(), FAIL_ON_FATAL);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            starter.start();
            starters.add(starter);
        }
        for (Thread starter : starters) {
            starter.join();
        }
        nodes.addAll(List.of(started));
        for (int i = 0; i < 3; i++) {
            StoreResult result = nodes.get(i).submit(set("key" + i, "value" + i)).get(10, TimeUnit.SECONDS);
            assertEquals(StoreResult.Status.STORED, result.status);
        }
        for (int round = 0; round < 30; round++) {
            nodes.get(round % 3).submit(incr("counter")).exceptionally(t -> null);
        }
        nodes.get(0).submit(set("counter", "0")).get(10, TimeUnit.SECONDS);
        for (ClusterNode node : nodes) {
            for (int i = 0; i < 3; i++) {
                String key = "key" + i;
                assertEquals("value" + i, Await.value(key + " on every replica", Duration.ofSeconds(10),
                        () -> read(node, key), value -> value != null));
            }
        }
        assertReplicasAgree(nodes);
    }

    /**
     * A node closed and started again in the same process, on the same Raft address and data
     * directory, comes back with what it held: closing released its Raft port (jraft leaves a
     * server it was given running, so the node must close it itself). A process that hosts many
     * groups stops and starts groups this way.
     */
    @Test
    void aNodeRestartedInTheSameProcessServesWhatItHeld() throws Exception {
        List<RaftSettings.Peer> peers = List.of(new RaftSettings.Peer(1, "127.0.0.1", freePort()));
        RaftSettings settings = new RaftSettings(1, "127.0.0.1", peers.get(0).port(), peers, directory.resolve("n1"), 1000,
                false, LogStore.SEGMENT, 3600, 0, 5_000, 0, "127.0.0.1:0", "raftcached",
                MemoryBudgets.defaultsFor(64L << 20, 64L << 20), PeerTls.Files.NONE, InjectedFaults.NONE);
        ClusterNode first = ClusterNode.start(settings, StoreConfig.defaults(), FAIL_ON_FATAL);
        nodes.add(first);
        Await.until("the one-member node leads", Duration.ofSeconds(10), first::isLeader);
        assertEquals(StoreResult.Status.STORED, first.submit(set("kept", "across restarts")).get(10, TimeUnit.SECONDS).status);
        first.close();
        ClusterNode second = ClusterNode.start(settings, StoreConfig.defaults(), FAIL_ON_FATAL);
        nodes.add(second);
        assertEquals("across restarts", Await.value("the value after the restart", Duration.ofSeconds(10),
                () -> read(second, "kept"), value -> value != null));
    }

    /**
     * Compares digests once every node reports the same applied index (a tick entry may land
     * between two digests, so digests at different indexes are asked for again).
     */
    static void assertReplicasAgree(List<ClusterNode> nodes) throws InterruptedException {
        List<String> digests = Await.value("every replica at the same applied index", Duration.ofSeconds(10),
                () -> nodes.stream().map(ClusterNode::digest).toList(),
                all -> all.stream().map(d -> d.substring(0, d.indexOf(':'))).distinct().count() == 1);
        assertEquals(1, digests.stream().distinct().count(), "replicas at the same index differ: " + digests);
    }
}
