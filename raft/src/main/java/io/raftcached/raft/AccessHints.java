package io.raftcached.raft;

import com.google.protobuf.ByteString;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.store.LocalReads;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;

/**
 * Carries the reads this node served to the replicated LRU. Readers report an item the LRU has
 * not heard of yet ({@link io.raftcached.store.LocalReads.HintSink}: at most one per item per
 * step of memcached's FETCHED/ACTIVE marks); every {@link #FLUSH_PERIOD_MILLIS} the keys go out
 * as one access-hints write, which every replica applies like memcached's get. What it costs
 * is bounded: at most {@link #BUFFER_BYTES_MAX} of keys per period leave a node, a hint is at
 * most a period plus a commit old when it applies, and keys beyond the buffer are dropped and
 * counted (memcached's {@code lru_bumps_dropped}, whose bump buffer drops the same way).
 */
final class AccessHints implements LocalReads.HintSink {
    static final long FLUSH_PERIOD_MILLIS = 100;
    /** Key bytes one flush carries: bounds hint traffic to 640 KB/s per node at the very most. */
    static final int BUFFER_BYTES_MAX = 64 * 1024;
    /** Per-key overhead in the command, counted against the buffer so tiny keys are bounded too. */
    private static final int KEY_OVERHEAD_BYTES = 3;

    /** Sends one access-hints command through the node's write path, if it admits one now. */
    interface Sender {
        /** Null when the write path has no room: the hints are dropped. */
        CompletableFuture<?> send(Command hints, long sizeBytes);
    }

    private final Object lock = new Object();
    private List<ByteString> keys = new ArrayList<>();
    private int bytes;
    private final LongAdder keysSent = new LongAdder();
    private final LongAdder bytesSent = new LongAdder();
    private final LongAdder writesSent = new LongAdder();
    private final LongAdder keysDropped = new LongAdder();
    /** Applied when the last hints sent are; the write stream applies them in the order sent. */
    private CompletableFuture<?> lastSent = CompletableFuture.completedFuture(null);

    @Override
    public void hint(byte[] key) {
        int size = key.length + KEY_OVERHEAD_BYTES;
        synchronized (lock) {
            if (bytes + size > BUFFER_BYTES_MAX) {
                keysDropped.increment();
                return;
            }
            keys.add(ByteString.copyFrom(key));
            bytes += size;
        }
    }

    /**
     * Sends what was collected since the last flush; the duty thread calls it every period, and a
     * walk of the replica first, so that it sees the reads sent before it. {@code enabled} false
     * (a cluster older than hints) discards the keys instead. Returns what completes once every
     * hint sent so far is applied (or lost: a hint lost in a failover is harmless, the item is
     * hinted again after its next move).
     */
    CompletableFuture<?> flush(boolean enabled, Sender sender) {
        synchronized (lock) {   // take and send as one, so the returned future covers every earlier flush
            if (keys.isEmpty() || !enabled) {
                keys.clear();
                bytes = 0;
                return lastSent;
            }
            Command hints = Command.newBuilder().setOp(Op.ACCESS_HINTS).addAllHintKeys(keys).build();
            CompletableFuture<?> sent = sender.send(hints, hints.getSerializedSize());
            if (sent == null) {
                keysDropped.add(keys.size());
            } else {
                writesSent.increment();
                keysSent.add(keys.size());
                bytesSent.add(bytes);
                lastSent = sent.exceptionally(failure -> null);
            }
            keys = new ArrayList<>();
            bytes = 0;
            return lastSent;
        }
    }

    long keysSent() {
        return keysSent.sum();
    }

    long bytesSent() {
        return bytesSent.sum();
    }

    long writesSent() {
        return writesSent.sum();
    }

    long keysDropped() {
        return keysDropped.sum();
    }
}
