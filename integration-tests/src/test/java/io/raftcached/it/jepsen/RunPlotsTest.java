package io.raftcached.it.jepsen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.jepsen.History;
import io.raftcached.testing.jepsen.Op;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A run's plots from a history made here: 20 s of operations, slow and partly unknown while a
 * fault lasts; real gnuplot draws both PNGs, and the data files hold every completed operation.
 */
class RunPlotsTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};
    private static final long SECOND_NANOS = 1_000_000_000L;

    @Test
    void latencyAndThroughputArePlottedWithTheFaultsShaded(@TempDir Path directory) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(RunPlots.GNUPLOT), "gnuplot is missing (apt-get install gnuplot-nox)");
        long origin = 1_000 * SECOND_NANOS;
        History history = new History();
        int completed = 0;
        for (int i = 0; i < 2_000; i++) {
            long at = origin + i * 10_000_000L;
            boolean duringFault = at >= origin + 5 * SECOND_NANOS && at < origin + 10 * SECOND_NANOS;
            Op invoke = new Op(i % 8, Op.Type.INVOKE, Op.Fn.SET, "k" + (i % 50), "v" + i, null, null, at, "n1");
            history.add(invoke);
            Op.Type outcome = duringFault && i % 3 == 0 ? Op.Type.INFO : Op.Type.OK;
            history.add(invoke.completedAs(outcome, invoke.value(), null, at + (duringFault ? 800_000_000L : 2_000_000L)));
            completed++;
        }
        history.add(new Op(FaultRun.FINAL_READ_PROCESS_BASE, Op.Type.INVOKE, Op.Fn.GET, "k1", null, null, null, origin, "n1"));

        String report = RunPlots.write(directory, history.events(), origin,
                List.of(new RunPlots.Interval("kill leader", 5.0, 10.0)));

        assertTrue(report.contains("![latency of each operation over time](latency.png)"), report);
        assertTrue(report.contains("![operations completed per second](throughput.png)"), report);
        for (String png : List.of("latency.png", "throughput.png")) {
            byte[] bytes = Files.readAllBytes(directory.resolve(png));
            assertArrayEquals(PNG_MAGIC, Arrays.copyOf(bytes, 4), png + " is a PNG");
            assertTrue(bytes.length > 10_000, png + " has a plot in it: " + bytes.length + " bytes");
        }
        List<String> latency = Files.readAllLines(directory.resolve("latency.tsv"), StandardCharsets.UTF_8);
        assertEquals(completed + 1, latency.size(), "a header and every completed workload operation, no final read");
        assertTrue(latency.contains("5.810\t800.000\tINFO\tSET"), "an operation of the fault, slow and unknown");
        long throughputTotal = Files.readAllLines(directory.resolve("throughput.tsv"), StandardCharsets.UTF_8).stream().skip(1)
                .mapToLong(line -> Arrays.stream(line.split("\t")).skip(1).mapToLong(Long::parseLong).sum()).sum();
        assertEquals(completed, throughputTotal, "each completion counted in its second");
        assertTrue(Files.readString(directory.resolve("plots.gp")).contains("rect from 5.000, graph 0 to 10.000, graph 1"),
                "the fault is shaded");
    }
}
