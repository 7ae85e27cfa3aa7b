package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftcached.testing.Await;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Three real node processes: a write through each node is read back through every node. */
class ClusterSmokeTest {
    @Test
    void writeThroughEachNodeReadThroughEvery() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("smoke", 3)) {
            for (NodeProcess writer : cluster.nodes) {
                try (TextClient client = new TextClient(writer.port)) {
                    assertEquals("STORED", client.call("set from-" + writer.name + " 0 0 5\r\nhello\r\n"));
                }
            }
            for (NodeProcess reader : cluster.nodes) {
                for (NodeProcess writer : cluster.nodes) {
                    // A fresh connection has no earlier writes to wait for: poll until replicated.
                    String reply = Await.value(reader.name + " to return from-" + writer.name, Duration.ofSeconds(10), () -> {
                        try (TextClient client = new TextClient(reader.port)) {
                            return client.call("get from-" + writer.name + "\r\n");
                        }
                    }, line -> line.startsWith("VALUE"));
                    assertEquals("VALUE from-" + writer.name + " 0 5", reply, reader.name + " reading " + writer.name);
                }
            }
            List<String> digests = cluster.convergedDigests();
            assertEquals(1, digests.stream().distinct().count(), digests.toString());
        }
    }
}
