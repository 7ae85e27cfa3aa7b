package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The write stream asks who leads without holding its lock: the answer comes from under jraft's
 * node lock, and a forwarded batch's failure takes the stream's lock on bolt's I/O thread, which
 * must never wait on a thread that waits on jraft ({@link InFlightBudget#acquire} says why).
 */
class WriteStreamLockTest {
    private static final long JOIN_MILLIS = 2_000;

    @Test
    void asksWhoLeadsWithoutItsLock() {
        AtomicReference<WriteStream> stream = new AtomicReference<>();
        AtomicBoolean asked = new AtomicBoolean();
        AtomicBoolean failureTookTheLock = new AtomicBoolean();
        WriteStream.Transport transport = new WriteStream.Transport() {
            @Override
            public WriteStream.Route route() {
                if (asked.compareAndSet(false, true)) {
                    // As a forwarded batch's failure does on bolt's I/O thread while jraft answers slowly.
                    failureTookTheLock.set(finishesWithin(() -> stream.get().requestResend(0)));
                }
                return WriteStream.Route.FORWARDED;
            }

            @Override
            public void send(byte[] batch, Runnable onFailure) {
            }
        };
        stream.set(new WriteStream(1, 1, 5_000, 64 * 1024, transport, System::nanoTime));
        stream.get().pump();
        assertTrue(asked.get(), "the stream asked who leads");
        assertTrue(failureTookTheLock.get(), "a failure reported while the stream asked who leads waited for the answer");
    }

    /** Runs {@code task} on another thread; true if it ended within {@link #JOIN_MILLIS}. */
    static boolean finishesWithin(Runnable task) {
        Thread thread = new Thread(task, "lock-probe");
        thread.setDaemon(true);
        thread.start();
        try {
            thread.join(JOIN_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return !thread.isAlive();
    }
}
