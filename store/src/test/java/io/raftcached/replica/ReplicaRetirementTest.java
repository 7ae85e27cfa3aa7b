package io.raftcached.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.testing.MemoryImage;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;

/**
 * A store replaced by a snapshot install may be freed only when no reader can still hold it: a
 * reader that entered before the swap keeps it alive however long it takes; readers that enter
 * after see the new store and hold nothing back.
 */
class ReplicaRetirementTest {
    @Test
    void aReplacedStoreStaysReadableUntilItsLastReaderLeaves() throws Exception {
        StoreConfig shape = StoreConfig.withMemory(2L * StoreConfig.MEGABYTE);
        try (Replica donor = new Replica(shape, 1, 9, 9); Replica replica = new Replica(shape, 2, 1, 1)) {
            assertTrue(replica.retiredStoreUnread(), "nothing retired yet");
            CountDownLatch inside = new CountDownLatch(1);
            CountDownLatch leave = new CountDownLatch(1);
            Thread reader = new Thread(() -> holdSection(replica, inside, leave));
            reader.start();
            inside.await();
            Store replaced = restoreFrom(donor, replica);
            assertFalse(replica.retiredStoreUnread(), "a reader that entered before the swap may still hold the old store");
            Store.ReadOutcome afterSwap = replica.read("k".getBytes(StandardCharsets.US_ASCII), 0, Store.Lookup.live(false), item -> { });
            assertEquals(Store.ReadOutcome.MISS, afterSwap);
            assertFalse(replica.retiredStoreUnread(), "a reader entering after the swap changes nothing for the old one");
            leave.countDown();
            reader.join();
            assertTrue(replica.retiredStoreUnread(), "once the last old reader left, the old store may be freed");
            replaced.close();
        }
    }

    /** Enters a read section of the replica's epochs (as a read does) and stays until told to leave. */
    private static void holdSection(Replica replica, CountDownLatch inside, CountDownLatch leave) {
        replica.store().epochs().reader().enter();
        try {
            inside.countDown();
            leave.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            replica.store().epochs().reader().exit();
        }
    }

    private static Store restoreFrom(Replica donor, Replica replica) throws Exception {
        MemoryImage pages = new MemoryImage();
        Replica.Snapshot snapshot = donor.beginSnapshot(pages::write);
        snapshot.store().writePages();
        snapshot.store().close();
        return replica.restore(1, snapshot.store().header(),
                pages::readPage, snapshot.machine());
    }
}
