package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Clients that misbehave on purpose, against (a) a one-member node with a 128 MB heap and (b) a
 * follower of a three-node cluster, whose writes go through the leader. The README's "Limits and
 * backpressure" promises that no client can kill or stall a node: memory is bounded in bytes on
 * every path, a client that fills a budget is paused, multi-key replies are streamed.
 *
 * <p>Every case runs through {@link #underAttack}: while the attack runs, a victim client gets
 * small keys in a loop on the same node and the node's heap, direct memory and resident set are
 * sampled; a baseline of the victim without the attack follows. Afterwards every process of the
 * target must be alive and answer {@code version} (none may have logged an OutOfMemoryError), the
 * victim's p99 during the attack must stay under {@link #VICTIM_P99_BOUND_MILLIS}, and every
 * write the attack had acknowledged must read back byte for byte. Each case prints one line
 * (and the class a table at the end): heap peak, resident peak, the victim's p99 with and
 * without the attack, and the outcome.
 *
 * <p>The targets start once for the class and the cases run in order (case 5 reads what case 2
 * loaded, storing first what case 2 did not leave); a process that died in a case is restarted on
 * its data before the next one, so one failure does not hide the others. Node logs and GC logs
 * stay in target/it-data; the data directories (gigabytes) are deleted at the end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class HostileClientsTest {
    /**
     * The victim's p99 while an attack runs. Generous on purpose: this machine has two cores shared
     * by the attacker, the victim, the node (three of them for the cluster) and other builds, and a
     * 1 MB value takes a few ms to copy; a stalled node shows as seconds, not as tens of ms.
     */
    private static final double VICTIM_P99_BOUND_MILLIS = 500;
    /** The baseline runs as long as the attack did, up to this, to keep the class under six minutes. */
    private static final long BASELINE_MAX_MILLIS = 3_000;
    private static final long BASELINE_MIN_MILLIS = 1_000;
    private static final int MEGABYTE_VALUE_BYTES = 1_000_000;
    /** Bytes an unfinished block sends of its declared megabyte when it only declares it: the node reserves nothing for it. */
    private static final int DECLARED_ONLY_SENT_BYTES = 10;
    /** Bytes an unfinished block sends when it really holds its memory: past the 16 KB at which the node reserves the block. */
    private static final int RESERVED_SENT_BYTES = 100_000;
    /** A writer's data block too large for the input budget's reserve for small blocks (16 KB): it waits for the rest. */
    private static final int LARGE_WRITE_BYTES = 100_000;
    private static final int BULK_KEYS = 1_500;
    private static final int CONN_LIMIT = 200;
    private static final int IDLE_TIMEOUT_SECONDS = 2;
    /** Item memory for 1.5 GB of values plus the other cases' (item memory is off the heap). */
    private static final List<String> NODE_FLAGS = List.of("-m", "2048", "-c", Integer.toString(CONN_LIMIT));
    /** Every node's GC pauses, one file per pid: tells a stall of the JVM from one of the node's own making. */
    private static final String GC_LOG = "-Xlog:gc:file=" + NodeProcess.TEST_DIRECTORY.toAbsolutePath().resolve("hostile-gc-%p.log");
    /** A node that runs out of heap leaves a dump (java_pid<pid>.hprof) beside the logs: what held the bytes. */
    private static final String HEAP_DUMP_PATH = "-XX:HeapDumpPath=" + NodeProcess.TEST_DIRECTORY.toAbsolutePath();
    /** The small heap of target (a); either target dies on an OutOfMemoryError, as the launcher's JVMs do. */
    private static final List<String> SMALL_HEAP = List.of("-Xmx128m", "-XX:+ExitOnOutOfMemoryError", "-XX:+HeapDumpOnOutOfMemoryError",
            HEAP_DUMP_PATH, GC_LOG);
    private static final List<String> CLUSTER_JVM = List.of("-XX:+ExitOnOutOfMemoryError", "-XX:+HeapDumpOnOutOfMemoryError", HEAP_DUMP_PATH,
            GC_LOG);
    /** A read that waits on a node streaming a gigabyte or applying 1.5 GB of writes. */
    private static final int LONG_READ_TIMEOUT_MILLIS = 300_000;
    /**
     * After a multi-get of a gigabyte was read late and another was dropped unread, live heap and
     * direct memory come back to within this of where they were: one value and a socket's worth of
     * buffers may stay cached (Netty keeps pooled chunks), a gigabyte may not.
     */
    private static final long MEMORY_RETURN_SLACK_BYTES = 24L << 20;
    private static final byte[] CRLF = {'\r', '\n'};
    /** More lines than any one meta request of case 11 is answered with (a value and its header). */
    private static final int META_REPLY_LINES_MAX = 16;

    private final List<String> report = new ArrayList<>();
    private final ExecutorService background = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "hostile-client");
        thread.setDaemon(true);
        return thread;
    });
    private NodeProcess single;
    private NodeProcess singleIdle;
    private LocalCluster cluster;
    private MemcachedProcess memcached;
    private final List<Target> targets = new ArrayList<>();

    /** One kind of node under attack. */
    private static final class Target {
        final String name;
        /** Watched and checked after every case: the single node, or the cluster's three. */
        final List<NodeProcess> processes;
        /** A node started with -o idle_timeout (case 7): its own process, or the cluster's node 3. */
        final NodeProcess idleTimeoutNode;
        final LocalCluster cluster;
        /** Keys the victim reads, stored before the first case. */
        final Map<String, String> victimValues;

        Target(String name, List<NodeProcess> processes, NodeProcess idleTimeoutNode, LocalCluster cluster) {
            this.name = name;
            this.processes = processes;
            this.idleTimeoutNode = idleTimeoutNode;
            this.cluster = cluster;
            this.victimValues = ClusterChecks.values("victim", 20, 100);
        }

        /** The node clients talk to: the single node, or a follower of the cluster other than node 3. */
        NodeProcess attacked() {
            if (cluster == null) {
                return processes.get(0);
            }
            for (NodeProcess node : List.of(cluster.node(1), cluster.node(2))) {
                if (node.alive() && !"leader".equals(ClusterChecks.raftStat(node, "raft_role"))) {
                    return node;
                }
            }
            throw new AssertionError("neither node 1 nor node 2 of " + cluster.name + " is a live follower" + ClusterChecks.logs(cluster));
        }

        List<NodeProcess> allProcesses() {
            List<NodeProcess> all = new ArrayList<>(processes);
            if (!all.contains(idleTimeoutNode)) {
                all.add(idleTimeoutNode);
            }
            return all;
        }

        @Override
        public String toString() {
            return name;
        }
    }

    @BeforeAll
    void start() throws Exception {
        single = NodeProcess.single("hostile-single", NODE_FLAGS.toArray(String[]::new)).jvmOptions(SMALL_HEAP);
        singleIdle = NodeProcess.single("hostile-single-idle", "-o", "idle_timeout=" + IDLE_TIMEOUT_SECONDS).jvmOptions(SMALL_HEAP);
        // Started side by side; JUnit runs stop() also when this fails half-way.
        single.startWithoutWaiting();
        singleIdle.startWithoutWaiting();
        cluster = LocalCluster.start("hostile", 3, CLUSTER_JVM,
                id -> id == 3 ? List.of("-o", "idle_timeout=" + IDLE_TIMEOUT_SECONDS) : List.of(), NODE_FLAGS.toArray(String[]::new));
        single.awaitListening().awaitReady();
        singleIdle.awaitListening().awaitReady();
        if (MemcachedProcess.isInstalled()) {
            memcached = MemcachedProcess.start();
        }
        targets.add(new Target("single node -Xmx128m", List.of(single), singleIdle, null));
        targets.add(new Target("follower of 3", List.copyOf(cluster.nodes), cluster.node(3), cluster));
        for (Target target : targets) {
            ClusterChecks.storeAll(target.attacked(), target.victimValues);
            for (NodeProcess node : target.processes) {
                ClusterChecks.assertAllReadable(node, target.victimValues, 30_000, "victim keys");
            }
        }
    }

    @AfterAll
    void stop() throws Exception {
        System.out.println("\nHOSTILE CLIENTS: victim p99 bound " + VICTIM_P99_BOUND_MILLIS + " ms");
        for (String line : report) {
            System.out.println(line);
        }
        background.shutdownNow();
        List<Path> dataDirectories = new ArrayList<>();
        try {
            if (memcached != null) {
                memcached.close();
            }
            for (NodeProcess node : new NodeProcess[] {single, singleIdle}) {
                if (node != null) {
                    node.kill();
                    dataDirectories.add(Path.of(ClusterChecks.argument(node, "--data-dir")));
                }
            }
            if (cluster != null) {
                cluster.close();
                dataDirectories.addAll(cluster.dataDirectories);
            }
        } finally {
            // Several gigabytes of Raft log and snapshots: not worth keeping once the nodes are gone.
            for (Path directory : dataDirectories) {
                NodeProcess.deleteRecursively(directory);
            }
        }
    }

    Stream<Target> targets() {
        return targets.stream();
    }

    // --- the cases -------------------------------------------------------------------------------

    /**
     * One gat line naming a 1 MB item 1000 times: memcached 1.6.18 sends all 1000 VALUE blocks, so
     * must the node, streaming them (a gigabyte) as the client reads.
     */
    @Order(1)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void gatNamingOneMegabyteItemAThousandTimes(Target target) throws Exception {
        underAttack(target, "1 gat 1MB item x1000", node -> {
            // One letter: gat is no multiget, its line must stay within memcached's 2048 bytes.
            String key = "g";
            try (TextClient client = longReading(node)) {
                set(client, key, MEGABYTE_VALUE_BYTES);
                client.send("gat 0" + (" " + key).repeat(1000) + "\r\n");
                for (int i = 0; i < 1000; i++) {
                    expectValue(client, key, MEGABYTE_VALUE_BYTES, "VALUE block " + i + " of 1000");
                }
                assertEquals("END", client.line());
            }
            return Map.of(key, MEGABYTE_VALUE_BYTES);
        });
    }

    /**
     * A bulk loader: 1500 sets of 1 MB with noreply, written as fast as the socket takes them, then
     * {@code mn} to know they were processed. 1.5 GB through a node with a 128 MB heap (or through a
     * follower and the leader): the loader is paused, not failed, and every value is stored.
     */
    @Order(2)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void bulkLoaderPipelinesMegabyteSetsWithNoreply(Target target) throws Exception {
        underAttack(target, "2 bulk 1500x1MB noreply", node -> storePipelined(node, bulkKeys(BULK_KEYS), MEGABYTE_VALUE_BYTES, true));
    }

    /** A get naming a 1 MB item 1000 times, read only after 5 s: all of it arrives then, on the same connection. */
    @Order(3)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void getOfAThousandMegabyteValuesReadAfterFiveSeconds(Target target) throws Exception {
        underAttack(target, "3 get 1MB x1000 read late", node -> {
            String key = "unread-get";
            try (TextClient client = longReading(node)) {
                set(client, key, MEGABYTE_VALUE_BYTES);
                client.send("get" + (" " + key).repeat(1000) + "\r\n");
                Thread.sleep(5_000);
                for (int i = 0; i < 1000; i++) {
                    expectValue(client, key, MEGABYTE_VALUE_BYTES, "VALUE block " + i + " of 1000, read late");
                }
                assertEquals("END", client.line());
                assertEquals("VERSION 1.6.18", client.call("version\r\n"), "the connection stays open and served");
            }
            return Map.of(key, MEGABYTE_VALUE_BYTES);
        });
    }

    /** 200 sets of 1 MB pipelined with their replies (through the follower to the leader); then on every node. */
    @Order(4)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void megabyteSetsPipelinedWithReplies(Target target) throws Exception {
        underAttack(target, "4 200x1MB sets pipelined", node -> {
            List<String> keys = IntStream.range(0, 200).mapToObj(i -> "pipelined-" + i).toList();
            Map<String, Integer> stored = storePipelined(node, keys, MEGABYTE_VALUE_BYTES, false);
            long applied = appliedIndex(node);
            for (NodeProcess other : target.processes) {
                if (other != node) {
                    ClusterChecks.awaitStats(other, "raft", s -> Long.parseLong(s.get("raft_applied_index")) >= applied, 60_000,
                            "applying the pipelined sets");
                    assertReadable(other, stored);
                }
            }
            return stored;
        });
    }

    /**
     * A multi-get of 1000 distinct 1 MB values read only after 5 s, then the same multi-get sent and
     * dropped unread after 2 s: all of the first arrives; afterwards the node's live heap and direct
     * memory are back near where they were (measured after a GC, asked for with jcmd).
     */
    @Order(5)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void thousandKeyMultigetReadLateAndNever(Target target) throws Exception {
        List<String> keys = bulkKeys(1_000);
        underAttack(target, "5 multiget 1000x1MB late/never", node -> {
            Map<String, Integer> stored = storeMissing(node, keys, MEGABYTE_VALUE_BYTES);   // what case 2 did not store
            String request = "get " + String.join(" ", keys) + "\r\n";
            long[] before = liveMemory(node);
            long connectionsBefore;
            try (TextClient late = longReading(node)) {
                late.send(request);
                Thread.sleep(5_000);
                for (String key : keys) {
                    expectValue(late, key, MEGABYTE_VALUE_BYTES, "multi-get read late");
                }
                assertEquals("END", late.line());
                connectionsBefore = Long.parseLong(late.stats("").get("curr_connections")) - 1;
            }
            try (Socket never = BadInputTest.connect(node.port)) {
                never.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(2_000);
            }
            ClusterChecks.awaitStats(node, "", s -> Long.parseLong(s.get("curr_connections")) - 1 <= connectionsBefore, 20_000,
                    "closing the connection whose multi-get was never read");
            long[] after = liveMemory(node);
            System.out.printf(Locale.ROOT, "  live heap %d -> %d MB, direct %d -> %d MB%n", mb(before[0]), mb(after[0]), mb(before[1]),
                    mb(after[1]));
            assertTrue(after[0] - before[0] < MEMORY_RETURN_SLACK_BYTES, "live heap " + mb(before[0]) + " -> " + mb(after[0]) + " MB");
            assertTrue(after[1] - before[1] < MEMORY_RETURN_SLACK_BYTES, "direct memory " + mb(before[1]) + " -> " + mb(after[1]) + " MB");
            return stored;
        });
    }

    /**
     * Connections up to -c, then 100 more: each extra one is told "ERROR Too many open connections"
     * and closed, as memcached does; once they are all closed new connections are served again.
     */
    @Order(6)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void connectionFloodPastTheLimit(Target target) throws Exception {
        underAttack(target, "6 connection flood -c 200 +100", node -> {
            long open = Long.parseLong(node.stats("").get("curr_connections")) - 1;   // the watches and the victim
            int free = (int) (CONN_LIMIT - open);
            ConnectionLimitTest.Outcome outcome = ConnectionLimitTest.attempt(node.port, free + 100, free);
            System.out.println("  " + open + " open before, " + (free + 100) + " attempts: " + outcome);
            assertTrue(outcome.served() <= free && outcome.served() >= free - 5, "about " + free + " served: " + outcome);
            assertEquals(free + 100, outcome.served() + outcome.rejected(), outcome.toString());
            assertTrue(outcome.toldTooMany() >= outcome.rejected() * 95 / 100, "rejected connections are told why: " + outcome);
            ConnectionLimitTest.awaitServing(node.port);
            return Map.of();
        });
    }

    /**
     * A set sent one byte every 5 ms completes. A data block that never finishes (1 MB declared, 10
     * bytes sent) is closed after the idle timeout on a node with -o idle_timeout, and left open on
     * one without, which serves others meanwhile. Blocks that really hold the input budget
     * (100 KB of each sent: reserved) give it back when their connections close (by the client, or
     * by the idle timeout): 1 MB sets are stored again. And a writer of a large block the node
     * pauses because that budget is full of blocks that keep arriving is paused, not idle: -o
     * idle_timeout does not close it, the node does not reclaim blocks that progress, and the writer
     * is stored once they go.
     */
    @Order(7)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void byteAtATimeAndUnfinishedDataBlocks(Target target) throws Exception {
        underAttack(target, "7 byte-at-a-time, unfinished blocks", node -> {
            NodeProcess idle = target.idleTimeoutNode;
            Future<Map<String, Integer>> slow = inBackground(() -> byteAtATimeSet(node, "slow", 1_000));

            try (Socket unfinished = unfinishedBlock(idle.port, "unfinished-idle", MEGABYTE_VALUE_BYTES, DECLARED_ONLY_SENT_BYTES)) {
                long started = System.nanoTime();
                assertTrue(closedByServerWithin(unfinished, (IDLE_TIMEOUT_SECONDS + 5) * 1000),
                        "-o idle_timeout=" + IDLE_TIMEOUT_SECONDS + " closes a connection whose data block never finishes");
                long closedAfterMillis = ClusterChecks.millisSince(started);
                assertTrue(closedAfterMillis >= IDLE_TIMEOUT_SECONDS * 1000 - 500, "closed after " + closedAfterMillis + " ms");
            }
            try (Socket unfinished = unfinishedBlock(node.port, "unfinished", MEGABYTE_VALUE_BYTES, DECLARED_ONLY_SENT_BYTES)) {
                assertTrue(!closedByServerWithin(unfinished, 4_000), "without -o idle_timeout the connection stays open");
            }

            for (Holder holder : fillInputBudget(node, RESERVED_SENT_BYTES)) {
                holder.socket().close();
            }
            Map<String, Integer> acknowledged = new LinkedHashMap<>(storePipelined(node,
                    List.of("after-unfinished-0", "after-unfinished-1", "after-unfinished-2", "after-unfinished-3"), MEGABYTE_VALUE_BYTES, false));

            try (Holders idleHolders = new Holders(fillInputBudget(idle, RESERVED_SENT_BYTES), Pace.IDLE)) {
                for (Holder holder : idleHolders.holders) {
                    assertTrue(closedByServerWithin(holder.socket(), (IDLE_TIMEOUT_SECONDS + 5) * 1000), "the idle timeout closes every unfinished block");
                }
            }
            try (TextClient writer = longReading(idle)) {
                set(writer, "after-idle-timeout", MEGABYTE_VALUE_BYTES);
            }
            // A writer of a large block the node pauses for input memory is not idle: -o idle_timeout leaves it
            // open; the blocks holding the budget send 16 KB every 200 ms (not idle, and progress: not
            // reclaimed), and the writer is stored once they go.
            long closedForMemory = readBufOom(idle);
            try (Holders arriving = new Holders(fillInputBudget(idle, RESERVED_SENT_BYTES), Pace.PROGRESS);
                    Socket writer = BadInputTest.connect(idle.port)) {
                Future<Void> sending = sendSet(writer.getOutputStream(), "paused-writer", LARGE_WRITE_BYTES);
                assertEquals("", receivedWithin(writer, (IDLE_TIMEOUT_SECONDS + 2) * 1000),
                        "a writer the node paused for input memory stays paused and open (-o idle_timeout=" + IDLE_TIMEOUT_SECONDS + ")");
                assertEquals(closedForMemory, readBufOom(idle), "blocks that keep arriving are not reclaimed");
                arriving.close();
                sending.get(30, TimeUnit.SECONDS);
                writer.setSoTimeout(30_000);
                assertEquals("STORED\r\n", BadInputTest.readLine(writer.getInputStream()), "the paused writer, once the budget is free");
            }
            if (target.processes.contains(idle)) {
                acknowledged.put("paused-writer", LARGE_WRITE_BYTES);
                acknowledged.put("after-idle-timeout", MEGABYTE_VALUE_BYTES);   // the same cluster: readable on the attacked node
            } else {
                assertReadable(idle, Map.of("after-idle-timeout", MEGABYTE_VALUE_BYTES, "paused-writer", LARGE_WRITE_BYTES));
            }
            acknowledged.putAll(slow.get(60, TimeUnit.SECONDS));
            return acknowledged;
        });
    }

    /**
     * Unfinished data blocks whose declared sizes add up to the client input budget must not stop
     * other clients' writes: a 5-byte set from another client is stored within 10 s, both while
     * idle holders sit on a node without -o idle_timeout and while holders that send one byte every
     * 500 ms (never idle) sit on the node with it. memcached takes a data block from item memory
     * (evicting, or answering SERVER_ERROR out of memory); it does not make other writers wait.
     */
    @Order(7)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void unfinishedBlocksHoldingTheInputBudgetDoNotStallOtherWriters(Target target) throws Exception {
        underAttack(target, "7b input budget held by unfinished", node -> {
            String idleHolders = setWhileInputBudgetHeld(node, DECLARED_ONLY_SENT_BYTES, Pace.IDLE, 5);
            String tricklingHolders = setWhileInputBudgetHeld(target.idleTimeoutNode, DECLARED_ONLY_SENT_BYTES, Pace.TRICKLE, 5);
            assertEquals("idle holders: STORED; trickling holders: STORED",
                    "idle holders: " + idleHolders + "; trickling holders: " + tricklingHolders);
            return Map.of();
        });
    }

    /**
     * Data blocks that really hold all the client input budget large blocks may take (100 KB of each
     * sent, so the node reserved them) and then stall must not stop other clients' writes either: a
     * 5-byte set is stored at once from the reserve kept for small blocks, and a 1 MB set is stored
     * within 10 s, because once it has waited a second the node closes the most stalled holders with
     * memcached's "SERVER_ERROR out of memory reading request" and counts them in read_buf_oom —
     * with holders that send nothing more, and with holders that send a byte every 500 ms (not idle
     * for -o idle_timeout, but not progress either).
     */
    @Order(7)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void stalledBlocksHoldingTheInputBudgetAreReclaimedForOtherWriters(Target target) throws Exception {
        underAttack(target, "7c input budget held by stalled blocks", node -> {
            NodeProcess idle = target.idleTimeoutNode;
            long[] closedBefore = {readBufOom(node), readBufOom(idle)};
            String small = setWhileInputBudgetHeld(node, RESERVED_SENT_BYTES, Pace.IDLE, 5);
            String idleHolders = setWhileInputBudgetHeld(node, RESERVED_SENT_BYTES, Pace.IDLE, MEGABYTE_VALUE_BYTES);
            String tricklingHolders = setWhileInputBudgetHeld(idle, RESERVED_SENT_BYTES, Pace.TRICKLE, MEGABYTE_VALUE_BYTES);
            assertEquals("small set: STORED; idle holders: STORED; trickling holders: STORED",
                    "small set: " + small + "; idle holders: " + idleHolders + "; trickling holders: " + tricklingHolders);
            long[] closed = {readBufOom(node) - closedBefore[0], readBufOom(idle) - closedBefore[1]};
            System.out.println("  connections closed for memory (read_buf_oom): " + closed[0] + " idle holders, " + closed[1] + " tricklers");
            assertTrue(closed[0] >= 1 && closed[1] >= 1, "stalled blocks were reclaimed: " + Arrays.toString(closed));
            return Map.of();
        });
    }

    /**
     * Over-long lines: 10 MB without a newline, and a 2 MB get line of 8000 keys (past the 1 MB
     * multiget bound) close the connection (protocol/README.md: lines over 2048 bytes close it,
     * get/gets may grow to the multiget bound); a get line of 4000 keys within the bound is answered.
     */
    @Order(8)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void overLongLines(Target target) throws Exception {
        underAttack(target, "8 10MB line, 2MB get line", node -> {
            byte[] tenMegabyteLine = new byte[10 << 20];
            java.util.Arrays.fill(tenMegabyteLine, (byte) 'x');
            assertEquals(BadInputTest.CLOSE, BadInputTest.exchange(node.port, tenMegabyteLine, true), "a 10 MB line");
            assertEquals(BadInputTest.CLOSE, BadInputTest.exchange(node.port, getLine(8_000), true), "a 2 MB get line, 8000 keys");
            assertEquals("END\r\n", BadInputTest.exchange(node.port, getLine(4_000), false), "a 1 MB get line, 4000 keys");
            return Map.of();
        });
    }

    /** 10 MB of random bytes on each of four connections (one starting with the binary protocol's 0x80): each is closed. */
    @Order(9)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void randomBytesOnSeveralConnections(Target target) throws Exception {
        underAttack(target, "9 random bytes 4x10MB", node -> {
            List<Future<String>> connections = new ArrayList<>();
            for (int seed = 1; seed <= 4; seed++) {
                int connection = seed;
                connections.add(inBackground(() -> sendGarbage(node.port, connection, connection == 1)));
            }
            for (Future<String> connection : connections) {
                String outcome = connection.get(120, TimeUnit.SECONDS);
                System.out.println("  garbage connection: " + outcome);
                assertTrue(outcome.startsWith("closed"), outcome);
            }
            return Map.of();
        });
    }

    /** 20 connections each pipelining 500 times four stats commands, read only after 3 s: every reply arrives whole. */
    @Order(10)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void statsStorms(Target target) throws Exception {
        underAttack(target, "10 stats storm 20x500x4", node -> {
            String burst = "stats\r\nstats slabs\r\nstats items\r\nstats settings\r\n".repeat(500);
            List<TextClient> clients = new ArrayList<>();
            try {
                for (int i = 0; i < 20; i++) {
                    clients.add(longReading(node));
                }
                for (TextClient client : clients) {
                    client.send(burst);
                }
                Thread.sleep(3_000);
                List<Future<Integer>> readers = new ArrayList<>();
                for (TextClient client : clients) {
                    readers.add(inBackground(() -> readStatsReplies(client, 2_000)));
                }
                for (Future<Integer> reader : readers) {
                    assertEquals(2_000, reader.get(180, TimeUnit.SECONDS));
                }
                for (TextClient client : clients) {
                    assertEquals("VERSION 1.6.18", client.call("version\r\n"));
                }
            } finally {
                for (TextClient client : clients) {
                    client.close();
                }
            }
            return Map.of();
        });
    }

    /**
     * Meta commands with flags at their limits (250-byte keys, the longest opaque, base64 keys of the
     * longest length, uint32/uint64/int32 maxima and one past them, the largest item) give Debian
     * memcached 1.6.18's replies, CAS values and remaining TTLs aside (they depend on the server's
     * CAS counter and clock). E, accepted as memcached 1.6.21 does, is the documented difference.
     */
    @Order(11)
    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void metaCommandsWithFlagsAtTheirLimits(Target target) throws Exception {
        MemcachedProcess.assumeInstalled();
        underAttack(target, "11 meta flags at limits", node -> {
            String prefix = target.cluster == null ? "s" : "f";   // one memcached serves both targets
            MetaScript script = MetaScript.forPrefix(prefix);
            List<String> expected = exchangeEach(memcached.port, script.requests);
            List<String> actual = exchangeEach(node.port, script.requests);
            for (int i = 0; i < script.requests.size(); i++) {
                assertEquals(maskCasAndTime(expected.get(i)), maskCasAndTime(actual.get(i)),
                        "reply to " + abbreviate(script.requests.get(i)));
            }
            // Documented difference (protocol/README.md): E<cas> is accepted, as in memcached >= 1.6.21.
            String explicitCas = "ms " + script.explicitCasKey + " 32 E18446744073709551615\r\n"
                    + new String(PatternValues.of(script.explicitCasKey, 32), StandardCharsets.US_ASCII) + "\r\n";
            assertEquals("CLIENT_ERROR invalid flag\r\n", exchangeEach(memcached.port, List.of(explicitCas)).get(0));
            assertEquals("HD\r\n", exchangeEach(node.port, List.of(explicitCas)).get(0));
            assertEquals("VA 32 c18446744073709551615\r\n" + new String(PatternValues.of(script.explicitCasKey, 32), StandardCharsets.US_ASCII)
                    + "\r\n", exchangeEach(node.port, List.of("mg " + script.explicitCasKey + " c v\r\n")).get(0));
            Map<String, Integer> acknowledged = new LinkedHashMap<>(script.finalValues);
            acknowledged.put(script.explicitCasKey, 32);
            return acknowledged;
        });
    }

    // --- the harness ---------------------------------------------------------------------------

    @FunctionalInterface
    private interface Attack {
        /** Attacks {@code node}; returns the writes it had acknowledged: key -> length of its {@link PatternValues} value. */
        Map<String, Integer> run(NodeProcess node) throws Exception;
    }

    /**
     * Runs one case: restarts a process a former case killed, starts the victim and the memory
     * watches, runs the attack, takes the baseline, then checks and reports (see the class comment).
     */
    private void underAttack(Target target, String caseName, Attack attack) throws Exception {
        String revived = revive(target);
        NodeProcess node = target.attacked();
        Map<NodeProcess, Integer> logLengths = new LinkedHashMap<>();
        for (NodeProcess process : target.allProcesses()) {
            logLengths.put(process, process.logText().length());
        }
        String termBefore = ClusterChecks.raftStat(node, "raft_term");
        Map<String, Integer> acknowledged = Map.of();
        Throwable attackFailure = null;
        Map<NodeProcess, MemoryWatch.Peaks> peaks = new LinkedHashMap<>();
        VictimClient.Series duringAttack;
        VictimClient.Series baseline;
        String victimFailure;
        long attackMillis;
        try (VictimClient victim = VictimClient.start(node, target.victimValues)) {
            Map<NodeProcess, MemoryWatch> watches = new LinkedHashMap<>();
            try {
                for (NodeProcess process : target.processes) {
                    watches.put(process, MemoryWatch.start(process));
                }
                long started = System.nanoTime();
                try {
                    acknowledged = attack.run(node);
                } catch (Exception | AssertionError e) {
                    attackFailure = e;
                }
                attackMillis = ClusterChecks.millisSince(started);
                duringAttack = victim.cut();
                for (Map.Entry<NodeProcess, MemoryWatch> watch : watches.entrySet()) {
                    peaks.put(watch.getKey(), watch.getValue().stop());
                }
            } finally {
                for (MemoryWatch watch : watches.values()) {
                    watch.close();
                }
            }
            Thread.sleep(Math.max(BASELINE_MIN_MILLIS, Math.min(attackMillis, BASELINE_MAX_MILLIS)));
            baseline = victim.cut();
            victimFailure = victim.failure();
        }

        List<String> problems = new ArrayList<>();
        if (attackFailure != null) {
            problems.add("attack failed: " + attackFailure);
        }
        problems.addAll(servingProblems(target, logLengths));
        peaks.values().stream().map(MemoryWatch.Peaks::error).filter(java.util.Objects::nonNull)
                .forEach(error -> problems.add("memory watch stopped: " + error));
        if (victimFailure != null) {
            problems.add("victim: " + victimFailure);
        }
        if (duringAttack.count() == 0 || duringAttack.p99Millis() >= VICTIM_P99_BOUND_MILLIS) {
            problems.add(String.format(Locale.ROOT, "victim p99 %.1f ms during the attack (%d gets, max %.1f ms), bound %.0f ms",
                    duringAttack.p99Millis(), duringAttack.count(), duringAttack.maxMillis(), VICTIM_P99_BOUND_MILLIS));
        }
        if (attackFailure == null && node.alive()) {
            try {
                assertReadable(node, acknowledged);
            } catch (IOException | AssertionError e) {
                problems.add("acknowledged writes: " + e.getMessage());
            }
        }
        String termAfter = ClusterChecks.raftStat(node, "raft_term");
        String line = reportLine(target, caseName, node, peaks, duringAttack, baseline, attackMillis, revived,
                termBefore, termAfter, problems);
        report.add(line);
        System.out.println(line);
        if (!problems.isEmpty()) {
            AssertionError failure = new AssertionError(caseName + " on " + target + ": " + String.join("; ", problems)
                    + ClusterChecks.logs(target.allProcesses()), attackFailure);
            throw failure;
        }
    }

    /** Restarts, on its data, every process of the target a former case left dead; says which. */
    private static String revive(Target target) throws IOException, InterruptedException {
        List<String> revived = new ArrayList<>();
        for (NodeProcess process : target.allProcesses()) {
            if (!process.alive()) {
                revived.add(process.name);
                process.start().awaitReady();
            }
        }
        if (target.cluster != null && !revived.isEmpty()) {
            target.cluster.awaitLeader();
        }
        return revived.isEmpty() ? "" : " (restarted " + String.join(", ", revived) + " first)";
    }

    /** Every process alive, answering version on a new connection, and no OutOfMemoryError in what it logged during the case. */
    private static List<String> servingProblems(Target target, Map<NodeProcess, Integer> logLengths)
            throws IOException, InterruptedException {
        List<String> problems = new ArrayList<>();
        for (NodeProcess process : target.allProcesses()) {
            String log = process.logText();
            String caseLog = log.substring(Math.min(log.length(), logLengths.getOrDefault(process, 0)));
            if (caseLog.contains("OutOfMemoryError")) {
                problems.add(process.name + " ran out of memory: " + caseLog.lines().filter(l -> l.contains("OutOfMemoryError"))
                        .findFirst().orElse(""));
            }
            if (!process.alive()) {
                problems.add(process.name + " exited with " + process.awaitExit(1_000));
                continue;
            }
            try {
                if (!TextClient.answersVersion(process.port)) {
                    problems.add(process.name + " did not answer version");
                }
            } catch (IOException e) {
                problems.add(process.name + " did not answer version: " + e.getMessage());
            }
        }
        return problems;
    }

    private static String reportLine(Target target, String caseName, NodeProcess node, Map<NodeProcess, MemoryWatch.Peaks> peaks,
            VictimClient.Series duringAttack, VictimClient.Series baseline, long attackMillis, String revived, String termBefore,
            String termAfter, List<String> problems) {
        MemoryWatch.Peaks own = peaks.get(node);
        StringBuilder others = new StringBuilder();
        for (Map.Entry<NodeProcess, MemoryWatch.Peaks> entry : peaks.entrySet()) {
            if (entry.getKey() != node) {
                MemoryWatch.Peaks p = entry.getValue();
                others.append(String.format(Locale.ROOT, " %s heap %d/RSS %d MB;", entry.getKey().name.replaceAll(".*-", ""),
                        MemoryWatch.Peaks.megabytes(p.heapUsedBytes()), p.residentKb() / 1024));
            }
        }
        String term = termBefore != null && !termBefore.equals(termAfter) ? " raft term " + termBefore + "->" + termAfter + ";" : "";
        return String.format(Locale.ROOT,
                "HOSTILE | %-36s | %-20s | heap peak %4d MB (pools %4d) | direct peak %3d MB | RSS peak %5d MB |"
                        + " victim p99 %7.1f ms attack (%5d gets) vs %6.1f ms baseline (%5d) | attack %5.1f s |%s%s%s %s",
                caseName, target.name, MemoryWatch.Peaks.megabytes(own.heapUsedBytes()), MemoryWatch.Peaks.megabytes(own.heapPoolsPeakBytes()),
                MemoryWatch.Peaks.megabytes(own.directUsedBytes()), own.residentKb() / 1024, duringAttack.p99Millis(), duringAttack.count(),
                baseline.p99Millis(), baseline.count(), attackMillis / 1000.0, others, term, revived,
                problems.isEmpty() ? "ok" : "FAILED: " + String.join("; ", problems).replace('\n', ' '));
    }

    // --- clients -------------------------------------------------------------------------------

    private <T> Future<T> inBackground(Callable<T> task) {
        return background.submit(task);
    }

    private static TextClient longReading(NodeProcess node) throws IOException {
        TextClient client = new TextClient(node.port);
        client.readTimeout(LONG_READ_TIMEOUT_MILLIS);
        return client;
    }

    /** A set of {@code key}'s pattern value; fails unless STORED. */
    private static void set(TextClient client, String key, int lengthBytes) throws IOException {
        client.send(("set " + key + " 0 0 " + lengthBytes + "\r\n").getBytes(StandardCharsets.US_ASCII));
        client.send(PatternValues.of(key, lengthBytes));
        assertEquals("STORED", client.call("\r\n"), "set " + key);
    }

    /** Reads one VALUE block of {@code key}'s pattern value, checking every byte. */
    private static void expectValue(TextClient client, String key, int lengthBytes, String context) throws IOException {
        assertEquals("VALUE " + key + " 0 " + lengthBytes, client.line(), context);
        byte[] data = client.bytes(lengthBytes + 2);
        assertTrue(PatternValues.matches(key, data, 0, lengthBytes) && data[lengthBytes] == '\r' && data[lengthBytes + 1] == '\n',
                context + ": the value of " + key + " differs");
    }

    /** Reads every acknowledged write back from {@code node}, byte for byte, pipelining gets a few at a time. */
    private static void assertReadable(NodeProcess node, Map<String, Integer> acknowledged) throws IOException {
        List<Map.Entry<String, Integer>> all = new ArrayList<>(acknowledged.entrySet());
        int chunk = 16;
        try (TextClient client = longReading(node)) {
            for (int from = 0; from < all.size(); from += chunk) {
                List<Map.Entry<String, Integer>> part = all.subList(from, Math.min(all.size(), from + chunk));
                StringBuilder gets = new StringBuilder();
                part.forEach(entry -> gets.append("get ").append(entry.getKey()).append("\r\n"));
                client.send(gets.toString());
                for (Map.Entry<String, Integer> entry : part) {
                    expectValue(client, entry.getKey(), entry.getValue(), node.name + ": acknowledged write of " + entry.getKey());
                    assertEquals("END", client.line());
                }
            }
        }
    }

    private static List<String> bulkKeys(int count) {
        return IntStream.range(0, count).mapToObj(i -> "bulk-" + i).toList();
    }

    /**
     * Sets every key to its pattern value on one connection, a writer thread sending as fast as
     * the socket takes them while this thread reads the replies (with noreply: only the {@code mn}
     * sent last, which answers once everything before it was processed).
     */
    private Map<String, Integer> storePipelined(NodeProcess node, List<String> keys, int lengthBytes, boolean noreply) throws Exception {
        try (Socket socket = BadInputTest.connect(node.port)) {
            socket.setSoTimeout(LONG_READ_TIMEOUT_MILLIS);
            Future<Void> writer = inBackground(() -> {
                OutputStream out = new BufferedOutputStream(socket.getOutputStream(), 1 << 16);
                String options = noreply ? " noreply\r\n" : "\r\n";
                for (String key : keys) {
                    out.write(("set " + key + " 0 0 " + lengthBytes + options).getBytes(StandardCharsets.US_ASCII));
                    PatternValues.write(out, key, lengthBytes);
                    out.write(CRLF);
                }
                if (noreply) {
                    out.write("mn\r\n".getBytes(StandardCharsets.US_ASCII));
                }
                out.flush();
                return null;
            });
            InputStream in = new BufferedInputStream(socket.getInputStream());
            if (noreply) {
                assertEquals("MN\r\n", BadInputTest.readLine(in), "the mn after " + keys.size() + " sets with noreply");
            } else {
                for (String key : keys) {
                    assertEquals("STORED\r\n", BadInputTest.readLine(in), "set " + key);
                }
            }
            writer.get(60, TimeUnit.SECONDS);
        }
        Map<String, Integer> stored = new LinkedHashMap<>();
        keys.forEach(key -> stored.put(key, lengthBytes));
        return stored;
    }

    /** Stores the keys {@code node} does not hold with a value of that length (asked with mg); returns those. */
    private Map<String, Integer> storeMissing(NodeProcess node, List<String> keys, int lengthBytes) throws Exception {
        List<String> missing = new ArrayList<>();
        try (TextClient client = longReading(node)) {
            StringBuilder request = new StringBuilder();
            keys.forEach(key -> request.append("mg ").append(key).append(" s\r\n"));
            client.send(request.toString());
            for (String key : keys) {
                if (!client.line().equals("HD s" + lengthBytes)) {
                    missing.add(key);
                }
            }
        }
        if (missing.isEmpty()) {
            return Map.of();
        }
        System.out.println("  storing " + missing.size() + " keys first: a former case did not leave them");
        return storePipelined(node, missing, lengthBytes, false);
    }

    /** A set whose every byte (command line, value, CRLF) is sent on its own, 5 ms apart. */
    private static Map<String, Integer> byteAtATimeSet(NodeProcess node, String key, int lengthBytes) throws IOException, InterruptedException {
        byte[] value = PatternValues.of(key, lengthBytes);
        byte[] header = ("set " + key + " 0 0 " + lengthBytes + "\r\n").getBytes(StandardCharsets.US_ASCII);
        try (Socket socket = BadInputTest.connect(node.port)) {
            socket.setTcpNoDelay(true);
            OutputStream out = socket.getOutputStream();
            for (byte[] part : new byte[][] {header, value, CRLF}) {
                for (byte b : part) {
                    out.write(b);
                    out.flush();
                    Thread.sleep(5);
                }
            }
            assertEquals("STORED\r\n", BadInputTest.readLine(socket.getInputStream()), "the byte-at-a-time set");
        }
        return Map.of(key, lengthBytes);
    }

    /** A connection inside a set's data block: the block's declared size and how much of it was sent. */
    private record Holder(Socket socket, int declaredBytes, int sentBytes) {
    }

    /** A connection whose set declares {@code declaredBytes} and sends {@code sentBytes} of them, then nothing. */
    private static Socket unfinishedBlock(int port, String key, int declaredBytes, int sentBytes) throws IOException {
        Socket socket = BadInputTest.connect(port);
        socket.getOutputStream().write(("set " + key + " 0 0 " + declaredBytes + "\r\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().write(PatternValues.of(key, sentBytes));
        return socket;
    }

    /**
     * Unfinished data blocks whose declared sizes add up to what large blocks may take of the node's
     * client input budget (raftcached_client_input_limit less raftcached_client_input_small_reserve),
     * as few as 1 MB blocks allow and of about the same size (so none is small enough to be sent
     * whole soon), each having sent {@code sentBytes} of its block.
     */
    private static List<Holder> fillInputBudget(NodeProcess node, int sentBytes) throws IOException, InterruptedException {
        Map<String, String> settings = node.stats("settings");
        long limitBytes = Long.parseLong(settings.get("raftcached_client_input_limit"))
                - Long.parseLong(settings.get("raftcached_client_input_small_reserve"));
        int count = (int) ((limitBytes + MEGABYTE_VALUE_BYTES - 1) / MEGABYTE_VALUE_BYTES);
        List<Holder> holders = new ArrayList<>();
        try {
            for (int i = 0; i < count; i++) {
                int declared = (int) (limitBytes / count + (i < limitBytes % count ? 1 : 0));
                int sent = Math.min(sentBytes, declared - 1);
                holders.add(new Holder(unfinishedBlock(node.port, "holder-" + i, declared, sent), declared, sent));
            }
            Thread.sleep(500);   // let the node read every header and what was sent of each block
            return holders;
        } catch (IOException e) {
            for (Holder holder : holders) {
                holder.socket().close();
            }
            throw e;
        }
    }

    /**
     * Fills {@code node}'s input budget with unfinished data blocks that sent {@code sentBytes}
     * each and then go on at {@code pace}, then sends a set of {@code valueBytes} on another
     * connection: its reply line, or what happened instead within 10 s.
     */
    private String setWhileInputBudgetHeld(NodeProcess node, int sentBytes, Pace pace, int valueBytes) throws Exception {
        try (Holders holders = new Holders(fillInputBudget(node, sentBytes), pace); Socket writer = BadInputTest.connect(node.port)) {
            writer.setSoTimeout(10_000);
            long started = System.nanoTime();
            String key = "writer-" + valueBytes + "-" + pace.name().toLowerCase(Locale.ROOT) + "-" + sentBytes;
            Future<Void> sending = sendSet(writer.getOutputStream(), key, valueBytes);
            try {
                String line = BadInputTest.readLine(writer.getInputStream());
                if (line.isEmpty()) {
                    return "closed after " + ClusterChecks.millisSince(started) + " ms";
                }
                String reply = line.strip();
                System.out.println("  " + valueBytes + "-byte set: " + reply + " after " + ClusterChecks.millisSince(started) + " ms behind "
                        + holders.holders.size() + " blocks of " + sentBytes + " bytes sent, " + pace);
                if (reply.equals("STORED")) {
                    sending.get(10, TimeUnit.SECONDS);
                    assertReadable(node, Map.of(key, valueBytes));
                }
                return reply;
            } catch (SocketTimeoutException stalled) {
                return "no reply within 10 s while " + holders.holders.size() + " unfinished data blocks hold the "
                        + node.stats("settings").get("raftcached_client_input_limit") + "-byte input budget";
            } catch (IOException closed) {
                return "closed after " + ClusterChecks.millisSince(started) + " ms (" + closed.getMessage() + ")";
            }
        }
    }

    /**
     * Sends a set of {@code key}'s pattern value from another thread: the node may stop reading it
     * part-way (its block waits for input memory) until later.
     */
    private Future<Void> sendSet(OutputStream out, String key, int lengthBytes) {
        return inBackground(() -> {
            out.write(("set " + key + " 0 0 " + lengthBytes + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(PatternValues.of(key, lengthBytes));
            out.write(CRLF);
            out.flush();
            return null;
        });
    }

    /** How holders of unfinished blocks go on after their first bytes. */
    private enum Pace {
        /** Nothing more. */
        IDLE(0, 0),
        /** One byte every 500 ms: never idle, but no progress. */
        TRICKLE(1, 500),
        /** 16 KB every 200 ms: a slow block that keeps arriving (the node's bar for progress is 16 KB a second). */
        PROGRESS(16 * 1024, 200);

        final int bytesPerRound;
        final long roundMillis;

        Pace(int bytesPerRound, long roundMillis) {
            this.bytesPerRound = bytesPerRound;
            this.roundMillis = roundMillis;
        }
    }

    /**
     * Connections holding unfinished data blocks, each sending at its {@link Pace} (never its
     * block's last byte) until closed; closing them gives the budget back.
     */
    private final class Holders implements AutoCloseable {
        final List<Holder> holders;
        private final java.util.concurrent.atomic.AtomicBoolean holding = new java.util.concurrent.atomic.AtomicBoolean(true);
        private final Future<Void> sender;

        Holders(List<Holder> holders, Pace pace) {
            this.holders = holders;
            this.sender = inBackground(() -> {
                long[] sent = holders.stream().mapToLong(Holder::sentBytes).toArray();
                for (int round = 0; pace != Pace.IDLE && holding.get() && round < 600; round++) {
                    for (int i = 0; i < holders.size(); i++) {
                        Holder holder = holders.get(i);
                        int bytes = (int) Math.min(pace.bytesPerRound, holder.declaredBytes() - 1 - sent[i]);
                        try {
                            holder.socket().getOutputStream().write(new byte[Math.max(0, bytes)]);
                            sent[i] += Math.max(0, bytes);
                        } catch (IOException closedByServer) {
                            // the node gave up on this one: the others still hold their share
                        }
                    }
                    Thread.sleep(pace.roundMillis);
                }
                return null;
            });
        }

        @Override
        public void close() throws Exception {
            holding.set(false);
            sender.get(10, TimeUnit.SECONDS);
            for (Holder holder : holders) {
                holder.socket().close();
            }
        }
    }

    /** memcached's count of connections closed for lack of memory, as the node reports it. */
    private static long readBufOom(NodeProcess node) throws IOException {
        return Long.parseLong(node.stats("").get("read_buf_oom"));
    }

    /**
     * What the server sends on {@code socket} within the time: the bytes (empty if nothing), or
     * "<closed>" once it closes the connection.
     */
    private static String receivedWithin(Socket socket, long millis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        StringBuilder received = new StringBuilder();
        byte[] buffer = new byte[4096];
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return received.toString();
            }
            socket.setSoTimeout((int) left);
            try {
                int n = socket.getInputStream().read(buffer);
                if (n < 0) {
                    return received + "<closed>";
                }
                received.append(new String(buffer, 0, n, StandardCharsets.ISO_8859_1));
            } catch (SocketTimeoutException open) {
                return received.toString();
            } catch (IOException reset) {
                return received + "<closed>";
            }
        }
    }

    /** Whether the server closes (EOF or reset) the connection within the time, reading and dropping anything it sends. */
    private static boolean closedByServerWithin(Socket socket, long millis) throws IOException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        byte[] buffer = new byte[4096];
        while (true) {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return false;
            }
            socket.setSoTimeout((int) left);
            try {
                if (socket.getInputStream().read(buffer) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException open) {
                return false;
            } catch (IOException reset) {
                return true;
            }
        }
    }

    /** "get" and {@code count} distinct 250-byte keys. */
    private static byte[] getLine(int count) {
        StringBuilder line = new StringBuilder("get");
        for (int i = 0; i < count; i++) {
            line.append(' ').append(String.format(Locale.ROOT, "%0250d", i));
        }
        return line.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * 10 MB of seeded random bytes on a new connection, its replies drained meanwhile; the first
     * byte is 0x80 (memcached's binary protocol) or is kept from being it.
     */
    private String sendGarbage(int port, long seed, boolean binaryMagic) throws Exception {
        byte[] garbage = new byte[10 << 20];
        new Random(seed).nextBytes(garbage);
        garbage[0] = binaryMagic ? (byte) 0x80 : (byte) 'x';
        try (Socket socket = BadInputTest.connect(port)) {
            socket.setSoTimeout(20_000);
            Future<Long> replies = inBackground(() -> {
                long received = 0;
                byte[] buffer = new byte[65536];
                try {
                    for (int n = socket.getInputStream().read(buffer); n >= 0; n = socket.getInputStream().read(buffer)) {
                        received += n;
                    }
                    return received;
                } catch (SocketTimeoutException open) {
                    return -1L - received;
                } catch (IOException reset) {
                    return received;
                }
            });
            long sent = 0;
            try {
                for (; sent < garbage.length; sent += 65536) {
                    socket.getOutputStream().write(garbage, (int) sent, (int) Math.min(65536, garbage.length - sent));
                }
            } catch (IOException closedByServer) {
                // the server stopped reading and closed: what it answered is counted below
            }
            long received = replies.get(60, TimeUnit.SECONDS);
            String seedText = "seed " + seed + (binaryMagic ? " (0x80 first)" : "");
            return received >= 0
                    ? "closed after taking " + Math.min(sent, garbage.length) + " bytes, " + received + " bytes of replies, " + seedText
                    : "still open after 10 MB and 20 s, " + (-1 - received) + " bytes of replies, " + seedText;
        }
    }

    /** Reads {@code replies} stats replies (STAT lines up to END), failing on anything else. */
    private static int readStatsReplies(TextClient client, int replies) throws IOException {
        for (int reply = 0; reply < replies; reply++) {
            int lines = 0;
            for (String line = client.line(); !line.equals("END"); line = client.line()) {
                if (!line.startsWith("STAT ") || ++lines > 10_000) {
                    throw new IOException("reply " + reply + ": unexpected line " + line);
                }
            }
        }
        return replies;
    }

    /** Asks the node's JVM for a full GC (jcmd), then returns its heap and direct memory in use. */
    private static long[] liveMemory(NodeProcess node) throws IOException, InterruptedException {
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        Subprocess.Result gc = Subprocess.run(List.of(jcmd, Long.toString(node.pid()), "GC.run"), 60_000);
        assertEquals(0, gc.exitCode(), gc.toString());
        Map<String, String> stats = node.stats("");
        return new long[] {Long.parseLong(stats.get("raftcached_heap_used_bytes")), Long.parseLong(stats.get("raftcached_direct_used_bytes"))};
    }

    private static long appliedIndex(NodeProcess node) throws IOException {
        return Long.parseLong(node.stats("raft").get("raft_applied_index"));
    }

    private static long mb(long bytes) {
        return MemoryWatch.Peaks.megabytes(bytes);
    }

    // --- meta commands at their limits -----------------------------------------------------------

    /** The meta requests of case 11, for keys starting with {@code prefix}, and what they leave stored. */
    private record MetaScript(List<String> requests, Map<String, Integer> finalValues, String explicitCasKey) {
        static MetaScript forPrefix(String prefix) {
            String key = prefix + "k".repeat(249);                  // the longest key
            String number = prefix + "n".repeat(249);
            String vivified = prefix + "v".repeat(249);
            String opaque = "O" + "o".repeat(31);                     // the longest opaque memcached takes
            String opaqueTooLong = "O" + "o".repeat(32);
            // base64 keys: 248 characters (186 bytes) is the longest that fits memcached's 250; 252 is refused
            String decoded = prefix + "b".repeat(185);
            String base64 = Base64.getEncoder().encodeToString(decoded.getBytes(StandardCharsets.US_ASCII));
            String base64TooLong = Base64.getEncoder().encodeToString((decoded + "b").getBytes(StandardCharsets.US_ASCII));
            List<String> requests = new ArrayList<>(List.of(
                    ms(key, 32, "T2147483647 F4294967295 I " + opaque + " c k"),
                    "mg " + key + " c f h k l " + opaque + " q s t u v\r\n",
                    "mg " + key + " c f h k l " + opaque + " q s t u v N2147483647 R2147483647 T2147483647\r\n",
                    "mg " + key + " " + opaqueTooLong + " v\r\n",
                    "mg " + key + "x v\r\n",
                    ms(base64, 32, "b T-1 F4294967295 " + opaque + " k c"),
                    "mg " + base64 + " b k v f s t h l " + opaque + "\r\n",
                    "ms " + base64TooLong + " 3 b\r\nabc\r\n",
                    ms(key, 32, "C18446744073709551615 " + opaque),
                    ms(key, 32, "C18446744073709551616"),
                    ms(key, 32, "F4294967296"),
                    ms(key, 32, "T2147483648"),
                    "mg " + vivified + " N2147483647 s v t f c k " + opaque + "\r\n",
                    "mg " + vivified + " s v t f c k " + opaque + "\r\n",
                    "ma " + number + " N2147483647 J18446744073709551615 D18446744073709551615 T2147483647 MI v t c k " + opaque + "\r\n",
                    "ma " + number + " D18446744073709551615 MI v\r\n",
                    "ma " + number + " MD D18446744073709551615 v\r\n",
                    "ma " + number + " D18446744073709551616 MI v\r\n",
                    "md " + key + " I T2147483647 q " + opaque + " k\r\n",
                    "mg " + key + " v c k s\r\n",
                    "md " + key + " C18446744073709551615 " + opaque + "\r\n",
                    "md " + key + " x " + opaque + " k\r\n",
                    "me " + key + "\r\n",
                    ms(key, 1_048_000, "T0 F4294967295"),
                    ms(key, 1_048_576, "T0"),
                    "ms " + key + " 2147483647 T0\r\n",
                    ms(key, 32, " T1".repeat(30).trim()),
                    "mg " + key + " s v W\r\n",
                    ms(key, 32, "T0"),
                    ms(base64, 32, "b T0")));
            Map<String, Integer> finalValues = new LinkedHashMap<>();
            finalValues.put(key, 32);
            finalValues.put(decoded, 32);
            return new MetaScript(requests, finalValues, prefix + "e".repeat(249));
        }

        /** ms of {@code key}'s pattern value (of the base64-decoded key when the b flag is given). */
        private static String ms(String key, int lengthBytes, String flags) {
            String valueKey = flags.matches("(.* )?b( .*)?")
                    ? new String(Base64.getDecoder().decode(key), StandardCharsets.US_ASCII) : key;
            return "ms " + key + " " + lengthBytes + " " + flags + "\r\n"
                    + new String(PatternValues.of(valueKey, lengthBytes), StandardCharsets.US_ASCII) + "\r\n";
        }
    }

    /** Sends each request with an mn after it on one connection; returns each one's reply (up to the MN). */
    private static List<String> exchangeEach(int port, List<String> requests) throws IOException {
        List<String> replies = new ArrayList<>();
        try (TextClient client = new TextClient(port)) {
            for (String request : requests) {
                client.send(request + "mn\r\n");
                StringBuilder reply = new StringBuilder();
                int lines = 0;
                for (String line = client.line(); !line.equals("MN"); line = client.line()) {
                    if (++lines > META_REPLY_LINES_MAX) {
                        throw new IOException("no MN after " + META_REPLY_LINES_MAX + " lines answering " + abbreviate(request));
                    }
                    reply.append(line).append("\r\n");
                }
                replies.add(reply.toString());
            }
        }
        return replies;
    }

    /**
     * A reply with what depends on the server's CAS counter or clock masked: c (CAS), t (TTL left,
     * not t-1), l (seconds since the last access), and me's exp, la and cas. Value lines are kept.
     */
    private static String maskCasAndTime(String reply) {
        StringBuilder masked = new StringBuilder();
        boolean valueNext = false;
        for (String line : reply.split("\r\n", -1)) {
            if (!valueNext) {
                line = line.replaceAll("(?<= )([ctl])\\d+", "$1#").replaceAll("\\b(exp|la|cas)=(?!-1\\b)-?\\d+", "$1=#");
            }
            valueNext = !valueNext && line.startsWith("VA ");
            masked.append(line).append("\\r\\n");
        }
        return masked.toString();
    }

    private static String abbreviate(String request) {
        String line = request.lines().findFirst().orElse(request);
        return (line.length() > 120 ? line.substring(0, 120) + "..." : line).replaceAll("(.)\\1{20,}", "$1...");
    }
}
