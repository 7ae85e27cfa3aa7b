package io.raftcached.it.jepsen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.TestCertificates;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Three members over peer TLS, each in its own network namespace, under a steady write load; a
 * stranger in a fourth namespace on the same subnet, with a certificate of another CA, spends
 * {@link #INTRUSION_MILLIS} sending every member vote requests and entries with a huge term in
 * the cluster's own Raft group, claiming to be a member ({@link PeerIntruder}). Accepted even
 * once, they would make every member step down to that term. Over peer TLS none is answered:
 * the term and the leader stay, every acknowledged write is readable, and the members counted
 * the refused connections. A last control run with a member's certificate shows the same
 * requests do move the term, so what held was the certificate check.
 */
class PeerTlsNetnsTest {
    private static final long INTRUSION_MILLIS = 10_000;
    private static final long CONTROL_MILLIS = 1_000;
    private static final int INTRUDER_SLOT = 4;
    private static final int IO_TIMEOUT_MILLIS = 2_000;

    @BeforeAll
    static void cleanLeftovers() throws Exception {
        if (NetnsLab.runningAsRoot()) {
            NetnsLab.cleanUpLeftovers();
        }
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (NetnsLab.runningAsRoot()) {
            NetnsLab.cleanUpLeftovers();
        }
    }

    @Test
    @Timeout(value = 120, unit = TimeUnit.SECONDS)
    void aStrangerWithAnotherCasCertificateCannotVoteOrAppend() throws Exception {
        FaultRunTest.requireNamespaces();
        TestCertificates certificates = TestCertificates.make("netns-peer-tls");
        List<String> memberFlags = new ArrayList<>(certificates.memberFlags());
        memberFlags.addAll(List.of("--election-timeout-ms", "2000"));
        NetnsLab lab = NetnsLab.create(INTRUDER_SLOT);   // the cluster closes it, also when it fails to start
        try (FaultRunCluster cluster = FaultRunCluster.start("peer-tls-netns", 3, lab, memberFlags, id -> 0L)) {
            FaultRunNode leader = cluster.awaitLeader(30_000);
            String term = leader.stats("raft").get("raft_term");
            Map<String, String> acknowledged = new ConcurrentHashMap<>();
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> writeSteadily(cluster.members(), acknowledged, writing), "steady-writer");
            writer.start();
            String intruderReport;
            try {
                intruderReport = runIntruder(certificates, "untrusted-client", groupOf(leader), cluster.members(), INTRUSION_MILLIS);
            } finally {
                writing.set(false);
                writer.join(30_000);
            }

            assertTrue(intruderReport.contains("answered 0"), "no request of the stranger may be answered: " + intruderReport);
            for (FaultRunNode member : cluster.members()) {
                Map<String, String> raft = member.stats("raft");
                assertEquals(term, raft.get("raft_term"), member.name + ": the term must not move");
                assertEquals(leader.raftEndpoint(), raft.get("raft_leader"), member.name + " follows the same leader");
                assertTrue(Long.parseLong(raft.get("raft_peer_tls_refused")) > 0, member.name + " counted the stranger: " + raft);
            }
            assertTrue(acknowledged.size() > 20, "the load went on meanwhile: " + acknowledged.size() + " writes acknowledged");
            for (FaultRunNode member : cluster.members()) {
                assertReadable(member, acknowledged);
            }

            // The control: the same requests with a member's certificate do unseat the leader, so what held above was TLS.
            String insider = runIntruder(certificates, "peer", groupOf(leader), cluster.members(), CONTROL_MILLIS);
            assertTrue(!insider.contains("answered 0"), "with a member certificate the requests are answered: " + insider);
            long highest = 0;
            for (FaultRunNode member : cluster.members()) {
                Map<String, String> raft = member.statsOrNull("raft");
                highest = Math.max(highest, raft == null ? 0 : Long.parseLong(raft.get("raft_term")));
            }
            assertTrue(highest >= PeerIntruder.HUGE_TERM, "a member certificate's huge term must reach the members: " + highest);
        }
    }

    /** The jraft group id the members run, from a member's identity file. */
    private static String groupOf(FaultRunNode member) throws IOException {
        Properties identity = new Properties();
        try (var in = Files.newInputStream(member.dataDirectory.resolve("node.properties"))) {
            identity.load(in);
        }
        return identity.getProperty("raft_group");
    }

    /** Runs {@link PeerIntruder} in its own namespace with {@code certificate}.crt/.key, trusting ca.crt; returns its report. */
    private static String runIntruder(TestCertificates certificates, String certificate, String group, List<FaultRunNode> members,
            long durationMillis) throws IOException, InterruptedException {
        Path testClasses = Path.of(PeerIntruder.class.getProtectionDomain().getCodeSource().getLocation().getPath());
        List<String> command = new ArrayList<>(NetnsLab.execPrefix(INTRUDER_SLOT));
        command.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms16m", "-Xmx96m", "-XX:ActiveProcessorCount=1", "-XX:+UseSerialGC",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true",
                "-cp", FaultRunNode.privateJar() + ":" + testClasses, PeerIntruder.class.getName(),
                certificates.file(certificate + ".crt").toString(), certificates.file(certificate + ".key").toString(),
                certificates.file("ca.crt").toString(), group, Long.toString(durationMillis)));
        members.forEach(member -> command.add(member.raftEndpoint()));
        NetnsLab.Sh.Result result = NetnsLab.Sh.run(command, durationMillis + 60_000);
        assertEquals(0, result.exitCode(), "the intruder must run to its end: " + result.output());
        return result.output().lines().filter(line -> line.startsWith("intruder:")).findFirst()
                .orElseThrow(() -> new AssertionError("the intruder printed no report: " + result.output()));
    }

    /** Sets fresh keys through the members in turn (each with connect and read timeouts) and keeps those answered STORED. */
    private static void writeSteadily(List<FaultRunNode> members, Map<String, String> acknowledged, AtomicBoolean writing) {
        for (long i = 0; writing.get(); i++) {
            FaultRunNode member = members.get((int) (i % members.size()));
            String key = "steady-" + i;
            String value = "value-" + i;
            try (WorkloadConnection connection = new WorkloadConnection(member.host, member.port, IO_TIMEOUT_MILLIS, IO_TIMEOUT_MILLIS)) {
                if (connection.call("set " + key + " 0 0 " + value.length() + "\r\n" + value + "\r\n").equals("STORED")) {
                    acknowledged.put(key, value);
                }
                Thread.sleep(20);
            } catch (IOException e) {
                // not acknowledged: not checked
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void assertReadable(FaultRunNode member, Map<String, String> acknowledged) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        List<String> wrong = List.of();
        while (System.nanoTime() < deadline) {
            List<String> missing = new ArrayList<>();
            try (WorkloadConnection connection = new WorkloadConnection(member.host, member.port, IO_TIMEOUT_MILLIS, IO_TIMEOUT_MILLIS)) {
                for (Map.Entry<String, String> entry : acknowledged.entrySet()) {
                    WorkloadConnection.Item item = connection.get(entry.getKey(), false);
                    if (item == null || !item.value().equals(entry.getValue())) {
                        missing.add(entry.getKey());
                    }
                }
            } catch (IOException e) {
                missing.add("(" + e.getMessage() + ")");
            }
            if (missing.isEmpty()) {
                return;
            }
            wrong = missing;
            Thread.sleep(200);
        }
        throw new AssertionError(member.name + " lost acknowledged writes: " + wrong.subList(0, Math.min(10, wrong.size()))
                + " of " + wrong.size() + "; log:\n" + member.tail(30));
    }
}
