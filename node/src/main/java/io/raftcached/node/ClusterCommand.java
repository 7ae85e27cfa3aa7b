package io.raftcached.node;

import io.raftcached.proto.NodeInfoResponse;
import io.raftcached.raft.AdminClient;
import io.raftcached.raft.AdminClient.AdminException;
import io.raftcached.raft.AdminClient.MemberView;
import io.raftcached.raft.PeerTls;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code raftcached cluster ...}: membership and leadership, talking to any node's Raft port.
 * Exit codes: 0 done, 1 refused or failed (with the reason on stderr), 64 bad usage.
 */
@Command(name = "cluster", description = "Inspect and change the cluster through any node's Raft address.",
        subcommands = {ClusterCommand.Status.class, ClusterCommand.Add.class, ClusterCommand.Remove.class,
            ClusterCommand.Promote.class, ClusterCommand.TransferLeader.class, ClusterCommand.Snapshot.class,
            ClusterCommand.Replace.class, ClusterCommand.ForceRecover.class})
final class ClusterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    HelpOption help;

    @Option(names = "--node", paramLabel = "<host:port>", defaultValue = "127.0.0.1:7001",
            description = "Raft address of any member (default: ${DEFAULT-VALUE})", scope = picocli.CommandLine.ScopeType.INHERIT)
    String node;

    @Option(names = "--timeout-ms", defaultValue = "5000", description = "per-call timeout (default: ${DEFAULT-VALUE})",
            scope = picocli.CommandLine.ScopeType.INHERIT)
    int timeoutMillis;

    @Option(names = "--group", paramLabel = "<N>", defaultValue = "0", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "with nodes of several Raft groups (--groups), act on group N only (default: every group, in turn)")
    int group;

    @Option(names = "--peer-cert", paramLabel = "<file>", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "with --peer-key and --peer-ca: the certificate (PEM) to present when the members use peer TLS")
    Path peerCertificate;

    @Option(names = "--peer-key", paramLabel = "<file>", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "the private key (PEM, PKCS#8) of --peer-cert")
    Path peerKey;

    @Option(names = "--peer-ca", paramLabel = "<file>", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "the CA (PEM) the members' certificates are signed by")
    Path peerCa;

    /** {@code raftcached cluster} without a subcommand: say which there are. */
    @Override
    public Integer call() {
        spec.commandLine().getErr().println("raftcached cluster: say which subcommand");
        spec.commandLine().usage(spec.commandLine().getErr());
        return Main.EXIT_USAGE;
    }

    /** Runs one admin operation with a client, turning a refusal into a message and exit code 1. */
    abstract static class Operation implements Callable<Integer> {
        @ParentCommand
        ClusterCommand cluster;

        @Mixin
        HelpOption help;

        abstract void run(AdminClient client) throws AdminException;

        @Override
        public Integer call() {
            PeerTls.Files peerTls;
            try {
                peerTls = new PeerTls.Files(cluster.peerCertificate, cluster.peerKey, cluster.peerCa);
            } catch (IllegalArgumentException e) {
                System.err.println("raftcached cluster: " + e.getMessage());
                return Main.EXIT_USAGE;
            }
            if (cluster.group < 0) {
                System.err.println("raftcached cluster: --group is a group's number, from 1 (0 or none: every group)");
                return Main.EXIT_USAGE;
            }
            try (AdminClient client = quietly(() -> new AdminClient(cluster.timeoutMillis, peerTls))) {
                int groups = client.groupCount(cluster.node);
                if (cluster.group > groups) {
                    throw new AdminException(cluster.node + " runs " + groups + " Raft group" + (groups == 1 ? "" : "s")
                            + ", not " + cluster.group);
                }
                for (int group = Math.max(1, cluster.group); group <= (cluster.group > 0 ? cluster.group : groups); group++) {
                    client.useGroup(group);
                    if (groups > 1) {
                        groupStarts(group);
                    }
                    run(client);
                }
                return 0;
            } catch (AdminException | IOException e) {
                System.err.println("raftcached cluster: " + e.getMessage());
                return 1;
            }
        }

        /** Before the output for one group of several: a line saying which. */
        void groupStarts(int group) {
            System.out.println("group g" + group + ":");
        }

        /** bolt's logging shim prints a banner to stdout when it loads; keep stdout for our output. */
        private static AdminClient quietly(Starter starter) throws IOException {
            java.io.PrintStream stdout = System.out;
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            try {
                return starter.start();
            } finally {
                System.setOut(stdout);
            }
        }

        private interface Starter {
            AdminClient start() throws IOException;
        }
    }

    @Command(name = "status", description = "Members, roles, leader, term, commit/applied index and lag per node.")
    static final class Status extends Operation {
        @Option(names = "--json", description = "print JSON instead of a table (one document per line, per group, with several)")
        boolean json;

        /** JSON lines for several groups: the group is a field of each document, not a line of its own. */
        private int group;

        @Override
        void groupStarts(int ordinal) {
            if (json) {
                group = ordinal;
            } else {
                super.groupStarts(ordinal);
            }
        }

        @Override
        void run(AdminClient client) throws AdminException {
            List<MemberView> members = client.members(cluster.node);
            long leaderCommit = members.stream().filter(MemberView::reachable).filter(m -> m.info().getRole().equals("leader"))
                    .mapToLong(m -> m.info().getCommittedIndex()).findFirst()
                    .orElse(members.stream().filter(MemberView::reachable).mapToLong(m -> m.info().getCommittedIndex()).max().orElse(0));
            if (json) {
                System.out.println(json(members, leaderCommit, group));
                return;
            }
            String format = "%-24s %-5s %-9s %-6s %-8s %-22s %10s %10s %6s %-22s %-5s%n";
            System.out.printf(format, "MEMBER", "NODE", "ROLE", "VOTER", "TERM", "LEADER", "COMMIT", "APPLIED", "LAG", "CLIENT", "READY");
            for (MemberView member : members) {
                NodeInfoResponse info = member.info();
                if (info == null) {
                    System.out.printf(format, member.peerId(), "?", "DOWN", member.voter() ? "yes" : "no", "-", "-", "-", "-", "-", "-", "-");
                    continue;
                }
                System.out.printf(format, member.peerId(), info.getNodeId(), info.getRole(), member.voter() ? "yes" : "no",
                        info.getTerm(), info.getLeader().isEmpty() ? "-" : info.getLeader(), info.getCommittedIndex(),
                        info.getAppliedIndex(), Math.max(0, leaderCommit - info.getAppliedIndex()), info.getClientAddress(),
                        info.getReady() ? "yes" : "no");
            }
            members.stream().filter(MemberView::reachable).map(m -> m.info().getClusterId()).filter(id -> !id.isEmpty())
                    .findFirst().ifPresent(id -> System.out.println("cluster " + id));
            for (MemberView member : members) {
                if (member.reachable() && !member.info().getFailure().isEmpty()) {
                    System.out.println(member.peerId() + " FAILED: " + member.info().getFailure());
                }
                if (member.reachable() && !member.info().getPromotion().isEmpty()) {
                    System.out.println(member.peerId() + " " + member.info().getPromotion());
                }
            }
        }

        private static String json(List<MemberView> members, long leaderCommit, int group) {
            StringBuilder out = new StringBuilder(group > 0 ? "{\"group\":" + group + ",\"members\":[" : "{\"members\":[");
            for (int i = 0; i < members.size(); i++) {
                MemberView member = members.get(i);
                NodeInfoResponse info = member.info();
                out.append(i == 0 ? "" : ",").append("{\"member\":\"").append(member.peerId()).append("\",\"voter\":")
                        .append(member.voter()).append(",\"reachable\":").append(member.reachable());
                if (info != null) {
                    out.append(",\"node_id\":").append(info.getNodeId())
                            .append(",\"role\":\"").append(info.getRole()).append('"')
                            .append(",\"term\":").append(info.getTerm())
                            .append(",\"leader\":\"").append(info.getLeader()).append('"')
                            .append(",\"commit_index\":").append(info.getCommittedIndex())
                            .append(",\"applied_index\":").append(info.getAppliedIndex())
                            .append(",\"lag\":").append(Math.max(0, leaderCommit - info.getAppliedIndex()))
                            .append(",\"client\":\"").append(info.getClientAddress()).append('"')
                            .append(",\"ready\":").append(info.getReady())
                            .append(",\"cluster_id\":\"").append(info.getClusterId()).append('"')
                            .append(",\"promotion\":\"").append(jsonText(info.getPromotion())).append('"')
                            .append(",\"failure\":\"").append(jsonText(info.getFailure())).append('"');
                }
                out.append('}');
            }
            return out.append("]}").toString();
        }

        private static String jsonText(String text) {
            return text.replace("\\", "\\\\").replace("\"", "\\\"");
        }
    }

    @Command(name = "add", description = "Add a member (a voter, or with --learner a non-voting read replica).")
    static final class Add extends Operation {
        @Parameters(paramLabel = "<host:port[:incarnation]>", description = "the new member's Raft address")
        String member;

        @Option(names = "--learner", description = "add as a learner: receives the log and serves reads, never votes")
        boolean learner;

        @Override
        void run(AdminClient client) throws AdminException {
            client.add(cluster.node, member, learner);
            System.out.println("added " + member + (learner ? " as a learner" : ""));
        }
    }

    @Command(name = "remove", description = "Remove a member or learner.")
    static final class Remove extends Operation {
        @Parameters(paramLabel = "<member>", description = "host:port, or host:port:incarnation")
        String member;

        @Override
        void run(AdminClient client) throws AdminException {
            client.remove(cluster.node, member);
            System.out.println("removed " + member);
        }
    }

    @Command(name = "promote", description = "Make a learner a voter.")
    static final class Promote extends Operation {
        @Parameters(paramLabel = "<learner>", description = "host:port, or host:port:incarnation")
        String member;

        @Override
        void run(AdminClient client) throws AdminException {
            client.promote(cluster.node, member);
            System.out.println("promoted " + member);
        }
    }

    @Command(name = "transfer-leader", description = "Move leadership to a member (or to the most up-to-date one).")
    static final class TransferLeader extends Operation {
        @Parameters(paramLabel = "<member>", arity = "0..1", description = "host:port; omit to let Raft choose")
        String member;

        @Override
        void run(AdminClient client) throws AdminException {
            client.transferLeader(cluster.node, member);
            System.out.println("leadership transfer to " + (member == null ? "the most up-to-date follower" : member) + " started");
        }
    }

    @Command(name = "snapshot", description = "Take a snapshot now, on one member or all.")
    static final class Snapshot extends Operation {
        @Parameters(paramLabel = "<member>", arity = "0..1", description = "host:port; omit for every member")
        String member;

        @Override
        void run(AdminClient client) throws AdminException {
            Map<String, String> outcomes = client.snapshot(cluster.node, member);
            outcomes.forEach((peer, outcome) -> System.out.println(peer + ": " + outcome));
            if (outcomes.values().stream().anyMatch(o -> !o.equals("ok"))) {
                throw new AdminException("not every snapshot was taken");
            }
        }
    }

    @Command(name = "replace", description = {"Bring back a node whose disk was lost: removes its old identity from the",
        "voters now; start it again with an empty --data-dir and it rejoins as a learner under a new",
        "incarnation and is promoted once caught up."})
    static final class Replace extends Operation {
        @Parameters(paramLabel = "<host:port>", description = "the lost node's Raft address")
        String endpoint;

        @Override
        void run(AdminClient client) throws AdminException {
            List<String> removed = client.replace(cluster.node, endpoint);
            System.out.println("removed old identity " + removed + "; now start the node at " + endpoint
                    + " with an empty data directory");
        }
    }

    @Command(name = "force-recover", description = {"DANGER: quorum loss recovery. Makes one surviving node believe the",
        "membership is exactly --members, whatever its log says (jraft resetPeers). Run it on each",
        "survivor. Writes that only the lost nodes had are LOST."})
    static final class ForceRecover extends Operation {
        @Option(names = "--members", split = ",", required = true, paramLabel = "<host:port[:incarnation]>",
                description = "the surviving members, comma separated")
        List<String> members;

        @Option(names = "--yes-i-accept-losing-acknowledged-writes", required = true,
                description = "confirms that you understand acknowledged writes may be lost")
        boolean confirmed;

        @Override
        void run(AdminClient client) throws AdminException {
            System.err.println("WARNING: forcing membership " + members + " on " + cluster.node
                    + ". Acknowledged writes held only by the lost nodes are gone for good.");
            client.forceRecover(cluster.node, members);
            System.out.println("membership of " + cluster.node + " reset to " + members);
        }
    }
}
