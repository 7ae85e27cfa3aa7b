package io.raftcached.testing.jepsen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Pipelined histories: how completions pair with invocations, and which operations per-connection order ties. */
class SessionOrderTest {
    @Test
    void pipelinedCompletionsPairWithTheOldestOpenInvocationOfTheirProcess() {
        HistoryBuilder h = new HistoryBuilder();
        Op set = h.invokeSet(1, "x", "a");
        Op get = h.invokeGet(1, "x");
        Op incr = h.invokeIncr(1, "c");
        Op other = h.invokeGet(2, "x");
        h.ok(set).okRead(other, null).okRead(get, "a").info(incr);
        Operation.Paired paired = Operation.pair(h.history().events());
        assertEquals(List.of(), paired.problems());
        List<Operation> ops = paired.operations();
        assertEquals(4, ops.size());
        assertEquals(set, ops.get(0).invoke());
        assertEquals(Op.Type.OK, ops.get(0).type());
        assertEquals("a", ops.get(1).read());
        assertTrue(ops.get(2).info());
        assertNull(ops.get(3).read());
    }

    @Test
    void aReplyOutOfRequestOrderIsAMalformedHistory() {
        HistoryBuilder h = new HistoryBuilder();
        Op set = h.invokeSet(1, "x", "a");
        Op get = h.invokeGet(1, "y");
        h.okRead(get, null).ok(set);
        Operation.Paired paired = Operation.pair(h.history().events());
        assertEquals(2, paired.problems().size(), paired.problems().toString());
        assertTrue(paired.problems().get(0).contains("replies come in request order"), paired.problems().toString());
    }

    @Test
    void openInvocationsOfAPipelineStayOpen() {
        HistoryBuilder h = new HistoryBuilder();
        Op a = h.invokeSet(1, "x", "a");
        h.invokeSet(1, "x", "b");
        h.invokeSet(1, "x", "c");
        h.ok(a);
        List<Operation> ops = Operation.pair(h.history().events()).operations();
        assertEquals(3, ops.size());
        assertTrue(ops.get(0).ok());
        assertTrue(ops.get(1).info() && ops.get(1).completion() == null);
        assertTrue(ops.get(2).info() && ops.get(2).completion() == null);
    }

    @Test
    void onlyOperationsStillInFlightWhenAnotherWasSentAreTied() {
        HistoryBuilder h = new HistoryBuilder();
        h.set(1, "x", "before");                 // 0: answered before the pipeline: real time orders it
        Op a = h.invokeSet(1, "x", "a");         // 1
        Op b = h.invokeGet(1, "x");              // 2
        Op c = h.invokeSet(1, "x", "c");         // 3
        Op other = h.invokeSet(2, "x", "d");     // 4: another connection, in flight at the same time
        h.ok(a).info(b).ok(c).ok(other);
        h.set(1, "x", "after-info");             // 5: sent after an info completed: a new session by convention
        List<Operation> ops = Operation.pair(h.history().events()).operations();
        int[][] before = SessionOrder.predecessors(ops);
        assertArrayEquals(new int[0], before[0]);
        assertArrayEquals(new int[0], before[1]);
        assertArrayEquals(new int[] {1}, before[2]);
        assertArrayEquals(new int[] {1, 2}, before[3]);
        assertArrayEquals(new int[0], before[4]);
        assertArrayEquals(new int[0], before[5]);
        int[][] after = SessionOrder.successors(before);
        assertArrayEquals(new int[] {2, 3}, after[1]);
        assertArrayEquals(new int[] {3}, after[2]);
        assertArrayEquals(new int[0], after[3]);
        assertEquals(2, SessionOrder.pipelined(ops));
        assertEquals(List.of(b, c), List.of(ops.get(2).invoke(), ops.get(3).invoke()));
    }

    @Test
    void anOperationThatNeverCompletedTiesEverythingItsProcessSentLater() {
        HistoryBuilder h = new HistoryBuilder();
        Op first = h.invokeSet(1, "x", "a");
        h.invokeSet(1, "x", "b");
        h.ok(first);
        h.invokeGet(1, "x");
        List<Operation> ops = Operation.pair(h.history().events()).operations();
        int[][] before = SessionOrder.predecessors(ops);
        assertArrayEquals(new int[] {0}, before[1]);
        assertArrayEquals(new int[] {1}, before[2]);   // "a" was answered before the get was sent; "b" never was
    }
}
