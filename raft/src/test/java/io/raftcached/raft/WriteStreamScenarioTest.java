package io.raftcached.raft;

import io.raftcached.testing.DataDriven;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * This node's write stream driven step by step from scenario files ({@code
 * testdata/write-stream/*.txt}) against a scripted leader and the real replica core, on a test
 * clock ({@link WriteStreamHarness}): batches may be lost, resent, refused ahead of a gap or
 * applied through a snapshot, and every write must still apply exactly once and in order. Each
 * write increments one counter, so its result is its place in the log. Regenerate expected output
 * with {@code -Drewrite=true} and review the diff.
 *
 * <pre>
 * submit [n=N] [padding=BYTES]    N writes (incr of the counter, padded to a size)
 * admit [size=BYTES]              would the stream admit a write of this size now?
 * pump                            one round of the sender
 * drop [n=N]                      the leader loses the next N batches sent to it
 * forget [n=N]                    the leader forgets the oldest N batches it appended (a deposed
 *                                 leader's uncommitted entries), without telling the sender
 * leader route=none|local|forwarded   no leader known, this node leads, another node leads
 *                                 (forwarded when the scenario starts)
 * commit                          the leader applies what it was sent, here and on itself
 * resend-last                     the last batch reaches the leader a second time
 * hold [n=N]                      the oldest N batches appended are delayed on their way
 * release                         the delayed batches reach the log, after everything since
 * snapshot-catchup                the leader applies; this node installs its snapshot
 * advance ms=N                    the clock moves
 * state                           pending writes and bytes, abandoned streams, the counter
 * close                           the node stops: unapplied writes fail, batches in the log still apply
 * </pre>
 * After every directive the events it caused are printed: batches sent, lost, applied, refused,
 * then the writes completed, in write order.
 */
class WriteStreamScenarioTest {
    private static final Path TESTDATA = Path.of("src/test/resources/testdata/write-stream");

    @TestFactory
    Stream<DynamicTest> scenarios() throws IOException {
        return DataDriven.scenarioFiles(TESTDATA).stream().map(file -> DynamicTest.dynamicTest(file.getFileName().toString(), () -> {
            try (WriteStreamHarness harness = new WriteStreamHarness()) {
                DataDriven.run(file, test -> handle(harness, test));
            }
        }));
    }

    private static String handle(WriteStreamHarness harness, DataDriven.TestCase test) {
        List<String> output = new ArrayList<>();
        switch (test.command()) {
            case "submit" -> {
                int count = test.intArg("n", 1);
                for (int i = 0; i < count; i++) {
                    harness.submit(WriteStreamHarness.incr(test.intArg("padding", 0)));
                }
            }
            case "admit" -> output.add(harness.stream().admits(test.longArg("size"),
                    () -> harness.note("room again for the write refused at line " + test.line())) ? "admitted" : "wait");
            case "pump" -> harness.stream().pump();
            case "drop" -> harness.leader().dropNext = test.intArg("n", 1);
            case "forget" -> harness.leader().forget(test.intArg("n", 1));
            case "leader" -> harness.leader().route = WriteStream.Route.valueOf(test.stringArg("route").toUpperCase(java.util.Locale.ROOT));
            case "commit" -> harness.commitAll();
            case "resend-last" -> harness.leader().resendLast();
            case "hold" -> harness.leader().hold(test.intArg("n", 1));
            case "release" -> harness.leader().release();
            case "snapshot-catchup" -> {
                try {
                    harness.commitOnLeaderOnlyThenInstallSnapshot();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            case "advance" -> harness.advanceMillis(test.longArg("ms"));
            case "close" -> harness.stream().close();
            case "state" -> output.add("pending=" + harness.stream().pendingWrites() + " abandoned_streams="
                    + harness.stream().abandonedStreams() + " counter=" + harness.counter());
            default -> throw new IllegalArgumentException(test.position() + ": unknown directive " + test.command());
        }
        output.addAll(harness.drainEvents());
        return output.isEmpty() ? "ok" : String.join("\n", output);
    }
}
