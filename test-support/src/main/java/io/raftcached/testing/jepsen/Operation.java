package io.raftcached.testing.jepsen;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One operation of a history: an invocation paired with its completion. Checkers reason about
 * these, not about raw events. Time is the position of an event in the history (its index in
 * {@link History#events()}), which is a real-time order: an invocation is recorded before the
 * request is sent and a completion after the reply is seen. Nanos are only shown in reports.
 *
 * <p>An invocation without a completion (the history ended while it was open) is treated like an
 * {@code INFO}: it may or may not have taken effect, at any time after its invocation.
 *
 * @param invoke      the INVOKE event
 * @param completion  the OK/FAIL/INFO event, or null when the operation never completed
 * @param invokeIndex the invocation's position in the history
 * @param completedAt the completion's position in the history, or -1 when there is none
 * @param deadline    the latest time the operation can have taken effect: its completion's position,
 *                    or {@link #NEVER} for info and open operations (their effect may come at any
 *                    later time, or not at all)
 */
public record Operation(Op invoke, Op completion, int invokeIndex, int completedAt, int deadline) {
    /** The completion time of an operation whose outcome is unknown: after everything. */
    public static final int NEVER = Integer.MAX_VALUE;

    /** A history split into operations, in invocation order, with any malformation found. */
    public record Paired(List<Operation> operations, List<String> problems) {}

    /**
     * Pairs each completion with the oldest open invocation of the same process: a process is one
     * connection, which may have several requests in flight (a pipeline), and replies come back
     * in the order the requests were sent. A completion without an open invocation, or one whose
     * function or key differs from the oldest open invocation's, is reported as a problem (the
     * checkers refuse to judge a malformed history rather than guess).
     */
    public static Paired pair(List<Op> events) {
        List<Operation> operations = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        Map<Integer, ArrayDeque<Integer>> open = new HashMap<>();   // process -> indices of its open invocations, oldest first
        for (int i = 0; i < events.size(); i++) {
            Op op = events.get(i);
            if (op.type() == Op.Type.INVOKE) {
                open.computeIfAbsent(op.process(), p -> new ArrayDeque<>(2)).addLast(i);
                continue;
            }
            ArrayDeque<Integer> ofProcess = open.get(op.process());
            Integer invoked = ofProcess == null ? null : ofProcess.pollFirst();
            if (invoked == null) {
                problems.add("event " + i + " (" + op + ") completes nothing: process " + op.process() + " had no open invocation");
                continue;
            }
            Op invoke = events.get(invoked);
            if (invoke.fn() != op.fn() || !invoke.key().equals(op.key())) {
                problems.add("event " + i + " (" + op + ") does not match its invocation " + invoke
                        + " (the oldest open one of its process: replies come in request order)");
                continue;
            }
            operations.add(new Operation(invoke, op, invoked, i, op.type() == Op.Type.INFO ? NEVER : i));
        }
        for (ArrayDeque<Integer> ofProcess : open.values()) {
            for (int index : ofProcess) {
                operations.add(new Operation(events.get(index), null, index, -1, NEVER));
            }
        }
        operations.sort(Comparator.comparingInt(Operation::invokeIndex));
        return new Paired(List.copyOf(operations), List.copyOf(problems));
    }

    /** OK, FAIL or INFO; an operation that never completed counts as INFO. */
    public Op.Type type() {
        return completion == null ? Op.Type.INFO : completion.type();
    }

    public boolean ok() {
        return type() == Op.Type.OK;
    }

    public boolean info() {
        return type() == Op.Type.INFO;
    }

    public boolean failed() {
        return type() == Op.Type.FAIL;
    }

    public Op.Fn fn() {
        return invoke.fn();
    }

    public String key() {
        return invoke.key();
    }

    public int process() {
        return invoke.process();
    }

    /** set/add/cas: the value written (unique per write in our workloads). */
    public String written() {
        return invoke.value();
    }

    /** cas: the value the client read before, which must still be there. */
    public String expected() {
        return invoke.expected();
    }

    /** get (ok): the value read, null for a miss. */
    public String read() {
        return completion == null ? null : completion.value();
    }

    /** incr (ok): the counter's value after it, or null when unknown. */
    public Long number() {
        return completion == null ? null : completion.number();
    }

    /** incr: the amount added (the invocation's value; 1 when absent or not a number). */
    public long delta() {
        String value = invoke.value();
        if (value != null && value.matches("\\d{1,18}")) {
            return Long.parseLong(value);
        }
        return 1;
    }

    /** Whether this operation may change the key (everything but get). */
    public boolean isWrite() {
        return fn() != Op.Fn.GET;
    }

    /** The real events, invocation then completion (when there is one), for counterexamples. */
    public List<Op> events() {
        return completion == null ? List.of(invoke) : List.of(invoke, completion);
    }

    /** The same operation judged as if its outcome were unknown (a completion past a cut). */
    Operation asUnknown() {
        return new Operation(invoke, completion, invokeIndex, completedAt, NEVER);
    }

    /** Whether this operation must be judged as unknown (info, open, or cut short). */
    boolean pending() {
        return deadline == NEVER;
    }

    /** Real events of some operations, in history order, for a counterexample. */
    static List<Op> eventsOf(List<Operation> operations) {
        List<Operation> sorted = new ArrayList<>(operations);
        sorted.sort(Comparator.comparingInt(Operation::invokeIndex));
        List<Op> events = new ArrayList<>();
        record Timed(int index, Op op) {}
        List<Timed> timed = new ArrayList<>();
        for (Operation operation : sorted) {
            timed.add(new Timed(operation.invokeIndex, operation.invoke));
            if (operation.completion != null) {
                timed.add(new Timed(operation.completedAt, operation.completion));
            }
        }
        timed.sort(Comparator.comparingInt(Timed::index));
        for (Timed t : timed) {
            events.add(t.op());
        }
        return events;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        text.append('p').append(process()).append(' ').append(fn()).append(' ').append(key());
        if (fn() == Op.Fn.CAS) {
            text.append(' ').append(expected()).append("->").append(written());
        } else if (fn() == Op.Fn.SET || fn() == Op.Fn.ADD) {
            text.append(' ').append(written());
        }
        text.append(" = ").append(type());
        if (ok() && fn() == Op.Fn.GET) {
            text.append(' ').append(read() == null ? "(miss)" : read());
        }
        if (ok() && fn() == Op.Fn.INCR && number() != null) {
            text.append(' ').append(number());
        }
        text.append(" [").append(invokeIndex).append(", ").append(deadline == NEVER ? "inf" : Integer.toString(deadline)).append(']');
        return text.toString();
    }
}
