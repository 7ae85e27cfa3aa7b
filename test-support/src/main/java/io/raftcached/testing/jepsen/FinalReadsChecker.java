package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * No acknowledged write was lost: the final reads (see {@link CheckSetup} for the convention) must
 * show a state some acknowledged history could end in.
 *
 * <p>For each register key, over the operations before the final reads (failed ones never
 * happened):
 * <ul>
 *   <li>A write W (ok, or of unknown outcome) is <b>superseded</b> when another acknowledged write
 *       to the key was invoked after W completed, or was sent after W on W's connection while W
 *       was in flight (per-connection order, {@link SessionOrder}): W's effect, if any, is then
 *       surely followed by that one's.</li>
 *   <li>The <b>candidates</b> for the final state are the acknowledged writes that are not
 *       superseded, plus every write of unknown outcome that is not superseded (info or never
 *       completed: it may have taken effect at any time after its invocation, so also last).</li>
 *   <li>A final value v is allowed iff some candidate set, added or cas'd v.</li>
 *   <li>A final miss is allowed iff no write to the key was acknowledged (the key may never have
 *       been written), or some candidate is a delete.</li>
 * </ul>
 * Moreover every key the workload used (the setup's keys and every key in the history) must have
 * at least one ok final read, and all final reads of a key must agree: after convergence every
 * node holds the same state. Counter keys get only these two checks here; their values are judged
 * by {@link CounterChecker}.
 */
public final class FinalReadsChecker {
    public static final String NAME = "final-reads";
    private static final int MAX_CANDIDATES_SHOWN = 4;

    private FinalReadsChecker() {}

    public static CheckResult check(History history, CheckSetup setup) {
        return Problem.judgePaired(NAME, history, operations -> check(operations, setup));
    }

    public static CheckResult check(List<Operation> operations, CheckSetup setup) {
        Set<String> counters = setup.counterKeysOf(operations);
        Set<String> keys = new TreeSet<>(setup.registerKeys());
        keys.addAll(counters);
        Map<String, List<Operation>> workload = new TreeMap<>();
        Map<String, List<Operation>> finals = new TreeMap<>();
        for (Operation op : operations) {
            keys.add(op.key());
            if (setup.isFinalRead(op)) {
                if (op.fn() == Op.Fn.GET && op.ok()) {
                    finals.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
                }
            } else {
                workload.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
            }
        }
        List<Problem> problems = new ArrayList<>();
        int judged = 0;
        for (String key : keys) {
            List<Operation> reads = finals.getOrDefault(key, List.of());
            if (reads.isEmpty()) {
                problems.add(new Problem(key + ": no ok final read (the runner must read every key on every node after healing)",
                        List.of()));
                continue;
            }
            Set<String> values = new LinkedHashSet<>();
            reads.forEach(read -> values.add(String.valueOf(read.read())));
            if (values.size() > 1) {
                problems.add(new Problem(key + ": the final reads disagree: " + describe(reads), reads));
            }
            if (!counters.contains(key)) {
                judged++;
                checkRegister(key, workload.getOrDefault(key, List.of()), reads, problems);
            }
        }
        if (!problems.isEmpty()) {
            return Problem.violation(NAME, problems);
        }
        return CheckResult.ok(NAME, keys.size() + " keys read on every node agree; " + judged
                + " register keys end in a state that keeps every acknowledged write");
    }

    private static void checkRegister(String key, List<Operation> ops, List<Operation> finalReads, List<Problem> problems) {
        List<Operation> writes = new ArrayList<>();
        List<Operation> acked = new ArrayList<>();
        for (Operation op : ops) {
            if (op.isWrite() && !op.failed()) {
                writes.add(op);
                if (op.ok()) {
                    acked.add(op);
                }
            }
        }
        int latestAckedInvoke = acked.stream().mapToInt(Operation::invokeIndex).max().orElse(-1);
        int[][] sentAfter = SessionOrder.successors(SessionOrder.predecessors(writes));
        List<Operation> candidates = new ArrayList<>();
        for (int i = 0; i < writes.size(); i++) {
            Operation op = writes.get(i);
            boolean followedOnItsConnection = false;
            for (int after : sentAfter[i]) {
                followedOnItsConnection |= writes.get(after).ok();
            }
            // no acknowledged write was invoked after it completed, nor sent after it on its connection
            if (op.deadline() > latestAckedInvoke && !followedOnItsConnection) {
                candidates.add(op);
            }
        }
        boolean missAllowed = acked.isEmpty() || candidates.stream().anyMatch(op -> op.fn() == Op.Fn.DELETE);
        Set<String> judged = new HashSet<>();
        for (Operation read : finalReads) {
            String value = read.read();
            if (!judged.add(String.valueOf(value))) {
                continue;   // the same value on another node: judged already
            }
            if (value == null ? missAllowed : candidates.stream().anyMatch(op -> op.fn() != Op.Fn.DELETE && value.equals(op.written()))) {
                continue;
            }
            problems.add(lost(key, ops, acked, candidates, missAllowed, read));
        }
    }

    private static Problem lost(String key, List<Operation> ops, List<Operation> acked, List<Operation> candidates, boolean missAllowed,
            Operation read) {
        String value = read.read();
        List<Operation> lastAcked = new ArrayList<>(acked.stream().filter(candidates::contains).toList());
        lastAcked.sort((a, b) -> Integer.compare(b.invokeIndex(), a.invokeIndex()));
        lastAcked = lastAcked.subList(0, Math.min(MAX_CANDIDATES_SHOWN, lastAcked.size()));
        String allowed = describeCandidates(candidates, missAllowed);
        List<Operation> witnesses = new ArrayList<>();
        Operation writer = ops.stream().filter(op -> op.fn() != Op.Fn.GET && op.fn() != Op.Fn.DELETE && Objects.equals(op.written(), value))
                .findFirst().orElse(null);
        String what;
        if (value == null) {
            what = "a miss, but no delete can have come last";
        } else if (writer == null) {
            what = "\"" + value + "\", which no operation wrote";
        } else if (writer.failed()) {
            what = "\"" + value + "\", written by " + writer + " that was reported failed";
            witnesses.add(writer);
        } else {
            what = "\"" + value + "\" from " + writer + ", which a later acknowledged write superseded";
            witnesses.add(writer);
        }
        witnesses.addAll(lastAcked);
        witnesses.add(read);
        return new Problem(key + ": final read " + read + " on " + read.invoke().node() + " returned " + what
                + (lastAcked.isEmpty() ? "" : "; the acknowledged writes that may come last are " + lastAcked) + "; allowed: "
                + allowed, witnesses);
    }

    private static String describeCandidates(List<Operation> candidates, boolean missAllowed) {
        Set<String> allowed = new LinkedHashSet<>();
        if (missAllowed) {
            allowed.add("a miss");
        }
        for (Operation op : candidates) {
            if (op.fn() != Op.Fn.DELETE) {
                allowed.add("\"" + op.written() + "\"");
            }
        }
        List<String> shown = new ArrayList<>(allowed);
        return shown.subList(0, Math.min(10, shown.size())) + (shown.size() > 10 ? " and " + (shown.size() - 10) + " more" : "");
    }

    private static String describe(List<Operation> reads) {
        List<String> parts = new ArrayList<>();
        for (Operation read : reads) {
            parts.add(read.invoke().node() + "=" + (read.read() == null ? "miss" : read.read()));
        }
        return String.join(", ", parts);
    }
}
