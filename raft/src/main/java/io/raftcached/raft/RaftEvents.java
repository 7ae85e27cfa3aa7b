package io.raftcached.raft;

/**
 * This node's Raft events as one-line texts ({@code type=<event> key=value ...}), for the node's
 * {@code watch raft} stream: leader changes, membership changes, snapshots, learner promotion and
 * writes this node forwarded that were given up. Emitted on jraft's and the node's threads at the
 * adapter's edges, never from the replica's apply, so watching changes nothing replicated. The
 * sink must not block; until one is set, events go nowhere.
 */
public final class RaftEvents {
    /** Receives events; called on jraft's threads, so it must return at once. */
    @FunctionalInterface
    public interface Sink {
        void event(String line);
    }

    private volatile Sink sink = line -> { };

    /** Sends this node's events to {@code sink} from now on. */
    public void watch(Sink sink) {
        this.sink = sink;
    }

    void emit(String line) {
        sink.event(line);
    }
}
