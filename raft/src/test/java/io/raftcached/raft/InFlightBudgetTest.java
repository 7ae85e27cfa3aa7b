package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** The leader's log budget: bytes and entries bounded, proposers served in order, never stuck. */
class InFlightBudgetTest {
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(10);
    private static final long SHORT_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    @Test
    void takesRoomUntilTheBytesAreHeldThenWaitsForARelease() throws Exception {
        InFlightBudget budget = new InFlightBudget(100, 10);
        assertTrue(budget.acquire(60, SHORT_NANOS, () -> true));
        assertTrue(budget.acquire(40, SHORT_NANOS, () -> true));
        assertEquals(100, budget.heldBytes());
        assertFalse(budget.acquire(1, SHORT_NANOS, () -> true), "a full budget gives up at the deadline");
        assertEquals(100, budget.heldBytes(), "giving up holds nothing");

        Thread releaser = new Thread(() -> {
            sleepMillis(50);
            budget.release(60);
        });
        releaser.start();
        assertTrue(budget.acquire(50, WAIT_NANOS, () -> true), "room comes back when an entry is released");
        releaser.join();
        assertEquals(90, budget.heldBytes());
    }

    @Test
    void boundsTheNumberOfEntriesToo() throws Exception {
        InFlightBudget budget = new InFlightBudget(1_000, 2);
        assertTrue(budget.acquire(1, SHORT_NANOS, () -> true));
        assertTrue(budget.acquire(1, SHORT_NANOS, () -> true));
        assertFalse(budget.acquire(1, SHORT_NANOS, () -> true), "two entries of one byte fill a budget of two entries");
    }

    @Test
    void anEntryLargerThanTheBudgetGoesAloneOnceNothingIsHeld() throws Exception {
        InFlightBudget budget = new InFlightBudget(100, 10);
        assertTrue(budget.acquire(10, SHORT_NANOS, () -> true));
        assertFalse(budget.acquire(500, SHORT_NANOS, () -> true), "not beside another entry");
        budget.release(10);
        assertTrue(budget.acquire(500, SHORT_NANOS, () -> true), "alone: never refused for its size");
        assertFalse(budget.acquire(1, SHORT_NANOS, () -> true), "and nothing beside it");
    }

    @Test
    void aProposerThatNoLongerWantsToProposeStopsWaiting() throws Exception {
        InFlightBudget budget = new InFlightBudget(10, 10);
        assertTrue(budget.acquire(10, SHORT_NANOS, () -> true));
        AtomicBoolean leading = new AtomicBoolean(true);
        Thread stepDown = new Thread(() -> {
            sleepMillis(50);
            leading.set(false);
        });
        stepDown.start();
        long started = System.nanoTime();
        assertFalse(budget.acquire(5, WAIT_NANOS, leading::get));
        stepDown.join();
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "gave up soon after it stopped leading");
    }

    /**
     * {@code stillWanted} asks jraft who leads; a forwarded batch's answer releases room on bolt's
     * I/O thread, which must not wait on a sender that waits on jraft.
     */
    @Test
    void asksWhetherStillWantedWithoutItsLock() throws Exception {
        InFlightBudget budget = new InFlightBudget(10, 10);
        assertTrue(budget.acquire(10, SHORT_NANOS, () -> true));
        AtomicBoolean asked = new AtomicBoolean();
        AtomicBoolean releasedMeanwhile = new AtomicBoolean();
        assertTrue(budget.acquire(10, WAIT_NANOS, () -> {
            if (asked.compareAndSet(false, true)) {
                releasedMeanwhile.set(WriteStreamLockTest.finishesWithin(() -> budget.release(10)));
            }
            return true;
        }), "room came back");
        assertTrue(asked.get(), "the waiting sender asked whether it still wants to send");
        assertTrue(releasedMeanwhile.get(), "a release while the sender asked waited for the answer");
    }

    /**
     * A small entry asked for after a large one that waits does not pass it: otherwise a stream of
     * small forwarded batches could keep a large local one waiting for ever.
     */
    @Test
    void waitersAreServedInTheOrderTheyAsked() throws Exception {
        InFlightBudget budget = new InFlightBudget(100, 10);
        assertTrue(budget.acquire(90, SHORT_NANOS, () -> true));
        List<String> order = new CopyOnWriteArrayList<>();
        CountDownLatch largeWaits = new CountDownLatch(1);
        Thread large = new Thread(() -> {
            largeWaits.countDown();
            if (acquire(budget, 80)) {
                order.add("large");
            }
        });
        large.start();
        largeWaits.await();
        sleepMillis(50);   // the large one is in line first
        Thread small = new Thread(() -> {
            if (acquire(budget, 5)) {
                order.add("small");
            }
        });
        small.start();
        sleepMillis(100);
        assertEquals(List.of(), order, "the small entry would fit, but waits behind the large one");
        budget.release(90);
        large.join();
        small.join();
        // Once the release makes room for both, either thread may record first.
        assertEquals(Set.of("large", "small"), Set.copyOf(order));
        assertEquals(85, budget.heldBytes());
    }

    private static boolean acquire(InFlightBudget budget, long sizeBytes) {
        try {
            return budget.acquire(sizeBytes, WAIT_NANOS, () -> true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static void sleepMillis(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
