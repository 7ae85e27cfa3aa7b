package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 15, "a Zipf-distributed read-mostly workload whose hit ratio is within 2 points of
 * memcached's at -m 64". The workload is bench/memory-parity.sh's, run as an operator runs it, so
 * the script is tested too: cache-aside (every get miss is followed by a set of that key), 90 %
 * gets / 10 % sets, keys drawn Zipf s=0.99 from a seeded generator (the same sequence for both
 * servers) over 250 000 keys of 4 000 B — 1 GB of data for 64 MB, so about 14 700 items fit and
 * memory decides what hits. 250 000 requests warm up, 150 000 are measured; memcached 1.6.18 is at
 * steady state by then (69.9–70.1 % measured here after that warm-up, 70.0–70.2 % after 300 000–900
 * 000, the same at 33 000 and 93 000 ops/s). The script runs each server alone; the hit ratio compared is
 * the generator's count, and each server's own get_hits / get_misses must agree with it.
 */
class MemoryParityZipfTest {
    static final double POINTS_MAX = 0.02;
    /** The generator's count and the server's stats see the same gets: only rounding may differ. */
    static final double CLIENT_STATS_DIFFERENCE_MAX = 0.001;
    static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(420);

    @Test
    void hitRatioWithinTwoPointsOfMemcached() throws Exception {
        MemcachedProcess.assumeInstalled();
        Path benchJar = Path.of(System.getProperty("raftcached.benchJar", "../bench/target/raftcached-bench.jar"));
        assertTrue(Files.isRegularFile(benchJar), benchJar + " is missing: run the tests with `mvn verify` from the root");
        MemoryParity.ScriptRun run = MemoryParity.memoryParityScript(Map.of(
                "MEMORY_MB", MemoryParity.MEMORY_MEGABYTES,
                "MEMCACHED_PORT", Integer.toString(Ports.free()),
                "RAFTCACHED_PORT", Integer.toString(Ports.free()),
                "RAFT_PORT", Integer.toString(Ports.free()),
                "RAFTCACHED_JAR", NodeProcess.privateJar().toString(),
                "BENCH_JAR", benchJar.toAbsolutePath().toString(),
                "JVM_CPUS", "2",
                "HINT_COST", "0"), SCRIPT_TIMEOUT);   // the hints' price is a benchmark figure, not a test's
        Map<String, String> memcached = run.results().get("memcached");
        Map<String, String> raftcached = run.results().get("raftcached");
        double memcachedRatio = Double.parseDouble(memcached.get("hitRatio"));
        double raftcachedRatio = Double.parseDouble(raftcached.get("hitRatio"));
        String line = String.format(Locale.ROOT, "zipf hit ratio: memcached %.2f%% (%.0f ops/s), raftcached %.2f%% (%.0f ops/s),"
                + " difference %+.2f points (need within %.0f)", 100 * memcachedRatio, Double.parseDouble(memcached.get("opsPerSec")),
                100 * raftcachedRatio, Double.parseDouble(raftcached.get("opsPerSec")), 100 * (raftcachedRatio - memcachedRatio),
                100 * POINTS_MAX);
        MemoryParity.report(line + "\n" + run.output().strip());

        // Valid only if memory mattered: memcached evicted, and missed well beyond the cold start.
        assertTrue(Long.parseLong(memcached.get("evictions")) > 10_000, "memcached evicted too little: " + line);
        assertTrue(memcachedRatio < 0.9, "memcached's hit ratio is too high for memory to matter: " + line);
        for (Map<String, String> server : java.util.List.of(memcached, raftcached)) {
            double difference = Math.abs(Double.parseDouble(server.get("hitRatio")) - Double.parseDouble(server.get("statsHitRatio")));
            assertTrue(difference <= CLIENT_STATS_DIFFERENCE_MAX, server.get("server") + ": the generator's count and the server's"
                    + " get_hits/get_misses disagree: " + server);
        }
        assertTrue(Math.abs(raftcachedRatio - memcachedRatio) <= POINTS_MAX, line);
    }
}
