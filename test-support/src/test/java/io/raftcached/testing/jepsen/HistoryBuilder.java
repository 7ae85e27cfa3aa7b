package io.raftcached.testing.jepsen;

/**
 * Hand-built histories for checker tests: each call appends one event, one tick of a fake clock
 * apart. Invoke returns the invocation to complete later, so overlapping operations are written in
 * the order their events happen; the one-line helpers (set, get, ...) are an invocation and its
 * completion back to back.
 */
final class HistoryBuilder {
    private final History history = new History();
    private long clock;

    History history() {
        return history;
    }

    private long tick() {
        clock += 1_000_000;
        return clock;
    }

    Op invoke(int process, Op.Fn fn, String key, String value, String expected) {
        Op op = new Op(process, Op.Type.INVOKE, fn, key, value, expected, null, tick(), "n" + (Math.floorMod(process, 3) + 1));
        history.add(op);
        return op;
    }

    Op invokeSet(int process, String key, String value) {
        return invoke(process, Op.Fn.SET, key, value, null);
    }

    Op invokeGet(int process, String key) {
        return invoke(process, Op.Fn.GET, key, null, null);
    }

    Op invokeCas(int process, String key, String expected, String value) {
        return invoke(process, Op.Fn.CAS, key, value, expected);
    }

    Op invokeIncr(int process, String key) {
        return invoke(process, Op.Fn.INCR, key, "1", null);
    }

    HistoryBuilder ok(Op invocation) {
        history.add(invocation.completedAs(Op.Type.OK, invocation.value(), null, tick()));
        return this;
    }

    HistoryBuilder okRead(Op invocation, String value) {
        history.add(invocation.completedAs(Op.Type.OK, value, null, tick()));
        return this;
    }

    HistoryBuilder okIncr(Op invocation, long number) {
        history.add(invocation.completedAs(Op.Type.OK, invocation.value(), number, tick()));
        return this;
    }

    HistoryBuilder fail(Op invocation) {
        history.add(invocation.completedAs(Op.Type.FAIL, invocation.value(), null, tick()));
        return this;
    }

    HistoryBuilder info(Op invocation) {
        history.add(invocation.completedAs(Op.Type.INFO, invocation.value(), null, tick()));
        return this;
    }

    // --- one operation, invoked and completed at once -------------------------------------------

    HistoryBuilder set(int process, String key, String value) {
        return ok(invokeSet(process, key, value));
    }

    HistoryBuilder add(int process, String key, String value) {
        return ok(invoke(process, Op.Fn.ADD, key, value, null));
    }

    HistoryBuilder addFail(int process, String key, String value) {
        return fail(invoke(process, Op.Fn.ADD, key, value, null));
    }

    HistoryBuilder cas(int process, String key, String expected, String value) {
        return ok(invokeCas(process, key, expected, value));
    }

    HistoryBuilder casFail(int process, String key, String expected, String value) {
        return fail(invokeCas(process, key, expected, value));
    }

    HistoryBuilder delete(int process, String key) {
        return ok(invoke(process, Op.Fn.DELETE, key, null, null));
    }

    HistoryBuilder deleteFail(int process, String key) {
        return fail(invoke(process, Op.Fn.DELETE, key, null, null));
    }

    HistoryBuilder get(int process, String key, String value) {
        return okRead(invokeGet(process, key), value);
    }

    HistoryBuilder incr(int process, String key, long number) {
        return okIncr(invokeIncr(process, key), number);
    }

    /** A final read on node {@code nodeId}, by the process {@code FaultRun} uses for it. */
    HistoryBuilder finalRead(int nodeId, String key, String value) {
        int process = CheckSetup.FINAL_READ_PROCESS_BASE + nodeId;
        Op op = new Op(process, Op.Type.INVOKE, Op.Fn.GET, key, null, null, null, tick(), "n" + nodeId);
        history.add(op);
        history.add(op.completedAs(Op.Type.OK, value, null, tick()));
        return this;
    }
}
