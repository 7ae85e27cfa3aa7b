package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class AdmissionTest {
    /** A waiter that asks again when woken, as relayed reads do, until it is admitted. */
    private static final class Retrying implements Runnable {
        final Admission admission;
        final long units;
        final AtomicInteger runs = new AtomicInteger();
        boolean admitted;

        Retrying(Admission admission, long units) {
            this.admission = admission;
            this.units = units;
        }

        @Override
        public void run() {
            runs.incrementAndGet();
            if (admission.admits(this)) {
                admission.enter(units);
                admitted = true;
            }
        }
    }

    @Test
    void waitersRunOnceTheUnitsDrainToHalfAndAThingIsAdmittedBelowTheBound() {
        Admission admission = new Admission(10);
        assertTrue(admission.admits(() -> { }));
        admission.enter(10);
        Retrying waiter = new Retrying(admission, 4);
        waiter.run();
        assertFalse(waiter.admitted, "no room at the bound");
        admission.leave(4);
        assertEquals(1, waiter.runs.get(), "6 in progress is above half the bound: not woken");
        admission.leave(2);
        assertTrue(waiter.admitted, "woken at half the bound and admitted");
        assertEquals(8, admission.inProgress());
    }

    @Test
    void aWaiterThatFindsNoRoomWhenWokenWaitsForTheNextLeaveInsteadOfSpinning() {
        Admission admission = new Admission(10);
        admission.enter(10);
        Retrying big = new Retrying(admission, 20);
        Retrying small = new Retrying(admission, 1);
        big.run();
        small.run();
        assertTimeoutPreemptively(Duration.ofSeconds(5), () -> admission.leave(10));
        assertTrue(big.admitted);
        assertFalse(small.admitted, "the big one took the room first");
        assertEquals(2, small.runs.get(), "woken once, then waiting again");
        admission.leave(20);
        assertTrue(small.admitted);
    }
}
