package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * {@code --protocol=etcd-http} through the whole generator, against the JDK's HTTP server playing
 * etcd's gateway (a map behind /v3/kv/put and /v3/kv/range; fixed-length and chunked replies).
 */
@Timeout(30)
class EtcdHttpEndToEndTest {
    private static final Pattern KEY = Pattern.compile("\"key\":\"([^\"]*)\"");
    private static final Pattern VALUE = Pattern.compile("\"value\":\"([^\"]*)\"");

    @Test
    void putsThenRangesOverKeptAliveConnections() throws Exception {
        Map<String, String> kv = new ConcurrentHashMap<>();
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
        server.createContext("/v3/kv/put", exchange -> {
            String body = body(exchange);
            kv.put(group(KEY, body), group(VALUE, body));
            reply(exchange, 200, "{\"header\":{\"revision\":\"" + kv.size() + "\"}}", false);
        });
        server.createContext("/v3/kv/range", exchange -> {
            String value = kv.get(group(KEY, body(exchange)));
            reply(exchange, 200, value == null ? "{\"header\":{}}"
                    : "{\"header\":{},\"kvs\":[{\"value\":\"" + value + "\"}],\"count\":\"1\"}", true);
        });
        server.setExecutor(Executors.newFixedThreadPool(4, r -> {
            Thread t = new Thread(r);
            t.setDaemon(true);
            return t;
        }));
        server.start();
        try {
            String address = "127.0.0.1:" + server.getAddress().getPort();
            BenchCommand.Outcome puts = run("--protocol", "etcd-http", "--servers", address, "--connections", "4",
                    "--ratio", "0:1", "--key-space", "300", "--prefill", "--warmup", "0", "--duration", "0.5");
            assertEquals(300, kv.size(), "prefill put every key");
            assertEquals(RequestEncoder.value(100, 1).length, java.util.Base64.getDecoder().decode(kv.get(
                    java.util.Base64.getEncoder().encodeToString("key:7".getBytes(StandardCharsets.US_ASCII)))).length);
            WorkerStats s = puts.run().stats();
            assertTrue(s.sets > 0);
            assertEquals(0, s.errors + s.errorsOutsideWindow, () -> String.join("\n", s.errorSamples));
            assertTrue(puts.report().json().contains("\"protocol\":\"etcd-http\""));

            BenchCommand.Outcome gets = run("--protocol", "etcd-http", "--servers", address, "--connections", "4",
                    "--ratio", "1:0", "--key-space", "600", "--warmup", "0", "--duration", "0.5");
            WorkerStats g = gets.run().stats();
            assertTrue(g.hits > 0 && g.misses > 0, "keys 0..299 hit, 300..599 miss: " + g.hits + "/" + g.misses);
            assertEquals(0, g.errors + g.errorsOutsideWindow, () -> String.join("\n", g.errorSamples));
        } finally {
            server.stop(0);
        }
    }

    @Test
    void pipeliningIsRefused() {
        List<String> err = new java.util.ArrayList<>();
        assertEquals(2, BenchEndToEndTest.execute(err, "--protocol", "etcd-http", "--pipeline", "2"));
        assertTrue(err.get(0).contains("pipeline at most 1 with protocol etcd-http"), err.get(0));
        assertEquals(2, BenchEndToEndTest.execute(err, "--protocol", "grpc"));
    }

    private static String body(HttpExchange exchange) throws IOException {
        return new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.US_ASCII);
    }

    private static String group(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        if (!m.find()) {
            throw new IllegalArgumentException("no " + pattern + " in " + text);
        }
        return m.group(1);
    }

    private static void reply(HttpExchange exchange, int status, String body, boolean chunked) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.US_ASCII);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, chunked ? 0 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static BenchCommand.Outcome run(String... args) throws Exception {
        BenchCommand command = new BenchCommand();
        new CommandLine(command).parseArgs(args);
        return command.execute();
    }
}
