package io.raftcached.raft;

import com.alipay.sofa.jraft.rpc.RaftRpcServerFactory;
import com.alipay.sofa.jraft.rpc.RpcContext;
import com.alipay.sofa.jraft.rpc.RpcProcessor;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import io.raftcached.proto.JoinRequest;
import io.raftcached.proto.JoinResponse;
import io.raftcached.proto.NodeInfoRequest;
import io.raftcached.proto.NodeInfoResponse;
import io.raftcached.proto.PromoteRequest;
import io.raftcached.proto.PromoteResponse;
import io.raftcached.proto.RelayReadRequest;
import io.raftcached.proto.RelayReadResponse;
import io.raftcached.proto.RelayWriteRequest;
import io.raftcached.proto.RelayWriteResponse;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The process's Raft endpoint, shared by the Raft groups it hosts, as RheaKV's store engine shares
 * one RPC server among its regions: one bolt server carrying jraft's processors (which jraft's
 * {@code NodeManager} routes by group id) and raftcached's, the clients raftcached calls other nodes
 * with, and the threads control calls run on. raftcached's processors are registered once and hand
 * each request to the group it names; a request that names none, or a group not hosted here, goes
 * to the only group of a single-group node (which refuses a stranger's writes and joins itself, as
 * it always did). See docs/scale-out.md.
 */
final class RaftHost implements AutoCloseable {
    private final String address;
    private final RpcServer server;
    private final RaftRpc rpc = new RaftRpc();
    private final ExecutorService controlExecutor = Executors.newFixedThreadPool(2, ClusterNode.daemon("raftcached-control"));
    private final List<ClusterNode> groups = new CopyOnWriteArrayList<>();
    /** By position: the groups of a several-group node it holds no replica of, with their members' Raft addresses. */
    private final Map<Integer, List<String>> heldElsewhere = new ConcurrentHashMap<>();
    private volatile int nodeId;
    private volatile int groupCount = 1;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RaftHost(String host, int port) {
        this.address = host + ":" + port;
        this.server = RaftRpcServerFactory.createRaftRpcServer(new Endpoint(host, port));
    }

    /** Listens on {@code host:port} for jraft's and raftcached's RPCs. */
    static RaftHost start(String host, int port) throws IOException {
        registerMessages();
        RaftHost raftHost = new RaftHost(host, port);
        // Forwarded batches are admitted where they were decoded (ForwardProcessor says why).
        raftHost.server.registerProcessor(raftHost.new Dispatch<>(ForwardRequest.class, Runnable::run,
                request -> raftHost.groupFor(request.getRaftGroup(), 0),
                (group, context, request) -> group.forwardProcessor().handleRequest(context, request)));
        ControlProcessors.all(raftHost, raftHost.controlExecutor).forEach(raftHost.server::registerProcessor);
        RelayProcessors.all(raftHost).forEach(raftHost.server::registerProcessor);
        if (!raftHost.server.init(null)) {
            raftHost.close();
            throw new IOException("cannot listen for Raft on " + raftHost.address);
        }
        raftHost.rpc.start();
        return raftHost;
    }

    private static void registerMessages() {
        ProtoSerializer.register(ForwardRequest.getDefaultInstance());
        ProtoSerializer.register(ForwardResponse.getDefaultInstance());
        ProtoSerializer.register(NodeInfoRequest.getDefaultInstance());
        ProtoSerializer.register(NodeInfoResponse.getDefaultInstance());
        ProtoSerializer.register(JoinRequest.getDefaultInstance());
        ProtoSerializer.register(JoinResponse.getDefaultInstance());
        ProtoSerializer.register(PromoteRequest.getDefaultInstance());
        ProtoSerializer.register(PromoteResponse.getDefaultInstance());
        ProtoSerializer.register(RelayWriteRequest.getDefaultInstance());
        ProtoSerializer.register(RelayWriteResponse.getDefaultInstance());
        ProtoSerializer.register(RelayReadRequest.getDefaultInstance());
        ProtoSerializer.register(RelayReadResponse.getDefaultInstance());
    }

    RpcServer server() {
        return server;
    }

    RaftRpc rpc() {
        return rpc;
    }

    Executor controlExecutor() {
        return controlExecutor;
    }

    /** From now on requests for {@code group} reach it; before its Raft group is known, as the only group. */
    void add(ClusterNode group) {
        groups.add(group);
    }

    void remove(ClusterNode group) {
        groups.remove(group);
    }

    /**
     * Node {@code nodeId} of a cluster of {@code count} groups holds no replica of group
     * {@code ordinal}, whose members are at {@code replicas}: a probe for it is told where to ask.
     */
    void heldElsewhere(int nodeId, int count, int ordinal, List<String> replicas) {
        this.nodeId = nodeId;
        this.groupCount = count;
        heldElsewhere.put(ordinal, List.copyOf(replicas));
    }

    /** What a probe for group {@code ordinal} gets: that group's view, or where its replicas are. */
    NodeInfoResponse nodeInfo(int ordinal) {
        List<String> replicas = heldElsewhere.get(Math.max(1, ordinal));
        if (replicas != null) {
            return NodeInfoResponse.newBuilder().setNodeId(nodeId).setGroup(Math.max(1, ordinal)).setGroups(groupCount)
                    .addAllReplicas(replicas).build();
        }
        return groupFor("", ordinal).nodeInfo();
    }

    /**
     * The hosted group named {@code raftGroup}, else the one at position {@code ordinal} (a probe
     * knows a position before it knows a name; 0, from an older sender, means the first), else the
     * only group (an older sender or a stranger names another, which that group refuses).
     *
     * @throws IllegalStateException when no group can answer: bolt then answers the caller with an
     *     error, which every caller treats as no answer
     */
    ClusterNode groupFor(String raftGroup, int ordinal) {
        List<ClusterNode> hosted = List.copyOf(groups);
        // A group still starting has no name yet: an empty name must not match it.
        for (ClusterNode group : hosted) {
            if (!raftGroup.isEmpty() && group.raftGroup().equals(raftGroup)) {
                return group;
            }
        }
        int position = Math.max(1, ordinal);
        for (ClusterNode group : hosted) {
            if (raftGroup.isEmpty() && group.ordinal() == position) {
                return group;
            }
        }
        if (hosted.size() == 1 && hosted.get(0).groupCount() == 1) {
            return hosted.get(0);
        }
        throw new IllegalStateException("no Raft group " + (raftGroup.isEmpty() ? "at position " + position : raftGroup)
                + " at " + address + " (hosting " + hosted.size() + ")");
    }

    /**
     * The group at position {@code ordinal} of a node of {@code count} groups if this node holds a
     * replica of it, else null (relays: no fallback to another group).
     */
    ClusterNode hostingAt(int ordinal, int count) {
        for (ClusterNode group : groups) {
            if (group.ordinal() == ordinal && group.groupCount() == count) {
                return group;
            }
        }
        return null;
    }

    /** Shuts the server and the clients down, once; the groups are closed first, by their owner. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        server.shutdown();
        rpc.close();
        controlExecutor.shutdownNow();
    }

    interface Handler<T> {
        void handle(ClusterNode group, RpcContext context, T request);
    }

    /** One of raftcached's processors, registered once, handing each request to its group. */
    final class Dispatch<T> implements RpcProcessor<T> {
        private final Class<T> type;
        private final Executor executor;
        private final Function<T, ClusterNode> groupOf;
        private final Handler<T> handler;

        /** @param groupOf the group a request is for ({@link #groupFor}) */
        Dispatch(Class<T> type, Executor executor, Function<T, ClusterNode> groupOf, Handler<T> handler) {
            this.type = type;
            this.executor = executor;
            this.groupOf = groupOf;
            this.handler = handler;
        }

        @Override
        public void handleRequest(RpcContext context, T request) {
            handler.handle(groupOf.apply(request), context, request);
        }

        @Override
        public String interest() {
            return type.getName();
        }

        @Override
        public Executor executor() {
            return executor;
        }
    }
}
