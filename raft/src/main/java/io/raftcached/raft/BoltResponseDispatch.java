package io.raftcached.raft;

import com.alipay.remoting.CommandHandler;
import com.alipay.remoting.Protocol;
import com.alipay.remoting.ProtocolCode;
import com.alipay.remoting.ProtocolManager;
import com.alipay.remoting.rpc.protocol.RpcCommandCode;
import com.alipay.remoting.rpc.protocol.RpcProtocol;
import com.alipay.remoting.rpc.protocol.RpcProtocolV2;
import com.alipay.remoting.rpc.protocol.RpcResponseProcessor;
import java.util.List;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Bolt hands every RPC response it reads to its default executor ("Bolt-default-executor"), which
 * then runs the caller's callback or hands it on again (jraft's callbacks go to executors of their
 * own). On a few cores each hand-off is a futex wake-up and a context switch, and context switches
 * were a quarter of a 3-node cluster's CPU samples on 2 CPUs. Responses are short work (find the
 * waiting future, parse a small message, run a callback that only signals or re-dispatches), so
 * they are processed on the I/O thread that read them; a callback with an executor of its own is
 * still handed to that executor.
 *
 * <p>Process-wide, like bolt's protocol table: installed once before the first RPC client or
 * server exists.
 *
 * <p>The rule this puts on every callback without an executor (raftcached's forwarded-write
 * answers): take no lock that any thread holds while it calls into jraft. jraft connects to a
 * peer under its node lock, and bolt waits for that connect without a bound: its completion and
 * its timeout both run on these I/O threads. A forward answer that waited for the write stream's
 * lock, held by a sender asking jraft who leads, held a node that had just started an election
 * (and was connecting to a new member) for good: no Raft RPC answered again. So the write stream
 * and the forward window ask jraft outside their locks ({@link InFlightBudget#acquire}).
 */
final class BoltResponseDispatch {
    private static volatile boolean installed;

    private BoltResponseDispatch() {}

    static synchronized void install() {
        if (installed) {
            return;
        }
        try {
            // Its static initializer registers bolt's RPC protocols, once per process.
            Class.forName("com.alipay.remoting.rpc.RpcRemoting", true, BoltResponseDispatch.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("bolt is not on the class path", e);
        }
        for (byte code : new byte[] {RpcProtocol.PROTOCOL_CODE, RpcProtocolV2.PROTOCOL_CODE}) {
            Protocol protocol = ProtocolManager.getProtocol(ProtocolCode.fromBytes(code));
            if (protocol == null) {
                throw new IllegalStateException("bolt has no RPC protocol " + code);
            }
            CommandHandler handler = protocol.getCommandHandler();
            handler.registerProcessor(RpcCommandCode.RPC_RESPONSE, new RpcResponseProcessor(new OnCallingThread()));
        }
        installed = true;
    }

    /** Runs each task at once on the thread that submits it; never shuts down (bolt's processors live as long as the process). */
    private static final class OnCallingThread extends AbstractExecutorService {
        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public void shutdown() {
        }

        @Override
        public List<Runnable> shutdownNow() {
            return List.of();
        }

        @Override
        public boolean isShutdown() {
            return false;
        }

        @Override
        public boolean isTerminated() {
            return false;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return false;
        }
    }
}
