package io.raftcached.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.raftcached.store.StoreResult;
import org.junit.jupiter.api.Test;

class DedupeTableTest {
    private static StoreResult number(long n) {
        StoreResult result = new StoreResult(StoreResult.Status.NUMBER);
        result.number = n;
        result.cas = n + 100;
        return result;
    }

    @Test
    void appliesInOrderAnswersDuplicatesAndRefusesGaps() {
        DedupeTable table = new DedupeTable();
        DedupeTable.Key writer = new DedupeTable.Key(1, 7, 1);
        assertEquals(DedupeTable.Verdict.APPLY, table.check(writer, 1));
        assertEquals(DedupeTable.Verdict.GAP, table.check(writer, 2));
        table.record(writer, 1, number(10));
        table.record(writer, 2, number(11));
        assertEquals(DedupeTable.Verdict.DUPLICATE, table.check(writer, 1));
        assertEquals(DedupeTable.Verdict.APPLY, table.check(writer, 3));
        assertEquals(DedupeTable.Verdict.GAP, table.check(writer, 4));
        assertEquals(11, table.firstResult(writer, 2).number);
        assertEquals(111, table.firstResult(writer, 2).cas);
        assertEquals(2, table.lastSeq(writer));
    }

    @Test
    void keepsAWindowOfResultsPerWriter() {
        DedupeTable table = new DedupeTable();
        DedupeTable.Key writer = new DedupeTable.Key(1, 7, 1);
        int total = DedupeTable.RESULTS_PER_WRITER + 100;
        for (int seq = 1; seq <= total; seq++) {
            table.record(writer, seq, number(seq));
        }
        assertNull(table.firstResult(writer, 100), "outside the window");
        assertEquals(total, table.firstResult(writer, total).number);
        assertEquals(total - DedupeTable.RESULTS_PER_WRITER + 1,
                table.firstResult(writer, total - DedupeTable.RESULTS_PER_WRITER + 1).number);
    }

    @Test
    void evictsTheLeastRecentlyUsedWriterDeterministically() {
        DedupeTable table = new DedupeTable();
        for (int node = 0; node < DedupeTable.WRITERS_MAX; node++) {
            table.record(new DedupeTable.Key(node, 1, 1), 1, number(node));
        }
        table.record(new DedupeTable.Key(0, 1, 1), 2, number(99));   // writer 0 becomes the most recent
        table.record(new DedupeTable.Key(1000, 1, 1), 1, number(1)); // evicts writer 1, the least recent
        assertEquals(DedupeTable.WRITERS_MAX, table.size());
        assertEquals(0, table.lastSeq(new DedupeTable.Key(1, 1, 1)));
        assertEquals(2, table.lastSeq(new DedupeTable.Key(0, 1, 1)));
    }

    @Test
    void survivesASnapshotRoundTrip() {
        DedupeTable table = new DedupeTable();
        DedupeTable.Key a = new DedupeTable.Key(1, 7, 1);
        DedupeTable.Key b = new DedupeTable.Key(2, 9, 3);
        for (int seq = 1; seq <= 40; seq++) {
            table.record(a, seq, number(seq));
        }
        table.record(b, 1, number(5));
        DedupeTable restored = new DedupeTable();
        restored.restore(table.freeze().toProto());
        assertEquals(table.freeze().toProto(), restored.freeze().toProto());
        assertEquals(40, restored.lastSeq(a));
        assertEquals(33, restored.firstResult(a, 33).number);
        assertEquals(DedupeTable.Verdict.APPLY, restored.check(b, 2));
    }

    @Test
    void aFrozenCopyKeepsTheStateOfWhenItWasTaken() {
        DedupeTable table = new DedupeTable();
        DedupeTable.Key a = new DedupeTable.Key(1, 7, 1);
        int window = DedupeTable.RESULTS_PER_WRITER;
        for (int seq = 1; seq <= window; seq++) {
            table.record(a, seq, number(seq));   // the ring at its largest: later results overwrite its slots
        }
        DedupeTable.Frozen frozen = table.freeze();
        var before = frozen.toProto();
        for (int seq = window + 1; seq <= window + 40; seq++) {
            table.record(a, seq, number(-seq));
        }
        table.record(new DedupeTable.Key(2, 9, 3), 1, number(5));
        assertEquals(before, frozen.toProto());
        assertEquals(1, before.size());
        assertEquals(window, before.get(0).getLastSeq());
        assertEquals(window, before.get(0).getResultsCount());
        assertEquals(1, before.get(0).getResults(0).getNumber());
    }
}
