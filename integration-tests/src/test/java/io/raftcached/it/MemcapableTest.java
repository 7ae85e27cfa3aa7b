package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * libmemcached's protocol checker, {@code memccapable -a} (ASCII tests only: raftcached does not
 * speak the binary protocol), against Debian memcached and a raftcached node in the same run:
 * every test memcached passes, raftcached must pass too.
 */
class MemcapableTest {
    private static final String MEMCAPABLE = "memccapable";
    private static final long RUN_TIMEOUT_MILLIS = 40_000;
    /** "ascii set noreply                       [pass]" */
    private static final Pattern RESULT_LINE = Pattern.compile("^(.+?)\\s+\\[(pass|FAIL|skip)\\]\\s*$");

    @Test
    void raftcachedPassesEveryAsciiTestMemcachedPasses() throws Exception {
        Assumptions.assumeTrue(Subprocess.isInstalled(MEMCAPABLE),
                "/usr/bin/" + MEMCAPABLE + " is missing (apt-get install libmemcached-tools): skipped");
        try (DropInServers servers = DropInServers.start("memcapable")) {
            Map<String, String> memcached = run(servers.memcached().port());
            Map<String, String> raftcached = run(servers.raftcached().port());

            List<String> memcachedPasses = passed(memcached);
            assertTrue(memcachedPasses.size() >= 20, "memccapable -a ran too few tests against memcached: " + memcached);
            List<String> raftcachedPasses = passed(raftcached);
            List<String> missing = memcachedPasses.stream().filter(test -> !raftcachedPasses.contains(test)).toList();
            assertEquals(List.of(), missing, "tests memcached passes and raftcached does not; raftcached: " + raftcached);
            assertEquals(memcached.keySet(), raftcached.keySet(), "the same tests ran");
        }
    }

    /** Runs {@code memccapable -a} and returns each test's outcome, in order. */
    private static Map<String, String> run(int port) throws Exception {
        Subprocess.Result result = Subprocess.run(List.of("/usr/bin/" + MEMCAPABLE, "-a", "-h", "127.0.0.1",
                "-p", Integer.toString(port), "-t", "10"), RUN_TIMEOUT_MILLIS);
        Map<String, String> outcomes = new LinkedHashMap<>();
        for (String line : (result.out() + "\n" + result.stderr()).split("\n")) {
            Matcher matcher = RESULT_LINE.matcher(line);
            if (matcher.matches()) {
                outcomes.put(matcher.group(1).trim(), matcher.group(2));
            }
        }
        boolean allPassed = !outcomes.isEmpty() && outcomes.values().stream().allMatch("pass"::equals);
        assertEquals(allPassed ? 0 : 1, result.exitCode() == 0 ? 0 : 1,
                "exit code agrees with the per-test lines: " + result);
        return outcomes;
    }

    private static List<String> passed(Map<String, String> outcomes) {
        return outcomes.entrySet().stream().filter(e -> e.getValue().equals("pass")).map(Map.Entry::getKey).toList();
    }
}
