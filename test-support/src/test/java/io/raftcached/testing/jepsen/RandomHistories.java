package io.raftcached.testing.jepsen;

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
 */
final class RandomHistories {
    record Options(int clients, int registerKeys, int counterKeys, int operations, double unknownRate, boolean localReads, int nodes) {}

    private enum Phase { IDLE, INVOKED, APPLIED }

    private final Random random;
    private final Options options;
    private final HistoryBuilder builder = new HistoryBuilder();
    private final Map<String, String> state = new HashMap<>();
    private final List<String[]> log = new ArrayList<>();   // {key, value or null}
    private final int[] applied;
    private final List<Map<String, String>> replicas = new ArrayList<>();
    private final Client[] clients;
    private int sequence;

    private final class Client {
        final int index;
        int process;
        Phase phase = Phase.IDLE;
        Op invocation;
        boolean lost;   // the outcome will be unknown
        boolean refused;   // "not written": fails without effect
        Op.Type outcome;
        String readValue;
        Long number;
        int logIndex = -1;
        final Map<String, String> lastRead = new HashMap<>();

        Client(int index) {
            this.index = index;
            this.process = index;
        }

        int node() {
            return index % options.nodes();
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
            switch (client.phase) {
                case IDLE -> {
                    if (invoked < options.operations()) {
                        invoke(client);
                        invoked++;
                    }
                }
                case INVOKED -> apply(client);
                case APPLIED -> complete(client);
                default -> throw new IllegalStateException();
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
            if (client.phase != Phase.IDLE) {
                return true;
            }
        }
        return false;
    }

    private void invoke(Client c) {
        c.lost = random.nextDouble() < options.unknownRate();
        c.refused = !c.lost && random.nextDouble() < options.unknownRate() / 2;
        c.logIndex = -1;
        int roll = random.nextInt(100);
        if (options.counterKeys() > 0 && roll < 20) {
            String key = "c" + random.nextInt(options.counterKeys());
            c.invocation = roll < 14 ? builder.invokeIncr(c.process, key) : builder.invokeGet(c.process, key);
        } else {
            String key = "r" + random.nextInt(Math.max(1, options.registerKeys()));
            String value = "p" + c.process + "-" + (sequence++);
            if (roll < 45) {
                c.invocation = builder.invokeGet(c.process, key);
            } else if (roll < 68) {
                c.invocation = builder.invokeSet(c.process, key, value);
            } else if (roll < 84 && c.lastRead.get(key) != null) {
                c.invocation = builder.invokeCas(c.process, key, c.lastRead.get(key), value);
            } else if (roll < 93) {
                c.invocation = builder.invoke(c.process, Op.Fn.ADD, key, value, null);
            } else {
                c.invocation = builder.invoke(c.process, Op.Fn.DELETE, key, null, null);
            }
        }
        if (c.invocation.fn() == Op.Fn.GET) {
            c.refused = false;   // a refused read is just a failed read; keep reads simple
        }
        c.phase = Phase.INVOKED;
    }

    /** The instant the operation takes effect (or, refused or lost without effect, does not). */
    private void apply(Client c) {
        Op op = c.invocation;
        String key = op.key();
        String current = state.get(key);
        c.readValue = null;
        c.number = null;
        boolean effect = !c.refused && !(c.lost && random.nextBoolean());
        if (!effect) {
            c.outcome = c.refused ? Op.Type.FAIL : Op.Type.INFO;
            c.phase = Phase.APPLIED;
            return;
        }
        c.outcome = Op.Type.OK;
        switch (op.fn()) {
            case GET -> c.readValue = options.localReads() ? replicas.get(c.node()).get(key) : current;
            case SET -> log(key, op.value());
            case ADD -> {
                if (current == null) {
                    log(key, op.value());
                } else {
                    c.outcome = Op.Type.FAIL;
                }
            }
            case CAS -> {
                if (op.expected().equals(current)) {
                    log(key, op.value());
                } else {
                    c.outcome = Op.Type.FAIL;
                }
            }
            case DELETE -> {
                if (current != null) {
                    log(key, null);
                } else {
                    c.outcome = Op.Type.FAIL;
                }
            }
            case INCR -> {
                long next = Long.parseLong(current) + 1;
                log(key, Long.toString(next));
                c.number = next;
            }
            default -> throw new IllegalStateException();
        }
        if (c.outcome == Op.Type.OK && op.fn() != Op.Fn.GET) {
            c.logIndex = log.size();
        }
        if (c.lost) {
            c.outcome = Op.Type.INFO;
        }
        c.phase = Phase.APPLIED;
    }

    private void complete(Client c) {
        Op op = c.invocation;
        switch (c.outcome) {
            case OK -> {
                if (c.logIndex > applied[c.node()]) {
                    catchUp(c.node(), c.logIndex);   // a write answers once the client's node applied it
                }
                if (op.fn() == Op.Fn.GET) {
                    builder.okRead(op, c.readValue);
                    c.lastRead.put(op.key(), c.readValue);
                } else if (op.fn() == Op.Fn.INCR) {
                    builder.okIncr(op, c.number);
                } else {
                    builder.ok(op);
                }
            }
            case FAIL -> builder.fail(op);
            case INFO -> {
                builder.info(op);
                c.process += options.clients();   // a new connection, a new session
                c.lastRead.clear();
            }
            default -> throw new IllegalStateException();
        }
        c.phase = Phase.IDLE;
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
