package io.raftcached.raft;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.proto.Command;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class AccessHintsTest {
    private final AccessHints hints = new AccessHints();
    private final List<Command> sent = new ArrayList<>();
    private final List<CompletableFuture<Object>> applied = new ArrayList<>();

    private CompletableFuture<?> send(Command command, long sizeBytes) {
        sent.add(command);
        CompletableFuture<Object> future = new CompletableFuture<>();
        applied.add(future);
        return future;
    }

    private void hint(String key) {
        hints.hint(key.getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void aFlushWithNothingNewWaitsForTheHintsSentBefore() {
        hint("a");
        hint("b");
        CompletableFuture<?> first = hints.flush(true, this::send);
        assertEquals(1, sent.size());
        assertEquals(2, sent.get(0).getHintKeysCount());
        CompletableFuture<?> nothingNew = hints.flush(true, this::send);
        assertEquals(1, sent.size(), "nothing new to send");
        assertFalse(nothingNew.isDone(), "the earlier hints are not applied yet");
        applied.get(0).complete(null);
        assertTrue(first.isDone() && nothingNew.isDone());
    }

    @Test
    void hintsLostOrRefusedDoNotHoldAWalkBack() {
        hint("a");
        hints.flush(true, this::send);
        applied.get(0).completeExceptionally(new IllegalStateException("leader lost"));
        hint("b");
        CompletableFuture<?> refused = hints.flush(true, (command, sizeBytes) -> null);
        assertTrue(refused.isDone(), "a lost hint completes its wait; a refused one sends nothing to wait for");
        assertEquals(1, hints.keysDropped());
        hint("c");
        assertTrue(hints.flush(false, this::send).isDone(), "a cluster without hints discards them");
        assertEquals(1, sent.size());
    }
}
