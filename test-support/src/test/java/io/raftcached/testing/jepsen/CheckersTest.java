package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckersTest {
    private static final Map<String, String> SAME_DIGESTS = Map.of("n1", "42:ab", "n2", "42:ab", "n3", "42:ab");

    /** The recorded histories under resources/jepsen, each saying in its header its mode and which checkers must fail. */
    private static List<Path> recordedHistories() throws IOException, URISyntaxException {
        Path directory = Path.of(CheckersTest.class.getResource("/jepsen").toURI());
        try (Stream<Path> files = Files.list(directory)) {
            return files.filter(f -> f.toString().endsWith(".history")).sorted().toList();
        }
    }

    private static String header(Path file, String name) throws IOException {
        for (String line : Files.readAllLines(file)) {
            if (line.startsWith("# " + name + ":")) {
                return line.substring(name.length() + 3).strip();
            }
        }
        throw new IllegalStateException(file + " has no '# " + name + ":' line");
    }

    @Test
    void everyRecordedHistoryGetsExactlyItsVerdicts() throws Exception {
        List<Path> files = recordedHistories();
        assertTrue(files.size() >= 7, files.toString());
        for (Path file : files) {
            boolean linearizable = switch (header(file, "mode")) {
                case "linearizable" -> true;
                case "local" -> false;
                default -> throw new IllegalStateException(file + ": mode must be linearizable or local");
            };
            Set<String> invalid = new HashSet<>();
            for (String name : header(file, "invalid").split(",")) {
                if (!name.isBlank()) {
                    invalid.add(name.strip());
                }
            }
            List<CheckResult> results = Checkers.all(History.read(file), CheckSetup.of(linearizable).withDigests(SAME_DIGESTS));
            String report = file.getFileName() + "\n" + CheckReport.text(results);
            assertEquals(5, results.size(), report);
            for (CheckResult result : results) {
                if (invalid.remove(result.checker())) {
                    assertFalse(result.valid(), report);
                    assertFalse(result.isGaveUp(), report);
                    assertFalse(result.counterexample().isEmpty(), report);
                    assertTrue(result.counterexample().size() <= 8, report);
                } else {
                    assertTrue(result.valid(), report);
                }
            }
            assertTrue(invalid.isEmpty(), file + " names checkers that do not exist: " + invalid);
            assertEquals(files.indexOf(file) >= 0, true);
        }
    }

    @Test
    void randomValidHistoriesPassEveryCheckerInBothModes() {
        for (boolean local : new boolean[] {false, true}) {
            History history = RandomHistories.generate(3, new RandomHistories.Options(10, 4, 2, 5_000, 0.03, local, 3, 0.33));
            long cpu = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
            List<CheckResult> results = Checkers.all(history, CheckSetup.of(!local, List.of("r0", "r1", "r2", "r3"), List.of("c0", "c1"),
                    SAME_DIGESTS));
            long millis = TimeUnit.NANOSECONDS.toMillis(java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - cpu);
            assertTrue(Checkers.allValid(results), CheckReport.text(results));
            assertTrue(millis < 2_000, "all checkers took " + millis + " ms of CPU");
        }
    }

    @Test
    void theReportListsVerdictsExplanationsAndCounterexamples() throws Exception {
        Path stale = recordedHistories().stream().filter(f -> f.endsWith("stale-read.history")).findFirst().orElseThrow();
        List<CheckResult> results = Checkers.all(History.read(stale), CheckSetup.of(true).withDigests(Map.of("n1", "1:a", "n2", "1:b")));
        String text = CheckReport.text(results);
        assertTrue(text.startsWith("checkers: 3 of 5 valid — FAILED\n"), text);
        assertTrue(text.contains("[INVALID] linearizability: key r0 is not linearizable"), text);
        assertTrue(text.contains("counterexample (4 events):"), text);
        assertTrue(text.contains("2 OK GET r0 value=p1-1"), text);
        assertTrue(text.contains("[ok]      local-reads:"), text);
        assertTrue(text.contains("[INVALID] convergence: "), text);
        assertFalse(Checkers.allValid(results));
    }

    @Test
    void aMalformedHistoryIsNotJudged() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        h.ok(a).ok(a);
        List<CheckResult> results = Checkers.all(h.history(), CheckSetup.of(true));
        assertEquals(4, results.size());
        assertTrue(results.stream().allMatch(CheckResult::isGaveUp), CheckReport.text(results));
        assertTrue(CheckReport.text(results).contains("[GAVE UP]"));
    }

    @Test
    void historiesSurviveTheFileFormat(@TempDir Path directory) throws IOException {
        History history = RandomHistories.generate(9, new RandomHistories.Options(4, 2, 1, 300, 0.1, true, 3));
        Path file = directory.resolve("h.history");
        history.write(file);
        assertEquals(history.events(), History.read(file).events());
        List<Op> events = new ArrayList<>(History.read(file).events());
        assertEquals(Checkers.all(history, CheckSetup.of(false)), Checkers.all(History.read(file), CheckSetup.of(false)));
        assertFalse(events.isEmpty());
    }
}
