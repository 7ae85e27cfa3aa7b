package io.raftcached.testing;

import java.io.IOException;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits for something to become true by polling it, in place of a hand-written deadline loop or a
 * fixed sleep: a fixed sleep is too short on a busy CI machine and too long everywhere else.
 *
 * <pre>{@code
 * Await.until("n1 to serve reads", Duration.ofSeconds(60), () -> "1".equals(n1.stats("raft").get("raft_ready")));
 * NodeProcess leader = Await.value("a leader", Duration.ofSeconds(30), () -> leaderOrNull(nodes), Objects::nonNull);
 * }</pre>
 *
 * <ul>
 *   <li>The probe runs at once, then after pauses that double from {@value #PAUSE_MILLIS_MIN} ms up to
 *       {@value #PAUSE_MILLIS_MAX} ms, so a quick condition is seen quickly and a slow one is not
 *       hammered. It always runs at least once, and once more at the deadline.</li>
 *   <li>An {@link IOException} from the probe means "not yet" (a server that is starting, restarting
 *       or electing refuses or drops connections); it is remembered for the failure message. Any
 *       other exception ends the wait at once and propagates, so a probe stops a hopeless wait by
 *       throwing, say, an {@link AssertionError} when the process it waits for has exited.</li>
 *   <li>On timeout it throws an {@link AssertionError} naming what was awaited, the timeout, the
 *       number of polls, the last value seen (abbreviated) and the last I/O error (also its cause),
 *       followed by the optional diagnostics (say, the end of a node's log), computed only then.</li>
 * </ul>
 */
public final class Await {
    /** The first pause between two polls. */
    public static final long PAUSE_MILLIS_MIN = 5;
    /** The longest pause between two polls. */
    public static final long PAUSE_MILLIS_MAX = 200;
    /** The longest rendering of the last value seen in a failure message. */
    public static final int LAST_SEEN_CHARS_MAX = 2_000;

    /** A condition to poll; an IOException counts as "not yet". */
    @FunctionalInterface
    public interface Condition {
        boolean holds() throws IOException, InterruptedException;
    }

    /** A value to poll; an IOException counts as "not yet". */
    @FunctionalInterface
    public interface Probe<T> {
        T get() throws IOException, InterruptedException;
    }

    private Await() {}

    /** Polls {@code condition} until it holds; fails after {@code timeout}. */
    public static void until(String what, Duration timeout, Condition condition) throws InterruptedException {
        until(what, timeout, condition, () -> "");
    }

    /** Like {@link #until(String, Duration, Condition)}, appending {@code diagnostics} to a failure. */
    public static void until(String what, Duration timeout, Condition condition, Supplier<String> diagnostics)
            throws InterruptedException {
        poll(what, timeout, condition::holds, Boolean.TRUE::equals, diagnostics, false);
    }

    /** Polls {@code probe} until its value satisfies {@code done}, and returns that value; fails after {@code timeout}. */
    public static <T> T value(String what, Duration timeout, Probe<T> probe, Predicate<? super T> done) throws InterruptedException {
        return value(what, timeout, probe, done, () -> "");
    }

    /** Like {@link #value(String, Duration, Probe, Predicate)}, appending {@code diagnostics} to a failure. */
    public static <T> T value(String what, Duration timeout, Probe<T> probe, Predicate<? super T> done, Supplier<String> diagnostics)
            throws InterruptedException {
        return poll(what, timeout, probe, done, diagnostics, true);
    }

    private static <T> T poll(String what, Duration timeout, Probe<T> probe, Predicate<? super T> done, Supplier<String> diagnostics,
            boolean showValue) throws InterruptedException {
        Objects.requireNonNull(what, "what");
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("negative timeout " + timeout + " waiting for " + what);
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long pauseMillis = PAUSE_MILLIS_MIN;
        T last = null;
        boolean seen = false;
        IOException lastError = null;
        int polls = 0;
        while (true) {
            polls++;
            try {
                T value = probe.get();
                if (done.test(value)) {
                    return value;
                }
                last = value;
                seen = true;
            } catch (IOException notYet) {
                lastError = notYet;
            }
            long leftNanos = deadline - System.nanoTime();
            if (leftNanos <= 0) {
                break;
            }
            Thread.sleep(Math.max(1, Math.min(pauseMillis, leftNanos / 1_000_000)));
            pauseMillis = Math.min(PAUSE_MILLIS_MAX, pauseMillis * 2);
        }
        StringBuilder message = new StringBuilder("timed out after ").append(format(timeout)).append(" waiting for ").append(what)
                .append(" (").append(polls).append(polls == 1 ? " poll" : " polls");
        if (showValue && seen) {
            message.append("; last seen: ").append(abbreviate(String.valueOf(last)));
        }
        if (lastError != null) {
            message.append("; last error: ").append(lastError);
        }
        message.append(')').append(diagnostics.get());
        throw new AssertionError(message.toString(), lastError);
    }

    private static String format(Duration timeout) {
        long millis = timeout.toMillis();
        return millis % 1_000 == 0 ? millis / 1_000 + " s" : millis + " ms";
    }

    private static String abbreviate(String text) {
        if (text.length() <= LAST_SEEN_CHARS_MAX) {
            return text;
        }
        return text.substring(0, LAST_SEEN_CHARS_MAX) + "... (" + text.length() + " chars)";
    }
}
