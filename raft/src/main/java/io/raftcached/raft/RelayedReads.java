package io.raftcached.raft;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Items read on other nodes' replicas ({@link ReplicatedCache#readElsewhere}), for a prefix of the
 * keys asked, in their order. They hold part of the node's budget for relayed reads until closed:
 * close once the items are taken into the reply, which then holds them as it holds any value it
 * writes, so a client slow to read holds none of the budget others wait for.
 */
public final class RelayedReads implements AutoCloseable {
    private final List<RelayedRead> reads;
    private final Runnable release;
    private final AtomicBoolean closed = new AtomicBoolean();

    RelayedReads(List<RelayedRead> reads, Runnable release) {
        this.reads = List.copyOf(reads);
        this.release = release;
    }

    public List<RelayedRead> reads() {
        return reads;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            release.run();
        }
    }
}
