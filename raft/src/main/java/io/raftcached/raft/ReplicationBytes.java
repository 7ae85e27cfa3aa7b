package io.raftcached.raft;

import com.alipay.sofa.jraft.ReplicatorGroup;
import com.alipay.sofa.jraft.error.RemotingException;
import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.InvokeCallback;
import com.alipay.sofa.jraft.rpc.InvokeContext;
import com.alipay.sofa.jraft.rpc.RaftRpcFactory;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.BoltRaftRpcFactory;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcClient;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import com.alipay.sofa.jraft.util.SPI;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * The bytes of AppendEntries requests this process sent to each peer (entries and heartbeats;
 * snapshots travel as file reads the follower makes, not counted): etcd's per-peer sent bytes.
 * jraft keeps no such count, so its RPC client is wrapped: jraft's service loader takes this
 * factory over bolt's (higher priority, META-INF/services), and it is bolt's in all else.
 * Being the one place every bolt server and client of the process is made, it also puts them
 * behind {@link PeerTls} when members talk over TLS.
 */
@SPI(priority = 1)
public final class ReplicationBytes extends BoltRaftRpcFactory {
    /** By peer ("host:port"); peers are the members ever led, so the map stays small. */
    private static final Map<String, LongAdder> SENT_BYTES = new ConcurrentHashMap<>();

    /** Bytes sent so far to each peer, by "host:port", in order. */
    static Map<String, Long> sentBytes() {
        Map<String, Long> sent = new TreeMap<>();
        SENT_BYTES.forEach((peer, bytes) -> sent.put(peer, bytes.sum()));
        return sent;
    }

    static void count(Endpoint peer, Object request) {
        if (request instanceof AppendEntriesRequest append) {
            // protobuf computes the size once and keeps it for the write that follows
            SENT_BYTES.computeIfAbsent(peer.toString(), p -> new LongAdder()).add(append.getSerializedSize());
        }
    }

    @Override
    public RpcClient createRpcClient(RaftRpcFactory.ConfigHelper<RpcClient> helper) {
        RpcClient client = super.createRpcClient(helper);
        PeerTls.secure((BoltRpcClient) client);
        return new Counting(client);
    }

    /** Bolt's server, behind peer TLS when it is on. */
    @Override
    public RpcServer createRpcServer(Endpoint endpoint, RaftRpcFactory.ConfigHelper<RpcServer> helper) {
        RpcServer server = super.createRpcServer(endpoint, helper);
        PeerTls.secure((BoltRpcServer) server);
        return server;
    }

    /** Bolt's client, counting what it sends. */
    private record Counting(RpcClient client) implements RpcClient {
        @Override
        public boolean init(RpcOptions options) {
            return client.init(options);
        }

        @Override
        public void shutdown() {
            client.shutdown();
        }

        @Override
        public boolean checkConnection(Endpoint endpoint) {
            return client.checkConnection(endpoint);
        }

        @Override
        public boolean checkConnection(Endpoint endpoint, boolean createIfAbsent) {
            return client.checkConnection(endpoint, createIfAbsent);
        }

        @Override
        public void closeConnection(Endpoint endpoint) {
            client.closeConnection(endpoint);
        }

        @Override
        public void registerConnectEventListener(ReplicatorGroup replicatorGroup) {
            client.registerConnectEventListener(replicatorGroup);
        }

        @Override
        public Object invokeSync(Endpoint endpoint, Object request, InvokeContext context, long timeoutMillis)
                throws InterruptedException, RemotingException {
            count(endpoint, request);
            return client.invokeSync(endpoint, request, context, timeoutMillis);
        }

        @Override
        public void invokeAsync(Endpoint endpoint, Object request, InvokeContext context, InvokeCallback callback,
                long timeoutMillis) throws InterruptedException, RemotingException {
            count(endpoint, request);
            client.invokeAsync(endpoint, request, context, callback, timeoutMillis);
        }
    }
}
