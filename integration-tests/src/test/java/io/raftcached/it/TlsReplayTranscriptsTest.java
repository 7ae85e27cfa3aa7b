package io.raftcached.it;

import io.raftcached.it.DropInServers.Target;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * {@link ReplayTranscriptsTest}'s transcripts (captured from memcached 1.6.18, and the pipelining
 * ones) over TLS: to Debian's memcached -Z and to a raftcached node -Z with the same certificates,
 * each case on fresh TLS connections, every reply as the transcript says byte for byte (up to its
 * placeholders), so TLS changes no reply and memcached's own run shows the expectation holds for it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TlsReplayTranscriptsTest {
    /**
     * Cases memcached 1.6.18 -Z does not finish: after a too-large set it swallows the value's
     * megabyte and then answers nothing more (the request after it stays unread in its TLS buffer,
     * where its event loop does not look, until more bytes arrive). Plaintext memcached answers them
     * as the transcript says; raftcached -Z is held to the transcript here too.
     */
    private static final Set<String> MEMCACHED_TLS_STALLS = Set.of("storage-too-large-set-unlinks");

    private TlsServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = TlsServers.start("tls-transcripts");
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    @TestFactory
    Stream<DynamicNode> capturedFromMemcached() throws IOException {
        return containers(ReplayTranscriptsTest.memcachedRepliesFile());
    }

    @TestFactory
    Stream<DynamicNode> pipelining() throws IOException {
        return containers(ReplayTranscriptsTest.PIPELINING);
    }

    private Stream<DynamicNode> containers(Path file) throws IOException {
        List<Target> targets = List.of(servers.memcached(), servers.raftcached());
        return ReplayTranscriptsTest.containers(ReplayTranscriptsTest.parse(file), targets, servers::dialer,
                (target, c) -> target.name().startsWith("memcached") && MEMCACHED_TLS_STALLS.contains(c.name())
                        ? "memcached -Z stalls after swallowing a too-large value over TLS (MEMCACHED_TLS_STALLS)" : null);
    }
}
