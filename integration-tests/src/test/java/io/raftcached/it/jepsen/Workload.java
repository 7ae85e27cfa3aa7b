package io.raftcached.it.jepsen;

import io.raftcached.testing.jepsen.History;
import io.raftcached.testing.jepsen.Op;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Concurrent memcached clients, each on its own raw connection to one node (clients are spread
 * over the members, so they talk to different nodes), running set, get, cas (gets then cas),
 * delete and add on a few register keys and incr and get on a few counter keys, and recording
 * every invocation and completion in a {@link History}.
 *
 * <p>Outcomes: ok when the node answered with an effect (STORED, DELETED, a number, a value or a
 * miss); fail when it surely had none (NOT_STORED, EXISTS, NOT_FOUND, "SERVER_ERROR not written",
 * a refused read); info when nobody knows (a timeout, a lost connection, any other SERVER_ERROR).
 * After an info the connection is thrown away (a late reply could be taken for the next request's)
 * and the client continues as a new process (process + clients), as Jepsen does, because the
 * unknown operation stays open forever in the history.
 *
 * <p>Every value written is unique ("p&lt;process&gt;-&lt;n&gt;"), so a value read names the write
 * that produced it. Counters are created with "0" before the run and only incremented by 1.
 */
final class Workload implements AutoCloseable {
    /** Tunables of one workload. */
    record Options(int clients, int registerKeys, int counterKeys, int minPauseMillis, int maxPauseMillis,
            int connectTimeoutMillis, int readTimeoutMillis) {
        static Options ci() {
            return new Options(6, 4, 2, 5, 25, 1_000, 4_000);
        }

        static Options soak() {
            return new Options(10, 6, 3, 2, 20, 1_000, 4_000);
        }
    }

    static final String INCREMENT = "1";

    private final History history;
    private final Options options;
    private final Supplier<List<FaultRunNode>> targets;
    private final long seed;
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final List<Thread> threads = new ArrayList<>();
    private final ConcurrentLinkedQueue<Throwable> crashes = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<String> anomalies = new ConcurrentLinkedQueue<>();
    private final AtomicLong completions = new AtomicLong();
    private final AtomicLong oks = new AtomicLong();
    private final AtomicLong timeouts = new AtomicLong();
    private volatile long lastOkNanos;

    Workload(History history, Options options, Supplier<List<FaultRunNode>> targets, long seed) {
        this.history = history;
        this.options = options;
        this.targets = targets;
        this.seed = seed;
    }

    List<String> registerKeys() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < options.registerKeys(); i++) {
            keys.add("r" + i);
        }
        return keys;
    }

    List<String> counterKeys() {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < options.counterKeys(); i++) {
            keys.add("c" + i);
        }
        return keys;
    }

    Options options() {
        return options;
    }

    Workload start() {
        for (int c = 0; c < options.clients(); c++) {
            int client = c;
            Thread thread = new Thread(() -> {
                try {
                    new Client(client, new Random(seed * 31 + client)).run();
                } catch (Throwable t) {
                    crashes.add(t);
                }
            }, "workload-" + c);
            thread.setDaemon(true);
            threads.add(thread);
            thread.start();
        }
        return this;
    }

    long completions() {
        return completions.get();
    }

    long oks() {
        return oks.get();
    }

    /** Operations that ended in a client read timeout (each recorded as info). */
    long timeouts() {
        return timeouts.get();
    }

    /** When an operation last completed ok (System.nanoTime), or 0. */
    long lastOkNanos() {
        return lastOkNanos;
    }

    /** Replies that matched no rule (each also recorded as info). */
    List<String> anomalies() {
        return List.copyOf(anomalies);
    }

    /** Waits until {@code more} further operations completed ok; false on timeout. */
    boolean awaitMoreOks(long more, long timeoutMillis) throws InterruptedException {
        long target = oks.get() + more;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (oks.get() < target) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Stops the clients and waits for the operations in flight (bounded by the read timeout). */
    void stop() throws InterruptedException {
        running.set(false);
        for (Thread thread : threads) {
            thread.join(options.readTimeoutMillis() + options.connectTimeoutMillis() + 5_000L);
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join(5_000);
            }
            if (thread.isAlive()) {
                throw new IllegalStateException(thread.getName() + " did not stop: a client operation is unbounded");
            }
        }
        if (!crashes.isEmpty()) {
            throw new AssertionError("a workload client crashed", crashes.peek());
        }
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** Tells every client to stop, without waiting (clean-up after an interruption). */
    void stopQuietly() {
        running.set(false);
    }

    private enum Step { SET, GET, CAS, DELETE, ADD, INCR, GET_COUNTER }

    /** One client thread: one connection at a time, one operation open at a time. */
    private final class Client {
        private final int index;
        private final Random random;
        private int process;
        private long sequence;
        private WorkloadConnection connection;
        private FaultRunNode node;

        Client(int index, Random random) {
            this.index = index;
            this.random = random;
            this.process = index;
        }

        void run() throws InterruptedException {
            try {
                while (running.get()) {
                    if (connection == null && !connect()) {
                        Thread.sleep(100);
                        continue;
                    }
                    step(pick());
                    int pause = options.minPauseMillis() + random.nextInt(Math.max(1, options.maxPauseMillis() - options.minPauseMillis()));
                    Thread.sleep(pause);
                }
            } finally {
                if (connection != null) {
                    connection.close();
                }
            }
        }

        /** The client's node is the (index mod members)-th member, re-chosen at each new connection. */
        private boolean connect() {
            List<FaultRunNode> members = targets.get();
            if (members.isEmpty()) {
                return false;
            }
            FaultRunNode target = members.get(index % members.size());
            if (node != null && target != node) {
                newProcess();   // a new node is a new session: its guarantees start afresh
            }
            node = target;
            try {
                connection = new WorkloadConnection(node.host, node.port, options.connectTimeoutMillis(), options.readTimeoutMillis());
                return true;
            } catch (IOException notNow) {
                return false;   // nothing was sent, so nothing is recorded
            }
        }

        private void newProcess() {
            process += options.clients();
        }

        private Step pick() {
            int roll = random.nextInt(100);
            if (options.counterKeys() > 0 && roll < 15) {
                return Step.INCR;
            }
            if (options.counterKeys() > 0 && roll < 22) {
                return Step.GET_COUNTER;
            }
            if (roll < 45) {
                return Step.GET;
            }
            if (roll < 70) {
                return Step.SET;
            }
            if (roll < 85) {
                return Step.CAS;
            }
            if (roll < 93) {
                return Step.ADD;
            }
            return Step.DELETE;
        }

        private String registerKey() {
            return "r" + random.nextInt(options.registerKeys());
        }

        private String counterKey() {
            return "c" + random.nextInt(options.counterKeys());
        }

        private String nextValue() {
            return "p" + process + "-" + (sequence++);
        }

        private void step(Step step) {
            switch (step) {
                case GET -> read(registerKey(), false);
                case GET_COUNTER -> read(counterKey(), false);
                case SET -> store("set", Op.Fn.SET, registerKey());
                case ADD -> store("add", Op.Fn.ADD, registerKey());
                case DELETE -> delete(registerKey());
                case INCR -> incr(counterKey());
                case CAS -> cas(registerKey());
                default -> throw new IllegalStateException(step.name());
            }
        }

        private WorkloadConnection.Item read(String key, boolean withCas) {
            Op op = history.invoke(process, Op.Fn.GET, key, null, null, node.name);
            try {
                WorkloadConnection.Item item = connection.get(key, withCas);
                complete(op, Op.Type.OK, item == null ? null : item.value(), null);
                return item;
            } catch (WorkloadConnection.ServerError refused) {
                complete(op, Op.Type.FAIL, null, null);
            } catch (IOException e) {
                lost(op, e);
            }
            return null;
        }

        private void store(String verb, Op.Fn fn, String key) {
            String value = nextValue();
            Op op = history.invoke(process, fn, key, value, null, node.name);
            write(op, verb + " " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n", "STORED", "NOT_STORED");
        }

        private void delete(String key) {
            Op op = history.invoke(process, Op.Fn.DELETE, key, null, null, node.name);
            write(op, "delete " + key + "\r\n", "DELETED", "NOT_FOUND");
        }

        private void cas(String key) {
            WorkloadConnection.Item seen = read(key, true);
            if (seen == null || connection == null) {
                return;   // a miss or a failed gets: nothing to compare and swap
            }
            String value = nextValue();
            Op op = history.invoke(process, Op.Fn.CAS, key, value, seen.value(), node.name);
            write(op, "cas " + key + " 0 0 " + value.length() + " " + seen.cas() + "\r\n" + value + "\r\n", "STORED", "EXISTS",
                    "NOT_FOUND");
        }

        private void incr(String key) {
            Op op = history.invoke(process, Op.Fn.INCR, key, INCREMENT, null, node.name);
            try {
                String reply = connection.call("incr " + key + " " + INCREMENT + "\r\n");
                if (reply.matches("\\d+")) {
                    complete(op, Op.Type.OK, INCREMENT, Long.parseLong(reply));
                } else if (reply.equals("NOT_FOUND") || reply.startsWith("CLIENT_ERROR")) {
                    anomalies.add(node.name + ": incr " + key + " answered " + reply);
                    complete(op, Op.Type.FAIL, INCREMENT, null);
                } else {
                    serverErrorOrUnexpected(op, reply);
                }
            } catch (IOException e) {
                lost(op, e);
            }
        }

        /** Sends a write; {@code okReply} means it took effect, any of {@code noEffect} that it surely did not. */
        private void write(Op op, String request, String okReply, String... noEffect) {
            try {
                String reply = connection.call(request);
                if (reply.equals(okReply)) {
                    complete(op, Op.Type.OK, op.value(), null);
                } else if (List.of(noEffect).contains(reply)) {
                    complete(op, Op.Type.FAIL, op.value(), null);
                } else {
                    serverErrorOrUnexpected(op, reply);
                }
            } catch (IOException e) {
                lost(op, e);
            }
        }

        private void serverErrorOrUnexpected(Op op, String reply) {
            if (reply.startsWith("SERVER_ERROR not written")) {
                complete(op, Op.Type.FAIL, op.value(), null);   // the node says it never reached the log
            } else if (reply.startsWith("SERVER_ERROR")) {
                complete(op, Op.Type.INFO, op.value(), null);   // outcome unknown; the connection is still in step
            } else {
                anomalies.add(node.name + ": " + op.fn() + " " + op.key() + " answered '" + reply + "'");
                complete(op, Op.Type.INFO, op.value(), null);
                dropConnection();
            }
        }

        private void lost(Op op, IOException e) {
            complete(op, Op.Type.INFO, op.fn() == Op.Fn.GET ? null : op.value(), null);
            if (e instanceof SocketTimeoutException) {
                timeouts.incrementAndGet();
            }
            dropConnection();
        }

        private void dropConnection() {
            if (connection != null) {
                connection.close();
                connection = null;
            }
        }

        private void complete(Op op, Op.Type type, String value, Long number) {
            switch (type) {
                case OK -> {
                    history.ok(op, value, number);
                    oks.incrementAndGet();
                    lastOkNanos = System.nanoTime();
                }
                case FAIL -> history.fail(op);
                case INFO -> {
                    history.info(op);
                    newProcess();   // the open operation belongs to the old process for ever
                }
                default -> throw new IllegalArgumentException(type.name());
            }
            completions.incrementAndGet();
        }
    }
}
