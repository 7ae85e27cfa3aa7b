package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.protocol.TextProtocolDecoder;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The client input budget: large data blocks may take all of it but the reserve, which only
 * blocks small enough to be reserved once they have arrived whole may take, so large blocks that
 * stall cannot keep a small writer waiting.
 */
class ByteBudgetTest {
    private static final long LIMIT_BYTES = 8_000_000;
    private static final long RESERVE_BYTES = LIMIT_BYTES / ByteBudget.INPUT_RESERVE_DIVISOR;
    private static final int SMALL_BYTES = TextProtocolDecoder.WHOLE_BLOCK_MAX_BYTES;
    private static final Runnable NO_WAIT = () -> {
        throw new AssertionError("not expected to wait");
    };

    private final ByteBudget budget = ByteBudget.clientInput(LIMIT_BYTES);

    @Test
    void largeBlocksTakeAllButTheReserveAndSmallOnesTheReserveToo() {
        assertTrue(budget.tryReserve(LIMIT_BYTES - RESERVE_BYTES - 100, NO_WAIT));
        assertFalse(budget.tryReserve(SMALL_BYTES + 1, () -> { }), "one byte too large for the reserve");
        for (long left = RESERVE_BYTES + 100; left >= SMALL_BYTES; left -= SMALL_BYTES) {
            assertTrue(budget.tryReserve(SMALL_BYTES, NO_WAIT), left + " bytes left");
        }
        assertFalse(budget.tryReserve(SMALL_BYTES, () -> { }), "the reserve is full too");
    }

    @Test
    void aLargeBlockOverTheLargeLimitIsGrantedWhenNothingIsHeld() {
        assertTrue(budget.tryReserve(LIMIT_BYTES, NO_WAIT), "nothing held: never refused for good");
        budget.release(LIMIT_BYTES);
        assertTrue(budget.tryReserve(1, NO_WAIT));
        assertFalse(budget.tryReserve(LIMIT_BYTES - RESERVE_BYTES, () -> { }));
    }

    @Test
    void aLargeWaiterWokenWhileOnlyTheReserveIsFreeWaitsAgainWithoutWakingItself() {
        assertTrue(budget.tryReserve(LIMIT_BYTES - RESERVE_BYTES, NO_WAIT));
        assertTrue(budget.tryReserve(SMALL_BYTES, NO_WAIT));
        AtomicInteger wakeUps = new AtomicInteger();
        Runnable waiter = wakeUps::incrementAndGet;
        assertFalse(budget.tryReserve(1_000_000, waiter));

        budget.release(SMALL_BYTES);   // below the limit, not below what a large block may take
        assertEquals(1, wakeUps.get(), "every waiter is woken when usage drops below the limit");
        assertFalse(budget.tryReserve(1_000_000, waiter), "as the decoder does, it asks again: no room");
        assertEquals(1, wakeUps.get(), "it waits again, without waking itself into a loop");

        budget.release(LIMIT_BYTES - RESERVE_BYTES);
        assertEquals(2, wakeUps.get());
        assertTrue(budget.tryReserve(1_000_000, NO_WAIT));
    }
}
