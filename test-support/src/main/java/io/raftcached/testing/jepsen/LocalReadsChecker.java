package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What local reads (the default mode: reads served by the replica the client talks to) promise
 * instead of linearizability, per client process (one connection to one node; the workload starts
 * a new process for a new connection). They hold in the linearizable mode as well.
 *
 * <ol>
 *   <li><b>Reads of written values.</b> Every value an ok get returned was written by some set, add
 *       or cas of that key in the history (ok or unknown). Reading the value of a write reported as
 *       failed is a violation too: failed means it surely did not happen.</li>
 *   <li><b>Read your writes.</b> After an ok write W by p, p never reads a value that is surely
 *       older than W.</li>
 *   <li><b>Monotonic reads.</b> After p read a value written by W, p never reads a value that is
 *       surely older than W.</li>
 *   <li><b>Per-connection order.</b> p never reads the value of a write p sent after the read
 *       (pipelined behind it, or later): requests take effect in the order sent, so a read never
 *       sees a later request of its own connection.</li>
 * </ol>
 * Rules 2 and 3 follow p's operations in the order p sent them, pipelined ones included: a read
 * sent behind p's own write must see it, even while that write's reply has not yet arrived.
 *
 * <p><b>Surely older</b> is judged conservatively, from real time only, so a violation is certain.
 * Each value v (values are unique per write) took effect within an interval: not before its write
 * was invoked ({@code from(v)}), and not after the earliest of: its write's ok, an ok get that
 * returned v, an ok cas that expected v ({@code by(v)}). A value u is surely older than a write W
 * when {@code by(u) < from(W)}: u was in place before W started, and W replaced it for good (u is
 * never written again). A miss is surely older than W when every delete of the key (ok or unknown)
 * invoked before the read completed had its {@code by} before {@code from(W)}, since the initial
 * absence is older than everything (a delete invoked later cannot explain the miss). A miss read
 * by p raises nothing (it could be the initial absence), and a value written more than once is
 * never judged older. Writes of unknown outcome have {@code by} = never unless observed.
 *
 * <p>Counter keys: a process's reads and ok incrs of a counter never go down, and an ok incr
 * returns more than any number the process saw before (an incr goes through the log, after what
 * the process read was committed). Final reads are judged only for values never written.
 */
public final class LocalReadsChecker {
    public static final String NAME = "local-reads";

    private LocalReadsChecker() {}

    public static CheckResult check(History history, CheckSetup setup) {
        return Problem.judgePaired(NAME, history, operations -> check(operations, setup));
    }

    /** When a value took effect, at the latest, and which operation shows it. */
    private record Effect(Operation write, int from, int by, Operation witness, boolean ambiguous) {}

    /** The latest write a process must not read behind, and how it learned of it. */
    private record Floor(int from, Operation write, Operation learnedBy) {}

    public static CheckResult check(List<Operation> operations, CheckSetup setup) {
        Set<String> counters = setup.counterKeysOf(operations);
        Map<String, Map<String, Effect>> effects = new HashMap<>();
        Map<String, Deletes> deletes = new HashMap<>();
        Map<String, List<Operation>> writesOfValue = new HashMap<>();
        collectEffects(operations, counters, effects, deletes, writesOfValue);

        List<Problem> problems = new ArrayList<>();
        int reads = 0;
        Map<Integer, List<Operation>> byProcess = new TreeMap<>();
        for (Operation op : operations) {
            if (op.fn() == Op.Fn.GET && op.ok() && op.read() != null && !counters.contains(op.key())) {
                reads++;
                writtenValue(op, writesOfValue, problems);
                notALaterOwnWrite(op, writesOfValue, problems);
            }
            if (!setup.isFinalRead(op)) {
                byProcess.computeIfAbsent(op.process(), p -> new ArrayList<>()).add(op);
            }
        }
        for (List<Operation> session : byProcess.values()) {
            Map<String, Floor> own = new HashMap<>();
            Map<String, Floor> seen = new HashMap<>();
            Map<String, Operation> counterFloor = new HashMap<>();
            for (Operation op : session) {
                if (!op.ok()) {
                    continue;
                }
                String key = op.key();
                if (counters.contains(key)) {
                    counterStep(op, counterFloor, problems);
                    continue;
                }
                if (op.isWrite()) {
                    Floor floor = own.get(key);
                    if (floor == null || floor.from() < op.invokeIndex()) {
                        own.put(key, new Floor(op.invokeIndex(), op, op));
                    }
                    continue;
                }
                Effect effect = op.read() == null ? null : effects.getOrDefault(key, Map.of()).get(op.read());
                if (op.read() != null && (effect == null || effect.ambiguous())) {
                    continue;   // never written (reported above) or written twice: no order to judge
                }
                Operation lastDelete = op.read() == null ? deletes.getOrDefault(key, Deletes.NONE).latestBy(op.deadline()) : null;
                int by = op.read() != null ? effect.by() : lastDelete == null ? -1 : lastDelete.deadline();
                Floor ownFloor = own.get(key);
                Floor seenFloor = seen.get(key);
                if (ownFloor != null && by < ownFloor.from()) {
                    problems.add(stale("read-your-writes", op, effect, lastDelete, ownFloor));
                } else if (seenFloor != null && by < seenFloor.from()) {
                    problems.add(stale("monotonic reads", op, effect, lastDelete, seenFloor));
                }
                if (effect != null && (seenFloor == null || seenFloor.from() < effect.from())) {
                    seen.put(key, new Floor(effect.from(), effect.write(), op));
                }
            }
        }
        if (!problems.isEmpty()) {
            return Problem.violation(NAME, problems);
        }
        return CheckResult.ok(NAME, reads + " register reads returned written values; " + byProcess.size()
                + " processes read their writes and never read backwards");
    }

    private static void collectEffects(List<Operation> operations, Set<String> counters, Map<String, Map<String, Effect>> effects,
            Map<String, Deletes> deletes, Map<String, List<Operation>> writesOfValue) {
        Map<String, List<Operation>> deletesByKey = new HashMap<>();
        for (Operation op : operations) {
            if (counters.contains(op.key())) {
                continue;
            }
            if (op.fn() == Op.Fn.SET || op.fn() == Op.Fn.ADD || op.fn() == Op.Fn.CAS) {
                writesOfValue.computeIfAbsent(op.key() + "\u0000" + op.written(), k -> new ArrayList<>()).add(op);
                if (op.failed()) {
                    continue;
                }
                Map<String, Effect> ofKey = effects.computeIfAbsent(op.key(), k -> new HashMap<>());
                Effect previous = ofKey.get(op.written());
                ofKey.put(op.written(), previous != null
                        ? new Effect(previous.write(), Math.min(previous.from(), op.invokeIndex()), Operation.NEVER, null, true)
                        : new Effect(op, op.invokeIndex(), op.deadline(), op, false));
            } else if (op.fn() == Op.Fn.DELETE && !op.failed()) {
                deletesByKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        deletesByKey.forEach((key, ofKey) -> deletes.put(key, new Deletes(ofKey)));
        // observations bound when a value was in place at the latest
        for (Operation op : operations) {
            if (!op.ok() || counters.contains(op.key())) {
                continue;
            }
            String observed = op.fn() == Op.Fn.GET ? op.read() : op.fn() == Op.Fn.CAS ? op.expected() : null;
            if (observed == null) {
                continue;
            }
            Map<String, Effect> ofKey = effects.get(op.key());
            Effect effect = ofKey == null ? null : ofKey.get(observed);
            if (effect != null && !effect.ambiguous() && op.deadline() < effect.by()) {
                ofKey.put(observed, new Effect(effect.write(), effect.from(), op.deadline(), op, false));
            }
        }
    }

    private static void writtenValue(Operation read, Map<String, List<Operation>> writesOfValue, List<Problem> problems) {
        List<Operation> writes = writesOfValue.getOrDefault(read.key() + "\u0000" + read.read(), List.of());
        if (writes.isEmpty()) {
            problems.add(new Problem(read.key() + ": " + read + " returned \"" + read.read() + "\", which no operation wrote",
                    List.of(read)));
        } else if (writes.stream().allMatch(Operation::failed)) {
            List<Operation> witnesses = new ArrayList<>(writes);
            witnesses.add(read);
            problems.add(new Problem(read.key() + ": " + read + " returned \"" + read.read() + "\", written only by " + writes
                    + ", reported failed (so it must not have happened)", witnesses));
        }
    }

    /** Rule 4: a read that returned a value only its own connection's later writes wrote saw a later request. */
    private static void notALaterOwnWrite(Operation read, Map<String, List<Operation>> writesOfValue, List<Problem> problems) {
        List<Operation> writes = writesOfValue.getOrDefault(read.key() + "\u0000" + read.read(), List.of()).stream()
                .filter(write -> !write.failed()).toList();
        if (!writes.isEmpty() && writes.stream().allMatch(write -> write.process() == read.process()
                && write.invokeIndex() > read.invokeIndex())) {
            List<Operation> witnesses = new ArrayList<>(writes);
            witnesses.add(read);
            problems.add(new Problem(read.key() + ": per-connection order broken for process " + read.process() + ": " + read
                    + " returned \"" + read.read() + "\", written by " + writes.get(0) + ", which its connection sent after the read",
                    witnesses));
        }
    }

    private static Problem stale(String property, Operation read, Effect effect, Operation latestDelete, Floor floor) {
        List<Operation> witnesses = new ArrayList<>();
        String what;
        if (effect == null) {
            what = "a miss, though every delete of the key invoked before the read ended (" + (latestDelete == null ? "there is none"
                    : "the last: " + latestDelete) + ") was done before " + floor.write() + " started";
            if (latestDelete != null) {
                witnesses.add(latestDelete);
            }
        } else {
            what = "\"" + read.read() + "\", which was in place by " + (effect.witness() == effect.write() ? "the ok of " + effect.write()
                    : effect.witness() + " (written by " + effect.write() + ")") + ", before " + floor.write() + " started";
            witnesses.add(effect.write());
            if (effect.witness() != effect.write()) {
                witnesses.add(effect.witness());
            }
        }
        witnesses.add(floor.write());
        if (floor.learnedBy() != floor.write()) {
            witnesses.add(floor.learnedBy());
        }
        witnesses.add(read);
        String since = floor.learnedBy() == floor.write() ? "its own write " + floor.write() : "reading " + floor.learnedBy();
        return new Problem(read.key() + ": " + property + " broken for process " + read.process() + ": after " + since + ", "
                + read + " returned " + what, witnesses);
    }

    /**
     * A key's deletes that may have taken effect (ok or unknown), for "which delete can explain a
     * miss": by invocation, with the running latest {@code by} (deadline).
     */
    private static final class Deletes {
        static final Deletes NONE = new Deletes(List.of());

        private final int[] invokes;
        /** latest[i]: of the first i+1 deletes by invocation, the one with the latest deadline. */
        private final Operation[] latest;

        Deletes(List<Operation> deletes) {
            List<Operation> sorted = new ArrayList<>(deletes);
            sorted.sort(Comparator.comparingInt(Operation::invokeIndex));
            invokes = new int[sorted.size()];
            latest = new Operation[sorted.size()];
            for (int i = 0; i < sorted.size(); i++) {
                invokes[i] = sorted.get(i).invokeIndex();
                latest[i] = i > 0 && latest[i - 1].deadline() >= sorted.get(i).deadline() ? latest[i - 1] : sorted.get(i);
            }
        }

        /** Of the deletes invoked before {@code time}, the one that may have taken effect latest; null when none. */
        Operation latestBy(int time) {
            int index = Arrays.binarySearch(invokes, time);
            int count = index >= 0 ? index : -index - 1;
            return count == 0 ? null : latest[count - 1];
        }
    }

    private static void counterStep(Operation op, Map<String, Operation> floors, List<Problem> problems) {
        Long value = op.fn() == Op.Fn.INCR ? op.number() : op.fn() == Op.Fn.GET ? RegisterModel.number(op.read()) : null;
        if (value == null) {
            return;   // a counter read that is not a number is the counter checker's
        }
        Operation floor = floors.get(op.key());
        Long floorValue = floor == null ? null : floor.fn() == Op.Fn.INCR ? floor.number() : RegisterModel.number(floor.read());
        if (floorValue != null && (op.fn() == Op.Fn.INCR ? value <= floorValue : value < floorValue)) {
            // the floor still in flight when op was sent: they were pipelined, and op ran before the floor or saw past it
            String property = floor.completedAt() > op.invokeIndex() ? "per-connection order"
                    : floor.fn() == Op.Fn.INCR ? "read-your-writes" : "monotonic reads";
            problems.add(new Problem(op.key() + ": " + property + " broken for process " + op.process() + ": after " + floor + " saw "
                    + floorValue + ", " + op + " returned " + value + ": the counter went backwards", List.of(floor, op)));
        }
        if (floorValue == null || value > floorValue) {
            floors.put(op.key(), op);
        }
    }
}
