package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.DropInServers.Target;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Debian's libmemcached tools (libmemcached-tools 1.1: memcping, memcstat, memccp, memccat,
 * memcrm, memcflush, memctouch) as subprocesses against a raftcached node, and the same runs
 * against memcached: exit codes and outputs must be what memcached gets. {@link LibmemcachedToolsOverTlsTest}
 * runs the same tests against both servers over TLS.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LibmemcachedToolsTest {
    private static final long TOOL_TIMEOUT_MILLIS = 20_000;
    private static final List<String> TOOLS = List.of("memcping", "memcstat", "memccp", "memccat", "memcrm",
            "memcflush", "memctouch");
    private DropInServers servers;
    private Path files;

    @BeforeAll
    void start() throws Exception {
        for (String tool : TOOLS) {
            Assumptions.assumeTrue(Subprocess.isInstalled(tool), "/usr/bin/" + tool
                    + " is missing (apt-get install libmemcached-tools): the libmemcached tool tests are skipped");
        }
        startServers();
        files = NodeProcess.TEST_DIRECTORY.resolve(getClass().getSimpleName() + "-files");
        NodeProcess.deleteRecursively(files);
        Files.createDirectories(files);
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    /** Starts the servers the tools talk to; {@link LibmemcachedToolsOverTlsTest} reaches TLS servers instead. */
    void startServers() throws Exception {
        servers = DropInServers.start("libmemcached-tools");
    }

    Target memcachedTarget() {
        return servers.memcached();
    }

    Target raftcachedTarget() {
        return servers.raftcached();
    }

    Stream<Arguments> targets() {
        return servers.both();
    }

    private static Subprocess.Result tool(Target target, String tool, String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/" + tool, "--servers=127.0.0.1:" + target.port()));
        command.addAll(Arrays.asList(arguments));
        return Subprocess.run(command, TOOL_TIMEOUT_MILLIS);
    }

    /** Files named after the target, so both servers' runs use distinct keys. */
    private Map<String, byte[]> writeFiles(Target target) throws IOException {
        Map<String, byte[]> contents = new LinkedHashMap<>();
        byte[] binary = new byte[300_000];
        new Random(11).nextBytes(binary);
        contents.put(target.name() + "-binary.bin", binary);
        contents.put(target.name() + "-text.txt", "hello, memcached\n".getBytes(StandardCharsets.US_ASCII));
        byte[] large = new byte[700_000];   // above slab_chunk_max: a chunked item in memcached
        new Random(12).nextBytes(large);
        contents.put(target.name() + "-large.bin", large);
        for (Map.Entry<String, byte[]> file : contents.entrySet()) {
            Files.write(files.resolve(file.getKey()), file.getValue());
        }
        return contents;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void pingAndStat(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        Subprocess.Result ping = tool(target, "memcping");
        assertEquals(0, ping.exitCode(), ping.toString());

        Subprocess.Result stat = tool(target, "memcstat");
        assertEquals(0, stat.exitCode(), stat.toString());
        Map<String, String> stats = memcstatLines(stat.out());
        assertTrue(stat.out().startsWith("Server: 127.0.0.1 (" + target.port() + ")"), stat.out());
        assertEquals("1.6.18", stats.get("version"), stat.out());
        assertEquals("67108864", stats.get("limit_maxbytes"), stat.out());
        assertEquals(Long.toString(target.pid()), stats.get("pid"), "memcstat reports the server's own pid");
        for (String name : List.of("uptime", "curr_items", "total_items", "bytes", "curr_connections", "cmd_get",
                "cmd_set", "get_hits", "get_misses", "evictions", "threads")) {
            assertTrue(stats.containsKey(name), name + " missing from memcstat output:\n" + stat.out());
        }
    }

    @Test
    void memcstatShowsEveryStatMemcachedShows() throws Exception {
        Map<String, String> expected = memcstatLines(tool(memcachedTarget(), "memcstat").out());
        Map<String, String> actual = memcstatLines(tool(raftcachedTarget(), "memcstat").out());
        List<String> missing = expected.keySet().stream().filter(name -> !actual.containsKey(name)).toList();
        assertEquals(List.of(), missing, "stats memcached has and raftcached lacks");
    }

    @Test
    void pingFailsWithoutServer() throws Exception {
        int closed = Ports.free();   // nothing listens there
        Subprocess.Result ping = tool(new Target("nothing", closed, -1), "memcping");
        assertNotEquals(0, ping.exitCode(), "memcping must fail where no server listens: " + ping);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void copyCatTouchRemoveFlush(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        Map<String, byte[]> contents = writeFiles(target);
        List<String> copyArguments = new ArrayList<>(List.of("--flag=7"));
        contents.keySet().forEach(name -> copyArguments.add(files.resolve(name).toString()));
        Subprocess.Result copy = tool(target, "memccp", copyArguments.toArray(String[]::new));
        assertEquals(0, copy.exitCode(), copy.toString());

        // memccat writes each value followed by a newline; keys are the files' base names
        for (Map.Entry<String, byte[]> file : contents.entrySet()) {
            Subprocess.Result cat = tool(target, "memccat", file.getKey());
            assertEquals(0, cat.exitCode(), cat.toString());
            byte[] expected = Arrays.copyOf(file.getValue(), file.getValue().length + 1);
            expected[expected.length - 1] = '\n';
            assertArrayEquals(expected, cat.stdout(), file.getKey() + " read back byte for byte");
        }
        String text = target.name() + "-text.txt";
        Subprocess.Result withFlags = tool(target, "memccat", "--flags", text);
        assertEquals(0, withFlags.exitCode(), withFlags.toString());
        assertEquals("7\nhello, memcached\n\n", withFlags.out(), "memccat --flags prints the flags memccp stored");

        Subprocess.Result missing = tool(target, "memccat", target.name() + "-no-such-key");
        assertEquals(1, missing.exitCode(), missing.toString());
        assertEquals("", missing.out());

        Subprocess.Result touch = tool(target, "memctouch", "--expire=3600", text);
        assertEquals(0, touch.exitCode(), touch.toString());
        Subprocess.Result touchMissing = tool(target, "memctouch", "--expire=3600", target.name() + "-no-such-key");
        assertEquals(1, touchMissing.exitCode(), touchMissing.toString());
        try (TextClient client = new TextClient(target.port())) {
            String reply = client.call("mg " + text + " t f\r\n");
            assertTrue(reply.matches("HD t(3598|3599|3600) f7"), "memctouch set the TTL: " + reply);
        }

        Subprocess.Result remove = tool(target, "memcrm", text);
        assertEquals(0, remove.exitCode(), remove.toString());
        Subprocess.Result removeAgain = tool(target, "memcrm", text);
        assertEquals(1, removeAgain.exitCode(), "memcrm of a key already removed: " + removeAgain);
        assertEquals(1, tool(target, "memccat", text).exitCode(), "a removed key cannot be read");

        Subprocess.Result flush = tool(target, "memcflush");
        assertEquals(0, flush.exitCode(), flush.toString());
        for (String name : contents.keySet()) {
            assertEquals(1, tool(target, "memccat", name).exitCode(), name + " survived memcflush");
        }
    }

    /** memcstat's "\tname: value" lines. */
    private static Map<String, String> memcstatLines(String output) {
        Map<String, String> stats = new LinkedHashMap<>();
        for (String line : output.split("\n")) {
            if (line.startsWith("\t")) {
                int colon = line.indexOf(": ");
                if (colon > 0) {
                    stats.put(line.substring(1, colon), line.substring(colon + 2));
                }
            }
        }
        return stats;
    }
}
