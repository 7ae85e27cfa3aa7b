package io.raftcached.it.jepsen;

import com.alipay.sofa.jraft.option.RpcOptions;
import com.alipay.sofa.jraft.rpc.ProtobufMsgFactory;
import com.alipay.sofa.jraft.rpc.RpcClient;
import com.alipay.sofa.jraft.rpc.RpcRequests.AppendEntriesRequest;
import com.alipay.sofa.jraft.rpc.RpcRequests.RequestVoteRequest;
import com.alipay.sofa.jraft.util.Endpoint;
import com.alipay.sofa.jraft.util.RpcFactoryHelper;
import io.raftcached.raft.PeerTls;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A stranger on the members' network with a certificate of another CA, run as its own process (in
 * its own namespace) by {@link PeerTlsNetnsTest}: for the given time it sends each member what
 * would unseat the leader if accepted — a RequestVote and an AppendEntries with a huge term,
 * claiming to be another member — through jraft's own RPC client, over TLS with the given files.
 * Prints how many requests were answered: over peer TLS with an untrusted certificate, none.
 *
 * <pre>PeerIntruder CERT KEY CA RAFT_GROUP DURATION_MS MEMBER_ENDPOINT...</pre>
 */
public final class PeerIntruder {
    /** Far above any term a test cluster reaches: accepted once, every member would step down to it. */
    static final long HUGE_TERM = 1_000_000;
    private static final int CALL_TIMEOUT_MILLIS = 500;

    private PeerIntruder() {}

    public static void main(String[] args) throws Exception {
        PeerTls.use(new PeerTls.Files(Path.of(args[0]), Path.of(args[1]), Path.of(args[2])));
        String group = args[3];
        long durationMillis = Long.parseLong(args[4]);
        List<Endpoint> members = new ArrayList<>();
        for (int i = 5; i < args.length; i++) {
            int colon = args[i].lastIndexOf(':');
            members.add(new Endpoint(args[i].substring(0, colon), Integer.parseInt(args[i].substring(colon + 1))));
        }
        ProtobufMsgFactory.load();
        RpcClient client = RpcFactoryHelper.rpcFactory().createRpcClient();
        RpcOptions options = new RpcOptions();
        options.setRpcConnectTimeoutMs(CALL_TIMEOUT_MILLIS);
        client.init(options);
        long sent = 0;
        long answered = 0;
        long deadline = System.nanoTime() + durationMillis * 1_000_000;
        while (System.nanoTime() < deadline) {
            for (Endpoint target : members) {
                // Claims to be the next member in the list: the one a member would accept a vote request or entries from.
                Endpoint claimed = members.get((members.indexOf(target) + 1) % members.size());
                for (Object request : List.of(vote(group, claimed, target), append(group, claimed, target))) {
                    sent++;
                    try {
                        if (client.invokeSync(target, request, CALL_TIMEOUT_MILLIS) != null) {
                            answered++;
                        }
                    } catch (Exception refused) {
                        // the expected outcome: no TLS session, no answer
                    }
                }
            }
            Thread.sleep(50);
        }
        client.shutdown();
        System.out.println("intruder: sent " + sent + " answered " + answered);
        System.exit(0);
    }

    private static RequestVoteRequest vote(String group, Endpoint claimed, Endpoint target) {
        return RequestVoteRequest.newBuilder().setGroupId(group).setServerId(claimed + ":0").setPeerId(target + ":0")
                .setTerm(HUGE_TERM).setLastLogTerm(HUGE_TERM).setLastLogIndex(HUGE_TERM).setPreVote(false).build();
    }

    private static AppendEntriesRequest append(String group, Endpoint claimed, Endpoint target) {
        return AppendEntriesRequest.newBuilder().setGroupId(group).setServerId(claimed + ":0").setPeerId(target + ":0")
                .setTerm(HUGE_TERM).setPrevLogTerm(0).setPrevLogIndex(0).setCommittedIndex(0).build();
    }
}
