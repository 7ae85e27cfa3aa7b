package io.raftcached.raft;

import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.InvokeCallback;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.util.Endpoint;
import com.alipay.sofa.jraft.util.RpcFactoryHelper;
import com.google.protobuf.Message;
import io.raftcached.proto.ForwardRequest;
import io.raftcached.proto.ForwardResponse;
import io.raftcached.proto.NodeInfoRequest;
import io.raftcached.proto.NodeInfoResponse;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * raftcached's own calls to other nodes over jraft's bolt transport, on connections of their own:
 * one client for forwarded writes, one for control calls, one for commands relayed to a replica of
 * a group this node does not hold, so none queues behind another or behind jraft's replication and
 * heartbeats. Every call has a timeout; a dead peer answers null.
 */
final class RaftRpc implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RaftRpc.class);
    private static final int CONNECT_TIMEOUT_MILLIS = 1_000;

    private RpcClient forwardClient;
    private RpcClient controlClient;
    private RpcClient relayClient;

    /** How a relayed call ended: its response, or null and whether the peer may have run it. */
    interface RelayCallback {
        void done(Message response, boolean maybeRun);
    }

    void start() {
        forwardClient = newClient();
        controlClient = newClient();
        relayClient = newClient();
    }

    private static RpcClient newClient() {
        RpcClient client = RpcFactoryHelper.rpcFactory().createRpcClient();
        RpcOptions options = new RpcOptions();
        options.setRpcConnectTimeoutMs(CONNECT_TIMEOUT_MILLIS);
        client.init(options);
        return client;
    }

    private static Endpoint endpoint(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new Endpoint(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    /** What the node at {@code hostPort} says of its Raft group at position {@code group}. */
    NodeInfoResponse nodeInfo(String hostPort, int group, int timeoutMillis) {
        return call(hostPort, NodeInfoRequest.newBuilder().setGroup(group).build(), NodeInfoResponse.class, timeoutMillis);
    }

    /** A blocking call; null if the peer is unreachable, slow or answers something else. */
    <T extends Message> T call(String hostPort, Message request, Class<T> responseType, int timeoutMillis) {
        try {
            Object response = controlClient.invokeSync(endpoint(hostPort), request, timeoutMillis);
            return responseType.isInstance(response) ? responseType.cast(response) : null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        } catch (Exception e) {
            LOG.debug("{} to {} failed: {}", request.getClass().getSimpleName(), hostPort, e.toString());
            return null;
        }
    }

    /** Sends a forwarded batch; {@code done} gets the response, or null on any failure. */
    void forward(String hostPort, ForwardRequest request, long timeoutMillis, Consumer<ForwardResponse> done) {
        try {
            forwardClient.invokeAsync(endpoint(hostPort), request, new InvokeCallback() {
                @Override
                public void complete(Object result, Throwable error) {
                    done.accept(error == null && result instanceof ForwardResponse response ? response : null);
                }

                @Override
                public Executor executor() {
                    return null;   // run on bolt's callback thread: the work is a flag and a signal
                }
            }, timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done.accept(null);
        } catch (Exception e) {
            // A dead peer throws here instead of calling back.
            done.accept(null);
        }
    }

    /**
     * Sends a relayed command. Requests to one peer travel on one connection and are handled in
     * the order sent, which keeps a client connection's commands in order.
     */
    void relay(String hostPort, Message request, long timeoutMillis, RelayCallback done) {
        try {
            relayClient.invokeAsync(endpoint(hostPort), request, new InvokeCallback() {
                @Override
                public void complete(Object result, Throwable error) {
                    boolean answered = error == null && result instanceof Message;
                    done.done(answered ? (Message) result : null, !answered);
                }

                @Override
                public Executor executor() {
                    return null;   // bolt's callback thread: completing a future hands the rest to the client's event loop
                }
            }, timeoutMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done.done(null, false);
        } catch (Exception e) {
            // Not connected: the request never left.
            done.done(null, false);
        }
    }

    @Override
    public void close() {
        if (forwardClient != null) {
            forwardClient.shutdown();
        }
        if (controlClient != null) {
            controlClient.shutdown();
        }
        if (relayClient != null) {
            relayClient.shutdown();
        }
    }
}
