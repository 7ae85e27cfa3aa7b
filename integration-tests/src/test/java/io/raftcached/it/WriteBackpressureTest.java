package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftcached.it.DropInServers.Target;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Clients that pipeline many writes at once — a bulk loader, several of them — are slowed down by
 * memcached, never refused: every set answers STORED. The node must hold such clients back the
 * same way (stop reading their input) rather than fail their writes.
 *
 * <p>raftcached fails this today: WriteStream.submit refuses any write once 4096 are queued or in
 * flight on the node ("SERVER_ERROR too many writes in flight"), while each connection may queue
 * up to 4096 requests of its own, so a few pipelining connections exceed the node-wide bound.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WriteBackpressureTest {
    private static final int CONNECTIONS = 4;
    private static final int SETS_PER_CONNECTION = 10_000;
    private DropInServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = DropInServers.start("write-backpressure");
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    Stream<Arguments> targets() {
        return servers.both();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void pipelinedWritesFromSeveralClientsAreAllStored(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        ExecutorService clients = Executors.newFixedThreadPool(CONNECTIONS);
        try {
            List<Future<Map<String, Integer>>> results = new ArrayList<>();
            for (int c = 0; c < CONNECTIONS; c++) {
                String prefix = target.name() + "-c" + c + "-";
                results.add(clients.submit(() -> pipelineSets(target.port(), prefix)));
            }
            Map<String, Integer> replies = new TreeMap<>();
            for (Future<Map<String, Integer>> result : results) {
                result.get(60, TimeUnit.SECONDS).forEach((reply, count) -> replies.merge(reply, count, Integer::sum));
            }
            assertEquals(Map.of("STORED", CONNECTIONS * SETS_PER_CONNECTION), replies, "replies to "
                    + CONNECTIONS * SETS_PER_CONNECTION + " pipelined sets");
        } finally {
            clients.shutdownNow();
        }
    }

    /** Writes every set in one go, then reads the replies; returns how many of each reply line came back. */
    private static Map<String, Integer> pipelineSets(int port, String prefix) throws IOException, InterruptedException {
        ByteArrayOutputStream requests = new ByteArrayOutputStream();
        for (int i = 0; i < SETS_PER_CONNECTION; i++) {
            String value = Integer.toString(i);
            requests.write(("set " + prefix + i + " 0 0 " + value.length() + "\r\n" + value + "\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        }
        try (Socket socket = BadInputTest.connect(port)) {
            socket.setSoTimeout(30_000);
            Map<String, Integer> replies = new TreeMap<>();
            Thread writer = new Thread(() -> {
                try {
                    socket.getOutputStream().write(requests.toByteArray());
                    socket.getOutputStream().flush();
                } catch (IOException e) {
                    // the reader below reports what came back
                }
            }, "pipelined-sets");
            writer.start();
            InputStream in = socket.getInputStream();
            for (int i = 0; i < SETS_PER_CONNECTION; i++) {
                String line = BadInputTest.readLine(in).strip();
                replies.merge(line.isEmpty() ? "<closed>" : line, 1, Integer::sum);
                if (line.isEmpty()) {
                    break;
                }
            }
            writer.join(30_000);
            return replies;
        }
    }
}
