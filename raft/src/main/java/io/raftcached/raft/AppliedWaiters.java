package io.raftcached.raft;

import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;

/** Futures that complete once the local state machine has applied up to a log index. */
final class AppliedWaiters {
    private record Waiter(long index, CompletableFuture<Void> future) {}

    private final PriorityQueue<Waiter> waiting = new PriorityQueue<>((a, b) -> Long.compare(a.index, b.index));
    private long applied;

    synchronized CompletableFuture<Void> await(long index) {
        if (index <= applied) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> future = new CompletableFuture<>();
        waiting.add(new Waiter(index, future));
        return future;
    }

    void advance(long appliedIndex) {
        PriorityQueue<Waiter> ready = null;
        synchronized (this) {
            applied = Math.max(applied, appliedIndex);
            while (!waiting.isEmpty() && waiting.peek().index <= applied) {
                if (ready == null) {
                    ready = new PriorityQueue<>(waiting.comparator());
                }
                ready.add(waiting.poll());
            }
        }
        if (ready != null) {
            ready.forEach(waiter -> waiter.future.complete(null));
        }
    }
}
