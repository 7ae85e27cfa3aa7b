package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Two replicas in separate JVMs — different hash seeds, reader seeds and local clock offsets —
 * apply the same command stream and must end with the same digest over all replicated state.
 */
class DeterminismTest {
    private static final long TIMEOUT_SECONDS = 120;

    @Test
    void separateJvmsWithDifferentLocalSeedsAndClocksAgree() throws Exception {
        String first = runReplica(7, 1, 100, -45_000);
        String second = runReplica(7, 987_654_321, 555, 90_000);
        String other = runReplica(8, 1, 100, -45_000);
        assertTrue(first.startsWith("digest "), first);
        assertTrue(!first.contains("evictions 0 "), "the workload must evict: " + first);
        assertTrue(!first.endsWith("slabs_moved 0"), "the workload must move slab pages: " + first);
        assertEquals(first, second);
        assertNotEquals(digestOf(first), digestOf(other), "a different command stream must give a different digest");
    }

    private static String digestOf(String line) {
        return line.split(" ")[1];
    }

    private static String runReplica(long commandSeed, long hashSeed, long readerSeed, long clockOffsetMillis)
            throws IOException, InterruptedException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process process = new ProcessBuilder(List.of(java, "-Xmx256m", "-XX:ActiveProcessorCount=2", "-ea",
                "-cp", System.getProperty("java.class.path"), DeterminismWorkload.class.getName(),
                Long.toString(commandSeed), Long.toString(hashSeed), Long.toString(readerSeed), Long.toString(clockOffsetMillis)))
                .redirectErrorStream(true).start();
        try {
            assertTrue(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "replica did not finish in time");
            String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            assertEquals(0, process.exitValue(), output);
            String[] lines = output.split("\n");
            return lines[lines.length - 1];
        } finally {
            process.destroyForcibly();
        }
    }
}
