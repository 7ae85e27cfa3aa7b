package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import io.raftcached.proto.JoinRequest;
import io.raftcached.proto.JoinResponse;
import io.raftcached.store.StoreConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A one-member node with peer TLS, in this JVM: a client with a certificate of the peer CA gets
 * answers; a plaintext client and one with another CA's certificate get none and are counted; a
 * forwarded batch or a join of another Raft group is refused before it reaches the log.
 */
class PeerTlsTest {
    @TempDir
    static Path certificates;
    @TempDir
    Path directory;
    private ClusterNode node;
    private String address;

    @BeforeEach
    void start() throws Exception {
        if (!certificates.resolve("ca.crt").toFile().exists()) {
            Process script = new ProcessBuilder("../deploy/tls/make-test-certs.sh", certificates.toString()).inheritIO().start();
            assertTrue(script.waitFor(60, TimeUnit.SECONDS) && script.exitValue() == 0, "make-test-certs.sh failed");
        }
        int port = ClusterNodeTest.freePort();
        address = "127.0.0.1:" + port;
        RaftSettings settings = new RaftSettings(1, "127.0.0.1", port, List.of(), directory.resolve("n1"), 1000, false, LogStore.ROCKSDB, 3600, 0,
                5_000, 0, "127.0.0.1:0", "raftcached", MemoryBudgets.defaultsFor(64L << 20, 64L << 20), peer(), InjectedFaults.NONE);
        node = ClusterNode.start(settings, StoreConfig.defaults(), (message, cause) -> {
            throw new AssertionError("fatal stop: " + message, cause);
        });
    }

    @AfterEach
    void stop() throws Exception {
        if (node != null) {
            node.close();
        }
        PeerTls.use(PeerTls.Files.NONE);
    }

    private static PeerTls.Files peer() {
        return files("peer");
    }

    private static PeerTls.Files files(String name) {
        return new PeerTls.Files(certificates.resolve(name + ".crt"), certificates.resolve(name + ".key"), certificates.resolve("ca.crt"));
    }

    /** A client made while {@code files} are this process's peer TLS settings. */
    private static RaftRpc client(PeerTls.Files files) throws Exception {
        PeerTls.use(files);
        RaftRpc rpc = new RaftRpc();
        rpc.start();
        return rpc;
    }

    @Test
    void onlyPeersWithACertificateOfThePeerCaAreAnswered() throws Exception {
        try (RaftRpc member = client(peer())) {
            assertNotNull(member.nodeInfo(address, 1, 5_000), "a member's certificate is accepted");
        }
        long refused = PeerHandshakes.refused();
        try (RaftRpc plaintext = client(PeerTls.Files.NONE)) {
            assertNull(plaintext.nodeInfo(address, 1, 2_000), "a plaintext client gets no answer");
        }
        assertTrue(PeerHandshakes.refused() > refused, "the plaintext connection was counted");
        refused = PeerHandshakes.refused();
        try (RaftRpc stranger = client(new PeerTls.Files(certificates.resolve("untrusted-client.crt"),
                certificates.resolve("untrusted-client.key"), certificates.resolve("ca.crt")))) {
            assertNull(stranger.nodeInfo(address, 1, 2_000), "a certificate of another CA gets no answer");
        }
        assertTrue(PeerHandshakes.refused() > refused, "the untrusted certificate was counted");
        assertEquals(PeerHandshakes.refused(), node.status().peerTlsRefused);
    }

    @Test
    void aForwardOrAJoinOfAnotherGroupIsRefused() throws Exception {
        try (RaftRpc member = client(peer())) {
            ForwardRequest request = ForwardRequest.newBuilder().setBatch(ByteString.copyFromUtf8("never applied"))
                    .setRaftGroup("another-cluster").build();
            ForwardResponse response = member.call(address, request, ForwardResponse.class, 5_000);
            assertNotNull(response);
            assertEquals(ForwardResponse.Status.WRONG_GROUP, response.getStatus());
            assertTrue(response.getMessage().contains("another cluster"), response.getMessage());
            assertEquals(1, node.status().forwardsRefusedOtherGroup);

            JoinResponse join = member.call(address, JoinRequest.newBuilder().setNodeId(9).setEndpoint("127.0.0.1:1")
                    .setRaftGroup("another-cluster").build(), JoinResponse.class, 5_000);
            assertNotNull(join);
            assertTrue(join.getRefused() && join.getMessage().contains("another cluster"), join.toString());
            assertTrue(node.currentConfiguration().getLearners().isEmpty(), "nobody was added");
        }
    }

    @Test
    void theThreeFilesGoTogether() {
        IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
                () -> new PeerTls.Files(certificates.resolve("peer.crt"), certificates.resolve("peer.key"), null));
        assertEquals("--peer-cert, --peer-key and --peer-ca go together: --peer-ca is missing", missing.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> new PeerTls.Files(certificates.resolve("peer.crt"), certificates.resolve("nope.key"), certificates.resolve("ca.crt")));
    }
}
