package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.DropInServers.Target;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code watch} against a node and against Debian's memcached: the same traffic gives the same
 * lines (timestamps, gids and descriptors masked), a watcher that does not read is told how many
 * lines it missed while the traffic goes on at full speed, evictions are listed, and a cluster
 * member streams its Raft events.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WatchTest {
    private static final Pattern PREFIX = Pattern.compile("ts=(\\d+)\\.(\\d{1,6}) gid=(\\d+) (.*)");
    private static final Pattern CFD = Pattern.compile(" cfd=\\d+");
    private DropInServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = DropInServers.start("watch", List.of("-m", "4"), List.of("-m", "4"));
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

    /** A connection in watch mode: OK read, then the stream's lines. */
    private static TextClient watch(int port, String streams) throws IOException {
        TextClient watcher = new TextClient(port);
        assertEquals("OK", watcher.call("watch " + streams + "\r\n"));
        return watcher;
    }

    /** {@code count} lines of a watch stream, with ts and gid checked (gids rising) and cut, and cfd masked. */
    private static List<String> read(TextClient watcher, int count) throws IOException {
        List<String> lines = new ArrayList<>();
        long previousGid = 0;
        for (int i = 0; i < count; i++) {
            String line = watcher.lineEndedByNewline();
            Matcher matcher = PREFIX.matcher(line);
            assertTrue(matcher.matches(), "not a log line: " + line);
            long gid = Long.parseLong(matcher.group(3));
            assertTrue(gid > previousGid, "gids rise: " + line);
            previousGid = gid;
            lines.add(CFD.matcher(matcher.group(4)).replaceAll(" cfd=N"));
        }
        return lines;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void fetchersAndMutationsAreMemcachedsLines(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        try (TextClient client = new TextClient(target.port())) {
            assertEquals("STORED", client.call("set w:a 0 0 3\r\nxyz\r\n"));
            assertEquals("STORED", client.call("set w:t 5 100 10\r\n0123456789\r\n"));
            List<String> fetchers;
            try (TextClient watcher = watch(target.port(), "fetchers")) {
                client.send("get w:a w:nope\r\ngets w:t\r\nmg w:t v\r\nmg w:missing v\r\ngat 200 w:t\r\nmn\r\n");
                for (String line = client.line(); !line.equals("MN"); line = client.line()) {
                    assertTrue(!line.startsWith("SERVER_ERROR") && !line.startsWith("CLIENT_ERROR"), line);
                }
                fetchers = read(watcher, 6);
            }
            assertEquals(List.of(
                    "type=item_get key=w%3Aa status=found clsid=1 cfd=N size=3",
                    "type=item_get key=w%3Anope status=not_found clsid=0 cfd=N size=0",
                    "type=item_get key=w%3At status=found clsid=1 cfd=N size=10",
                    "type=item_get key=w%3At status=found clsid=1 cfd=N size=10",
                    "type=item_get key=w%3Amissing status=not_found clsid=0 cfd=N size=0",
                    "type=item_get key=w%3At status=found clsid=1 cfd=N size=10"), fetchers, target.name());
            List<String> mutations;
            try (TextClient watcher = watch(target.port(), "mutations")) {
                client.send("set w:n 0 0 3\r\nabc\r\nadd w:n 0 0 1\r\nq\r\nreplace w:zz 0 0 1\r\nq\r\n"
                        + "cas w:a 0 0 1 999999\r\nz\r\nset w:ttl 0 300 2\r\nhi\r\nms w:m 2 T0\r\nhi\r\n"
                        + "set w:big 0 0 2000\r\n" + "b".repeat(2000) + "\r\nmn\r\n");
                for (String line = client.line(); !line.equals("MN"); line = client.line()) {
                    assertTrue(!line.startsWith("SERVER_ERROR") && !line.startsWith("CLIENT_ERROR"), line);
                }
                mutations = read(watcher, 7);
            }
            assertEquals(List.of(
                    "type=item_store key=w%3An status=stored cmd=set ttl=0 clsid=1 cfd=N size=3",
                    "type=item_store key=w%3An status=not_stored cmd=add ttl=0 clsid=1 cfd=N size=1",
                    "type=item_store key=w%3Azz status=not_stored cmd=replace ttl=0 clsid=1 cfd=N size=1",
                    "type=item_store key=w%3Aa status=exists cmd=cas ttl=0 clsid=1 cfd=N size=1",
                    "type=item_store key=w%3Attl status=stored cmd=set ttl=300 clsid=1 cfd=N size=2",
                    "type=item_store key=w%3Am status=stored cmd=set ttl=0 clsid=1 cfd=N size=2",
                    "type=item_store key=w%3Abig status=stored cmd=set ttl=0 clsid=" + classOf(target, "w:big")
                            + " cfd=N size=2000"), mutations, target.name());
        }
    }

    /** The slab class a server put an item in, from its own metadump. */
    private static String classOf(Target target, String key) throws IOException {
        try (TextClient client = new TextClient(target.port())) {
            client.send("lru_crawler metadump all\r\n");
            String found = null;
            for (String line = client.lineEndedByNewline(); !line.equals("END"); line = client.lineEndedByNewline()) {
                Matcher cls = Pattern.compile("key=(\\S+) .* cls=(\\d+) .*").matcher(line);
                if (cls.matches() && cls.group(1).equals(key.replace(":", "%3A"))) {
                    found = cls.group(2);
                }
            }
            assertTrue(found != null, key + " is in " + target.name() + "'s metadump");
            return found;
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void conneventsNameTheClientsEndpoint(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        try (TextClient watcher = watch(target.port(), "connevents")) {
            int clientPort;
            try (Socket client = new Socket()) {
                client.connect(new InetSocketAddress("127.0.0.1", target.port()), 5_000);
                clientPort = client.getLocalPort();
                client.getOutputStream().write("version\r\n".getBytes(StandardCharsets.US_ASCII));
                client.getInputStream().read();
            }
            assertEquals(List.of(
                    "type=conn_new rip=127.0.0.1 rport=" + clientPort + " transport=tcp cfd=N",
                    "type=conn_close rip=127.0.0.1 rport=" + clientPort + " transport=tcp reason=normal cfd=N"),
                    read(watcher, 2), target.name());
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void aWatcherThatDoesNotReadIsToldWhatItMissedAndSlowsNothing(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        try (Socket slow = new Socket()) {
            slow.setReceiveBufferSize(4096);
            slow.connect(new InetSocketAddress("127.0.0.1", target.port()), 5_000);
            slow.setSoTimeout(10_000);
            slow.getOutputStream().write("watch fetchers\r\n".getBytes(StandardCharsets.US_ASCII));
            // 200 000 misses, ~95 bytes of log each: far more than the watcher buffer and the sockets hold
            StringBuilder keys = new StringBuilder("get");
            for (int i = 0; i < 100; i++) {
                keys.append(" w:miss-").append(i);
            }
            String line = keys.append("\r\n").toString();
            long started = System.nanoTime();
            try (TextClient client = new TextClient(target.port())) {
                for (int round = 0; round < 2_000; round++) {
                    assertEquals("END", client.call(line));
                }
            }
            long elapsedMillis = (System.nanoTime() - started) / 1_000_000;
            assertTrue(elapsedMillis < 60_000, target.name() + ": the traffic was not held up by the watcher: " + elapsedMillis + " ms");
            long skipped = Long.parseLong(MemcachedProcess.statsOf(target.port(), "").get("log_watcher_skipped"));
            assertTrue(skipped > 0, target.name() + " dropped lines for the watcher that did not read");
            // The watcher reads now. The next event that fits after its buffer drained is preceded
            // by skipped=N; memcached takes a moment to notice the room, so events keep coming.
            slow.setSoTimeout(200);
            var in = new java.io.BufferedReader(new java.io.InputStreamReader(slow.getInputStream(), StandardCharsets.US_ASCII));
            String told = null;
            long deadline = System.nanoTime() + 30_000_000_000L;
            try (TextClient trigger = new TextClient(target.port())) {
                for (int i = 0; i < 1_000_000 && told == null && System.nanoTime() < deadline; i++) {
                    String next;
                    try {
                        next = in.readLine();
                    } catch (java.net.SocketTimeoutException drained) {
                        assertEquals("END", trigger.call("get w:after\r\n"));
                        continue;
                    }
                    assertTrue(next != null, "the stream goes on");
                    if (next.startsWith("skipped=")) {
                        told = next;
                    }
                }
            }
            assertTrue(told != null && Long.parseLong(told.substring("skipped=".length())) > 0,
                    target.name() + " told the watcher what it missed: " + told);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void evictionsAreListed(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        Pattern eviction = Pattern.compile("type=eviction key=w%3Aev-\\d+ fetch=no ttl=-1 la=\\d+ clsid=\\d+ size=10000");
        long before = Long.parseLong(MemcachedProcess.statsOf(target.port(), "").get("evictions"));
        try (TextClient watcher = watch(target.port(), "evictions"); TextClient client = new TextClient(target.port())) {
            String value = "e".repeat(10_000);
            for (int from = 0; from < 1_000; from += 100) {
                StringBuilder batch = new StringBuilder();
                for (int i = from; i < from + 100; i++) {
                    batch.append("set w:ev-").append(i).append(" 0 0 10000 noreply\r\n").append(value).append("\r\n");
                }
                assertEquals("MN", client.call(batch.append("mn\r\n").toString()));
            }
            long evicted = Long.parseLong(client.stats("").get("evictions")) - before;
            assertTrue(evicted > 500, target.name() + ": 10 MB into 4 MB evicts: " + evicted);
            watcher.readTimeout(20_000);
            for (String line : read(watcher, (int) evicted)) {
                assertTrue(eviction.matcher(line).matches(), target.name() + ": " + line);
            }
        }
    }

    @Test
    void proxyStreamsAreRefusedByName() throws Exception {
        try (TextClient client = new TextClient(servers.raftcached().port())) {
            assertEquals("CLIENT_ERROR watch proxyreqs: raftcached has no proxy", client.call("watch proxyreqs\r\n"));
            assertEquals("ERROR", client.call("watch nonsense\r\n"));
            assertEquals("VERSION 1.6.18", client.call("version\r\n"), "a refused watch leaves the connection as it was");
        }
    }

    @Test
    void dashWDisablesWatchAsInMemcached() throws Exception {
        try (DropInServers disabled = DropInServers.start("watch-disabled", List.of("-W", "-o", "watcher_logbuf_size=64"),
                List.of("-W", "-o", "watcher_logbuf_size=64"))) {
            for (Target target : List.of(disabled.memcached(), disabled.raftcached())) {
                try (TextClient client = new TextClient(target.port())) {
                    assertEquals("CLIENT_ERROR watch commands not allowed", client.call("watch\r\n"), target.name());
                    assertEquals("65536", client.stats("settings").get("watcher_logbuf_size"), target.name());
                }
            }
        }
    }

    @Test
    void aClusterMemberStreamsItsRaftEvents() throws Exception {
        try (LocalCluster cluster = LocalCluster.start("watch-raft", 3)) {
            NodeProcess leader = cluster.awaitLeader();
            NodeProcess follower = cluster.nodes.stream().filter(node -> node != leader).findFirst().orElseThrow();
            try (TextClient watcher = watch(follower.port, "raft mutations")) {
                watcher.readTimeout(30_000);
                ProcessRun.Result snapshot = ProcessRun.clusterCli("snapshot", ClusterChecks.raftEndpoint(follower),
                        "--node", ClusterChecks.raftEndpoint(follower));
                assertEquals(0, snapshot.exitCode(), snapshot.toString());
                assertTrue(read(watcher, 1).get(0).matches("type=raft_snapshot status=saved index=\\d+"));
                try (TextClient client = new TextClient(follower.port)) {
                    assertEquals("STORED", client.call("set forwarded 0 0 1\r\nf\r\n"));
                }
                assertEquals("type=item_store key=forwarded status=stored cmd=set ttl=0 clsid=1 cfd=N size=1",
                        read(watcher, 1).get(0), "a write accepted here is listed here once applied");
                ProcessRun.Result transfer = ProcessRun.clusterCli("transfer-leader", ClusterChecks.raftEndpoint(follower),
                        "--node", ClusterChecks.raftEndpoint(leader));
                assertEquals(0, transfer.exitCode(), transfer.toString());
                assertTrue(read(watcher, 1).get(0).matches("type=raft_leader role=leader term=\\d+"),
                        "the follower hears it became leader");
            }
        }
    }
}
