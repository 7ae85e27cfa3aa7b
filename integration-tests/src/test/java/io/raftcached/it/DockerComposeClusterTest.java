package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.raftcached.testing.Await;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIf;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.ComposeContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Testcontainers;

/**
 * deploy/docker/compose.yaml brought up as shipped (image built from deploy/docker/Dockerfile):
 * the three nodes become healthy, a write through node 1 is read through nodes 2 and 3.
 *
 * <p>Skipped, quietly and at once, where there is no Docker engine (Testcontainers' own check) or
 * no {@code docker compose} command. A cheap look for a Docker socket or DOCKER_HOST comes first, so a
 * machine without Docker does not even get Testcontainers' error log of every strategy it tried. Where they exist, the first run builds the image with Maven
 * inside Docker, which takes minutes; later runs reuse BuildKit's cache.
 */
@EnabledIf(value = "dockerEngineConfigured", disabledReason = "no Docker engine configured (no DOCKER_HOST, no docker.sock)")
@Testcontainers(disabledWithoutDocker = true)
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class DockerComposeClusterTest {
    static final String[] SERVICES = {"raftcached-1", "raftcached-2", "raftcached-3"};

    /** Where Docker engines are usually reached; Testcontainers makes the real check after this one. */
    static boolean dockerEngineConfigured() {
        String home = System.getProperty("user.home");
        String runtime = System.getenv("XDG_RUNTIME_DIR");
        List<Path> sockets = new ArrayList<>(List.of(Path.of("/var/run/docker.sock"), Path.of(home, ".docker/run/docker.sock"),
                Path.of(home, ".docker/desktop/docker.sock"), Path.of(home, ".colima/default/docker.sock"),
                Path.of(home, ".rd/docker.sock"), Path.of(home, ".testcontainers.properties")));
        if (runtime != null) {
            sockets.add(Path.of(runtime, "docker.sock"));
        }
        return System.getenv("DOCKER_HOST") != null || System.getenv("TESTCONTAINERS_HOST_OVERRIDE") != null
                || sockets.stream().anyMatch(Files::exists);
    }

    @BeforeAll
    static void needsComposeCommand() throws InterruptedException {
        ProcessRun.Result version;
        try {
            version = ProcessRun.run(List.of("docker", "compose", "version"), Map.of(), Duration.ofSeconds(20));
        } catch (IOException e) {
            version = null;
        }
        assumeTrue(version != null && version.exitCode() == 0, "no `docker compose` command (Compose v2 plugin)");
    }

    @Test
    void threeNodeComposeClusterReplicatesAWrite() throws IOException, InterruptedException {
        int[] hostPorts = {Ports.free(), Ports.free(), Ports.free()};
        ComposeContainer compose = new ComposeContainer(new File(DeployFiles.ROOT.resolve(DeployManifestsTest.COMPOSE).toString()))
                .withLocalCompose(true)   // builds with the host's BuildKit and the whole checkout as context
                .withBuild(true)
                .withRemoveVolumes(true)
                .withStartupTimeout(Duration.ofMinutes(15))
                .withEnv(Map.of("RAFTCACHED_PORT_1", Integer.toString(hostPorts[0]),
                        "RAFTCACHED_PORT_2", Integer.toString(hostPorts[1]),
                        "RAFTCACHED_PORT_3", Integer.toString(hostPorts[2])));
        for (String service : SERVICES) {
            // The compose healthcheck is `raftcached probe ready`: caught up and serving reads.
            compose = compose.waitingFor(service, Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(15)));
        }
        compose.start();
        try {
            String host = DockerClientFactory.instance().dockerHostIpAddress();
            try (TextClient first = new TextClient(host, hostPorts[0])) {
                assertEquals("STORED", first.call("set compose-key 5 0 11\r\nhello raft!\r\n"));
            }
            for (int node = 1; node < SERVICES.length; node++) {
                assertEquals("VALUE compose-key 5 11|hello raft!", awaitValue(host, hostPorts[node], "compose-key"),
                        "the write through " + SERVICES[0] + " read through " + SERVICES[node]);
            }
        } finally {
            compose.stop();
        }
    }

    /** {@code get key} through one node until it returns the item (a follower applies shortly after the leader), at most 20 s. */
    private static String awaitValue(String host, int port, String key) throws InterruptedException {
        return Await.value(key + " through " + host + ":" + port, Duration.ofSeconds(20), () -> {
            try (TextClient client = new TextClient(host, port)) {
                String header = client.call("get " + key + "\r\n");
                return header.startsWith("VALUE ") ? header + "|" + client.line() : header;
            }
        }, reply -> reply.startsWith("VALUE "));
    }
}
