package io.raftcached.node;

import io.raftcached.protocol.DataBlockBudget;
import io.raftcached.protocol.TextProtocolDecoder;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bytes held node-wide on one path (client input, client output), with a limit. A holder that is
 * refused waits: its callback runs once memory was released, and it asks again. A request larger
 * than its whole limit is granted when nothing else is held, so it is never refused for good.
 * Waiters are all woken whenever usage is below the limit and race for the room like newcomers,
 * so none is starved by a steady stream of new holders. Thread-safe; callbacks run on the
 * releasing thread.
 *
 * <p>Optionally the last {@code reserveBytes} of the limit are kept for requests of at most
 * {@code smallBytesMax}: larger ones are refused past {@code limitBytes - reserveBytes}. The client
 * input budget keeps its reserve for data blocks small enough to be reserved only once all of them
 * has arrived ({@link TextProtocolDecoder#WHOLE_BLOCK_MAX_BYTES}): such a block never holds memory
 * while its sender stalls, so the reserve always drains, and large blocks that do stall cannot
 * keep small writers waiting.
 */
final class ByteBudget implements DataBlockBudget {
    /** The client input budget keeps this fraction (1/n) for small data blocks. */
    static final int INPUT_RESERVE_DIVISOR = 8;

    private final String name;
    private final long limitBytes;
    private final long reserveBytes;
    private final long smallBytesMax;
    private final AtomicLong usedBytes = new AtomicLong();
    private final ConcurrentLinkedQueue<Runnable> waiters = new ConcurrentLinkedQueue<>();

    ByteBudget(String name, long limitBytes) {
        this(name, limitBytes, 0, 0);
    }

    /**
     * The node's client input budget: data blocks larger than {@link TextProtocolDecoder#WHOLE_BLOCK_MAX_BYTES}
     * may take all but its last {@link #INPUT_RESERVE_DIVISOR}th, which is kept for smaller ones.
     */
    static ByteBudget clientInput(long limitBytes) {
        return new ByteBudget("client input", limitBytes, inputReserveBytes(limitBytes), TextProtocolDecoder.WHOLE_BLOCK_MAX_BYTES);
    }

    /** The part of a client input budget of {@code limitBytes} kept for small data blocks. */
    static long inputReserveBytes(long limitBytes) {
        return limitBytes / INPUT_RESERVE_DIVISOR;
    }

    /** A budget whose last {@code reserveBytes} only requests of at most {@code smallBytesMax} may take. */
    private ByteBudget(String name, long limitBytes, long reserveBytes, long smallBytesMax) {
        if (reserveBytes < 0 || reserveBytes > limitBytes) {
            throw new IllegalArgumentException(name + ": reserve of " + reserveBytes + " bytes out of a limit of " + limitBytes);
        }
        this.name = name;
        this.limitBytes = limitBytes;
        this.reserveBytes = reserveBytes;
        this.smallBytesMax = smallBytesMax;
    }

    @Override
    public boolean tryReserve(long sizeBytes, Runnable onAvailable) {
        if (reserve(sizeBytes)) {
            return true;
        }
        waiters.add(onAvailable);
        // What was held may have been released between the refusal and the add: wake ourselves.
        long used = usedBytes.get();
        if (used == 0 || used + sizeBytes <= limitFor(sizeBytes)) {
            wakeAll();
        }
        return false;
    }

    /** The usage a request of this size may bring the budget to: the whole limit only for small ones. */
    private long limitFor(long sizeBytes) {
        return sizeBytes <= smallBytesMax ? limitBytes : limitBytes - reserveBytes;
    }

    private boolean reserve(long sizeBytes) {
        long limit = limitFor(sizeBytes);
        while (true) {
            long used = usedBytes.get();
            if (used > 0 && used + sizeBytes > limit) {
                return false;
            }
            if (usedBytes.compareAndSet(used, used + sizeBytes)) {
                return true;
            }
        }
    }

    /** Counts bytes that are held whatever the limit says (they exist already). */
    void add(long sizeBytes) {
        usedBytes.addAndGet(sizeBytes);
    }

    @Override
    public void release(long sizeBytes) {
        if (sizeBytes == 0) {
            return;
        }
        long used = usedBytes.addAndGet(-sizeBytes);
        assert used >= 0 : name + " budget released more than it held";
        if (used < limitBytes && !waiters.isEmpty()) {
            wakeAll();
        }
    }

    /** Whether a holder may take more now (it is asked again through {@code onAvailable} if not). */
    boolean hasRoom(Runnable onAvailable) {
        if (usedBytes.get() < limitBytes) {
            return true;
        }
        waiters.add(onAvailable);
        if (usedBytes.get() < limitBytes) {
            wakeAll();
        }
        return false;
    }

    private void wakeAll() {
        for (Runnable waiter = waiters.poll(); waiter != null; waiter = waiters.poll()) {
            waiter.run();
        }
    }

    long usedBytes() {
        return usedBytes.get();
    }

    long limitBytes() {
        return limitBytes;
    }

    @Override
    public String toString() {
        return name + " " + usedBytes.get() + "/" + limitBytes + " bytes";
    }
}
