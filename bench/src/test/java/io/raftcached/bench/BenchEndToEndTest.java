package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.raftcached.testing.Await;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/** Runs the bench for real against Debian's memcached (skipped if it is not installed). */
@Timeout(30)
class BenchEndToEndTest {

    @BeforeAll
    static void requireMemcached() {
        assumeTrue(MemcachedProcess.isInstalled(),
                "skipping: " + MemcachedProcess.BINARY + " not found (apt-get install memcached)");
    }

    @Test
    void getsAfterPrefillAllHit() throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.start()) {
            BenchCommand.Outcome outcome = run("--servers", memcached.address(), "--threads", "2",
                    "--connections", "4", "--pipeline", "4", "--ratio", "1:0", "--key-space", "2000", "--prefill",
                    "--warmup", "0.3", "--duration", "1.5", "--server-pid", Long.toString(memcached.pid()));

            assertNotNull(outcome.prefill());
            assertEquals(2000, outcome.prefill().stats().sets, "prefill sets every key once");
            assertEquals(2000, memcached.stat("curr_items"));

            WorkerStats s = outcome.run().stats();
            assertTrue(s.gets > 0, "non-zero throughput");
            assertTrue(outcome.run().opsPerSecond(s.ops()) > 0);
            assertEquals(0, s.sets);
            assertEquals(0, s.errors + s.errorsOutsideWindow, () -> String.join("\n", s.errorSamples));
            assertEquals(s.gets, s.hits, "every get after prefill hits");
            assertEquals(0, s.misses);
            assertEquals(s.gets, s.getLatencyMicros.getTotalCount(), "one latency per counted get");
            assertTrue(outcome.run().processCpuNanos() > 0);
            assertTrue(outcome.run().serverCpuNanos() >= 0);
            // Each get wakes a memcached worker thread blocked in epoll: its wake-ups are counted.
            assertTrue(outcome.run().serverWakeups().getOrDefault("mc-worker", 0L) > 0, () -> "" + outcome.run().serverWakeups());

            String json = outcome.report().json();
            assertTrue(json.contains("\"hitRatio\":1,"), json);
            assertTrue(json.contains("\"errors\":0,"), json);
            assertTrue(json.matches("(?s).*\"wakeupsPerOp\":[0-9.]+,\"wakeupsPerOpByThread\":\\{[^}]*\"mc-worker\":.*"), json);
            java.util.regex.Matcher histogram = java.util.regex.Pattern.compile("\"get\":\\{[^}]*\"histogram\":\\[(\\[[0-9,\\[\\]]*)\\]")
                    .matcher(json);
            assertTrue(histogram.find(), json);
            long counted = java.util.Arrays.stream(histogram.group(1).split("\\],?\\[?")).filter(pair -> !pair.isBlank())
                    .mapToLong(pair -> Long.parseLong(pair.replace("[", "").split(",")[1])).sum();
            assertEquals(s.gets, counted, "the get histogram's buckets hold every counted get: " + histogram.group(1));
            String text = outcome.report().text();
            assertTrue(text.contains("hit ratio   100.00% of gets hit (" + s.hits + " hits, 0 misses; client-counted)"), text);
        }
    }

    /**
     * Cache-aside on a Zipf key sequence: every miss is filled by a set of that key, so the only
     * sets are fills, the server stores exactly the keys that were filled, and misses beyond the
     * fills are only those still pending when the request count ran out.
     */
    @Test
    void cacheAsideFillsEveryMissOnZipfKeys() throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.start()) {
            int connections = 4;
            int pipeline = 4;
            BenchCommand.Outcome outcome = run("--servers", memcached.address(), "--threads", "2",
                    "--connections", Integer.toString(connections), "--pipeline", Integer.toString(pipeline),
                    "--ratio", "1:0", "--cache-aside", "--key-pattern", "zipf", "--zipf-exponent", "0.99",
                    "--key-space", "100000", "--requests", "20000", "--warmup", "0", "--duration", "20");
            assertTrue(outcome.run().complete());
            WorkerStats s = outcome.run().stats();
            assertEquals(0, s.errors + s.errorsOutsideWindow, () -> String.join("\n", s.errorSamples));
            assertEquals(s.sets, s.fills, "with ratio 1:0 every set is a fill");
            assertTrue(s.fills <= s.misses && s.misses <= s.fills + connections * pipeline,
                    "misses " + s.misses + ", fills " + s.fills);
            assertEquals(s.fills, memcached.stat("cmd_set"));
            // A key can miss twice while its first fill is in flight, so distinct keys <= fills.
            long stored = memcached.stat("curr_items");
            assertTrue(stored > 1000 && stored <= s.fills, "stored " + stored + ", fills " + s.fills);
            // Zipf's head repeats: far fewer distinct keys than gets, so most gets hit.
            assertTrue(BenchReport.hitRatio(s) > 0.5, "hit ratio " + BenchReport.hitRatio(s));
            String text = outcome.report().text();
            assertTrue(text.contains("(zipf s=0.99)") && text.contains("cache-aside")
                    && text.contains("fills       " + s.fills + " of the sets followed a get miss"), text);
            assertTrue(outcome.report().json().contains("\"cacheAside\":true,"), outcome.report().json());
        }
    }

    @Test
    void mixedLoadIsSpreadOverServersRoundRobin() throws Exception {
        try (MemcachedProcess first = MemcachedProcess.start(); MemcachedProcess second = MemcachedProcess.start()) {
            BenchCommand.Outcome outcome = run("--servers", first.address() + "," + second.address(),
                    "--threads", "2", "--connections", "4", "--pipeline", "8", "--ratio", "1:1",
                    "--key-space", "500", "--value-size", "1000", "--warmup", "0", "--duration", "0.7");
            WorkerStats s = outcome.run().stats();
            assertTrue(s.gets > 0 && s.sets > 0);
            assertEquals(0, s.errors + s.errorsOutsideWindow, () -> String.join("\n", s.errorSamples));
            assertTrue(Math.abs(s.gets - s.sets) <= 4 * 8, "1:1 ratio holds up to what was in flight");
            assertTrue(first.stat("cmd_set") > 0 && second.stat("cmd_set") > 0, "both servers got load");
        }
    }

    @Test
    void requestBoundedRunStopsAtTheCount() throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.start()) {
            BenchCommand.Outcome outcome = run("--servers", memcached.address(), "--threads", "2",
                    "--connections", "3", "--pipeline", "5", "--ratio", "0:1", "--key-pattern", "sequential",
                    "--key-space", "1001", "--requests", "1001", "--warmup", "0", "--duration", "10");
            assertTrue(outcome.run().complete());
            assertEquals(1001, outcome.run().stats().sets);
            assertEquals(1001, memcached.stat("cmd_set"), "no request beyond the count was sent");
            assertEquals(1001, memcached.stat("curr_items"), "sequential pattern covers every key once");
            assertTrue(outcome.run().windowSeconds() < 10);
        }
    }

    @Test
    void serverDyingMidRunFailsTheRun() throws Exception {
        try (MemcachedProcess memcached = MemcachedProcess.start()) {
            AtomicReference<AssertionError> killerFailed = new AtomicReference<>();
            Thread killer = new Thread(() -> {
                try {
                    // Mid-run: once the bench has sent requests, not after a guessed pause.
                    Await.until("the bench to send requests", Duration.ofSeconds(5),
                            () -> memcached.stat("cmd_get") + memcached.stat("cmd_set") > 0);
                    memcached.kill();
                } catch (AssertionError e) {
                    killerFailed.set(e);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            killer.start();
            List<String> err = new ArrayList<>();
            int status = execute(err, "--servers", memcached.address(), "--connections", "2", "--warmup", "0",
                    "--duration", "10");
            killer.join();
            if (killerFailed.get() != null) {
                throw killerFailed.get();
            }
            assertEquals(1, status);
            assertTrue(err.get(0).contains("closed the connection") || err.get(0).contains("reset"), err.get(0));
        }
    }

    private static BenchCommand.Outcome run(String... args) throws Exception {
        BenchCommand command = new BenchCommand();
        new CommandLine(command).parseArgs(args);
        return command.execute();
    }

    static int execute(List<String> errLines, String... args) {
        StringWriter err = new StringWriter();
        CommandLine commandLine = new CommandLine(new BenchCommand());
        commandLine.setOut(new PrintWriter(new StringWriter()));
        commandLine.setErr(new PrintWriter(err));
        int status = commandLine.execute(args);
        errLines.addAll(List.of(err.toString().split("\\R")));
        return status;
    }
}
