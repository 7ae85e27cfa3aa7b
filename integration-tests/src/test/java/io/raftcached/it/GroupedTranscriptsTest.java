package io.raftcached.it;

import io.raftcached.protocol.RepliesFile;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;

/**
 * memcached's captured transcripts and the pipelining transcripts ({@link ReplayTranscriptsTest})
 * through a node of three Raft groups: splitting the keys over groups changes no reply, in
 * multi-key gets, flush_all, the meta commands and pipelines alike.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class GroupedTranscriptsTest {
    private DropInServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = DropInServers.start("grouped-transcripts", List.of("--groups", "3"), List.of());
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    @TestFactory
    Stream<DynamicNode> capturedFromMemcached() throws Exception {
        return replay(ReplayTranscriptsTest.parse(ReplayTranscriptsTest.memcachedRepliesFile()));
    }

    @TestFactory
    Stream<DynamicNode> pipelining() throws Exception {
        return replay(ReplayTranscriptsTest.parse(ReplayTranscriptsTest.PIPELINING));
    }

    private Stream<DynamicNode> replay(RepliesFile.Parsed parsed) {
        return ReplayTranscriptsTest.containers(parsed, List.of(servers.raftcached()),
                target -> ReplayTranscriptsTest.Dialer.plain(target.port()), (target, c) -> null);
    }
}
