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
import java.util.Collections;
import java.util.HashMap;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionService;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;

/**
 * A node of a cluster of several Raft groups (docs/scale-out.md, steps 2 and 3). Each group has
 * up to three replicas among the members; the groups this node holds a replica of are each a
 * {@link ClusterNode} with its own log, store, write stream and dedupe table on the process's
 * shared {@link RaftHost}, and the others a {@link RemoteGroup} that relays their keys' commands
 * to a replica. A key's writes and reads go to the group owning its slot; keyless writes
 * ({@code flush_all}, slab and crawler commands) go to every group and answer once all have
 * applied; node-wide figures are summed over the groups held here.
 *
 * <p>The placement is computed, not stored: from {@code --peers}, every node's {@code -m} and the
 * number of groups, {@link ClusterMap#withGroups} gives every node the same replicas, slot ranges
 * and preferred leader per group. The metadata group that will store it replaces this.
 */
public final class GroupedCache implements ReplicatedCache {
    /** Replicas per group: every member while there are at most this many, else this many. */
    static final int REPLICAS_MAX = 3;
    /** Bytes of writes relayed to other nodes' replicas and not yet answered, at most (plus one write). */
    static final long RELAYED_WRITE_BYTES_MAX = 64L << 20;
    /** Bytes of relayed read replies reserved or held until written, at most (plus one read). */
    static final long RELAYED_READ_BYTES_MAX = 64L << 20;

    private final RaftHost host;
    private final ClusterMap map;
    /** The groups this node holds a replica of, in group order. */
    private final List<ClusterNode> held;
    /** By group ordinal less one: the group if held here, else null. */
    private final ClusterNode[] local;
    /** By group ordinal less one: the relay to the group's replicas if not held here, else null. */
    private final RemoteGroup[] remote;
    private final Admission relayedWrites = new Admission(RELAYED_WRITE_BYTES_MAX);
    private final Admission relayedReads = new Admission(RELAYED_READ_BYTES_MAX);
    private final RaftEvents events = new RaftEvents();

    private GroupedCache(RaftHost host, ClusterMap map, List<ClusterNode> held, List<RemoteGroup> remotes) {
        this.host = host;
        this.map = map;
        this.held = List.copyOf(held);
        this.local = new ClusterNode[map.groups().size()];
        this.remote = new RemoteGroup[map.groups().size()];
        for (ClusterNode group : this.held) {
            local[group.ordinal() - 1] = group;
            group.events().watch(line -> events.emit(tagged(line, group.ordinal())));
        }
        for (RemoteGroup group : remotes) {
            remote[group.ordinal() - 1] = group;
        }
        for (int ordinal = 1; ordinal <= local.length; ordinal++) {
            if ((local[ordinal - 1] == null) == (remote[ordinal - 1] == null)) {
                throw new IllegalStateException("group g" + ordinal + " must be held here or relayed, exactly one");
            }
        }
        if (this.held.isEmpty()) {
            throw new IllegalStateException("a node must hold at least one group");
        }
    }

    /** {@code type=<event> group=g<N> key=value ...}: which group an event is of, right after what it is. */
    static String tagged(String event, int ordinal) {
        int space = event.indexOf(' ');
        String tag = " group=g" + ordinal;
        return space < 0 ? event + tag : event.substring(0, space) + tag + event.substring(space);
    }

    /**
     * The placement of {@code groupCount} groups on the members of {@code settings} (this node
     * alone without {@code --peers}): each group on up to {@link #REPLICAS_MAX} of them, with the
     * memory of {@code shape} split so that the node holding the most groups fits them all.
     *
     * @throws IllegalArgumentException when the groups do not fit (too little memory per group, a member left without a group)
     */
    public static ClusterMap placement(RaftSettings settings, StoreConfig shape, int groupCount) {
        if (groupCount < 1 || groupCount > HostedGroup.COUNT_MAX) {
            throw new IllegalArgumentException("--groups must be 1 to " + HostedGroup.COUNT_MAX + ", got " + groupCount);
        }
        List<Integer> members = settings.singleMember() ? List.of(settings.nodeId())
                : settings.peers().stream().map(RaftSettings.Peer::nodeId).sorted().toList();
        int replicas = Math.min(members.size(), REPLICAS_MAX);
        if ((long) groupCount * replicas < members.size()) {
            throw new IllegalArgumentException("--groups " + groupCount + " of " + replicas + " replicas leaves some of the "
                    + members.size() + " members without a group: use at least " + ceilDiv(members.size(), replicas) + " groups");
        }
        long nodeMb = shape.memoryLimitBytes() / StoreConfig.MEGABYTE;
        long groupsPerNode = ceilDiv((long) groupCount * replicas, members.size());
        long groupMb = nodeMb / groupsPerNode;
        if (groupMb < 1) {
            throw new IllegalArgumentException("-m " + nodeMb + " leaves less than 1 MB for each of the " + groupsPerNode
                    + " groups a node holds");
        }
        ClusterMap map = ClusterMap.empty(replicas);
        for (int member : members) {
            map = map.withNode(member, nodeMb);
        }
        return map.withGroups(groupCount, groupMb);
    }

    private static long ceilDiv(long dividend, long divisor) {
        return (dividend + divisor - 1) / divisor;
    }

    /** The store shape of each group: the node's with its share of the memory. */
    public static StoreConfig groupShape(StoreConfig shape, ClusterMap map) {
        return shape.withMemoryLimit(map.group(1).memoryMb() * StoreConfig.MEGABYTE);
    }

    /**
     * Starts the groups this node holds at once (each waits for its peers' same group), on one
     * Raft endpoint, and relays for the others. Returns once every held group's jraft runs.
     */
    public static GroupedCache start(RaftSettings settings, StoreConfig shape, FatalStop fatal, int groupCount)
            throws IOException, InterruptedException {
        ClusterMap map = placement(settings, shape, groupCount);
        StoreConfig perGroup = groupShape(shape, map);
        List<Integer> heldOrdinals = map.groups().values().stream().filter(group -> group.holds(settings.nodeId()))
                .map(ClusterMap.Group::id).toList();
        RaftHost host = ClusterNode.startHost(settings);
        ExecutorService starters = Executors.newFixedThreadPool(heldOrdinals.size(), ClusterNode.daemon("raftcached-group-start"));
        CompletionService<ClusterNode> starting = new ExecutorCompletionService<>(starters);
        List<RaftMetrics> metrics = RaftMetrics.perGroup(heldOrdinals);
        List<RemoteGroup> remotes = new ArrayList<>();
        for (ClusterMap.Group group : map.groups().values()) {
            if (!heldOrdinals.contains(group.id())) {
                List<String> replicas = endpoints(settings, group);
                host.heldElsewhere(settings.nodeId(), groupCount, group.id(), replicas);
                remotes.add(new RemoteGroup(group.id(), groupCount, replicas, host.rpc(), settings.writeTimeoutMillis()));
                continue;
            }
            HostedGroup hosted = new HostedGroup(group.id(), groupCount, group.leader(), group.replicas());
            RaftMetrics groupMetrics = metrics.get(heldOrdinals.indexOf(group.id()));
            starting.submit(() -> ClusterNode.startHosted(settings, perGroup, fatal, host, hosted, groupMetrics));
        }
        starters.shutdown();
        List<ClusterNode> started = new ArrayList<>();
        Exception failure = null;
        for (int done = 0; done < heldOrdinals.size(); done++) {
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
        return new GroupedCache(host, map, started, remotes);
    }

    /** The Raft endpoints of {@code group}'s replicas, its preferred leader first. */
    private static List<String> endpoints(RaftSettings settings, ClusterMap.Group group) {
        List<Integer> order = new ArrayList<>(group.replicas());
        order.remove(Integer.valueOf(group.leader()));
        order.add(0, group.leader());
        return order.stream().map(id -> settings.peers().stream().filter(peer -> peer.nodeId() == id).findFirst()
                .orElseThrow(() -> new IllegalStateException("replica " + id + " of group g" + group.id() + " is not in --peers"))
                .endpoint()).toList();
    }

    private static Exception asException(Throwable cause) {
        if (cause instanceof Exception e) {
            return e;
        }
        throw (Error) cause;
    }

    /** The group that owns {@code key}'s slot, held here. */
    ClusterNode groupOf(byte[] key) {
        ClusterNode group = local[map.groupOfKey(key) - 1];
        if (group == null) {
            throw new IllegalStateException("group g" + map.groupOfKey(key) + " is not held here: read it elsewhere");
        }
        return group;
    }

    /** The group at position {@code ordinal} if held here, else null. */
    ClusterNode group(int ordinal) {
        return local[ordinal - 1];
    }

    // --- writes ------------------------------------------------------------------------------

    @Override
    public CompletableFuture<StoreResult> submit(Command command) {
        if (command.getOp() != Op.FLUSH_ALL && command.getOp() != Op.MAINTENANCE) {
            return submitTo(map.groupOfSlot(HashSlots.slotOf(command.getKey())), command);
        }
        List<CompletableFuture<StoreResult>> results = new ArrayList<>(local.length);
        for (int ordinal = 1; ordinal <= local.length; ordinal++) {
            results.add(submitTo(ordinal, command));
        }
        return CompletableFuture.allOf(results.toArray(CompletableFuture[]::new))
                .thenApply(ignored -> keylessResult(results.stream().map(CompletableFuture::join).toList()));
    }

    private CompletableFuture<StoreResult> submitTo(int ordinal, Command command) {
        ClusterNode group = local[ordinal - 1];
        if (group != null) {
            return group.submit(command);
        }
        long sizeBytes = command.getSerializedSize();
        relayedWrites.enter(sizeBytes);
        return remote[ordinal - 1].submit(command).whenComplete((result, failure) -> relayedWrites.leave(sizeBytes));
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

    /** A write is admitted while every group held here and the relays have room: which group it is for is not known yet. */
    @Override
    public boolean admitsWrite(long sizeBytes, Runnable onRoom) {
        for (ClusterNode group : held) {
            if (!group.admitsWrite(sizeBytes, onRoom)) {
                return false;
            }
        }
        return relayedWrites.admits(onRoom);
    }

    // --- reads ---------------------------------------------------------------------------------

    /** The worst of the held groups': a node serves local reads only while every group it holds may. */
    @Override
    public ReadPermission readPermission() {
        ReadPermission worst = ReadPermission.ALLOWED;
        for (ClusterNode group : held) {
            ReadPermission permission = group.readPermission();
            if (permission.ordinal() > worst.ordinal()) {
                worst = permission;
            }
        }
        return worst;
    }

    /** The first held group's clock: every group's follows its leaders' wall clocks, within their skew. */
    @Override
    public long readClockMillis() {
        return held.get(0).readClockMillis();
    }

    @Override
    public Store.ReadOutcome read(byte[] key, long readNowMillis, Store.Lookup lookup, Store.ItemVisitor visitor) {
        return groupOf(key).read(key, readNowMillis, lookup, visitor);
    }

    @Override
    public boolean holds(byte[] key) {
        return local[map.groupOfKey(key) - 1] != null;
    }

    /**
     * One relay per group the keys belong to, in parallel; each replica answers a prefix of its
     * group's keys, so the answer is the keys up to the first one whose group's reply stopped
     * short. Room for every group's reply is reserved before they are sent.
     */
    @Override
    public CompletableFuture<RelayedReads> readElsewhere(List<byte[]> keys, long[] versions, boolean bump, boolean linearizable) {
        if (keys.isEmpty() || keys.size() > RemoteGroup.READ_KEYS_MAX || versions.length != keys.size()) {
            throw new IllegalArgumentException(keys.size() + " keys, " + versions.length + " versions");
        }
        int[] ordinals = new int[keys.size()];
        SortedMap<Integer, List<Integer>> byGroup = new TreeMap<>();
        for (int i = 0; i < keys.size(); i++) {
            ordinals[i] = map.groupOfKey(keys.get(i));
            if (remote[ordinals[i] - 1] == null) {
                throw new IllegalArgumentException("group g" + ordinals[i] + " is held here: read it locally");
            }
            byGroup.computeIfAbsent(ordinals[i], ordinal -> new ArrayList<>()).add(i);
        }
        long reservedBytes = byGroup.size() * 2 * RemoteGroup.READ_REPLY_BYTES_MAX;
        CompletableFuture<RelayedReads> result = new CompletableFuture<>();
        whenAdmitted(reservedBytes, () -> {
            SortedMap<Integer, CompletableFuture<List<RelayedRead>>> replies = new TreeMap<>();
            byGroup.forEach((ordinal, indexes) -> replies.put(ordinal, remote[ordinal - 1].read(
                    indexes.stream().map(keys::get).toList(), indexes.stream().mapToLong(i -> versions[i]).toArray(), bump,
                    linearizable)));
            CompletableFuture.allOf(replies.values().toArray(CompletableFuture[]::new)).whenComplete((ignored, failure) -> {
                if (failure != null) {
                    relayedReads.leave(reservedBytes);
                    result.completeExceptionally(failure instanceof CompletionException && failure.getCause() != null
                            ? failure.getCause() : failure);
                    return;
                }
                List<RelayedRead> inOrder = new ArrayList<>(keys.size());
                Map<Integer, Integer> taken = new HashMap<>();
                for (int ordinal : ordinals) {
                    List<RelayedRead> reads = replies.get(ordinal).join();
                    int next = taken.merge(ordinal, 1, Integer::sum) - 1;
                    if (next >= reads.size()) {
                        break;
                    }
                    inOrder.add(reads.get(next));
                }
                result.complete(new RelayedReads(inOrder, () -> relayedReads.leave(reservedBytes)));
            });
        });
        return result;
    }

    /** Runs {@code send} once the relayed reads' budget has room for {@code sizeBytes} more, holding them. */
    private void whenAdmitted(long sizeBytes, Runnable send) {
        if (relayedReads.admits(() -> whenAdmitted(sizeBytes, send))) {
            relayedReads.enter(sizeBytes);
            send.run();
        }
    }

    @Override
    public StoreCounters store() {
        return new StoreTotals(held.stream().map(ClusterNode::store).toList());
    }

    @Override
    public boolean admitsRead(Runnable onRoom) {
        for (ClusterNode group : held) {
            if (!group.admitsRead(onRoom)) {
                return false;
            }
        }
        return true;
    }

    /** Every held group's barrier: the read that follows may be for any key (relayed reads take theirs on the replica). */
    @Override
    public CompletableFuture<Void> linearizableBarrier() {
        return CompletableFuture.allOf(held.stream().map(ClusterNode::linearizableBarrier).toArray(CompletableFuture[]::new));
    }

    // --- status and administration ---------------------------------------------------------------

    /**
     * The node's status: the first held group's Raft view (role, term, indexes, members; each
     * group's is in {@link #groupStatuses}), the counters of the held groups summed, how many
     * groups the node holds and leads, ready only when every held group is, and the first failure of any.
     */
    @Override
    public RaftStatus status() {
        RaftStatus status = held.get(0).status();
        status.groups = held.size();
        status.relayedWriteBytes = relayedWrites.inProgress();
        status.relayedReadBytes = relayedReads.inProgress();
        for (ClusterNode group : held.subList(1, held.size())) {
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
        return held.stream().map(ClusterNode::status).toList();
    }

    /** The groups' shared families, each series labelled with its group. */
    @Override
    public RaftMetrics metrics() {
        return held.get(0).metrics();
    }

    @Override
    public List<String> digests() {
        List<String> digests = new ArrayList<>(Collections.nCopies(local.length, (String) null));
        held.forEach(group -> digests.set(group.ordinal() - 1, group.digest()));
        return digests;
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
            this.current = held.get(nextGroup++).metadump(classBits);
        }

        @Override
        public boolean next(ItemLine line) {
            while (!current.next(line)) {
                if (nextGroup == held.size()) {
                    return false;
                }
                current.close();
                try {
                    current = held.get(nextGroup++).metadump(classBits);
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
        held.forEach(ClusterNode::trackSizes);
    }

    @Override
    public SortedMap<Long, Long> sizeHistogram() {
        return store().sizeHistogram();
    }

    /** Every group's evictions go to {@code sink}, from each group's apply thread. */
    @Override
    public void watchEvictions(EvictionLog.Sink sink, LongConsumer dropped) {
        held.forEach(group -> group.watchEvictions(sink, dropped));
    }

    /** Every group's events, each line tagged {@code group=g<N>} ({@link #tagged}). */
    @Override
    public RaftEvents events() {
        return events;
    }

    @Override
    public CompletableFuture<Void> snapshotNow() {
        return CompletableFuture.allOf(held.stream().map(ClusterNode::snapshotNow).toArray(CompletableFuture[]::new));
    }

    /** Each group hands over within what is left of {@code timeoutMillis}. */
    @Override
    public void handOver(long timeoutMillis) throws InterruptedException {
        long deadlineNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        for (ClusterNode group : held) {
            group.handOver(Math.max(0, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        }
    }

    @Override
    public void close() {
        held.forEach(ClusterNode::close);
        host.close();
    }
}
