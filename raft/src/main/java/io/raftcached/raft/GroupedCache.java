package io.raftcached.raft;

import io.raftcached.placement.ClusterMap;
import io.raftcached.placement.HashSlots;
import io.raftcached.proto.Command;
import io.raftcached.proto.Op;
import io.raftcached.store.EvictionLog;
import io.raftcached.store.ItemWalk;
import io.raftcached.store.MaintenanceReply;
import io.raftcached.store.Store;
import io.raftcached.store.StoreConfig;
import io.raftcached.store.StoreCounters;
import io.raftcached.store.StoreResult;
import io.raftcached.store.StoreTotals;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A node that runs several Raft groups (docs/scale-out.md, step 2): every node of the cluster is a
 * replica of every group, each group a {@link ClusterNode} with its own log, store, write stream
 * and dedupe table on the process's shared {@link RaftHost}. A key's writes and reads go to the
 * group owning its slot; keyless writes ({@code flush_all}, slab and crawler commands) go to
 * every group and answer once all have applied; node-wide figures are summed.
 *
 * <p>The placement is computed, not stored: from {@code --peers}, every node's {@code -m} and the
 * number of groups, {@link ClusterMap#withGroups} gives every node the same slot ranges and the
 * same preferred leader per group. The metadata group that will store it replaces this (step 3).
 */
public final class GroupedCache implements ReplicatedCache {
    private final RaftHost host;
    private final ClusterMap map;
    /** By group ordinal less one. */
    private final List<ClusterNode> groups;
    private final RaftEvents events = new RaftEvents();

    private GroupedCache(RaftHost host, ClusterMap map, List<ClusterNode> groups) {
        this.host = host;
        this.map = map;
        this.groups = List.copyOf(groups);
        for (ClusterNode group : this.groups) {
            group.events().watch(line -> events.emit(tagged(line, group.ordinal())));
        }
    }

    /** {@code type=<event> group=g<N> key=value ...}: which group an event is of, right after what it is. */
    static String tagged(String event, int ordinal) {
        int space = event.indexOf(' ');
        String tag = " group=g" + ordinal;
        return space < 0 ? event + tag : event.substring(0, space) + tag + event.substring(space);
    }

    /**
     * The placement of {@code groupCount} groups of {@code shape}'s memory split evenly, on the
     * members of {@code settings} (this node alone without {@code --peers}).
     *
     * @throws IllegalArgumentException when the groups do not fit (too little memory per group, too many members)
     */
    public static ClusterMap placement(RaftSettings settings, StoreConfig shape, int groupCount) {
        if (groupCount < 1 || groupCount > HostedGroup.COUNT_MAX) {
            throw new IllegalArgumentException("--groups must be 1 to " + HostedGroup.COUNT_MAX + ", got " + groupCount);
        }
        long nodeMb = shape.memoryLimitBytes() / StoreConfig.MEGABYTE;
        long groupMb = nodeMb / groupCount;
        if (groupMb < 1) {
            throw new IllegalArgumentException("-m " + nodeMb + " leaves less than 1 MB for each of " + groupCount + " groups");
        }
        List<Integer> members = settings.singleMember() ? List.of(settings.nodeId())
                : settings.peers().stream().map(RaftSettings.Peer::nodeId).sorted().toList();
        if (members.size() > ClusterMap.REPLICATION_FACTOR_MAX) {
            throw new IllegalArgumentException("--groups takes at most " + ClusterMap.REPLICATION_FACTOR_MAX
                    + " --peers (every member holds every group), got " + members.size());
        }
        ClusterMap map = ClusterMap.empty(members.size());
        for (int member : members) {
            map = map.withNode(member, nodeMb);
        }
        return map.withGroups(groupCount, groupMb);
    }

    /** The store shape of each group: the node's with its share of the memory. */
    public static StoreConfig groupShape(StoreConfig shape, ClusterMap map) {
        return shape.withMemoryLimit(map.group(1).memoryMb() * StoreConfig.MEGABYTE);
    }

    /**
     * Starts the node's groups at once (each waits for its peers' same group), on one Raft endpoint.
     * Returns once every group's jraft runs.
     */
    public static GroupedCache start(RaftSettings settings, StoreConfig shape, FatalStop fatal, int groupCount)
            throws IOException, InterruptedException {
        ClusterMap map = placement(settings, shape, groupCount);
        StoreConfig perGroup = groupShape(shape, map);
        RaftHost host = ClusterNode.startHost(settings);
        ExecutorService starters = Executors.newFixedThreadPool(groupCount, ClusterNode.daemon("raftcached-group-start"));
        CompletionService<ClusterNode> starting = new ExecutorCompletionService<>(starters);
        List<RaftMetrics> metrics = RaftMetrics.perGroup(groupCount);
        for (int ordinal = 1; ordinal <= groupCount; ordinal++) {
            HostedGroup hosted = new HostedGroup(ordinal, groupCount, map.group(ordinal).leader());
            RaftMetrics groupMetrics = metrics.get(ordinal - 1);
            starting.submit(() -> ClusterNode.startHosted(settings, perGroup, fatal, host, hosted, groupMetrics));
        }
        starters.shutdown();
        List<ClusterNode> started = new ArrayList<>();
        Exception failure = null;
        for (int done = 0; done < groupCount; done++) {
            try {
                started.add(starting.take().get());
            } catch (ExecutionException e) {
                // The first group that cannot start stops the others (their waits for peers end when interrupted).
                failure = failure == null ? asException(e.getCause()) : failure;
                starters.shutdownNow();
            } catch (InterruptedException e) {
                failure = failure == null ? e : failure;
                starters.shutdownNow();
            }
        }
        if (failure != null) {
            started.forEach(ClusterNode::close);
            host.close();
            if (failure instanceof IOException io) {
                throw io;
            }
            if (failure instanceof InterruptedException interrupted) {
                throw interrupted;
            }
            throw (RuntimeException) failure;
        }
        started.sort(Comparator.comparingInt(ClusterNode::ordinal));
        return new GroupedCache(host, map, started);
    }

    private static Exception asException(Throwable cause) {
        if (cause instanceof Exception e) {
            return e;
        }
        throw (Error) cause;
    }

    /** The group that owns {@code key}'s slot. */
    ClusterNode groupOf(byte[] key) {
        return groups.get(map.groupOfKey(key) - 1);
    }

    /** The group at position {@code ordinal}, 1..{@link #groupCount}. */
    ClusterNode group(int ordinal) {
        return groups.get(ordinal - 1);
    }

    // --- writes ------------------------------------------------------------------------------

    @Override
    public CompletableFuture<StoreResult> submit(Command command) {
        if (command.getOp() != Op.FLUSH_ALL && command.getOp() != Op.MAINTENANCE) {
            return groups.get(map.groupOfSlot(HashSlots.slotOf(command.getKey())) - 1).submit(command);
        }
        List<CompletableFuture<StoreResult>> results = groups.stream().map(group -> group.submit(command)).toList();
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> keylessResult(results.stream().map(CompletableFuture::join).toList()));
    }

    /**
     * One answer for a write every group applied: the first group's, unless a slab or crawler
     * command was refused in some group (busy, no spare page), whose refusal is the answer.
     */
    private static StoreResult keylessResult(List<StoreResult> results) {
        for (StoreResult result : results) {
            if (result.status == StoreResult.Status.MAINTENANCE && result.number != MaintenanceReply.OK.ordinal()) {
                return result;
            }
        }
        return results.get(0);
    }

    /** A write is admitted while every group has room: which group it is for is not known yet. */
    @Override
    public boolean admitsWrite(long sizeBytes, Runnable onRoom) {
        for (ClusterNode group : groups) {
            if (!group.admitsWrite(sizeBytes, onRoom)) {
                return false;
            }
        }
        return true;
    }

    // --- reads ---------------------------------------------------------------------------------

    /** The worst of the groups': a node serves local reads only while every group may. */
    @Override
    public ReadPermission readPermission() {
        ReadPermission worst = ReadPermission.ALLOWED;
        for (ClusterNode group : groups) {
            ReadPermission permission = group.readPermission();
            if (permission.ordinal() > worst.ordinal()) {
                worst = permission;
            }
        }
        return worst;
    }

    /** The first group's clock: every group's follows its leaders' wall clocks, within their skew. */
    @Override
    public long readClockMillis() {
        return groups.get(0).readClockMillis();
    }

    @Override
    public Store.ReadOutcome read(byte[] key, long readNowMillis, Store.Lookup lookup, Store.ItemVisitor visitor) {
        return groupOf(key).read(key, readNowMillis, lookup, visitor);
    }

    @Override
    public StoreCounters store() {
        return new StoreTotals(groups.stream().map(ClusterNode::store).toList());
    }

    @Override
    public boolean admitsRead(Runnable onRoom) {
        for (ClusterNode group : groups) {
            if (!group.admitsRead(onRoom)) {
                return false;
            }
        }
        return true;
    }

    /** Every group's barrier: the read that follows may be for any key. */
    @Override
    public CompletableFuture<Void> linearizableBarrier() {
        return CompletableFuture.allOf(groups.stream().map(ClusterNode::linearizableBarrier).toArray(CompletableFuture[]::new));
    }

    // --- status and administration ---------------------------------------------------------------

    /**
     * The node's status: the first group's Raft view (role, term, indexes, members; each group's
     * is in {@link #groupStatuses}), the counters of every group summed, how many groups the node
     * runs and leads, ready only when every group is, and the first failure of any.
     */
    @Override
    public RaftStatus status() {
        RaftStatus status = groups.get(0).status();
        status.groups = groups.size();
        for (ClusterNode group : groups.subList(1, groups.size())) {
            RaftStatus each = group.status();
            status.groupsLed += each.groupsLed;
            status.pendingWrites += each.pendingWrites;
            status.logBufferBytes += each.logBufferBytes;
            status.forwardBufferBytes += each.forwardBufferBytes;
            status.abandonedWriteStreams += each.abandonedWriteStreams;
            status.duplicatesAnswered += each.duplicatesAnswered;
            status.snapshotsSaved += each.snapshotsSaved;
            status.snapshotsInstalled += each.snapshotsInstalled;
            status.snapshotsDeferred += each.snapshotsDeferred;
            status.forwardsRefusedOtherGroup += each.forwardsRefusedOtherGroup;
            status.hintWrites += each.hintWrites;
            status.hintKeys += each.hintKeys;
            status.hintBytes += each.hintBytes;
            status.hintKeysDropped += each.hintKeysDropped;
            status.ready &= each.ready;
            if (status.failure == null && each.failure != null) {
                status.failure = "group g" + group.ordinal() + ": " + each.failure;
            }
        }
        return status;
    }

    @Override
    public List<RaftStatus> groupStatuses() {
        return groups.stream().map(ClusterNode::status).toList();
    }

    /** The groups' shared families, each series labelled with its group. */
    @Override
    public RaftMetrics metrics() {
        return groups.get(0).metrics();
    }

    @Override
    public List<String> digests() {
        return groups.stream().map(ClusterNode::digest).toList();
    }

    @Override
    public ItemWalk metadump(long classBits) throws IOException {
        return new GroupsWalk(classBits);
    }

    /** The groups' walks one after another, each image taken when the walk reaches its group. */
    private final class GroupsWalk implements ItemWalk {
        private final long classBits;
        private int nextGroup;
        private ItemWalk current;

        GroupsWalk(long classBits) throws IOException {
            this.classBits = classBits;
            this.current = groups.get(nextGroup++).metadump(classBits);
        }

        @Override
        public boolean next(ItemLine line) {
            while (!current.next(line)) {
                if (nextGroup == groups.size()) {
                    return false;
                }
                current.close();
                try {
                    current = groups.get(nextGroup++).metadump(classBits);
                } catch (IOException e) {
                    throw new UncheckedIOException("could not image group g" + nextGroup + " for the walk", e);
                }
            }
            return true;
        }

        @Override
        public void close() {
            current.close();
        }
    }

    @Override
    public void trackSizes() {
        groups.forEach(ClusterNode::trackSizes);
    }

    @Override
    public SortedMap<Long, Long> sizeHistogram() {
        return store().sizeHistogram();
    }

    /** Every group's evictions go to {@code sink}, from each group's apply thread. */
    @Override
    public void watchEvictions(EvictionLog.Sink sink, LongConsumer dropped) {
        groups.forEach(group -> group.watchEvictions(sink, dropped));
    }

    /** Every group's events, each line tagged {@code group=g<N>} ({@link #tagged}). */
    @Override
    public RaftEvents events() {
        return events;
    }

    @Override
    public CompletableFuture<Void> snapshotNow() {
        return CompletableFuture.allOf(groups.stream().map(ClusterNode::snapshotNow).toArray(CompletableFuture[]::new));
    }

    /** Each group hands over within what is left of {@code timeoutMillis}. */
    @Override
    public void handOver(long timeoutMillis) throws InterruptedException {
        long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (ClusterNode group : groups) {
            group.handOver(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        }
    }

    @Override
    public void close() {
        groups.forEach(ClusterNode::close);
        host.close();
    }
}
