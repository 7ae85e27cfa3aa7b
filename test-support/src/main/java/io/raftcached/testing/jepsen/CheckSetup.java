package io.raftcached.testing.jepsen;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * What the checkers need to know besides the history.
 *
 * <h2>Final reads</h2>
 * After the workload stopped, every fault was healed and the replicas converged, the runner reads
 * every key on every member and records each read as a GET (invocation, then OK with the value or
 * null for a miss) by a <em>final-read process</em>: any process number {@code >=
 * finalReadProcessBase}. The fault runner ({@code FaultRun}, in integration-tests) uses
 * {@code 1_000_000 + node id} (plus 1000 per retry of a refused read; refused attempts are recorded
 * as FAIL and ignored). Workload processes must stay below the base. Final reads come after every
 * other operation completed or was given up.
 *
 * <h2>Counters</h2>
 * Counter keys hold a decimal number, exist with {@code counterInitial} before the history starts
 * (that creation is not recorded), and are only incremented and read. A key with an INCR in the
 * history is a counter key even when not listed.
 *
 * @param linearizableReads    reads are linearizable (ReadIndex); false = the default local reads,
 *                             where only writes and final reads are judged for linearizability
 * @param registerKeys         register keys the workload used (each must have final reads); may be empty
 * @param counterKeys          counter keys (each must have final reads); may be empty
 * @param counterInitial       every counter's value before the history
 * @param finalReadProcessBase process numbers from this one up are final reads
 * @param digests              node -> store digest after convergence, or null to skip that check
 * @param bounds               limits of the linearizability search
 */
public record CheckSetup(boolean linearizableReads, Set<String> registerKeys, Set<String> counterKeys, long counterInitial,
        int finalReadProcessBase, Map<String, String> digests, SearchBounds bounds) {

    /** The convention {@code FaultRun} records final reads with. */
    public static final int FINAL_READ_PROCESS_BASE = 1_000_000;

    public CheckSetup {
        registerKeys = Set.copyOf(registerKeys);
        counterKeys = Set.copyOf(counterKeys);
        digests = digests == null ? null : Map.copyOf(digests);
    }

    /** Keys from the history itself, counters created with 0, default bounds, no digests. */
    public static CheckSetup of(boolean linearizableReads) {
        return new CheckSetup(linearizableReads, Set.of(), Set.of(), 0, FINAL_READ_PROCESS_BASE, null, SearchBounds.defaults());
    }

    /** What a fault run knows: its mode, its keys and the digests it read after convergence. */
    public static CheckSetup of(boolean linearizableReads, Collection<String> registerKeys, Collection<String> counterKeys,
            Map<String, String> digests) {
        return new CheckSetup(linearizableReads, Set.copyOf(registerKeys), Set.copyOf(counterKeys), 0, FINAL_READ_PROCESS_BASE,
                digests, SearchBounds.defaults());
    }

    public CheckSetup withBounds(SearchBounds newBounds) {
        return new CheckSetup(linearizableReads, registerKeys, counterKeys, counterInitial, finalReadProcessBase, digests, newBounds);
    }

    public CheckSetup withDigests(Map<String, String> newDigests) {
        return new CheckSetup(linearizableReads, registerKeys, counterKeys, counterInitial, finalReadProcessBase, newDigests, bounds);
    }

    public boolean isFinalRead(Operation operation) {
        return operation.process() >= finalReadProcessBase;
    }

    public boolean isFinalRead(Op op) {
        return op.process() >= finalReadProcessBase;
    }

    /** Listed counter keys plus every key some INCR touched. */
    public Set<String> counterKeysOf(Collection<Operation> operations) {
        Set<String> keys = new TreeSet<>(counterKeys);
        for (Operation operation : operations) {
            if (operation.fn() == Op.Fn.INCR) {
                keys.add(operation.key());
            }
        }
        return keys;
    }

    /** The value a key holds before the history: the counter's initial number, or absent (null). */
    public String initialValue(String key, Set<String> counters) {
        return counters.contains(key) ? Long.toString(counterInitial) : null;
    }
}
