package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Option validation and clean failures; no memcached needed. */
@Timeout(20)
class BenchCommandTest {

    @Test
    void rejectsBadOptionsWithUsageStatus() {
        assertUsage("--ratio must be GET:SET", "--ratio=1-0");
        assertUsage("ratio weights", "--ratio=0:0");
        assertUsage("ratio weights", "--ratio=-1:1");
        assertUsage("expected host:port", "--servers=localhost");
        assertUsage("port out of range", "--servers=127.0.0.1:70000");
        assertUsage("connections in threads(4)", "--threads=4", "--connections=2");
        assertUsage("pipeline in 1..1024", "--pipeline=0");
        assertUsage("value size", "--value-size=2000000");
        assertUsage("random, sequential or zipf", "--key-pattern=pareto");
        assertUsage("Zipf exponent in (0, 10.0]", "--key-pattern=zipf", "--zipf-exponent=0");
        assertUsage("Zipf exponent in (0, 10.0]", "--zipf-exponent=11");
        assertUsage("--duration must be > 0", "--duration=0");
        assertUsage("--duration must be in 0..86400", "--duration=100000");
        assertUsage("key prefix", "--key-prefix=a b");
        assertUsage("key prefix", "--key-prefix=" + "k".repeat(201));
        assertUsage("--tls: TLS needs a CA certificate to trust (--cacert)", "--tls");
        assertUsage("--cert and --key go together", "--tls", "--cacert=ca.crt", "--cert=client.crt");
        assertUsage("--cacert, --cert and --key need --tls", "--cacert=ca.crt");
        assertUsage("--reconnect-interval must be >= 0", "--reconnect-interval=-1");
    }

    @Test
    void unreachableServerFailsCleanly() throws Exception {
        int port;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        List<String> err = new ArrayList<>();
        int status = BenchEndToEndTest.execute(err, "--servers", "127.0.0.1:" + port, "--duration", "1");
        assertEquals(1, status);
        assertEquals("bench: cannot connect to 127.0.0.1:" + port + " within 2000 ms: Connection refused", err.get(0));
    }

    @Test
    void silentServerHitsTheReadTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            List<Socket> accepted = new ArrayList<>();
            Thread acceptor = new Thread(() -> {
                try {
                    while (accepted.size() < 2) {
                        Socket socket = silent.accept();
                        accepted.add(socket); // accept and read nothing, never reply
                    }
                } catch (Exception ignored) {
                    // closed at the end of the test
                }
            });
            acceptor.start();
            List<String> err = new ArrayList<>();
            int status = BenchEndToEndTest.execute(err, "--servers", "127.0.0.1:" + silent.getLocalPort(),
                    "--connections", "2", "--warmup", "0", "--duration", "10", "--read-timeout-ms", "300");
            assertEquals(1, status);
            assertTrue(err.get(0).matches("bench: connection \\d to 127\\.0\\.0\\.1:\\d+: no reply within 300 ms.*"),
                    err.get(0));
            acceptor.join(2_000);
            for (Socket socket : accepted) {
                socket.close();
            }
        }
    }

    @Test
    void splitsCountsExactly() {
        for (int parts = 1; parts <= 7; parts++) {
            long sum = 0;
            for (int i = 0; i < parts; i++) {
                sum += LoadWorker.share(1001, i, parts);
            }
            assertEquals(1001, sum);
        }
    }

    @Test
    void readsCpuTicksFromProcStat() {
        // The command name may contain spaces and parentheses; fields are counted after the last ')'.
        String stat = "1234 (a b) c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 70 0 0 20 0 3 0 9 1 2 3";
        assertEquals(320, CpuClock.statCpuTicks(stat));
    }

    @Test
    void readsMachineCpuFromProcStat() {
        long[] busyAndSoftirq = CpuClock.machineCpuTicks("cpu  100 5 50 9000 40 3 20 2 0 0", 10);
        // busy = user + nice + system + irq + softirq + steal; idle and iowait excluded
        assertEquals(1800, busyAndSoftirq[0]);
        assertEquals(200, busyAndSoftirq[1]);
    }

    @Test
    void parsesServerAddresses() {
        assertEquals(new ServerAddress("127.0.0.1", 11211), ServerAddress.parse(" 127.0.0.1:11211 "));
        assertEquals(new ServerAddress("::1", 11211), ServerAddress.parse("[::1]:11211"));
        assertEquals("[::1]:11211", ServerAddress.parse("[::1]:11211").toString());
    }

    private static void assertUsage(String messagePart, String... options) {
        List<String> err = new ArrayList<>();
        int status = BenchEndToEndTest.execute(err, options);
        String shown = String.join(" ", options);
        assertEquals(2, status, shown);
        assertTrue(err.get(0).contains(messagePart), shown + " -> " + err.get(0));
    }
}
