package io.raftcached.replica;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Batch;
import io.raftcached.proto.ClusterConfig;
import io.raftcached.proto.Command;
import io.raftcached.proto.CommandOption;
import io.raftcached.proto.LogEntry;
import io.raftcached.proto.Maintenance;
import io.raftcached.proto.Op;
import io.raftcached.proto.StoreMode;
import io.raftcached.proto.WriterId;
import io.raftcached.store.LruSettings;
import io.raftcached.store.MaintenanceReply;
import io.raftcached.store.MaintenanceStats;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreResult;
import io.raftcached.store.StoreSnapshot;
import io.raftcached.testing.DataDriven;
import io.raftcached.testing.MemoryImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The replica core driven step by step from scenario files ({@code testdata/replica/*.txt}), in the
 * manner of etcd's raft interaction tests: no threads, no clock, no jraft. Every entry is applied
 * to two replicas with different hash seeds and local identities ({@code a}, which is node 1 and
 * prints the results of writer 1's commands, and {@code b}); {@code digest} checks that they
 * hold the same bytes. Regenerate expected output with {@code -Drewrite=true} and review the diff.
 *
 * <p>Directives (times are milliseconds after the scenario's start; keys and values are words):
 * <pre>
 * new [memory=MB] [evictions=off] [cas=off] [lru=flat|modern]
 *                                                fresh replicas (default 2 MB, memcached's modern LRU)
 * config [id=NAME] [memory=MB] [level=N]         a cluster config entry (memory: another shape)
 * tick time=MS                                   an entry that only moves time
 * batch [writer=N/I/S] seq=N [time=MS]           a batch; input: one command per line
 *     set|add|replace|append|prepend KEY VALUE [flags=N] [exp=N] [size=KB]
 *     cas KEY VALUE CAS   delete KEY   incr|decr KEY N   touch KEY EXP   gat KEY EXP
 *     mg KEY [T=EXP] [N=EXP] [R=EXP]   flush_all [DELAY]   hint KEY...  (reads another node served)
 *     slabs reassign SRC DST   slabs automove N   lru_crawler enable|disable|crawl CLASS
 * raw [hex=BYTES] [format=N]                     an entry of raw bytes, or of a newer format
 * read KEY [at=MS] [hint]                        a local read on a, at the read time given; with
 *                                                hint, a read that counts (and may send a hint)
 * lru [class=N]                                  keys in LRU order, most recent first, segment by
 *                                                segment (+ FETCHED, * ACTIVE)
 * maint                                          the crawler's and the slab mover's counters
 * stats                                          items, bytes, evictions, CAS counter
 * digest                                         both replicas agree (at the same index)
 * snapshot                                       a's snapshot restored into b; they must agree
 * </pre>
 */
class ReplicaScenarioTest {
    private static final Path TESTDATA = Path.of("src/test/resources/testdata/replica");
    private static final long START_MILLIS = 1_790_000_000_000L;

    private Replica a;
    private Replica b;
    private long nowMillis;

    @AfterEach
    void close() {
        closeReplicas();
    }

    @TestFactory
    Stream<DynamicTest> scenarios() throws IOException {
        return DataDriven.scenarioFiles(TESTDATA).stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            reset(StoreConfig.withMemory(2L * StoreConfig.MEGABYTE));
            try {
                DataDriven.run(file, this::handle);
            } finally {
                closeReplicas();
            }
        }));
    }

    private void reset(StoreConfig shape) {
        closeReplicas();
        a = new Replica(shape, 11, 1, 1);
        b = new Replica(shape, 987_654_321, 2, 1);
        nowMillis = START_MILLIS;
    }

    private void closeReplicas() {
        if (a != null) {
            a.close();
            b.close();
            a = null;
            b = null;
        }
    }

    private String handle(DataDriven.TestCase test) {
        return switch (test.command()) {
            case "new" -> {
                StoreConfig shape = StoreConfig.withMemory(test.intArg("memory", 2) * (long) StoreConfig.MEGABYTE)
                        .withEvictionsDisabled(test.stringArg("evictions", "on").equals("off"))
                        .withCasDisabled(test.stringArg("cas", "on").equals("off"))
                        .withLru(test.stringArg("lru", "modern").equals("flat") ? LruSettings.FLAT : LruSettings.MEMCACHED_DEFAULTS);
                reset(shape);
                yield "ok";
            }
            case "config" -> config(test);
            case "tick" -> apply(LogEntries.tick(time(test)));
            case "batch" -> batch(test);
            case "raw" -> raw(test);
            case "read" -> read(test);
            case "lru" -> lru(test);
            case "maint" -> maintenance();
            case "stats" -> stats();
            case "digest" -> digest();
            case "snapshot" -> snapshot();
            default -> throw new IllegalArgumentException(test.position() + ": unknown directive " + test.command());
        };
    }

    private long time(DataDriven.TestCase test) {
        if (test.hasArg("time")) {
            nowMillis = START_MILLIS + test.longArg("time");
        }
        return nowMillis;
    }

    private String config(DataDriven.TestCase test) {
        StoreConfig shape = test.hasArg("memory")
                ? StoreConfig.withMemory(test.intArg("memory") * (long) StoreConfig.MEGABYTE) : a.shape();
        ClusterConfig config = ClusterConfig.newBuilder().setClusterId(test.stringArg("id", "cluster-1"))
                .setFeatureLevel(test.intArg("level", Replica.FEATURE_LEVEL))
                .setShape(StoreSnapshot.shapeOf(shape)).build();
        return apply(LogEntries.config(time(test), config));
    }

    private String raw(DataDriven.TestCase test) {
        if (test.hasArg("format")) {
            return apply(LogEntry.newBuilder().setFormatVersion(test.intArg("format")).setLeaderTimeMillis(nowMillis)
                    .build().toByteArray());
        }
        return apply(HexFormat.of().parseHex(test.stringArg("hex")));
    }

    private String batch(DataDriven.TestCase test) {
        String[] id = test.stringArg("writer", "1/1/1").split("/");
        Batch.Builder batch = Batch.newBuilder().setWriter(writer(Integer.parseInt(id[0]), Long.parseLong(id[1]),
                Long.parseLong(id[2]))).setFirstSeq(test.longArg("seq"));
        for (String line : test.input().split("\n")) {
            if (!line.isBlank()) {
                batch.addCommands(command(line.trim()));
            }
        }
        return apply(LogEntries.batch(time(test), batch.build().toByteString()));
    }

    /** Applies one entry to both replicas; prints what a did, or why a replica must stop. */
    private String apply(byte[] entry) {
        String first = applyTo(a, entry);
        String second = applyTo(b, entry);
        String stoppedA = first.startsWith("stop: ") ? first : null;
        String stoppedB = second.startsWith("stop: ") ? second : null;
        if ((stoppedA == null) != (stoppedB == null)) {
            throw new AssertionError("only one replica stopped: a: " + first + " b: " + second);
        }
        return first;
    }

    /** Applies and then does the between-batches work (memory reuse, page drains) as the node does. */
    private static String applyTo(Replica replica, byte[] entry) {
        try {
            Applied applied = replica.apply(replica.appliedIndex() + 1, ByteBuffer.wrap(entry));
            for (int round = 0; round < 8; round++) {
                replica.maintain();
            }
            return describe(applied, replica);
        } catch (ReplicaStopException | IOException e) {
            return "stop: " + e.getMessage();
        }
    }

    private static String describe(Applied applied, Replica replica) {
        StringBuilder text = new StringBuilder("index " + applied.index() + ": ");
        if (applied instanceof Applied.Tick) {
            return text.append("tick, now +").append(replica.appliedNowMillis() - START_MILLIS).toString();
        }
        if (applied instanceof Applied.Config config) {
            return text.append(config.adopted() ? "config " + config.config().getClusterId() + " adopted"
                    : "config ignored: the cluster is " + config.config().getClusterId()).toString();
        }
        Applied.Batch batch = (Applied.Batch) applied;
        WriterId writer = batch.writer();
        text.append("batch ").append(writer.getNodeId()).append('/').append(writer.getIncarnation()).append('/')
                .append(writer.getStream()).append(" seq ").append(batch.firstSeq()).append("..")
                .append(batch.firstSeq() + batch.commandCount() - 1);
        switch (batch.refusal()) {
            case GAP -> {
                return text.append(": refused, an earlier seq is missing").toString();
            }
            case STREAM_ABANDONED -> {
                return text.append(": refused, a newer stream of its node applied").toString();
            }
            case NONE -> { }
        }
        if (batch.localResults() == null) {
            return text.append(": applied (another node's writes)").toString();
        }
        for (StoreResult result : batch.localResults()) {
            text.append("\n  ").append(result.status);
            if (result.cas != 0) {
                text.append(" cas=").append(result.cas);
            }
            if (result.status == StoreResult.Status.NUMBER) {
                text.append(" number=").append(Long.toUnsignedString(result.number));
            }
            if (result.value != null) {
                text.append(" value=").append(new String(result.value, StandardCharsets.ISO_8859_1));
            }
            if (result.won) {
                text.append(" won");
            }
            if (result.status == StoreResult.Status.MAINTENANCE) {
                text.append(' ').append(MaintenanceReply.of(result).line());
            }
        }
        return text.toString();
    }

    private String read(DataDriven.TestCase test) {
        long at = test.hasArg("at") ? START_MILLIS + test.longArg("at") : nowMillis;
        String key = test.arguments().get(0).key();
        StringBuilder text = new StringBuilder(key).append(": ");
        List<String> hinted = new java.util.ArrayList<>();
        a.localReads().sendHintsTo(hintedKey -> hinted.add(new String(hintedKey, StandardCharsets.ISO_8859_1)));
        Store.ReadOutcome outcome = a.read(key.getBytes(StandardCharsets.ISO_8859_1), at, Store.Lookup.live(test.hasArg("hint")), item -> {
            text.append("value=").append(abbreviate(item.copyValue()))
                    .append(" flags=").append(item.clientFlags()).append(" cas=").append(item.cas())
                    .append(" ttl=").append(item.ttlSeconds());
        });
        if (!hinted.isEmpty()) {
            text.append(" (hint sent)");
        }
        return outcome == Store.ReadOutcome.HIT ? text.toString() : text.append(outcome).toString();
    }

    /** Values longer than a line are shown by their start and length. */
    private static String abbreviate(byte[] value) {
        String text = new String(value, StandardCharsets.ISO_8859_1);
        return value.length <= 32 ? text : text.substring(0, 8) + "...(" + value.length + " bytes)";
    }

    private String lru(DataDriven.TestCase test) {
        StringBuilder text = new StringBuilder();
        Store store = a.store();
        int largest = store.slabClasses().largestClass();
        for (int classId = 1; classId <= largest; classId++) {
            if (test.hasArg("class") && test.intArg("class") != classId) {
                continue;
            }
            List<Store.DumpedItem> items = store.cachedump(classId, Integer.MAX_VALUE);
            if (items.isEmpty() && !test.hasArg("class")) {
                continue;
            }
            text.append(text.length() == 0 ? "" : "\n").append("class ").append(classId).append(':');
            boolean segmented = store.config().lru().segmented();
            String segment = "";
            for (Store.DumpedItem item : items) {
                if (segmented && !item.segment().equals(segment)) {
                    segment = item.segment();
                    text.append(' ').append(segment).append(':');
                }
                text.append(' ').append(new String(item.key(), StandardCharsets.ISO_8859_1))
                        .append(item.active() ? "*" : item.fetched() ? "+" : "");
            }
        }
        return text.length() == 0 ? "empty" : text.toString();
    }

    private String stats() {
        Store store = a.store();
        long evicted = 0;
        for (int c = 1; c <= store.slabClasses().largestClass(); c++) {
            evicted += store.slabStats(c).evicted;
        }
        store.checkInvariants();
        return "items=" + store.currentItems() + " bytes=" + store.currentBytes() + " total_items=" + store.totalItems()
                + " evictions=" + evicted + " cas_counter=" + store.casCounter() + " malloced=" + store.mallocedBytes();
    }

    private String maintenance() {
        MaintenanceStats stats = a.store().maintenanceStats();
        a.store().checkInvariants();
        return "slabs_moved=" + stats.slabsMoved() + " evictions_nomem=" + stats.slabReassignEvictionsNomem()
                + " pool_pages=" + stats.slabGlobalPagePool() + " empty_pages_kept=" + stats.physicalPagesPooled()
                + " crawler_reclaimed=" + stats.crawlerReclaimed()
                + " crawler_checked=" + stats.crawlerItemsChecked() + " moves_to_cold=" + stats.movesToCold()
                + " moves_to_warm=" + stats.movesToWarm() + " moves_within_lru=" + stats.movesWithinLru();
    }

    private String digest() {
        String first = a.digest();
        String second = b.digest();
        if (!first.equals(second)) {
            throw new AssertionError("replicas differ: a " + first + " b " + second);
        }
        return "index " + a.appliedIndex() + ": replicas agree";
    }

    private String snapshot() {
        try {
            MemoryImage pages = new MemoryImage();
            Replica.Snapshot snapshot = a.beginSnapshot(pages::write);
            snapshot.store().writePages();
            snapshot.store().close();
            b.restore(snapshot.index(), snapshot.store().header(),
                    pages::readPage, snapshot.machine()).close();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        return "b restored a's snapshot at index " + b.appliedIndex() + "; " + digest();
    }

    // --- the command language ------------------------------------------------------------------

    private static WriterId writer(int node, long incarnation, long stream) {
        return WriterId.newBuilder().setNodeId(node).setIncarnation(incarnation).setStream(stream).build();
    }

    private static ByteString bytes(String text) {
        return ByteString.copyFrom(text, StandardCharsets.ISO_8859_1);
    }

    static Command command(String line) {
        String[] words = line.split("\\s+");
        Map<String, String> options = new HashMap<>();
        List<String> positional = new java.util.ArrayList<>();
        for (int i = 1; i < words.length; i++) {
            int equals = words[i].indexOf('=');
            if (equals > 0) {
                options.put(words[i].substring(0, equals), words[i].substring(equals + 1));
            } else {
                positional.add(words[i]);
            }
        }
        Command.Builder command = Command.newBuilder();
        if (!positional.isEmpty()) {
            command.setKey(bytes(positional.get(0)));
        }
        switch (words[0]) {
            case "set", "add", "replace", "append", "prepend", "cas" -> {
                String value = options.containsKey("size") ? "v".repeat(Integer.parseInt(options.get("size")) * 1024)
                        : positional.get(1);
                command.setOp(Op.STORE).setValue(bytes(value))
                        .setClientFlags(Integer.parseInt(options.getOrDefault("flags", "0")))
                        .setExptime(Long.parseLong(options.getOrDefault("exp", "0")))
                        .setMode(StoreMode.valueOf("MODE_" + words[0].toUpperCase(java.util.Locale.ROOT)));
                if (words[0].equals("cas")) {
                    command.setCompareCas(Long.parseLong(positional.get(2))).setOptions(CommandOption.HAS_COMPARE_CAS_VALUE);
                }
            }
            case "delete" -> command.setOp(Op.DELETE);
            case "incr", "decr" -> command.setOp(Op.ARITH).setDelta(Long.parseUnsignedLong(positional.get(1)))
                    .setOptions(words[0].equals("decr") ? CommandOption.DECREMENT_VALUE : 0);
            case "touch" -> command.setOp(Op.TOUCH).setExptime(Long.parseLong(positional.get(1)));
            case "gat" -> command.setOp(Op.GET_TOUCH).setExptime(Long.parseLong(positional.get(1)));
            case "mg" -> metaGet(command, options);
            case "flush_all" -> command.setOp(Op.FLUSH_ALL).clearKey()
                    .setExptime(positional.isEmpty() ? 0 : Long.parseLong(positional.get(0)));
            case "hint" -> {
                command.setOp(Op.ACCESS_HINTS).clearKey();
                positional.forEach(key -> command.addHintKeys(bytes(key)));
            }
            case "slabs", "lru_crawler" -> command.clearKey().setOp(Op.MAINTENANCE).setMaintenance(maintenance(words));
            default -> throw new IllegalArgumentException("unknown command: " + line);
        }
        return command.build();
    }

    private static Maintenance maintenance(String[] words) {
        Maintenance.Builder maintenance = Maintenance.newBuilder();
        switch (words[0] + " " + words[1]) {
            case "slabs reassign" -> maintenance.setKind(Maintenance.Kind.SLABS_REASSIGN)
                    .setSourceClass(Integer.parseInt(words[2])).setDestinationClass(Integer.parseInt(words[3]));
            case "slabs automove" -> maintenance.setKind(Maintenance.Kind.SLABS_AUTOMOVE).setAutomoveMode(Integer.parseInt(words[2]));
            case "lru_crawler enable" -> maintenance.setKind(Maintenance.Kind.CRAWLER_ENABLE);
            case "lru_crawler disable" -> maintenance.setKind(Maintenance.Kind.CRAWLER_DISABLE);
            case "lru_crawler crawl" -> maintenance.setKind(Maintenance.Kind.CRAWLER_CRAWL)
                    .setCrawlClasses(1L << Integer.parseInt(words[2]));
            default -> throw new IllegalArgumentException("unknown maintenance command: " + String.join(" ", words));
        }
        return maintenance.build();
    }



    private static void metaGet(Command.Builder command, Map<String, String> options) {
        int flags = CommandOption.META_COMMAND_VALUE;
        StringBuilder order = new StringBuilder();
        if (options.containsKey("T")) {
            flags |= CommandOption.HAS_EXPTIME_VALUE;
            command.setExptime(Long.parseLong(options.get("T")));
            order.append('T');
        }
        if (options.containsKey("N")) {
            flags |= CommandOption.HAS_VIVIFY_VALUE;
            command.setVivifyExptime(Long.parseLong(options.get("N")));
            order.append('N');
        }
        if (options.containsKey("R")) {
            flags |= CommandOption.HAS_RECACHE_VALUE;
            command.setRecacheExptime(Long.parseLong(options.get("R")));
            order.append('R');
        }
        command.setOp(Op.META_GET).setOptions(flags).setFlagOrder(order.toString());
    }
}
