package io.raftcached.it;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * A real Prometheus server (Debian's {@code prometheus} package) scraping given {@code /metrics}
 * ports every second, with a config and data directory of its own, on a free loopback port;
 * stopped by its own pid. Queried through its HTTP API.
 */
final class PrometheusProcess implements AutoCloseable {
    static final String BINARY = "prometheus";
    private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(10);
    private static final Pattern SAMPLE_VALUE = Pattern.compile("\"value\":\\[[0-9.e+]+,\"([^\"]+)\"\\]");

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();

    private PrometheusProcess(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** Starts Prometheus scraping {@code metricsPorts} on 127.0.0.1, with {@code ruleFiles} loaded. */
    static PrometheusProcess start(String name, List<Integer> metricsPorts, List<Path> ruleFiles) throws IOException {
        Path directory = NodeProcess.freshDirectory(name + "-prometheus");
        Files.createDirectories(directory);
        String targets = metricsPorts.stream().map(port -> "'127.0.0.1:" + port + "'").collect(Collectors.joining(", "));
        String rules = ruleFiles.stream().map(file -> "  - '" + file.toAbsolutePath() + "'\n").collect(Collectors.joining());
        Path config = directory.resolve("prometheus.yml");
        Files.writeString(config, "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                + (rules.isEmpty() ? "" : "rule_files:\n" + rules)
                + "scrape_configs:\n  - job_name: raftcached\n    static_configs:\n      - targets: [" + targets + "]\n");
        int port = Ports.free();
        Path log = directory.resolve("prometheus.log");
        Process process = new ProcessBuilder("/usr/bin/" + BINARY, "--config.file=" + config,
                "--storage.tsdb.path=" + directory.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new PrometheusProcess(process, port, log);
    }

    /**
     * The value of an instant query whose result is one sample, or NaN when the result is empty
     * (not scraped yet, or the condition in the query does not hold).
     */
    double value(String query) throws IOException, InterruptedException {
        String body = query(query);
        Matcher matcher = SAMPLE_VALUE.matcher(body);
        if (!matcher.find()) {
            return Double.NaN;
        }
        double value = Double.parseDouble(matcher.group(1));
        if (matcher.find()) {
            throw new AssertionError(query + " returned more than one sample: " + body);
        }
        return value;
    }

    /** The raw JSON answer of an instant query. */
    String query(String query) throws IOException, InterruptedException {
        URI uri = URI.create("http://127.0.0.1:" + port + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri).timeout(HTTP_TIMEOUT).build(),
                HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200 || !response.body().contains("\"status\":\"success\"")) {
            throw new IOException(query + ": HTTP " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    String tail() {
        try {
            List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
