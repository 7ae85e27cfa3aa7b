package io.raftcached.it.jepsen;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A seeded fault schedule: a list of (time, fault, duration) events. Targets are roles ("the
 * leader", "a follower"), resolved when the event fires, because who leads then is not known in
 * advance. Events run one after another: an event's time is the earliest it may start, after the
 * previous one has healed. The same seed and fault list always give the same schedule.
 */
record Schedule(long seed, List<Event> events) {
    /** What a fault does; each is healed at the end of its duration. */
    enum Fault {
        KILL_LEADER("kill -9 the leader, restart it after the duration"),
        KILL_FOLLOWER("kill -9 a follower, restart it after the duration"),
        PAUSE_LEADER("SIGSTOP the leader for longer than the election timeout (a zombie leader), then SIGCONT"),
        PAUSE_FOLLOWER("SIGSTOP a follower, then SIGCONT"),
        WIPE_FOLLOWER("snapshot, kill a follower, delete its data directory, restart it: it rejoins as a learner by snapshot install"),
        WIPE_FOLLOWER_THEN_KILL_LEADER("wipe a follower, restart it, kill the leader before the wiped node is promoted"),
        CLOCK_SKEW_RESTART("restart a node (the leader half the time) with its wall clock 10-40 s ahead or behind"),
        TTL_ACROSS_LEADER_CHANGE("move leadership to a node whose clock is ahead, set a key with a 5 s TTL through it, kill it: "
                + "the key must live ~5 s on the others, not 5 s plus the skew"),
        PARTITION_ISOLATE_LEADER("cut the leader off from every other node"),
        PARTITION_LEADER_MINORITY("split the nodes in two; the leader on the minority side (2/1 with three nodes)"),
        PARTITION_LEADER_MAJORITY("split the nodes in two; the leader on the majority side"),
        PARTITION_SPLIT_ALL("cut every link: each node alone (1/1/1)"),
        PARTITION_BRIDGE("five nodes: two sides that each reach one bridge node but not each other; the leader on a side"),
        PARTITION_GROUP_SPLIT("groups on some nodes: the replicas of the leader's first group each on a side of their own (the"
                + " last with the nodes outside the group), so that group has a majority nowhere while the others keep theirs"),
        MEMBERSHIP_GROW_REMOVE_LEADER("grow by one node (empty data directory, --peers), then remove the leader with the CLI"),
        MEMBERSHIP_GROW_REMOVE_FOLLOWER("grow by one node, then remove a follower with the CLI");

        final String description;

        Fault(String description) {
            this.description = description;
        }

        boolean partition() {
            return name().startsWith("PARTITION_");
        }

        boolean membership() {
            return name().startsWith("MEMBERSHIP_");
        }

        boolean needsFiveNodes() {
            return this == PARTITION_BRIDGE;
        }

        /** Faults that can run on a cluster of this shape. */
        static Set<Fault> possible(int nodes, boolean namespaces) {
            Set<Fault> faults = EnumSet.allOf(Fault.class);
            if (!namespaces) {
                faults.removeIf(Fault::partition);
            }
            if (nodes < 5) {
                faults.remove(PARTITION_BRIDGE);
            }
            if (nodes < 6) {
                faults.remove(PARTITION_GROUP_SPLIT);
            }
            return faults;
        }
    }

    /** One fault, starting no earlier than {@code atMillis} after the workload started. */
    record Event(long atMillis, Fault fault, long durationMillis) {
        @Override
        public String toString() {
            return String.format("+%6.1fs %-32s for %4.1fs", atMillis / 1000.0, fault, durationMillis / 1000.0);
        }
    }

    /** The default seed when none is given: -Djepsen.seed, else the fallback (fixed in CI for repeatable runs). */
    static long seed(long fallback) {
        String property = System.getProperty("jepsen.seed");
        return property == null || property.isBlank() ? fallback : Long.parseLong(property.strip());
    }

    /**
     * The given faults in this order, spaced {@code gapMillis} apart (jittered by up to a quarter
     * by the seed), each lasting {@code durationMillis} (jittered likewise).
     */
    static Schedule of(long seed, List<Fault> faults, long firstAtMillis, long gapMillis, long durationMillis) {
        Random random = new Random(seed);
        List<Event> events = new ArrayList<>();
        long at = firstAtMillis;
        for (Fault fault : faults) {
            long duration = jitter(random, durationMillis);
            events.add(new Event(at, fault, duration));
            at += duration + jitter(random, gapMillis);
        }
        return new Schedule(seed, List.copyOf(events));
    }

    /**
     * A random mix: faults drawn from {@code allowed} until {@code totalMillis} is used up; every
     * allowed fault appears at least once when the time allows (the first ones are a shuffled
     * round of all of them), then random draws.
     */
    static Schedule randomMix(long seed, Set<Fault> allowed, long firstAtMillis, long totalMillis, long gapMillis,
            long durationMillis) {
        Random random = new Random(seed);
        List<Fault> pool = allowed.stream().sorted().collect(Collectors.toCollection(ArrayList::new));
        List<Fault> round = new ArrayList<>(pool);
        java.util.Collections.shuffle(round, random);
        List<Event> events = new ArrayList<>();
        long at = firstAtMillis;
        int drawn = 0;
        while (at < totalMillis && drawn < 10_000) {
            Fault fault = drawn < round.size() ? round.get(drawn) : pool.get(random.nextInt(pool.size()));
            long duration = jitter(random, durationMillis);
            events.add(new Event(at, fault, duration));
            at += duration + jitter(random, gapMillis);
            drawn++;
        }
        return new Schedule(seed, List.copyOf(events));
    }

    /** Faults from -Djepsen.faults (comma separated names), or the given ones. */
    static List<Fault> faults(List<Fault> fallback) {
        String property = System.getProperty("jepsen.faults");
        if (property == null || property.isBlank()) {
            return fallback;
        }
        List<Fault> faults = new ArrayList<>();
        for (String name : property.split(",")) {
            faults.add(Fault.valueOf(name.strip().toUpperCase(java.util.Locale.ROOT)));
        }
        return faults;
    }

    private static long jitter(Random random, long millis) {
        long quarter = Math.max(1, millis / 4);
        return millis - quarter + (long) (random.nextDouble() * 2 * quarter);
    }

    int growths() {
        return (int) events.stream().filter(e -> e.fault().membership()).count();
    }

    boolean any(java.util.function.Predicate<Fault> predicate) {
        return events.stream().anyMatch(e -> predicate.test(e.fault()));
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder("seed " + seed + ", " + events.size() + " events:");
        for (Event event : events) {
            text.append("\n  ").append(event);
        }
        return text.toString();
    }
}
