package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * memcached's command-line flags on real node processes: {@code -vv} prints memcached's slab
 * classes, flags raftcached cannot honour stop it at start with a clear message, validation
 * messages and exit codes are memcached's, and {@code -h}/{@code -V} work. The process-level
 * flags are in {@link LauncherAndListenerTest}.
 */
class ServerFlagsTest {
    /** Start-up failures are JVM starts: a few at a time, so the class stays well under a minute. */
    private static final ExecutorService RUNNERS = Executors.newFixedThreadPool(3, runnable -> {
        Thread thread = new Thread(runnable, "flag-runs");
        thread.setDaemon(true);
        return thread;
    });
    private static final long EXIT_TIMEOUT_MILLIS = 30_000;

    // --- -vv ------------------------------------------------------------------------------------

    @Test
    void veryVerbosePrintsMemcachedsSlabClasses() throws Exception {
        MemcachedProcess.assumeInstalled();
        List<List<String>> shapes = List.of(List.of(), List.of("-f", "1.5", "-n", "32"), List.of("-I", "4m", "-m", "128"));
        for (int i = 0; i < shapes.size(); i++) {
            List<String> shape = shapes.get(i);
            List<String> expected;
            try (MemcachedProcess memcached = MemcachedProcess.start(withVv(shape))) {
                expected = slabClassLines(memcached.outputText());
            }
            assertTrue(expected.size() > 10, "memcached -vv printed no slab classes for " + shape);
            try (NodeProcess node = NodeProcess.single("vv-" + i, withVv(shape))) {
                node.start();
                String log = node.logText();   // appended to across runs: this run's part only
                assertEquals(expected, slabClassLines(log.substring(log.lastIndexOf("=== start"))), "slab classes for " + shape);
            }
        }
    }

    private static String[] withVv(List<String> shape) {
        List<String> arguments = new ArrayList<>(List.of("-vv"));
        arguments.addAll(shape);
        return arguments.toArray(String[]::new);
    }

    private static List<String> slabClassLines(String output) {
        return output.lines().filter(line -> line.startsWith("slab class")).toList();
    }

    // --- flags refused, validation, help and version -------------------------------------------------

    /** Runs the node's JVM with {@code flags} after the usual port/raft/data arguments; it must exit by itself. */
    static Subprocess.Result runNode(String name, String... flags) throws Exception {
        NodeProcess node = NodeProcess.single(name, flags);
        return Subprocess.run(node.command(), EXIT_TIMEOUT_MILLIS);
    }

    @Test
    void flagsRaftcachedCannotHonourStopItAtStart() throws Exception {
        Map<List<String>, String> refused = Map.of(
                List.of("-U", "11211"), "UDP",
                List.of("-B", "binary"), "binary protocol",
                List.of("-S"), "SASL",
                List.of("-L"), "large pages",
                List.of("-k"), "lock memory",
                List.of("-o", "ext_path=/tmp/raftcached-ext:64m"), "ext_path");
        Map<List<String>, Future<Subprocess.Result>> runs = new LinkedHashMap<>();
        for (List<String> flags : refused.keySet()) {
            runs.put(flags, RUNNERS.submit(() -> runNode("refused", flags.toArray(String[]::new))));
        }
        for (Map.Entry<List<String>, Future<Subprocess.Result>> run : runs.entrySet()) {
            Subprocess.Result result = run.getValue().get(2 * EXIT_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            String reason = refused.get(run.getKey());
            assertNotEquals(0, result.exitCode(), run.getKey() + " must not start: " + result);
            assertTrue(result.stderr().contains(reason) && result.stderr().contains("not supported by raftcached"),
                    run.getKey() + " must say why: " + result);
            assertFalse(result.stderr().contains("Exception"), run.getKey() + ": a message, not a stack trace: " + result);
        }
    }

    @Test
    void validationMessagesAndExitCodesAreMemcacheds() throws Exception {
        MemcachedProcess.assumeInstalled();
        List<List<String>> invalid = List.of(List.of("-c", "0"), List.of("-t", "0"), List.of("-R", "0"), List.of("-f", "1"),
                List.of("-n", "0"), List.of("-m", "0"), List.of("-m", "1"), List.of("-I", "100k"), List.of("-I", "500"),
                List.of("-I", "2g"), List.of("-I", "3000m"), List.of("-B", "foo"),
                List.of("-o", "slab_chunk_max=3000"), List.of("-o", "hot_lru_pct=90"), List.of("-o", "warm_lru_pct=0"),
                List.of("-o", "hot_lru_pct=50,warm_lru_pct=40"), List.of("-o", "hot_max_factor=0"),
                List.of("-o", "slab_automove=3"), List.of("-o", "slab_automove_ratio=2"), List.of("-o", "slab_automove_window=2"),
                List.of("-o", "no_lru_maintainer,temporary_ttl=30"), List.of("-o", "lru_crawler_sleep=2000000"),
                List.of("-o", "lru_crawler_tocrawl=x"));
        Map<List<String>, Future<Subprocess.Result>> memcachedRuns = new LinkedHashMap<>();
        Map<List<String>, Future<Subprocess.Result>> raftcachedRuns = new LinkedHashMap<>();
        for (List<String> flags : invalid) {
            List<String> memcachedArguments = new ArrayList<>(List.of("-U", "0", "-l", "127.0.0.1", "-p",
                    Integer.toString(Ports.free())));
            memcachedArguments.addAll(flags);
            memcachedRuns.put(flags, RUNNERS.submit(() ->
                    Subprocess.run(MemcachedProcess.command(memcachedArguments), EXIT_TIMEOUT_MILLIS)));
            raftcachedRuns.put(flags, RUNNERS.submit(() -> runNode("invalid", flags.toArray(String[]::new))));
        }
        for (List<String> flags : invalid) {
            Subprocess.Result memcached = memcachedRuns.get(flags).get(2 * EXIT_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            Subprocess.Result raftcached = raftcachedRuns.get(flags).get(2 * EXIT_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            assertNotEquals(0, memcached.exitCode(), "memcached accepted " + flags + ": " + memcached);
            assertEquals(memcached.stderr().strip(), raftcached.stderr().strip(), "message for " + flags);
            assertEquals(memcached.exitCode(), raftcached.exitCode(), "exit code for " + flags);
        }
    }

    /** memcached's LRU, slab mover and crawler options change what stats settings shows, as memcached's do. */
    @Test
    void lruMoverAndCrawlerOptionsAreHonoured() throws Exception {
        MemcachedProcess.assumeInstalled();
        List<String> names = List.of("slab_reassign", "slab_automove", "slab_automove_ratio", "slab_automove_window",
                "lru_crawler", "lru_crawler_sleep", "lru_crawler_tocrawl", "lru_maintainer_thread", "lru_segmented",
                "hot_lru_pct", "warm_lru_pct", "hot_max_factor", "warm_max_factor", "temp_lru", "temporary_ttl");
        List<List<String>> optionSets = List.of(List.of(),
                List.of("-o", "hot_lru_pct=30,warm_lru_pct=30,hot_max_factor=0.5,temporary_ttl=30,slab_automove=2,"
                        + "slab_automove_ratio=0.5,slab_automove_window=10,lru_crawler_sleep=50,lru_crawler_tocrawl=500"),
                List.of("-o", "no_modern"), List.of("-o", "no_lru_crawler,no_slab_reassign,no_lru_maintainer"));
        for (int i = 0; i < optionSets.size(); i++) {
            String[] options = optionSets.get(i).toArray(String[]::new);
            Map<String, String> expected;
            try (MemcachedProcess memcached = MemcachedProcess.start(options)) {
                expected = pick(MemcachedProcess.statsOf(memcached.port, "settings"), names);
            }
            try (NodeProcess node = NodeProcess.single("lru-options-" + i, options)) {
                node.start();
                assertEquals(expected, pick(MemcachedProcess.statsOf(node.port, "settings"), names), "stats settings with "
                        + optionSets.get(i));
            }
        }
    }

    private static Map<String, String> pick(Map<String, String> stats, List<String> names) {
        Map<String, String> picked = new LinkedHashMap<>();
        names.forEach(name -> picked.put(name, stats.get(name)));
        return picked;
    }

    @Test
    void helpAndVersion() throws Exception {
        Subprocess.Result help = runNode("help", "-h");
        assertEquals(0, help.exitCode(), help.toString());
        for (String flag : List.of("-p, --port", "-m, --memory-limit", "-c, --conn-limit", "-s, --unix-socket", "-vv",
                "--peers", "--data-dir")) {
            assertTrue(help.out().contains(flag), "-h mentions " + flag + ":\n" + help.out());
        }
        Subprocess.Result version = runNode("version", "-V");
        assertEquals(0, version.exitCode(), version.toString());
        assertTrue(version.out().startsWith("raftcached ") && version.out().contains("memcached 1.6.18"), version.out());
    }
}
