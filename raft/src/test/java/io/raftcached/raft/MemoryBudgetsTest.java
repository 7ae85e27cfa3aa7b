package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The default budgets, with what jraft holds beside them, fit the heap they are derived from with
 * room to spare: the 128 MB and 256 MB heaps the hostile-client suite runs nodes with, and more.
 */
class MemoryBudgetsTest {
    private static final long MEGABYTE = MemoryBudgets.MEGABYTE;
    /** A leader copies each entry once per follower; a follower holds what it receives twice. Two, in a three-node cluster. */
    private static final int COPIES_IN_FLIGHT = 2;

    @ParameterizedTest(name = "-Xmx{0}m")
    @ValueSource(longs = {128, 256, 512, 1024})
    void everythingFullAtOnceStaysUnderSixtyPercentOfTheHeap(long heapMegabytes) {
        long heapBytes = heapMegabytes * MEGABYTE;
        MemoryBudgets budgets = MemoryBudgets.defaultsFor(heapBytes, heapBytes);
        int inflight = JraftOptions.replicatorInflightMessages(budgets.logBytes());
        // jraft lets one request more go than its option says.
        long appendEntriesBytes = COPIES_IN_FLIGHT * (inflight + 1) * JraftOptions.APPEND_ENTRIES_BYTES_MAX;
        long inMemoryLogBytes = JraftOptions.LOG_IN_MEMORY_BUDGETS * budgets.logBytes();
        long heldBytes = budgets.clientInputBytes() + budgets.writeBytes() + budgets.forwardBytes() + inMemoryLogBytes
                + appendEntriesBytes;
        assertTrue(heldBytes <= heapBytes * 6 / 10, "budgets and jraft's copies hold " + heldBytes / MEGABYTE
                + " MB of a " + heapMegabytes + " MB heap (" + inflight + " AppendEntries in flight)");
    }
}
