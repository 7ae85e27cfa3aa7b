package io.raftcached.testing.jepsen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A thread-safe, append-only record of operations in the order they were observed. Each
 * completion is recorded right after the client saw it, each invocation right before it sent it,
 * so the order of events is a real-time order (what linearizability is judged against).
 */
public final class History {
    private final List<Op> events = Collections.synchronizedList(new ArrayList<>());

    /** Records an invocation and returns it, to complete later. */
    public Op invoke(int process, Op.Fn fn, String key, String value, String expected, String node) {
        Op op = new Op(process, Op.Type.INVOKE, fn, key, value, expected, null, System.nanoTime(), node);
        events.add(op);
        return op;
    }

    public void ok(Op invocation, String value, Long number) {
        events.add(invocation.completedAs(Op.Type.OK, value, number, System.nanoTime()));
    }

    public void fail(Op invocation) {
        events.add(invocation.completedAs(Op.Type.FAIL, invocation.value(), null, System.nanoTime()));
    }

    /** The outcome is unknown: the operation may or may not have taken effect. */
    public void info(Op invocation) {
        events.add(invocation.completedAs(Op.Type.INFO, invocation.value(), null, System.nanoTime()));
    }

    /** Adds an already built event (for tests of checkers and for histories read back). */
    public void add(Op op) {
        events.add(op);
    }

    public List<Op> events() {
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /** One event per line, tab separated, for reports and recorded bad histories. */
    public void write(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Op op : events()) {
            lines.add(String.join("\t", Integer.toString(op.process()), op.type().name(), op.fn().name(), op.key(),
                    String.valueOf(op.value()), String.valueOf(op.expected()), String.valueOf(op.number()),
                    Long.toString(op.nanos()), String.valueOf(op.node())));
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
    }

    public static History read(Path file) throws IOException {
        History history = new History();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t", -1);
            history.add(new Op(Integer.parseInt(f[0]), Op.Type.valueOf(f[1]), Op.Fn.valueOf(f[2]), f[3], nullable(f[4]),
                    nullable(f[5]), f[6].equals("null") ? null : Long.valueOf(f[6]), Long.parseLong(f[7]), nullable(f[8])));
        }
        return history;
    }

    private static String nullable(String text) {
        return text.equals("null") ? null : text;
    }
}
