package io.raftcached.it;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Certificates from {@code deploy/tls/make-test-certs.sh}, the script operators try TLS with: a CA,
 * a member certificate (peer.*), and a client of another CA (untrusted-client.*), among others.
 */
public final class TestCertificates {
    private static final Path SCRIPT = Path.of("../deploy/tls/make-test-certs.sh");

    private final Path directory;

    private TestCertificates(Path directory) {
        this.directory = directory;
    }

    /** A fresh set in the test directory, under {@code name}; {@code extraNames} are more SANs (addresses or DNS names). */
    public static TestCertificates make(String name, String... extraNames) throws IOException, InterruptedException {
        Path directory = NodeProcess.freshDirectory(name + "-certs").toAbsolutePath();
        List<String> command = new java.util.ArrayList<>(List.of(SCRIPT.toAbsolutePath().toString(), directory.toString()));
        command.addAll(List.of(extraNames));
        ProcessRun.Result result = ProcessRun.run(command, Map.of(), Duration.ofSeconds(60));
        if (result.exitCode() != 0 || !Files.exists(directory.resolve("peer.crt"))) {
            throw new IOException("make-test-certs.sh failed: " + result);
        }
        return new TestCertificates(directory);
    }

    public Path file(String name) {
        return directory.resolve(name);
    }

    /** The three peer TLS flags with {@code name}.crt/.key as this node's certificate and {@code ca}.crt as the peer CA. */
    public List<String> peerFlags(String name, String ca) {
        return List.of("--peer-cert", file(name + ".crt").toString(), "--peer-key", file(name + ".key").toString(),
                "--peer-ca", file(ca + ".crt").toString());
    }

    /** A member's flags: peer.crt/.key, trusting ca.crt. */
    public List<String> memberFlags() {
        return peerFlags("peer", "ca");
    }
}
