package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.it.DropInServers.Target;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import net.rubyeye.xmemcached.CASOperation;
import net.rubyeye.xmemcached.GetsResponse;
import net.rubyeye.xmemcached.MemcachedClient;
import net.rubyeye.xmemcached.XMemcachedClientBuilder;
import net.rubyeye.xmemcached.exception.MemcachedServerException;
import net.rubyeye.xmemcached.utils.AddrUtil;
import net.spy.memcached.CASResponse;
import net.spy.memcached.CASValue;
import net.spy.memcached.ConnectionFactoryBuilder;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Real Java clients, unmodified, against a raftcached node — and the same scenario against a
 * Debian memcached, so each expectation is memcached's behaviour as these clients see it.
 * xmemcached 2.4.8 runs every text-protocol operation it has; spymemcached the common ones.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JavaClientsTest {
    private static final long OP_TIMEOUT_MILLIS = 5_000;
    private DropInServers servers;

    @BeforeAll
    void start() throws Exception {
        servers = DropInServers.start("java-clients");
    }

    @AfterAll
    void stop() throws Exception {
        if (servers != null) {
            servers.close();
        }
    }

    Stream<Arguments> targets() {
        return servers.both();
    }

    private static MemcachedClient xmemcached(Target target) throws Exception {
        XMemcachedClientBuilder builder = new XMemcachedClientBuilder(AddrUtil.getAddresses("127.0.0.1:" + target.port()));
        builder.setConnectionPoolSize(1);
        builder.setOpTimeout(OP_TIMEOUT_MILLIS);
        builder.setConnectTimeout(OP_TIMEOUT_MILLIS);
        builder.setFailureMode(false);
        return builder.build();
    }

    private static String prefix(Target target, String test) {
        return test + "-" + target.name().replace(' ', '_') + "-";
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void xmemcachedStorageCommands(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        MemcachedClient client = xmemcached(target);
        try {
            String k = prefix(target, "storage");
            assertTrue(client.set(k + "a", 0, "alpha"));
            assertEquals("alpha", client.get(k + "a"));
            assertNull(client.get(k + "missing"));

            assertFalse(client.add(k + "a", 0, "other"), "add over an existing key");
            assertTrue(client.add(k + "b", 0, "beta"));
            assertFalse(client.replace(k + "missing", 0, "x"), "replace of a missing key");
            assertTrue(client.replace(k + "b", 0, "BETA"));
            assertEquals("BETA", client.get(k + "b"));

            assertTrue(client.append(k + "a", "-end"));
            assertTrue(client.prepend(k + "a", "start-"));
            assertEquals("start-alpha-end", client.get(k + "a"));
            assertFalse(client.append(k + "missing", "x"), "append to a missing key");
            assertFalse(client.prepend(k + "missing", "x"), "prepend to a missing key");

            Map<String, Object> many = client.get(List.of(k + "a", k + "missing", k + "b"));
            assertEquals(Map.of(k + "a", "start-alpha-end", k + "b", "BETA"), many);

            assertTrue(client.delete(k + "b"));
            assertFalse(client.delete(k + "b"), "second delete");
            assertNull(client.get(k + "b"));

            // Typed values go through the client's transcoder: flags carry the type.
            assertTrue(client.set(k + "int", 0, 42));
            assertEquals(42, (Integer) client.get(k + "int"));
            assertTrue(client.set(k + "list", 0, new ArrayList<>(List.of("x", "y"))));
            assertEquals(List.of("x", "y"), client.get(k + "list"));
        } finally {
            client.shutdown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void xmemcachedCas(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        MemcachedClient client = xmemcached(target);
        try {
            String k = prefix(target, "cas");
            assertTrue(client.set(k + "c", 0, "v1"));
            GetsResponse<Object> first = client.gets(k + "c");
            assertEquals("v1", first.getValue());
            assertTrue(client.cas(k + "c", 0, "v2", first.getCas()), "cas with the current unique");
            GetsResponse<Object> second = client.gets(k + "c");
            assertNotEquals(first.getCas(), second.getCas(), "a store changes the CAS unique");
            assertFalse(client.cas(k + "c", 0, "v3", first.getCas()), "cas with a stale unique");
            assertEquals("v2", client.get(k + "c"));
            assertFalse(client.cas(k + "missing", 0, "v", 12345), "cas on a missing key");

            // Two clients race through CASOperation: both increments land, neither is lost.
            MemcachedClient other = xmemcached(target);
            try {
                assertTrue(client.set(k + "counter", 0, "0"));
                GetsResponse<String> seen = client.gets(k + "counter");
                assertTrue(other.cas(k + "counter", 0, "1", seen.getCas()));
                assertFalse(client.cas(k + "counter", 0, "1", seen.getCas()), "the loser sees EXISTS");
                assertTrue(client.cas(k + "counter", 0, new CASOperation<String>() {
                    @Override
                    public int getMaxTries() {
                        return 10;
                    }

                    @Override
                    public String getNewValue(long currentCas, String currentValue) {
                        return Integer.toString(Integer.parseInt(currentValue) + 1);
                    }
                }));
                assertEquals("2", other.get(k + "counter"));
            } finally {
                other.shutdown();
            }

            Map<String, GetsResponse<Object>> gets = client.gets(List.of(k + "c", k + "counter"));
            assertEquals(2, gets.size());
            assertEquals(client.gets(k + "c").getCas(), gets.get(k + "c").getCas());
        } finally {
            client.shutdown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void xmemcachedIncrDecr(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        MemcachedClient client = xmemcached(target);
        try {
            String k = prefix(target, "arith");
            assertTrue(client.set(k + "n", 0, "10"));
            assertEquals(15, client.incr(k + "n", 5));
            assertEquals(12, client.decr(k + "n", 3));
            assertEquals("12", client.get(k + "n"));
            // decr floors at zero, it never goes negative
            assertEquals(0, client.decr(k + "n", 100));
            // incr wraps at 2^64: 18446744073709551615 + 2 = 1
            assertTrue(client.set(k + "max", 0, "18446744073709551615"));
            assertEquals(1, client.incr(k + "max", 2));
            // decr keeps the stored length: "100" decremented to 99 reads back as "99 "
            assertTrue(client.set(k + "len", 0, "100"));
            assertEquals(99, client.decr(k + "len", 1));
            assertEquals("99 ", client.get(k + "len"));
            // the client's initial value: a missing counter is created by add
            assertEquals(7, client.incr(k + "fresh", 1, 7));
            assertEquals(8, client.incr(k + "fresh", 1, 7));
            // non-numeric values: memcached's CLIENT_ERROR surfaces as a client exception
            assertTrue(client.set(k + "text", 0, "abc"));
            Exception nonNumeric = assertThrows(Exception.class, () -> client.incr(k + "text", 1));
            assertTrue(String.valueOf(nonNumeric.getMessage()).contains("cannot increment or decrement non-numeric value"),
                    nonNumeric.toString());
        } finally {
            client.shutdown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void xmemcachedTouchAndFlush(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        MemcachedClient client = xmemcached(target);
        try {
            String k = prefix(target, "touch");
            assertTrue(client.set(k + "t", 0, "v"));
            assertTrue(client.touch(k + "t", 3600));
            assertFalse(client.touch(k + "missing", 3600), "touch of a missing key");
            // an exptime over 30 days is an absolute unix time; one in the past expires the item at once
            assertTrue(client.touch(k + "t", 30 * 24 * 3600 + 1));
            assertNull(client.get(k + "t"));
            // gat exists only in xmemcached's binary protocol; over text the client refuses it
            assertThrows(UnsupportedOperationException.class, () -> client.getAndTouch(k + "t", 10));

            assertTrue(client.set(k + "f", 0, "v"));
            client.flushAll();
            assertNull(client.get(k + "f"));
            assertTrue(client.add(k + "f", 0, "after flush"), "a flushed key can be added again");
        } finally {
            client.shutdown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void xmemcachedNoreply(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        MemcachedClient client = xmemcached(target);
        try {
            String k = prefix(target, "noreply");
            client.setWithNoReply(k + "a", 0, "1");
            client.addWithNoReply(k + "a", 0, "ignored");        // fails silently
            client.addWithNoReply(k + "b", 0, "b");
            client.replaceWithNoReply(k + "b", 0, "B");
            client.appendWithNoReply(k + "b", "!");
            client.prependWithNoReply(k + "b", "<");
            client.incrWithNoReply(k + "a", 41);
            client.decrWithNoReply(k + "a", 2);
            client.setWithNoReply(k + "gone", 0, "x");
            client.deleteWithNoReply(k + "gone");
            client.incrWithNoReply(k + "missing", 1);             // NOT_FOUND, silently
            // A reply-bearing command after them: the connection is in step, in order.
            assertEquals("40", client.get(k + "a"));
            assertEquals("<B!", client.get(k + "b"));
            assertNull(client.get(k + "gone"));
            assertNull(client.get(k + "missing"));
        } finally {
            client.shutdown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void xmemcachedLargeAndBinaryValues(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        MemcachedClient client = xmemcached(target);
        try {
            String k = prefix(target, "large");
            byte[] allBytes = new byte[512];
            for (int i = 0; i < allBytes.length; i++) {
                allBytes[i] = (byte) i;   // every byte value, \r and \n and NUL included
            }
            assertTrue(client.set(k + "binary", 0, allBytes));
            assertArrayEquals(allBytes, client.get(k + "binary"));

            byte[] large = new byte[900 * 1024];     // above slab_chunk_max (512 KB): a chunked item
            new Random(7).nextBytes(large);          // random bytes: the client's compression cannot shrink them
            assertTrue(client.set(k + "big", 0, large));
            assertArrayEquals(large, client.get(k + "big"));
            try (TextClient raw = new TextClient(target.port())) {
                String header = raw.call("get " + k + "big\r\n");
                assertTrue(header.matches("VALUE " + k + "big \\d+ " + large.length), header);
                assertArrayEquals(large, raw.bytes(large.length), "the server holds the client's bytes as they are");
                assertEquals("\r\n", new String(raw.bytes(2), StandardCharsets.US_ASCII));
                assertEquals("END", raw.line());
            }

            // xmemcached refuses values over 1 MB itself; one just under it passes the client but not
            // the server (the item's header and key make it too large for -I 1m)
            byte[] tooLarge = new byte[1024 * 1024 - 8];
            new Random(8).nextBytes(tooLarge);
            MemcachedServerException refused = assertThrows(MemcachedServerException.class,
                    () -> client.set(k + "big", 0, tooLarge));
            assertTrue(refused.getMessage().contains("object too large for cache"), refused.getMessage());
            assertNull(client.get(k + "big"), "a refused set drops the old value, as memcached does");
        } finally {
            client.shutdown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void xmemcachedStatsAndVersion(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        MemcachedClient client = xmemcached(target);
        try {
            String k = prefix(target, "stats");
            Map<InetSocketAddress, Map<String, String>> before = client.getStats();
            assertEquals(1, before.size());
            Map<String, String> stats = before.values().iterator().next();
            assertEquals("1.6.18", stats.get("version"));
            long setsBefore = Long.parseLong(stats.get("cmd_set"));
            assertTrue(client.set(k + "s", 0, "v"));
            Map<String, String> after = client.getStats().values().iterator().next();
            assertEquals(setsBefore + 1, Long.parseLong(after.get("cmd_set")));
            assertTrue(Long.parseLong(after.get("curr_items")) >= 1);
            assertEquals("67108864", after.get("limit_maxbytes"));
            assertEquals("1.6.18", client.getVersions().values().iterator().next());
        } finally {
            client.shutdown();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void spymemcachedCommonOperations(Target target) throws Exception {
        DropInServers.assumeRunnable(target);
        net.spy.memcached.MemcachedClient client = new net.spy.memcached.MemcachedClient(
                new ConnectionFactoryBuilder().setProtocol(ConnectionFactoryBuilder.Protocol.TEXT)
                        .setOpTimeout(OP_TIMEOUT_MILLIS).setFailureMode(net.spy.memcached.FailureMode.Retry).build(),
                List.of(new InetSocketAddress("127.0.0.1", target.port())));
        try {
            String k = prefix(target, "spy");
            assertTrue(client.set(k + "a", 0, "alpha").get(5, TimeUnit.SECONDS));
            assertEquals("alpha", client.get(k + "a"));
            assertFalse(client.add(k + "a", 0, "x").get(5, TimeUnit.SECONDS));
            assertTrue(client.append(0, k + "a", "!").get(5, TimeUnit.SECONDS));
            CASValue<Object> cas = client.gets(k + "a");
            assertNotNull(cas);
            assertEquals("alpha!", cas.getValue());
            assertEquals(CASResponse.OK, client.cas(k + "a", cas.getCas(), "beta"));
            assertEquals(CASResponse.EXISTS, client.cas(k + "a", cas.getCas(), "gamma"));
            assertEquals(CASResponse.NOT_FOUND, client.cas(k + "missing", 1, "x"));
            assertEquals(Map.of(k + "a", "beta"), client.getBulk(k + "a", k + "missing"));
            assertTrue(client.set(k + "n", 0, "5").get(5, TimeUnit.SECONDS));
            assertEquals(8, client.incr(k + "n", 3));
            assertEquals(0, client.decr(k + "n", 9));
            assertEquals(-1, client.incr(k + "missing", 1), "spymemcached's answer for NOT_FOUND");
            assertTrue(client.touch(k + "a", 100).get(5, TimeUnit.SECONDS));
            assertTrue(client.delete(k + "a").get(5, TimeUnit.SECONDS));
            assertNull(client.get(k + "a"));
            Map<String, String> stats = client.getStats().values().iterator().next();
            assertEquals("1.6.18", stats.get("version"));
            assertEquals("1.6.18", client.getVersions().values().iterator().next());
            assertTrue(client.flush().get(5, TimeUnit.SECONDS));
            assertNull(client.get(k + "n"));
        } finally {
            client.shutdown(5, TimeUnit.SECONDS);
        }
    }
}
