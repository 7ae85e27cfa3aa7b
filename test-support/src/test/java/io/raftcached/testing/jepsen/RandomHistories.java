package io.raftcached.testing.jepsen;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Valid histories of any size, for checker tests: a simulated replicated cache that is correct by
 * construction. Writes take effect atomically at one instant between their invocation and
 * completion (a shared log); reads either see the log's current state (linearizable mode) or the
 * state of the replica the client talks to (local mode: each replica applies a prefix of the log
 * and only moves forward, and a client's replica has applied the client's own writes before they
 * are acknowledged, so reads are stale but read-your-writes and monotonic).
 *
 * <p>Like the real workload: values are unique per write, cas expects the value the client last
 * read, counters start at "0" unrecorded, an unknown outcome (info) is decided at random to have
 * taken effect or not and moves the client to a new process, and every key is read on every node
 * at the end by the final-read processes.
 *
 * <p>Pipelines: with {@code pipelineRate}, a round sends 2 to {@link #PIPELINE_OPS_MAX} operations
 * at once. They take effect one by one in the order sent (per-connection order: a read on the
 * replica waits until the client's earlier writes are applied there, and runs before its later
 * ones), each at its own instant, and complete in that order. An unknown outcome in a pipeline
 * either cuts it (a lost connection: every later one is unknown too) or not (a SERVER_ERROR).
 */
final class RandomHistories {
    record Options(int clients, int registerKeys, int counterKeys, int operations, double unknownRate, boolean localReads, int nodes,
            double pipelineRate) {
        /** Without pipelines: one operation in flight per client. */
        Options(int clients, int registerKeys, int counterKeys, int operations, double unknownRate, boolean localReads, int nodes) {
            this(clients, registerKeys, counterKeys, operations, unknownRate, localReads, nodes, 0);
        }
    }

    static final int PIPELINE_OPS_MAX = 5;

    private final Random random;
    private final Options options;
    private final HistoryBuilder builder = new HistoryBuilder();
    private final Map<String, String> state = new HashMap<>();
    private final List<String[]> log = new ArrayList<>();   // {key, value or null}
    private final int[] applied;
    private final List<Map<String, String>> replicas = new ArrayList<>();
    private final Client[] clients;
    private int sequence;

    /** One operation in flight. */
    private static final class Request {
        final Op invocation;
        final boolean lost;   // the outcome will be unknown
        final boolean cut;   // lost with the connection: every later request of its pipeline is lost too
        final boolean refused;   // "not written": fails without effect
        boolean applied;
        Op.Type outcome;
        String readValue;
        Long number;
        int logIndex = -1;

        Request(Op invocation, boolean lost, boolean cut, boolean refused) {
            this.invocation = invocation;
            this.lost = lost;
            this.cut = cut;
            this.refused = refused;
        }
    }

    private final class Client {
        final int index;
        int process;
        final ArrayDeque<Request> inFlight = new ArrayDeque<>();
        /** The log length once this connection's writes applied so far have taken effect (per-connection order for its reads). */
        int ownLogIndex;
        final Map<String, String> lastRead = new HashMap<>();

        Client(int index) {
            this.index = index;
            this.process = index;
        }

        int node() {
            return index % options.nodes();
        }

        Request nextToApply() {
            for (Request request : inFlight) {
                if (!request.applied) {
                    return request;
                }
            }
            return null;
        }
    }

    private RandomHistories(long seed, Options options) {
        this.random = new Random(seed);
        this.options = options;
        applied = new int[options.nodes()];
        for (int n = 0; n < options.nodes(); n++) {
            replicas.add(new HashMap<>());
        }
        for (int k = 0; k < options.counterKeys(); k++) {
            log("c" + k, "0");
        }
        for (int n = 0; n < options.nodes(); n++) {
            catchUp(n, log.size());
        }
        clients = new Client[options.clients()];
        for (int c = 0; c < clients.length; c++) {
            clients[c] = new Client(c);
        }
    }

    static History generate(long seed, Options options) {
        return new RandomHistories(seed, options).run();
    }

    private History run() {
        int invoked = 0;
        while (invoked < options.operations() || anyBusy()) {
            Client client = clients[random.nextInt(clients.length)];
            Request next = client.nextToApply();
            if (client.inFlight.isEmpty()) {
                if (invoked < options.operations()) {
                    invoked += invokeRound(client, options.operations() - invoked);
                }
            } else if (next != null && (!client.inFlight.peekFirst().applied || random.nextBoolean())) {
                apply(client, next);
            } else {
                complete(client, client.inFlight.pollFirst());
            }
            if (random.nextInt(4) == 0) {
                int node = random.nextInt(options.nodes());
                catchUp(node, Math.min(log.size(), applied[node] + random.nextInt(4)));
            }
        }
        for (int n = 0; n < options.nodes(); n++) {
            catchUp(n, log.size());
        }
        List<String> keys = new ArrayList<>();
        for (int k = 0; k < options.registerKeys(); k++) {
            keys.add("r" + k);
        }
        for (int k = 0; k < options.counterKeys(); k++) {
            keys.add("c" + k);
        }
        for (int n = 0; n < options.nodes(); n++) {
            for (String key : keys) {
                builder.finalRead(n + 1, key, replicas.get(n).get(key));
            }
        }
        return builder.history();
    }

    private boolean anyBusy() {
        for (Client client : clients) {
            if (!client.inFlight.isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** Sends one operation, or a pipeline of several; returns how many. */
    private int invokeRound(Client c, int left) {
        // (no draw without pipelines, so the histories of a seed stay what they were before pipelines)
        boolean pipeline = options.pipelineRate() > 0 && random.nextDouble() < options.pipelineRate();
        int count = Math.min(left, pipeline ? 2 + random.nextInt(PIPELINE_OPS_MAX - 1) : 1);
        boolean cut = false;
        for (int i = 0; i < count; i++) {
            boolean lost = cut || random.nextDouble() < options.unknownRate();
            boolean refused = !lost && random.nextDouble() < options.unknownRate() / 2;
            cut = lost && (!pipeline || cut || random.nextBoolean());   // a lone lost request: the connection is dropped
            Op invocation = invocation(c);
            c.inFlight.addLast(new Request(invocation, lost, cut, refused && invocation.fn() != Op.Fn.GET));   // keep reads simple
        }
        return count;
    }

    private Op invocation(Client c) {
        int roll = random.nextInt(100);
        if (options.counterKeys() > 0 && roll < 20) {
            String key = "c" + random.nextInt(options.counterKeys());
            return roll < 14 ? builder.invokeIncr(c.process, key) : builder.invokeGet(c.process, key);
        }
        String key = "r" + random.nextInt(Math.max(1, options.registerKeys()));
        String value = "p" + c.process + "-" + (sequence++);
        if (roll < 45) {
            return builder.invokeGet(c.process, key);
        } else if (roll < 68) {
            return builder.invokeSet(c.process, key, value);
        } else if (roll < 84 && c.lastRead.get(key) != null) {
            return builder.invokeCas(c.process, key, c.lastRead.get(key), value);
        } else if (roll < 93) {
            return builder.invoke(c.process, Op.Fn.ADD, key, value, null);
        }
        return builder.invoke(c.process, Op.Fn.DELETE, key, null, null);
    }

    /** The instant the operation takes effect (or, refused or lost without effect, does not). */
    private void apply(Client c, Request r) {
        Op op = r.invocation;
        String key = op.key();
        String current = state.get(key);
        r.applied = true;
        boolean effect = !r.refused && !(r.lost && random.nextBoolean());
        if (!effect) {
            r.outcome = r.refused ? Op.Type.FAIL : Op.Type.INFO;
            return;
        }
        r.outcome = Op.Type.OK;
        switch (op.fn()) {
            case GET -> {
                if (options.localReads()) {
                    catchUp(c.node(), Math.max(applied[c.node()], c.ownLogIndex));   // the client's earlier writes first
                    r.readValue = replicas.get(c.node()).get(key);
                } else {
                    r.readValue = current;
                }
            }
            case SET -> log(key, op.value());
            case ADD -> {
                if (current == null) {
                    log(key, op.value());
                } else {
                    r.outcome = Op.Type.FAIL;
                }
            }
            case CAS -> {
                if (op.expected().equals(current)) {
                    log(key, op.value());
                } else {
                    r.outcome = Op.Type.FAIL;
                }
            }
            case DELETE -> {
                if (current != null) {
                    log(key, null);
                } else {
                    r.outcome = Op.Type.FAIL;
                }
            }
            case INCR -> {
                long next = Long.parseLong(current) + 1;
                log(key, Long.toString(next));
                r.number = next;
            }
            default -> throw new IllegalStateException();
        }
        if (r.outcome == Op.Type.OK && op.fn() != Op.Fn.GET) {
            r.logIndex = log.size();
            c.ownLogIndex = log.size();
        }
        if (r.lost) {
            r.outcome = Op.Type.INFO;
        }
    }

    private void complete(Client c, Request r) {
        Op op = r.invocation;
        switch (r.outcome) {
            case OK -> {
                if (r.logIndex > applied[c.node()]) {
                    catchUp(c.node(), r.logIndex);   // a write answers once the client's node applied it
                }
                if (op.fn() == Op.Fn.GET) {
                    builder.okRead(op, r.readValue);
                    c.lastRead.put(op.key(), r.readValue);
                } else if (op.fn() == Op.Fn.INCR) {
                    builder.okIncr(op, r.number);
                } else {
                    builder.ok(op);
                }
            }
            case FAIL -> builder.fail(op);
            case INFO -> {
                builder.info(op);
                c.process += options.clients();   // a new session
                c.lastRead.clear();
            }
            default -> throw new IllegalStateException();
        }
        if (r.cut) {
            c.ownLogIndex = 0;   // a new connection: its reads wait for nothing of the old one
        }
    }

    private void log(String key, String value) {
        log.add(new String[] {key, value});
        if (value == null) {
            state.remove(key);
        } else {
            state.put(key, value);
        }
    }

    private void catchUp(int node, int index) {
        Map<String, String> replica = replicas.get(node);
        while (applied[node] < index) {
            String[] entry = log.get(applied[node]++);
            if (entry[1] == null) {
                replica.remove(entry[0]);
            } else {
                replica.put(entry[0], entry[1]);
            }
        }
    }
}
