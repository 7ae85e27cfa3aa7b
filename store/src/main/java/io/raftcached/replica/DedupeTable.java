package io.raftcached.replica;

import io.raftcached.proto.CompactResult;
import io.raftcached.proto.WriterId;
import io.raftcached.proto.WriterState;
import io.raftcached.store.StoreResult;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Replicated exactly-once bookkeeping (Raft dissertation §6.3): per writer stream, the last seq
 * applied and the results of the most recent seqs. A retried write finds its first result here
 * instead of being applied twice; a write that arrives ahead of its predecessors is refused so a
 * stream applies strictly in the order its node sent it. Bounded in writers and results per
 * writer, both evicted deterministically (least recently used writer first).
 */
final class DedupeTable {
    /** Results kept per writer; a node never has more writes of one stream in flight. */
    static final int RESULTS_PER_WRITER = 8192;
    static final int WRITERS_MAX = 64;

    enum Verdict { APPLY, DUPLICATE, GAP }

    record Key(int nodeId, long incarnation, long stream) {
        static Key of(WriterId writer) {
            return new Key(writer.getNodeId(), writer.getIncarnation(), writer.getStream());
        }

        WriterId toProto() {
            return WriterId.newBuilder().setNodeId(nodeId).setIncarnation(incarnation).setStream(stream).build();
        }
    }

    private static final class Writer {
        long lastSeq;
        // Ring of results for seqs lastSeq - size + 1 .. lastSeq.
        long[] status = new long[16];
        long[] cas = new long[16];
        long[] number = new long[16];
        int size;

        void record(long seq, StoreResult result) {
            assert seq == lastSeq + 1;
            if (size == status.length && size < RESULTS_PER_WRITER) {
                grow();
            }
            int slot = (int) (seq % status.length);
            status[slot] = result.status.ordinal();
            cas[slot] = result.cas;
            number[slot] = result.number;
            size = Math.min(size + 1, status.length);
            lastSeq = seq;
        }

        private void grow() {
            int capacity = Math.min(status.length * 2, RESULTS_PER_WRITER);
            long[] s = new long[capacity];
            long[] c = new long[capacity];
            long[] n = new long[capacity];
            for (long seq = lastSeq - size + 1; seq <= lastSeq; seq++) {
                s[(int) (seq % capacity)] = status[(int) (seq % status.length)];
                c[(int) (seq % capacity)] = cas[(int) (seq % status.length)];
                n[(int) (seq % capacity)] = number[(int) (seq % status.length)];
            }
            status = s;
            cas = c;
            number = n;
        }

        /** The first result of an already applied seq, or null once it has left the window. */
        StoreResult resultOf(long seq) {
            if (seq > lastSeq || seq <= lastSeq - size) {
                return null;
            }
            int slot = (int) (seq % status.length);
            StoreResult result = new StoreResult(StoreResult.Status.values()[(int) status[slot]]);
            result.cas = cas[slot];
            result.number = number[slot];
            return result;
        }
    }

    // Insertion order is recency order: a writer is moved to the end whenever it is used.
    private final LinkedHashMap<Key, Writer> writers = new LinkedHashMap<>();

    /** Where a write with this seq stands. Does not change the table. */
    Verdict check(Key key, long seq) {
        Writer writer = writers.get(key);
        long expected = writer == null ? 1 : writer.lastSeq + 1;
        if (seq < expected) {
            return Verdict.DUPLICATE;
        }
        return seq == expected ? Verdict.APPLY : Verdict.GAP;
    }

    /**
     * Whether a newer stream of the same node and incarnation has applied writes: a node abandons
     * a stream only for the next one, so this one's batches still in flight are late. (Forgotten
     * with the newer stream's entry, when {@link #WRITERS_MAX} other writers pushed it out.)
     */
    boolean newerStreamApplied(Key key) {
        for (Key other : writers.keySet()) {
            if (other.nodeId == key.nodeId && other.incarnation == key.incarnation && other.stream > key.stream) {
                return true;
            }
        }
        return false;
    }

    /** Records the result of the next seq of a writer. */
    void record(Key key, long seq, StoreResult result) {
        Writer writer = writers.remove(key);
        if (writer == null) {
            writer = new Writer();
            while (writers.size() >= WRITERS_MAX) {
                Iterator<Map.Entry<Key, Writer>> eldest = writers.entrySet().iterator();
                eldest.next();
                eldest.remove();
            }
        }
        writer.record(seq, result);
        writers.put(key, writer);
    }

    /** The last seq applied for a writer, 0 if none. */
    long lastSeq(Key key) {
        Writer writer = writers.get(key);
        return writer == null ? 0 : writer.lastSeq;
    }

    /** The result a duplicate should answer with, or null if it is too old to know. */
    StoreResult firstResult(Key key, long seq) {
        Writer writer = writers.get(key);
        return writer == null ? null : writer.resultOf(seq);
    }

    /**
     * The table as it is now, for a snapshot: copies the writers' result rings (a few arrays, no
     * per-result objects), so apply pauses only for the copy; {@link Frozen#toProto} runs later,
     * on any thread.
     */
    Frozen freeze() {
        List<Map.Entry<Key, Writer>> copies = new ArrayList<>(writers.size());
        for (Map.Entry<Key, Writer> entry : writers.entrySet()) {
            Writer writer = entry.getValue();
            Writer copy = new Writer();
            copy.lastSeq = writer.lastSeq;
            copy.size = writer.size;
            copy.status = writer.status.clone();
            copy.cas = writer.cas.clone();
            copy.number = writer.number.clone();
            copies.add(Map.entry(entry.getKey(), copy));
        }
        return new Frozen(copies);
    }

    /** A copy of the table taken by {@link #freeze}; not changed by later writes. */
    static final class Frozen {
        private final List<Map.Entry<Key, Writer>> writers;

        private Frozen(List<Map.Entry<Key, Writer>> writers) {
            this.writers = writers;
        }

        List<WriterState> toProto() {
            List<WriterState> states = new ArrayList<>(writers.size());
            for (Map.Entry<Key, Writer> entry : writers) {
                Writer writer = entry.getValue();
                WriterState.Builder state = WriterState.newBuilder().setWriter(entry.getKey().toProto())
                        .setLastSeq(writer.lastSeq);
                for (long seq = writer.lastSeq - writer.size + 1; seq <= writer.lastSeq; seq++) {
                    StoreResult result = writer.resultOf(seq);
                    state.addResults(CompactResult.newBuilder().setStatus(result.status.ordinal())
                            .setCas(result.cas).setNumber(result.number));
                }
                states.add(state.build());
            }
            return states;
        }
    }

    void restore(List<WriterState> states) {
        writers.clear();
        for (WriterState state : states) {
            Writer writer = new Writer();
            long firstSeq = state.getLastSeq() - state.getResultsCount() + 1;
            writer.lastSeq = firstSeq - 1;
            for (int i = 0; i < state.getResultsCount(); i++) {
                CompactResult compact = state.getResults(i);
                StoreResult result = new StoreResult(StoreResult.Status.values()[compact.getStatus()]);
                result.cas = compact.getCas();
                result.number = compact.getNumber();
                writer.record(firstSeq + i, result);
            }
            writer.lastSeq = state.getLastSeq();
            writers.put(Key.of(state.getWriter()), writer);
        }
    }

    int size() {
        return writers.size();
    }
}
