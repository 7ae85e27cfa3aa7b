package io.raftcached.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ReadEpochsTest {
    @Test
    void slotsOfThreadsThatEndedAreReusedSoManyShortLivedReadersFit() throws InterruptedException {
        ReadEpochs epochs = new ReadEpochs();
        AtomicInteger sections = new AtomicInteger();
        int threads = ReadEpochs.MAX_READERS * 4;
        for (int i = 0; i < threads; i++) {
            Thread reader = new Thread(() -> {
                ReadEpochs.Reader slot = epochs.reader();
                slot.enter();
                sections.incrementAndGet();
                slot.exit();
            });
            reader.start();
            reader.join();
        }
        assertEquals(threads, sections.get());
        assertTrue(epochs.slotsHandedOut() <= 2, "slots handed out: " + epochs.slotsHandedOut());
    }

    @Test
    void aReaderInItsSectionHoldsBackTheOldestActiveEpoch() {
        ReadEpochs epochs = new ReadEpochs();
        ReadEpochs.Reader reader = epochs.reader();
        reader.enter();
        long entered = epochs.current();
        epochs.advance();
        epochs.advance();
        assertEquals(entered, epochs.oldestActive());
        reader.exit();
        assertEquals(Long.MAX_VALUE, epochs.oldestActive());
    }
}
