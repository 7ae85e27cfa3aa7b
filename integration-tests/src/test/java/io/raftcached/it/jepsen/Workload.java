package io.raftcached.it.jepsen;

import io.raftcached.testing.jepsen.History;
import io.raftcached.testing.jepsen.Op;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
 * <p>Rounds: most send one request and wait for its reply. {@code pipelinePercent} of a client's
 * rounds (seeded) send a pipeline instead: 2 to {@code pipelineOpsMax} requests of any kind in one
 * write, then read the replies in order, so the checkers judge per-connection order (raftcached
 * executes a connection's requests in the order sent). Every invocation of a pipeline is recorded
 * before the write, each completion when its own reply arrived. A cas needs the CAS unique of an
 * earlier gets, so a pipeline never pairs them: its cas uses what a gets answered in an earlier
 * round (each remembered gets serves one cas), and a cas with nothing remembered is sent as a gets.
 *
 * <p>Outcomes: ok when the node answered with an effect (STORED, DELETED, a number, a value or a
 * miss); fail when it surely had none (NOT_STORED, EXISTS, NOT_FOUND, "SERVER_ERROR not written",
 * a refused read); info when nobody knows (a timeout, a lost connection, any other SERVER_ERROR).
 * A timeout or a lost connection leaves every request of the round still without a reply info.
 * After it the connection is thrown away (a late reply could be taken for the next request's)
 * and the client continues as a new process (process + clients), as Jepsen does, because the
 * unknown operation stays open forever in the history; after a SERVER_ERROR of unknown outcome the
 * connection is still in step, the rest of its pipeline is read as usual, and the next round is a
 * new process.
 *
 * <p>Every value written is unique ("p&lt;process&gt;-&lt;n&gt;"), so a value read names the write
 * that produced it. Counters are created with "0" before the run and only incremented by 1.
 */
final class Workload implements AutoCloseable {
    /** Percent of rounds sent as a pipeline unless {@code -Djepsen.pipelinePercent} says otherwise (0: none). */
    static final int PIPELINE_PERCENT = Integer.getInteger("jepsen.pipelinePercent", 33);

    /** Tunables of one workload. */
    record Options(int clients, int registerKeys, int counterKeys, int minPauseMillis, int maxPauseMillis,
            int connectTimeoutMillis, int readTimeoutMillis, int pipelinePercent, int pipelineOpsMax) {
        Options {
            if (pipelinePercent < 0 || pipelinePercent > 100 || pipelineOpsMax < 2) {
                throw new IllegalArgumentException("pipelines: 0..100 percent of rounds, 2 or more requests each");
            }
        }

        static Options ci() {
            return new Options(6, 4, 2, 5, 25, 1_000, 4_000, PIPELINE_PERCENT, 8);
        }

        static Options soak() {
            return new Options(10, 6, 3, 2, 20, 1_000, 4_000, PIPELINE_PERCENT, 8);
        }
    }

    /**
     * Pipelines sent so far: how many, with how many operations; how many had every reply, how
     * many were cut short (a timeout, a lost connection or a reply out of step); and how their
     * operations ended.
     */
    record PipelineCounts(long sent, long operations, long answeredInFull, long cutShort, long ok, long fail, long info) {
        static final PipelineCounts NONE = new PipelineCounts(0, 0, 0, 0, 0, 0, 0);
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
    private final AtomicLong pipelinesSent = new AtomicLong();
    private final AtomicLong pipelinedOperations = new AtomicLong();
    private final AtomicLong pipelinesAnsweredInFull = new AtomicLong();
    private final AtomicLong pipelinesCutShort = new AtomicLong();
    private final Map<Op.Type, AtomicLong> pipelinedOutcomes = new EnumMap<>(Map.of(Op.Type.OK, new AtomicLong(), Op.Type.FAIL,
            new AtomicLong(), Op.Type.INFO, new AtomicLong()));
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

    PipelineCounts pipelineCounts() {
        return new PipelineCounts(pipelinesSent.get(), pipelinedOperations.get(), pipelinesAnsweredInFull.get(), pipelinesCutShort.get(),
                pipelinedOutcomes.get(Op.Type.OK).get(), pipelinedOutcomes.get(Op.Type.FAIL).get(), pipelinedOutcomes.get(Op.Type.INFO).get());
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

    /** Stops the clients and waits for the rounds in flight (each reply of a round waits at most the read timeout). */
    void stop() throws InterruptedException {
        running.set(false);
        long roundMillis = (long) options.readTimeoutMillis() * options.pipelineOpsMax() + options.connectTimeoutMillis();
        for (Thread thread : threads) {
            thread.join(roundMillis + 5_000L);
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

    /** How a reply is read: a get/gets (value block or END), a storage or delete line, an incr line. */
    private enum Kind { READ, WRITE, INCR }

    /**
     * One request of a round: what the history records (function, key, value written, value
     * expected), its bytes, and how to read its reply. For a WRITE, {@code okReply} means it took
     * effect and any of {@code noEffect} that it surely did not; a READ with {@code withCas} is a
     * gets, whose CAS unique a later cas may use.
     */
    private record Request(Op.Fn fn, String key, String value, String expected, String text, Kind kind, boolean withCas, String okReply,
            List<String> noEffect) {}

    /** One client thread: one connection at a time, one round (a request or a pipeline) open at a time. */
    private final class Client {
        private final int index;
        private final Random random;
        /** Key -> what the last gets of it returned, until a cas uses it. */
        private final Map<String, WorkloadConnection.Item> gotWithCas = new HashMap<>();
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
                    if (random.nextInt(100) < options.pipelinePercent()) {
                        pipeline();
                    } else {
                        step(pick());
                    }
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

        /** One request alone; a cas is a gets, then (after a hit) the cas with its CAS unique. */
        private void step(Step step) {
            if (step != Step.CAS) {
                round(List.of(request(step)));
                return;
            }
            String key = registerKey();
            if (round(List.of(read(key, true))) && gotWithCas.containsKey(key)) {
                round(List.of(cas(key)));
            }
        }

        /** 2..pipelineOpsMax requests in one write. */
        private void pipeline() {
            int size = 2 + random.nextInt(options.pipelineOpsMax() - 1);
            List<Request> requests = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                Step step = pick();
                if (step == Step.CAS) {
                    String key = registerKey();
                    requests.add(gotWithCas.containsKey(key) ? cas(key) : read(key, true));
                } else if (step == Step.GET && random.nextBoolean()) {
                    requests.add(read(registerKey(), true));   // gets, so that later rounds have CAS uniques to use
                } else {
                    requests.add(request(step));
                }
            }
            round(requests);
        }

        private Request request(Step step) {
            return switch (step) {
                case GET -> read(registerKey(), false);
                case GET_COUNTER -> read(counterKey(), false);
                case SET -> store("set", Op.Fn.SET, registerKey());
                case ADD -> store("add", Op.Fn.ADD, registerKey());
                case DELETE -> {
                    String key = registerKey();
                    yield new Request(Op.Fn.DELETE, key, null, null, "delete " + key + "\r\n", Kind.WRITE, false, "DELETED",
                            List.of("NOT_FOUND"));
                }
                case INCR -> {
                    String key = counterKey();
                    yield new Request(Op.Fn.INCR, key, INCREMENT, null, "incr " + key + " " + INCREMENT + "\r\n", Kind.INCR, false, null,
                            List.of());
                }
                default -> throw new IllegalStateException(step.name());
            };
        }

        private Request read(String key, boolean withCas) {
            return new Request(Op.Fn.GET, key, null, null, WorkloadConnection.getRequest(key, withCas), Kind.READ, withCas, null, List.of());
        }

        private Request store(String verb, Op.Fn fn, String key) {
            String value = nextValue();
            return new Request(fn, key, value, null, verb + " " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n", Kind.WRITE,
                    false, "STORED", List.of("NOT_STORED"));
        }

        /** A cas with the CAS unique the last gets of {@code key} returned, which it uses up. */
        private Request cas(String key) {
            WorkloadConnection.Item seen = gotWithCas.remove(key);
            String value = nextValue();
            return new Request(Op.Fn.CAS, key, value, seen.value(),
                    "cas " + key + " 0 0 " + value.length() + " " + seen.cas() + "\r\n" + value + "\r\n", Kind.WRITE, false, "STORED",
                    List.of("EXISTS", "NOT_FOUND"));
        }

        /**
         * Sends {@code requests} in one write and reads their replies in order. Every invocation
         * is recorded before the write (all are in flight from then on), each completion when its
         * own reply arrived. A timeout, a lost connection or a reply out of step leaves every
         * request still without a reply info, and the connection is dropped. Returns whether
         * every request completed ok.
         */
        private boolean round(List<Request> requests) {
            boolean pipelined = requests.size() > 1;
            List<Op> ops = new ArrayList<>(requests.size());
            StringBuilder text = new StringBuilder();
            for (Request request : requests) {
                ops.add(history.invoke(process, request.fn(), request.key(), request.value(), request.expected(), node.name));
                text.append(request.text());
            }
            if (pipelined) {
                pipelinesSent.incrementAndGet();
                pipelinedOperations.addAndGet(requests.size());
            }
            int answered = 0;
            boolean allOk = true;
            try {
                connection.send(text.toString());
                while (answered < requests.size() && connection != null) {
                    allOk &= answer(requests.get(answered), ops.get(answered), pipelined) == Op.Type.OK;
                    answered++;
                }
            } catch (IOException lost) {
                if (lost instanceof SocketTimeoutException) {
                    timeouts.addAndGet(requests.size() - answered);
                }
                dropConnection();
            }
            for (int i = answered; i < requests.size(); i++) {
                complete(ops.get(i), Op.Type.INFO, null, null, pipelined);
            }
            if (pipelined) {
                (answered == requests.size() ? pipelinesAnsweredInFull : pipelinesCutShort).incrementAndGet();
            }
            return allOk && answered == requests.size();
        }

        /** Reads the reply to {@code request} and completes {@code op}; an out-of-step reply drops the connection. */
        private Op.Type answer(Request request, Op op, boolean pipelined) throws IOException {
            switch (request.kind()) {
                case READ -> {
                    try {
                        WorkloadConnection.Item item = connection.item(request.key(), request.withCas());
                        if (request.withCas()) {
                            if (item == null) {
                                gotWithCas.remove(request.key());
                            } else {
                                gotWithCas.put(request.key(), item);
                            }
                        }
                        return complete(op, Op.Type.OK, item == null ? null : item.value(), null, pipelined);
                    } catch (WorkloadConnection.ServerError refused) {
                        return complete(op, Op.Type.FAIL, null, null, pipelined);
                    }
                }
                case INCR -> {
                    String reply = connection.line();
                    if (reply.matches("\\d+")) {
                        return complete(op, Op.Type.OK, INCREMENT, Long.parseLong(reply), pipelined);
                    }
                    if (reply.equals("NOT_FOUND") || reply.startsWith("CLIENT_ERROR")) {
                        anomalies.add(node.name + ": incr " + op.key() + " answered " + reply);
                        return complete(op, Op.Type.FAIL, INCREMENT, null, pipelined);
                    }
                    return serverErrorOrUnexpected(op, reply, pipelined);
                }
                case WRITE -> {
                    String reply = connection.line();
                    if (reply.equals(request.okReply())) {
                        return complete(op, Op.Type.OK, op.value(), null, pipelined);
                    }
                    if (request.noEffect().contains(reply)) {
                        return complete(op, Op.Type.FAIL, op.value(), null, pipelined);
                    }
                    return serverErrorOrUnexpected(op, reply, pipelined);
                }
                default -> throw new IllegalStateException(request.kind().name());
            }
        }

        private Op.Type serverErrorOrUnexpected(Op op, String reply, boolean pipelined) {
            if (reply.startsWith("SERVER_ERROR not written")) {
                return complete(op, Op.Type.FAIL, op.value(), null, pipelined);   // the node says it never reached the log
            }
            if (reply.startsWith("SERVER_ERROR")) {
                return complete(op, Op.Type.INFO, op.value(), null, pipelined);   // outcome unknown; the connection is still in step
            }
            anomalies.add(node.name + ": " + op.fn() + " " + op.key() + " answered '" + reply + "'");
            dropConnection();
            return complete(op, Op.Type.INFO, op.value(), null, pipelined);
        }

        private void dropConnection() {
            if (connection != null) {
                connection.close();
                connection = null;
            }
        }

        private Op.Type complete(Op op, Op.Type type, String value, Long number, boolean pipelined) {
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
            if (pipelined) {
                pipelinedOutcomes.get(type).incrementAndGet();
            }
            return type;
        }
    }
}
