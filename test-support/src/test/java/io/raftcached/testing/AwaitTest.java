package io.raftcached.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AwaitTest {
    @Test
    void returnsOnceTheConditionHolds() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        Await.until("the third poll", Duration.ofSeconds(10), () -> polls.incrementAndGet() == 3);
        assertEquals(3, polls.get());
    }

    @Test
    void returnsTheValueThatSatisfiedThePredicate() throws Exception {
        AtomicInteger counter = new AtomicInteger();
        int value = Await.value("a value over 4", Duration.ofSeconds(10), counter::incrementAndGet, v -> v > 4);
        assertEquals(5, value);
    }

    @Test
    void pollsOnceEvenWithoutTime() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        Await.until("the first poll", Duration.ZERO, () -> polls.incrementAndGet() == 1);
        assertEquals(1, polls.get());
        AssertionError failed = assertThrows(AssertionError.class, () -> Await.until("never", Duration.ZERO, () -> false));
        assertTrue(failed.getMessage().contains("(1 poll)"), failed.getMessage());
    }

    @Test
    void failsAfterTheTimeoutNamingWhatTheTimeoutAndTheLastValue() {
        AtomicInteger counter = new AtomicInteger();
        long started = System.nanoTime();
        AssertionError failed = assertThrows(AssertionError.class,
                () -> Await.value("the counter to reach a million", Duration.ofMillis(300), counter::incrementAndGet, v -> v >= 1_000_000));
        long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertTrue(elapsedMillis >= 300, "gave up after " + elapsedMillis + " ms, before the timeout");
        assertEquals("timed out after 300 ms waiting for the counter to reach a million (" + counter.get() + " polls; last seen: "
                + counter.get() + ")", failed.getMessage());
    }

    @Test
    void formatsWholeSecondsAsSecondsAndLeavesTheValueOutOfUntil() {
        AssertionError failed = assertThrows(AssertionError.class, () -> Await.until("nothing", Duration.ofSeconds(1), () -> false));
        assertTrue(failed.getMessage().startsWith("timed out after 1 s waiting for nothing ("), failed.getMessage());
        assertFalse(failed.getMessage().contains("last seen"), failed.getMessage());
    }

    @Test
    void backsOffBetweenPolls() {
        AtomicInteger polls = new AtomicInteger();
        assertThrows(AssertionError.class, () -> Await.until("nothing", Duration.ofSeconds(1), () -> polls.incrementAndGet() < 0));
        // Pauses of 5, 10, 20, ... 200 ms: about ten polls in a second; without a backoff it would be hundreds.
        assertTrue(polls.get() >= 3 && polls.get() <= 20, polls.get() + " polls in one second");
    }

    @Test
    void anIoExceptionMeansNotYetAndIsReportedWithItsCause() throws Exception {
        AtomicInteger polls = new AtomicInteger();
        String value = Await.value("a server", Duration.ofSeconds(10), () -> {
            if (polls.incrementAndGet() < 3) {
                throw new ConnectException("Connection refused");
            }
            return "VERSION 1.6.18";
        }, reply -> reply.startsWith("VERSION"));
        assertEquals("VERSION 1.6.18", value);

        IOException refused = new ConnectException("Connection refused");
        AssertionError failed = assertThrows(AssertionError.class,
                () -> Await.until("a server that never starts", Duration.ofMillis(50), () -> {
                    throw refused;
                }));
        assertTrue(failed.getMessage().contains("; last error: java.net.ConnectException: Connection refused)"), failed.getMessage());
        assertSame(refused, failed.getCause());
    }

    @Test
    void anyOtherExceptionEndsTheWaitAtOnce() {
        AtomicInteger polls = new AtomicInteger();
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> Await.until("a node that exited", Duration.ofSeconds(10), () -> {
                    polls.incrementAndGet();
                    throw new IllegalStateException("exited with 1");
                }));
        assertEquals("exited with 1", thrown.getMessage());
        assertEquals(1, polls.get());
    }

    @Test
    void diagnosticsAreAppendedToAFailureAndComputedOnlyThen() throws Exception {
        AtomicBoolean asked = new AtomicBoolean();
        Await.until("at once", Duration.ofSeconds(1), () -> true, () -> {
            asked.set(true);
            return "unused";
        });
        assertFalse(asked.get(), "diagnostics computed for a wait that succeeded");
        AssertionError failed = assertThrows(AssertionError.class,
                () -> Await.value("a miss to hit", Duration.ZERO, () -> null, v -> v != null, () -> "\n--- node log ---\nbye"));
        assertEquals("timed out after 0 s waiting for a miss to hit (1 poll; last seen: null)\n--- node log ---\nbye", failed.getMessage());
    }

    @Test
    void abbreviatesALongLastValue() {
        String big = "x".repeat(Await.LAST_SEEN_CHARS_MAX + 500);
        AssertionError failed = assertThrows(AssertionError.class,
                () -> Await.value("a short value", Duration.ZERO, () -> big, String::isEmpty));
        assertTrue(failed.getMessage().endsWith("x... (" + big.length() + " chars))"), failed.getMessage());
        assertTrue(failed.getMessage().length() < Await.LAST_SEEN_CHARS_MAX + 200, "message of " + failed.getMessage().length() + " chars");
    }

    @Test
    void aNegativeTimeoutIsAMistake() {
        assertThrows(IllegalArgumentException.class, () -> Await.until("anything", Duration.ofMillis(-1), () -> true));
    }

    @Test
    void anInterruptEndsTheWait() throws Exception {
        AtomicReference<Throwable> ended = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                Await.until("nothing", Duration.ofSeconds(30), () -> false);
            } catch (Throwable t) {
                ended.set(t);
            }
        });
        waiter.start();
        waiter.interrupt();
        waiter.join(10_000);
        assertFalse(waiter.isAlive(), "the wait outlived its interrupt");
        assertTrue(ended.get() instanceof InterruptedException, String.valueOf(ended.get()));
    }
}
