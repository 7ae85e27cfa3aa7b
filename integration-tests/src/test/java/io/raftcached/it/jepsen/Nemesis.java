package io.raftcached.it.jepsen;

import io.raftcached.testing.jepsen.CheckResult;
import io.raftcached.testing.jepsen.Op;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Runs a {@link Schedule} against a {@link FaultRunCluster} while the workload runs, and records
 * what each fault actually did: when it fired and healed, which node led at the time, which nodes
 * it hit, whether it hit the leader, and whether the workload was completing operations just
 * before it (under load). Every wait is bounded; a fault that cannot be carried out is recorded
 * as an error (the run fails on it), never skipped silently.
 */
final class Nemesis {
    /** What one fault did. Times are seconds since the workload started. */
    record Fired(Schedule.Event event, double startSeconds, double healedSeconds, String leaderAtStart, List<String> targets,
            boolean hitLeader, boolean underLoad, boolean effective, String note) {
        @Override
        public String toString() {
            return String.format("%-32s fired +%6.1fs healed +%6.1fs leader %-4s targets %-12s%s%s%s %s", event.fault(), startSeconds,
                    healedSeconds, leaderAtStart, String.join(",", targets), hitLeader ? " HIT-LEADER" : "",
                    underLoad ? " under-load" : " NO-LOAD", effective ? "" : " NOT-EFFECTIVE", note);
        }
    }

    private static final long LEADER_WAIT_MILLIS = 10_000;
    private static final long RESTART_READY_MILLIS = 45_000;
    /** The workload counts as running under a fault when an operation completed ok this shortly before it. */
    private static final long UNDER_LOAD_WINDOW_MILLIS = 3_000;
    static final long TTL_SECONDS = 5;
    static final long TTL_SKEW_MILLIS = 30_000;

    private final FaultRunCluster cluster;
    private final Workload workload;
    private final Random random;
    private final long originNanos;
    private final List<Fired> fired = new CopyOnWriteArrayList<>();
    private final List<String> errors = new CopyOnWriteArrayList<>();
    private final List<CheckResult> subChecks = new CopyOnWriteArrayList<>();
    private int ttlKeys;

    Nemesis(FaultRunCluster cluster, Workload workload, long seed, long originNanos) {
        this.cluster = cluster;
        this.workload = workload;
        this.random = new Random(seed ^ 0x5DEECE66DL);
        this.originNanos = originNanos;
    }

    List<Fired> fired() {
        return List.copyOf(fired);
    }

    List<String> errors() {
        return List.copyOf(errors);
    }

    /** Checks a fault makes on its own (the TTL check across a leader change). */
    List<CheckResult> subChecks() {
        return List.copyOf(subChecks);
    }

    /** Runs every event in order, each no earlier than its time; stops early when {@code stop} says so. */
    void run(Schedule schedule, BooleanSupplier stop) throws InterruptedException {
        for (Schedule.Event event : schedule.events()) {
            while (secondsNow() * 1000 < event.atMillis()) {
                if (stop.getAsBoolean()) {
                    return;
                }
                Thread.sleep(20);
            }
            if (stop.getAsBoolean()) {
                return;
            }
            cluster.markLogs("nemesis " + event);
            System.out.println("nemesis: " + event);
            try {
                Fired result = fire(event);
                fired.add(result);
                System.out.println("nemesis: " + result);
            } catch (IOException | RuntimeException e) {
                String message = event.fault() + " at +" + String.format("%.1f", secondsNow()) + "s failed: " + e;
                errors.add(message);
                System.out.println("nemesis: " + message);
                healAll();
            }
            cluster.markLogs("nemesis healed " + event.fault());
        }
    }

    double secondsNow() {
        return (System.nanoTime() - originNanos) / 1e9;
    }

    private boolean underLoad() {
        long last = workload.lastOkNanos();
        return last != 0 && System.nanoTime() - last < TimeUnit.MILLISECONDS.toNanos(UNDER_LOAD_WINDOW_MILLIS);
    }

    private Fired fire(Schedule.Event event) throws IOException, InterruptedException {
        FaultRunNode leader = cluster.awaitLeaderOrNull(LEADER_WAIT_MILLIS);
        String leaderName = leader == null ? "none" : leader.name;
        boolean load = underLoad();
        double start = secondsNow();
        return switch (event.fault()) {
            case KILL_LEADER, KILL_FOLLOWER -> {
                FaultRunNode target = event.fault() == Schedule.Fault.KILL_LEADER ? orAny(leader) : follower(leader);
                target.kill();
                Thread.sleep(event.durationMillis());
                restart(target);
                yield done(event, start, leaderName, List.of(target), target == leader, load, true, "");
            }
            case PAUSE_LEADER, PAUSE_FOLLOWER -> {
                FaultRunNode target = event.fault() == Schedule.Fault.PAUSE_LEADER ? orAny(leader) : follower(leader);
                target.pause();
                Thread.sleep(event.durationMillis());
                target.resume();
                FaultRunNode after = cluster.awaitLeaderOrNull(LEADER_WAIT_MILLIS);
                yield done(event, start, leaderName, List.of(target), target == leader, load, true,
                        "leader after resume: " + (after == null ? "none" : after.name));
            }
            case WIPE_FOLLOWER -> wipeFollower(event, start, leader, load);
            case WIPE_FOLLOWER_THEN_KILL_LEADER -> wipeThenKillLeader(event, start, leader, load);
            case CLOCK_SKEW_RESTART -> {
                FaultRunNode target = random.nextBoolean() ? orAny(leader) : follower(leader);
                long offset = (random.nextBoolean() ? 1 : -1) * (10_000L + random.nextInt(30_001));
                target.kill();
                target.clockOffsetMillis(offset);
                Thread.sleep(event.durationMillis());
                restart(target);
                yield done(event, start, leaderName, List.of(target), target == leader, load, true,
                        "restarted with --clock-offset-ms " + offset);
            }
            case TTL_ACROSS_LEADER_CHANGE -> ttlAcrossLeaderChange(event, start, leaderName, load);
            case PARTITION_ISOLATE_LEADER, PARTITION_LEADER_MINORITY, PARTITION_LEADER_MAJORITY, PARTITION_SPLIT_ALL,
                    PARTITION_BRIDGE, PARTITION_GROUP_SPLIT -> partition(event, start, leader, load);
            case MEMBERSHIP_GROW_REMOVE_LEADER, MEMBERSHIP_GROW_REMOVE_FOLLOWER -> membership(event, start, leaderName, load);
        };
    }

    private Fired done(Schedule.Event event, double start, String leaderName, List<FaultRunNode> targets, boolean hitLeader,
            boolean load, boolean effective, String note) {
        return new Fired(event, start, secondsNow(), leaderName, targets.stream().map(n -> n.name).toList(), hitLeader, load,
                effective, note);
    }

    // --- targets --------------------------------------------------------------------------------

    private FaultRunNode orAny(FaultRunNode leader) {
        if (leader != null) {
            return leader;
        }
        List<FaultRunNode> running = cluster.members().stream().filter(FaultRunNode::alive).toList();
        return running.get(random.nextInt(running.size()));
    }

    private FaultRunNode follower(FaultRunNode leader) {
        List<FaultRunNode> followers = cluster.members().stream().filter(n -> n != leader && n.alive() && !n.paused()).toList();
        if (followers.isEmpty()) {
            throw new IllegalStateException("no running follower to hit");
        }
        return followers.get(random.nextInt(followers.size()));
    }

    // --- restarts and healing -------------------------------------------------------------------

    private String restart(FaultRunNode node) throws IOException, InterruptedException {
        node.start();
        node.awaitListening(FaultRunCluster.START_TIMEOUT_MILLIS);
        try {
            node.awaitReady(RESTART_READY_MILLIS);
            return "";
        } catch (IOException notReady) {
            // Not ready yet (no quorum at the moment, say): the final phase waits for convergence.
            return node.name + " not ready " + RESTART_READY_MILLIS / 1000 + " s after its restart";
        }
    }

    /** Heals every fault: links, paused processes, dead members (restarted). Bounded; errors are recorded. */
    void healAll() throws InterruptedException {
        if (cluster.lab != null) {
            try {
                cluster.lab.heal();
            } catch (IOException e) {
                errors.add("heal of the network failed: " + e);
            }
        }
        for (FaultRunNode node : cluster.members()) {
            try {
                if (node.paused()) {
                    node.resume();
                }
                if (!node.alive()) {
                    node.start();
                    node.awaitListening(FaultRunCluster.START_TIMEOUT_MILLIS);
                }
            } catch (IOException e) {
                errors.add("could not bring " + node.name + " back: " + e);
            }
        }
    }

    // --- wipes ----------------------------------------------------------------------------------

    /** Snapshots every member so the log is compacted and a wiped node must install a snapshot. */
    private String snapshotAll(FaultRunNode leader) throws IOException, InterruptedException {
        FaultRunNode via = leader != null ? leader : cluster.members().stream().filter(FaultRunNode::alive).findFirst().orElseThrow();
        NetnsLab.Sh.Result result = cluster.cli("snapshot", "--node", via.raftEndpoint(), "--timeout-ms", "20000");
        return result.exitCode() == 0 ? "snapshot taken on every member" : "snapshot refused: " + result.output().strip();
    }

    private static long installed(FaultRunNode node) {
        Map<String, String> raft = node.statsOrNull("raft");
        return raft == null ? -1 : Long.parseLong(raft.getOrDefault("raft_snapshots_installed", "0"));
    }

    private Fired wipeFollower(Schedule.Event event, double start, FaultRunNode leader, boolean load)
            throws IOException, InterruptedException {
        FaultRunNode target = follower(leader);
        String snapshot = snapshotAll(leader);
        target.kill();
        target.wipe();
        Thread.sleep(event.durationMillis());
        String restart = restart(target);
        long installed = installed(target);
        return done(event, start, leader == null ? "none" : leader.name, List.of(target), false, load, installed > 0,
                snapshot + "; snapshots installed by the wiped node: " + installed + (restart.isEmpty() ? "" : "; " + restart));
    }

    /**
     * The nasty variant: a wiped follower comes back as a learner, and the leader is killed before
     * the learner is promoted. The learner is frozen the moment the leader lists it so the kill
     * lands before the promotion; the survivors must not elect a leader that lacks acknowledged
     * writes. Not effective when the promotion won the race.
     */
    private Fired wipeThenKillLeader(Schedule.Event event, double start, FaultRunNode leader, boolean load)
            throws IOException, InterruptedException {
        if (leader == null) {
            throw new IllegalStateException("no leader to kill");
        }
        FaultRunNode wiped = follower(leader);
        String snapshot = snapshotAll(leader);
        wiped.kill();
        wiped.wipe();
        Thread.sleep(Math.min(2_000, event.durationMillis() / 2));   // writes the wiped node will have to install
        wiped.start();
        String learner = null;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (learner == null && System.nanoTime() < deadline && wiped.alive()) {
            Map<String, String> raft = leader.statsOrNull("raft");
            if (raft != null) {
                for (String peer : String.valueOf(raft.get("raft_learners")).split(",")) {
                    if (peer.startsWith(wiped.raftEndpoint() + ":")) {
                        learner = peer;
                    }
                }
            }
            if (learner == null) {
                Thread.sleep(2);
            }
        }
        if (learner == null) {
            throw new IOException(wiped.name + " never showed up as a learner on " + leader.name + " within 60 s; log:\n" + wiped.tail(20));
        }
        wiped.pause();
        Map<String, String> atKill = leader.statsOrNull("raft");
        String members = atKill == null ? "?" : atKill.get("raft_members");
        boolean promotedAlready = atKill == null || List.of(members.split(",")).contains(learner);
        leader.kill();
        wiped.resume();
        FaultRunNode during = cluster.awaitLeaderOrNull(Math.max(1_000, event.durationMillis()));
        String duringText = during == null ? "no leader while the old one was down (the safe outcome)"
                : during.name + " became leader while the old leader was down";
        restart(leader);
        String wipedReady = "";
        try {
            wiped.awaitReady(RESTART_READY_MILLIS);
        } catch (IOException e) {
            wipedReady = "; " + wiped.name + " not ready " + RESTART_READY_MILLIS / 1000 + " s after the leader returned";
        }
        return done(event, start, leader.name, List.of(wiped, leader), true, load, !promotedAlready,
                snapshot + "; learner " + learner + (promotedAlready ? " was promoted before the kill (race lost)" : " killed-before-promotion")
                        + "; " + duringText + "; snapshots installed by the wiped node: " + installed(wiped) + wipedReady);
    }

    // --- clocks ---------------------------------------------------------------------------------

    /**
     * Moves leadership to a node whose clock is ahead, sets a key with a {@value #TTL_SECONDS} s TTL
     * through it, kills it, and checks on the others that the key is still there 3 s after the set
     * was sent and gone 7 s after it was acknowledged (memcached's second resolution plus margin):
     * expiry follows the log's clock, so a new leader with an honest clock must not stretch it by
     * the old leader's skew.
     */
    private Fired ttlAcrossLeaderChange(Schedule.Event event, double start, String leaderName, boolean load)
            throws IOException, InterruptedException {
        List<String> notes = new ArrayList<>();
        FaultRunNode ahead = cluster.members().stream().filter(n -> n.alive() && !n.paused() && n.clockOffsetMillis() >= 10_000)
                .findFirst().orElse(null);
        if (ahead == null) {
            ahead = follower(cluster.awaitLeaderOrNull(LEADER_WAIT_MILLIS));
            ahead.kill();
            ahead.clockOffsetMillis(TTL_SKEW_MILLIS);
            notes.add("restarted " + ahead.name + " with --clock-offset-ms " + TTL_SKEW_MILLIS + " " + restart(ahead));
        }
        FaultRunNode leader = cluster.awaitLeaderOrNull(LEADER_WAIT_MILLIS);
        for (int attempt = 0; attempt < 3 && leader != ahead; attempt++) {
            FaultRunNode via = leader != null ? leader : ahead;
            NetnsLab.Sh.Result transfer = cluster.cli("transfer-leader", ahead.raftEndpoint(), "--node", via.raftEndpoint());
            if (transfer.exitCode() != 0) {
                notes.add("transfer-leader refused: " + transfer.output().strip());
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline && (leader = cluster.leaderNow()) != ahead) {
                Thread.sleep(50);
            }
        }
        if (leader != ahead) {
            throw new IOException("could not move leadership to " + ahead.name + " (clock +" + ahead.clockOffsetMillis() + " ms): "
                    + notes);
        }
        String key = "ttl" + (ttlKeys++);
        String value = "v-" + key;
        long sentNanos;
        long ackNanos;
        String reply;
        try (WorkloadConnection connection = new WorkloadConnection(ahead.host, ahead.port, 1_000, 5_000)) {
            sentNanos = System.nanoTime();
            reply = connection.call("set " + key + " 0 " + TTL_SECONDS + " " + value.length() + "\r\n" + value + "\r\n");
            ackNanos = System.nanoTime();
        }
        if (!reply.equals("STORED")) {
            throw new IOException("set " + key + " with a TTL through " + ahead.name + " answered " + reply);
        }
        ahead.kill();
        FaultRunNode killed = ahead;
        List<FaultRunNode> others = cluster.members().stream().filter(n -> n != killed && n.alive() && !n.paused()).toList();
        List<Op> evidence = new ArrayList<>();
        int process = -2;
        evidence.add(new Op(process, Op.Type.INVOKE, Op.Fn.SET, key, value, null, null, sentNanos, ahead.name + " ttl=" + TTL_SECONDS));
        evidence.add(new Op(process, Op.Type.OK, Op.Fn.SET, key, value, null, null, ackNanos, ahead.name + " ttl=" + TTL_SECONDS));
        List<String> problems = new ArrayList<>();
        // Present 3 s after the set was sent (the entry was stamped after that), retried until 4 s.
        sleepUntil(sentNanos + TimeUnit.SECONDS.toNanos(3));
        for (FaultRunNode node : others) {
            String seen = readUntil(node, key, true, sentNanos + TimeUnit.SECONDS.toNanos(4), evidence);
            if (seen == null) {
                problems.add(node.name + " no longer had " + key + " 3-4 s after it was set with a " + TTL_SECONDS + " s TTL");
            }
        }
        // Gone 7 s after the set was acknowledged, retried until 8 s (a second of clock resolution).
        sleepUntil(ackNanos + TimeUnit.SECONDS.toNanos(7));
        for (FaultRunNode node : others) {
            String seen = readUntil(node, key, false, ackNanos + TimeUnit.SECONDS.toNanos(8), evidence);
            if (seen != null) {
                problems.add(node.name + " still returned " + key + " 8 s after it was set with a " + TTL_SECONDS
                        + " s TTL through a leader whose clock was " + ahead.clockOffsetMillis() / 1000 + " s ahead");
            }
        }
        if (!problems.isEmpty()) {
            // How long the key really lived tells a stretched expiry (by the skew) from an off-by-a-second one.
            for (FaultRunNode node : others) {
                double gone = goneAfter(node, key, ackNanos, TTL_SKEW_MILLIS + 15_000);
                problems.add(node.name + ": " + key + (gone < 0 ? " still there " + (TTL_SKEW_MILLIS + 15_000) / 1000 + " s after the set"
                        : String.format(" first missed %.1f s after the set", gone)));
            }
        }
        FaultRunNode newLeader = cluster.leaderNow();
        notes.add("new leader " + (newLeader == null ? "none" : newLeader.name + " (clock " + newLeader.clockOffsetMillis() / 1000 + " s)"));
        long remaining = event.durationMillis() - TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - sentNanos);
        if (remaining > 0) {
            Thread.sleep(remaining);
        }
        String restarted = restart(ahead);
        if (!restarted.isEmpty()) {
            notes.add(restarted);
        }
        String name = "ttl-across-leader-change";
        subChecks.add(problems.isEmpty()
                ? CheckResult.ok(name, key + " set with TTL " + TTL_SECONDS + " s through " + ahead.name + " (clock +"
                        + ahead.clockOffsetMillis() / 1000 + " s), then " + ahead.name + " killed: present at +3 s and gone by +8 s on "
                        + others.stream().map(n -> n.name).toList())
                : CheckResult.violation(name, String.join("; ", problems), evidence));
        return done(event, start, leaderName, List.of(ahead), true, load, true,
                key + (problems.isEmpty() ? " expired on time" : " TTL VIOLATION: " + problems) + "; " + String.join("; ", notes));
    }

    private void sleepUntil(long nanos) throws InterruptedException {
        long wait = nanos - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }

    /**
     * Reads {@code key} from {@code node} until it is present (wantPresent) or absent (otherwise) or the
     * deadline passes; returns the last value seen (null = miss or no answer). The last read is evidence.
     */
    private String readUntil(FaultRunNode node, String key, boolean wantPresent, long deadlineNanos, List<Op> evidence)
            throws InterruptedException {
        String last = null;
        boolean answered = false;
        List<Op> lastRead = List.of();
        do {
            Op invoke = new Op(-2, Op.Type.INVOKE, Op.Fn.GET, key, null, null, null, System.nanoTime(), node.name);
            try (WorkloadConnection connection = new WorkloadConnection(node.host, node.port, 1_000, 2_000)) {
                WorkloadConnection.Item item = connection.get(key, false);
                last = item == null ? null : item.value();
                answered = true;
                lastRead = List.of(invoke, invoke.completedAs(Op.Type.OK, last, null, System.nanoTime()));
                if ((last != null) == wantPresent) {
                    break;
                }
            } catch (IOException refused) {
                // refused (no quorum for a linearizable read yet) or unreachable: ask again
            }
            Thread.sleep(100);
        } while (System.nanoTime() < deadlineNanos);
        evidence.addAll(lastRead);
        return answered ? last : (wantPresent ? null : "(no answer)");
    }

    /** For a diagnosis: seconds after {@code sinceNanos} when {@code key} was first missed on {@code node}, or -1 past the cap. */
    private double goneAfter(FaultRunNode node, String key, long sinceNanos, long capMillis) throws InterruptedException {
        long deadline = sinceNanos + TimeUnit.MILLISECONDS.toNanos(capMillis);
        while (System.nanoTime() < deadline) {
            try (WorkloadConnection connection = new WorkloadConnection(node.host, node.port, 1_000, 2_000)) {
                if (connection.get(key, false) == null) {
                    return (System.nanoTime() - sinceNanos) / 1e9;
                }
            } catch (IOException notNow) {
                // ask again
            }
            Thread.sleep(250);
        }
        return -1;
    }

    // --- partitions -----------------------------------------------------------------------------

    private Fired partition(Schedule.Event event, double start, FaultRunNode leader, boolean load)
            throws IOException, InterruptedException {
        if (cluster.lab == null) {
            throw new IllegalStateException(event.fault() + " needs network namespaces");
        }
        List<FaultRunNode> members = new ArrayList<>(cluster.members());
        FaultRunNode l = orAny(leader);
        List<FaultRunNode> others = new ArrayList<>(members);
        others.remove(l);
        java.util.Collections.shuffle(others, random);
        String shape;
        boolean hit = true;
        switch (event.fault()) {
            case PARTITION_ISOLATE_LEADER -> {
                cluster.lab.partition(List.of(Set.of(l.slot), slots(others)));
                shape = "[" + l.name + "] | " + names(others);
            }
            case PARTITION_LEADER_MINORITY -> {
                // The largest minority that holds the leader: {L} of 3 (a 2/1 split), {L, a} of 5.
                List<FaultRunNode> side = new ArrayList<>(List.of(l));
                side.addAll(others.subList(0, (members.size() - 1) / 2 - 1));
                List<FaultRunNode> rest = new ArrayList<>(members);
                rest.removeAll(side);
                cluster.lab.partition(List.of(slots(side), slots(rest)));
                shape = names(side) + " | " + names(rest);
            }
            case PARTITION_LEADER_MAJORITY -> {
                int minoritySize = (members.size() - 1) / 2;
                List<FaultRunNode> minority = others.subList(0, minoritySize);
                List<FaultRunNode> majority = new ArrayList<>(members);
                majority.removeAll(minority);
                cluster.lab.partition(List.of(slots(minority), slots(majority)));
                shape = names(majority) + " | " + names(minority);
                hit = false;
            }
            case PARTITION_SPLIT_ALL -> {
                List<Set<Integer>> groups = new ArrayList<>();
                members.forEach(n -> groups.add(Set.of(n.slot)));
                cluster.lab.partition(groups);
                shape = "each alone: " + names(members);
            }
            case PARTITION_BRIDGE -> {
                if (members.size() < 5) {
                    throw new IllegalStateException("a bridge partition needs five members, not " + members.size());
                }
                FaultRunNode a = others.get(0);
                FaultRunNode bridge = others.get(1);
                List<FaultRunNode> far = others.subList(2, others.size());
                Set<String> links = new TreeSet<>();
                for (FaultRunNode near : List.of(l, a)) {
                    for (FaultRunNode f : far) {
                        links.add(NetnsLab.link(near.slot, f.slot));
                    }
                }
                cluster.lab.cutLinks(links);
                shape = names(List.of(l, a)) + " <- " + bridge.name + " -> " + names(far) + " (cut " + links + ")";
            }
            case PARTITION_GROUP_SPLIT -> {
                List<FaultRunNode> replicas = firstGroupReplicas(l, members);
                List<FaultRunNode> last = new ArrayList<>(members);
                last.removeAll(replicas.subList(0, replicas.size() - 1));
                List<Set<Integer>> sides = new ArrayList<>();
                replicas.subList(0, replicas.size() - 1).forEach(r -> sides.add(Set.of(r.slot)));
                sides.add(slots(last));
                cluster.lab.partition(sides);
                shape = "the group of " + l.name + " split: " + names(replicas.subList(0, replicas.size() - 1)) + " alone | "
                        + names(last);
            }
            default -> throw new IllegalArgumentException(event.fault().name());
        }
        List<FaultRunNode> targets = new ArrayList<>(members);
        Thread.sleep(event.durationMillis());
        FaultRunNode during = cluster.leaderNow();
        cluster.lab.heal();
        return done(event, start, leader == null ? "none" : leader.name, hit ? List.of(l) : targets, hit && leader != null, load, true,
                shape + "; leader just before the heal: " + (during == null ? "none" : during.name));
    }

    /**
     * The members of {@code node}'s first Raft group ({@code stats raft}: the first
     * {@code raft_group_g<N>} line's members, or every member with one group), in member order.
     */
    private static List<FaultRunNode> firstGroupReplicas(FaultRunNode node, List<FaultRunNode> members) throws IOException {
        Map<String, String> raft = node.statsOrNull("raft");
        if (raft == null) {
            throw new IOException(node.name + " did not answer stats raft");
        }
        String line = raft.entrySet().stream().filter(e -> e.getKey().startsWith("raft_group_g")).map(Map.Entry::getValue)
                .findFirst().orElse(null);
        if (line == null) {
            return members;
        }
        String peers = Arrays.stream(line.split(" ")).filter(f -> f.startsWith("members=")).findFirst()
                .orElseThrow(() -> new IOException("no members in " + line)).substring("members=".length());
        List<FaultRunNode> replicas = members.stream()
                .filter(m -> Arrays.stream(peers.split(",")).anyMatch(p -> p.equals(m.host + ":" + m.raftPort) || p.startsWith(m.host + ":" + m.raftPort + ":"))).toList();
        if (replicas.size() < 2) {
            throw new IOException("the members " + peers + " of " + node.name + "'s first group match " + names(replicas));
        }
        return replicas;
    }

    private static Set<Integer> slots(List<FaultRunNode> nodes) {
        Set<Integer> slots = new HashSet<>();
        nodes.forEach(n -> slots.add(n.slot));
        return slots;
    }

    private static String names(List<FaultRunNode> nodes) {
        return nodes.stream().map(n -> n.name).toList().toString();
    }

    // --- membership -----------------------------------------------------------------------------

    private Fired membership(Schedule.Event event, double start, String leaderName, boolean load)
            throws IOException, InterruptedException {
        FaultRunNode grown = cluster.grow(60_000);
        FaultRunNode leader = cluster.awaitLeaderOrNull(LEADER_WAIT_MILLIS);
        FaultRunNode removed = event.fault() == Schedule.Fault.MEMBERSHIP_GROW_REMOVE_LEADER ? orAny(leader)
                : cluster.members().stream().filter(n -> n != cluster.leaderNow() && n != grown && n.alive()).findFirst()
                        .orElseThrow(() -> new IllegalStateException("no follower to remove"));
        boolean hit = removed == leader;
        Thread.sleep(Math.min(event.durationMillis(), 2_000));   // some load with the grown membership
        NetnsLab.Sh.Result result = cluster.remove(removed);
        FaultRunNode after = cluster.awaitLeaderOrNull(LEADER_WAIT_MILLIS);
        Map<String, String> raft = after == null ? null : after.statsOrNull("raft");
        return done(event, start, leader == null ? leaderName : leader.name, List.of(grown, removed), hit, load, true,
                "grew by " + grown.name + ", removed " + removed.name + " (" + result.output().strip().replace('\n', ' ') + "); members now "
                        + (raft == null ? "?" : raft.get("raft_members")));
    }
}
