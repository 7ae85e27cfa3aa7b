package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The files under deploy/ checked the way CI can without Docker or Kubernetes: every YAML file
 * parses; the Kubernetes objects, compose services, Dockerfile and HAProxy config have the parts
 * they need and agree with each other; every health check command runs for real against a node;
 * the StatefulSet's start-up script derives the node id and peers from the pod ordinal; and every
 * file is introduced in the README.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DeployManifestsTest {
    static final String KUBERNETES = "deploy/kubernetes/raftcached.yaml";
    static final String COMPOSE = "deploy/docker/compose.yaml";
    static final String COMPOSE_TLS = "deploy/docker/compose.tls.yaml";
    /** Where the Kubernetes Secret and the compose TLS overlay put the certificates in the container. */
    static final String TLS_DIRECTORY = "/etc/raftcached/tls/";
    /** What deploy/tls/make-test-certs.sh writes that a node uses. */
    static final Set<String> NODE_CERTIFICATE_FILES = Set.of("ca.crt", "server.crt", "server.key", "peer.crt", "peer.key");
    static final String DOCKERFILE = "deploy/docker/Dockerfile";
    static final Path HAPROXY = Path.of("/usr/sbin/haproxy");

    // --- YAML ------------------------------------------------------------------------------------

    @Test
    void everyYamlFileUnderDeployParses() throws IOException {
        List<String> yamlFiles = DeployFiles.all().stream().filter(f -> f.endsWith(".yaml") || f.endsWith(".yml")).toList();
        assertTrue(yamlFiles.containsAll(List.of(KUBERNETES, COMPOSE)), "expected YAML files missing from " + yamlFiles);
        for (String file : yamlFiles) {
            List<Object> documents = DeployFiles.yamlDocuments(file);
            assertFalse(documents.isEmpty(), file + " has no YAML document");
            for (Object document : documents) {
                assertTrue(document instanceof Map, file + ": a top-level document is not a mapping: " + document);
            }
        }
    }

    @Test
    void kubernetesObjectsAreCompleteAndAgree() {
        Map<String, Map<String, Object>> byKind = new LinkedHashMap<>();
        List<Map<String, Object>> services = new ArrayList<>();
        for (Object document : DeployFiles.yamlDocuments(KUBERNETES)) {
            Map<String, Object> object = map(document, "document");
            String kind = string(object, "kind");
            assertNotNull(string(object, "apiVersion"), KUBERNETES + ": an object without apiVersion: " + object);
            assertNotNull(kind, KUBERNETES + ": an object without kind");
            assertNotNull(string(object, "metadata", "name"), KUBERNETES + ": a " + kind + " without metadata.name");
            if (kind.equals("Service")) {
                services.add(object);
            } else {
                assertEquals(null, byKind.put(kind, object), "two " + kind + " objects");
            }
        }
        assertEquals("apps/v1", string(byKind.get("StatefulSet"), "apiVersion"));
        assertEquals("policy/v1", string(byKind.get("PodDisruptionBudget"), "apiVersion"));

        Map<String, Object> set = byKind.get("StatefulSet");
        assertNotNull(set, "no StatefulSet");
        assertEquals(3, get(set, "spec", "replicas"));
        assertEquals("Parallel", get(set, "spec", "podManagementPolicy"), "the initial members must start together");
        Map<String, Object> podLabels = map(get(set, "spec", "template", "metadata", "labels"), "pod labels");
        assertTrue(selects(map(get(set, "spec", "selector", "matchLabels"), "selector"), podLabels), "selector vs pod labels");

        // The headless peer Service the StatefulSet names, publishing pods before they are ready.
        String peerServiceName = string(set, "spec", "serviceName");
        Map<String, Object> peerService = services.stream().filter(s -> peerServiceName.equals(string(s, "metadata", "name")))
                .findFirst().orElseThrow(() -> new AssertionError("no Service named " + peerServiceName));
        assertEquals("None", get(peerService, "spec", "clusterIP"), "the peer Service must be headless");
        assertEquals(Boolean.TRUE, get(peerService, "spec", "publishNotReadyAddresses"),
                "peers must resolve each other before they are ready");
        assertTrue(services.size() >= 2, "a client Service besides the headless one");

        Map<String, Object> pod = map(get(set, "spec", "template", "spec"), "pod spec");
        assertTrue(((Number) pod.get("terminationGracePeriodSeconds")).intValue() >= 30, "room for the leader hand-over");
        Map<String, Object> container = map(list(pod.get("containers"), "containers").get(0), "container");
        Set<String> containerPorts = new HashSet<>();
        for (Object port : list(container.get("ports"), "ports")) {
            containerPorts.add(string(map(port, "port"), "name"));
        }
        for (Map<String, Object> service : services) {
            assertTrue(selects(map(get(service, "spec", "selector"), "service selector"), podLabels),
                    "Service " + string(service, "metadata", "name") + " selects no pod");
            for (Object port : list(get(service, "spec", "ports"), "service ports")) {
                Object target = map(port, "service port").get("targetPort");
                assertTrue(target == null || target instanceof Integer || containerPorts.contains(target),
                        "Service port targets " + target + ", not a container port " + containerPorts);
            }
        }
        Map<String, Object> budget = byKind.get("PodDisruptionBudget");
        assertNotNull(budget, "no PodDisruptionBudget");
        assertEquals(1, get(budget, "spec", "maxUnavailable"));
        assertTrue(selects(map(get(budget, "spec", "selector", "matchLabels"), "budget selector"), podLabels));

        // Probes: ready for traffic, live (answers during a snapshot install) with a generous budget; over TLS.
        List<String> tls = List.of("--tls", "--cacert", TLS_DIRECTORY + "ca.crt");
        assertEquals(concat(List.of("raftcached", "probe", "ready"), tls), get(container, "readinessProbe", "exec", "command"));
        assertEquals(concat(List.of("raftcached", "probe", "live"), tls), get(container, "livenessProbe", "exec", "command"));
        assertEquals(concat(List.of("raftcached", "probe", "live"), tls), get(container, "startupProbe", "exec", "command"));
        Map<String, Object> liveness = map(container.get("livenessProbe"), "livenessProbe");
        int livenessBudgetSeconds = ((Number) liveness.get("periodSeconds")).intValue() * ((Number) liveness.get("failureThreshold")).intValue();
        assertTrue(livenessBudgetSeconds >= 120, "a liveness probe must not restart a busy node quickly: " + livenessBudgetSeconds + " s");

        // The data volume: a claim template, mounted.
        String claim = string(map(list(get(set, "spec", "volumeClaimTemplates"), "claims").get(0), "claim"), "metadata", "name");
        assertTrue(list(container.get("volumeMounts"), "mounts").stream().anyMatch(m -> claim.equals(map(m, "mount").get("name"))),
                "the Raft data claim " + claim + " is not mounted");

        // Memory: the limit holds -m, the server heap and headroom; probes run in small JVMs.
        Map<String, String> env = environment(container);
        long cacheMegabytes = Long.parseLong(env.get("CACHE_MB"));
        long heapMegabytes = megabytes(flag(env.get("SERVER_JAVA_OPTS"), "-Xmx"));
        long limitMegabytes = megabytes(string(container, "resources", "limits", "memory"));
        assertTrue(limitMegabytes >= cacheMegabytes + heapMegabytes + 512, "memory limit " + limitMegabytes
                + " MiB does not hold -m " + cacheMegabytes + " + heap " + heapMegabytes + " + 512 MiB headroom");
        assertEquals(string(container, "resources", "limits", "memory"), string(container, "resources", "requests", "memory"),
                "memory request = limit, so the scheduler reserves what the node will use");
        assertTrue(megabytes(flag(env.get("JAVA_OPTS"), "-Xmx")) <= 128, "probe JVMs must be small: they share the limit");
    }

    /**
     * The StatefulSet's start-up script, run by bash for several pod names with a stand-in
     * {@code raftcached} that records its arguments: node id from the ordinal, its own DNS name
     * as the Raft address, the initial members as peers (plus itself beyond them), and the server
     * heap handed over in JAVA_OPTS.
     */
    @Test
    void statefulSetScriptDerivesNodeIdAndPeersFromTheOrdinal() throws IOException, InterruptedException {
        Map<String, String> env = environment(statefulSetContainer());
        String domain = "raftcached-peers.testns.svc.cluster.local";
        for (int ordinal = 0; ordinal <= 3; ordinal++) {
            List<String> calls = statefulSetScriptCalls(ordinal);
            String server = calls.get(calls.size() - 1);
            assertTrue(server.startsWith("JAVA_OPTS=" + env.get("SERVER_JAVA_OPTS") + " -p 11211 -m " + env.get("CACHE_MB")),
                    "the server gets SERVER_JAVA_OPTS and -m: " + server);
            assertTrue(server.contains(" --node-id " + (ordinal + 1) + " "), server);
            String self = "raftcached-" + ordinal + "." + domain + ":7000";
            assertTrue(server.contains(" --raft " + self + " "), server);
            int members = Math.max(3, ordinal + 1);
            List<String> expectedPeers = new ArrayList<>();
            for (int i = 0; i < members; i++) {
                expectedPeers.add((i + 1) + "@raftcached-" + i + "." + domain + ":7000");
            }
            assertTrue(server.contains(" --peers " + String.join(",", expectedPeers) + " "), server);
            // Clients over TLS (-Z, memcached's flags), peers over mutual TLS, all from the mounted Secret.
            assertTrue(server.contains(" -Z -o ssl_chain_cert=" + TLS_DIRECTORY + "server.crt,ssl_key=" + TLS_DIRECTORY
                    + "server.key,ssl_ca_cert=" + TLS_DIRECTORY + "ca.crt "), server);
            assertTrue(server.contains(" --peer-cert " + TLS_DIRECTORY + "peer.crt --peer-key " + TLS_DIRECTORY + "peer.key --peer-ca "
                    + TLS_DIRECTORY + "ca.crt"), server);
            if (ordinal >= 3) {
                assertTrue(calls.get(0).contains("probe ready -l raftcached-0." + domain + " -p 11211 --tls --cacert "
                        + TLS_DIRECTORY + "ca.crt"),
                        "a pod beyond the initial members waits for one of them to serve (over TLS) before joining: " + calls);
            } else {
                assertEquals(1, calls.size(), "an initial member starts at once: " + calls);
            }
        }
    }

    /**
     * The StatefulSet's start-up script run by bash as pod raftcached-{@code ordinal} of namespace
     * testns, with a stand-in {@code raftcached} that records each call ("JAVA_OPTS=... args").
     */
    private static List<String> statefulSetScriptCalls(int ordinal) throws IOException, InterruptedException {
        Map<String, Object> container = statefulSetContainer();
        assertEquals(List.of("/bin/bash", "-c"), container.get("command"));
        String script = (String) list(container.get("args"), "args").get(0);
        Path directory = Files.createTempDirectory(Files.createDirectories(NodeProcess.TEST_DIRECTORY), "k8s-script");
        Path record = directory.resolve("calls");
        Path stub = directory.resolve("raftcached");
        Files.writeString(stub, "#!/bin/bash\nprintf '%s\\n' \"JAVA_OPTS=$JAVA_OPTS $*\" >>\"" + record + "\"\nexit 0\n");
        Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
        Map<String, String> podEnvironment = new HashMap<>(environment(container));
        podEnvironment.put("POD_NAMESPACE", "testns");
        podEnvironment.put("HOSTNAME", "raftcached-" + ordinal);
        podEnvironment.put("PATH", directory + ":/usr/bin:/bin");
        ProcessRun.Result run = ProcessRun.run(List.of("/bin/bash", "-c", script), podEnvironment, Duration.ofSeconds(20));
        assertEquals(0, run.exitCode(), run.toString());
        return Files.readAllLines(record, StandardCharsets.UTF_8);
    }

    /** The TLS flags of a server command line (client -Z -o ..., --peer-*), in order. */
    private static List<String> tlsFlags(List<String> arguments) {
        List<String> flags = new ArrayList<>();
        for (int i = 0; i < arguments.size(); i++) {
            String argument = arguments.get(i);
            if (argument.equals("-Z")) {
                flags.add(argument);
            } else if (argument.equals("-o") || argument.startsWith("--peer-")) {
                flags.addAll(arguments.subList(i, i + 2));
                i++;
            }
        }
        return flags;
    }

    /** The StatefulSet's server TLS flags, as pod raftcached-0 starts the node. */
    private static List<String> kubernetesTlsFlags() throws IOException, InterruptedException {
        List<String> calls = statefulSetScriptCalls(0);
        return tlsFlags(List.of(calls.get(calls.size() - 1).split(" ")));
    }

    /**
     * The certificates the flags and probes name are in the Secret's mount, and are the files
     * the header's {@code kubectl create secret} puts in it (the names make-test-certs.sh writes).
     */
    @Test
    void kubernetesTlsSecretIsMountedWhereTheFlagsPoint() throws IOException, InterruptedException {
        Map<String, Object> pod = null;
        for (Object document : DeployFiles.yamlDocuments(KUBERNETES)) {
            if ("StatefulSet".equals(map(document, "document").get("kind"))) {
                pod = map(get(document, "spec", "template", "spec"), "pod spec");
            }
        }
        assertNotNull(pod);
        String volume = list(pod.get("volumes"), "volumes").stream().map(v -> map(v, "volume"))
                .filter(v -> "raftcached-tls".equals(get(v, "secret", "secretName"))).map(v -> (String) v.get("name"))
                .findFirst().orElseThrow(() -> new AssertionError("no volume from the Secret raftcached-tls"));
        Map<String, Object> container = statefulSetContainer();
        Map<String, Object> mount = list(container.get("volumeMounts"), "mounts").stream().map(m -> map(m, "mount"))
                .filter(m -> volume.equals(m.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError("the Secret's volume " + volume + " is not mounted"));
        assertEquals(TLS_DIRECTORY, mount.get("mountPath") + "/");
        assertEquals(Boolean.TRUE, mount.get("readOnly"));

        Set<String> named = new HashSet<>();
        List<String> paths = new ArrayList<>();
        for (String flag : kubernetesTlsFlags()) {
            Matcher path = Pattern.compile("/[^,=]+").matcher(flag);
            while (path.find()) {
                paths.add(path.group());
            }
        }
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            List<String> command = stringList(get(container, probe, "exec", "command"));
            assertTrue(command.containsAll(List.of("--tls", "--cacert")), probe + " speaks TLS: " + command);
            paths.add(command.get(command.indexOf("--cacert") + 1));
        }
        for (String path : paths) {
            assertTrue(path.startsWith(TLS_DIRECTORY), path + " is outside the Secret's mount " + TLS_DIRECTORY);
            named.add(path.substring(TLS_DIRECTORY.length()));
        }
        assertEquals(NODE_CERTIFICATE_FILES, named, "the files the node and probes read");

        String header = String.join("\n", DeployFiles.read(KUBERNETES).lines().takeWhile(line -> line.startsWith("#")).toList());
        int create = header.indexOf("kubectl create secret generic raftcached-tls ");
        assertTrue(create >= 0, KUBERNETES + " says how to create the Secret");
        Set<String> keys = new HashSet<>();
        Matcher fromFile = Pattern.compile("--from-file=([^=\\s]+)=certs/\\1").matcher(header.substring(create));
        while (fromFile.find()) {
            keys.add(fromFile.group(1));
        }
        assertEquals(NODE_CERTIFICATE_FILES, keys, "the Secret's keys, from make-test-certs.sh's files of the same name");
    }

    // --- compose and Dockerfile ------------------------------------------------------------------

    /** The TLS overlay adds the StatefulSet's TLS flags to each compose node, its certificates mounted where they point. */
    @Test
    void composeTlsOverlayAddsTheSameTlsFlagsToEveryNode() throws IOException, InterruptedException {
        Map<String, Object> base = map(map(DeployFiles.yamlDocuments(COMPOSE).get(0), COMPOSE).get("services"), "services");
        Map<String, Object> overlay = map(map(DeployFiles.yamlDocuments(COMPOSE_TLS).get(0), COMPOSE_TLS).get("services"), "services");
        assertEquals(base.keySet(), overlay.keySet(), "the overlay configures every node, and only those");
        List<String> kubernetesFlags = kubernetesTlsFlags();
        for (String name : base.keySet()) {
            List<String> plain = stringList(map(base.get(name), name).get("command"));
            List<String> tls = stringList(map(overlay.get(name), name).get("command"));
            assertEquals(plain, tls.subList(0, plain.size()), name + ": the overlay keeps the plain command");
            assertEquals(kubernetesFlags, tls.subList(plain.size(), tls.size()), name + ": the same TLS flags as Kubernetes");
            assertEquals(List.of("./certs:" + TLS_DIRECTORY.substring(0, TLS_DIRECTORY.length() - 1) + ":ro"),
                    stringList(map(overlay.get(name), name).get("volumes")), name);
        }
        assertTrue(DeployFiles.read(COMPOSE_TLS).contains("deploy/tls/make-test-certs.sh deploy/docker/certs "),
                COMPOSE_TLS + " says how to make the certificates it mounts");
    }

    @Test
    void composeServicesBuildTheDockerfileAndNameEachOtherAsPeers() {
        Map<String, Object> compose = map(DeployFiles.yamlDocuments(COMPOSE).get(0), COMPOSE);
        Map<String, Object> services = map(compose.get("services"), "services");
        assertEquals(3, services.size(), "three nodes");
        Set<String> declaredVolumes = map(compose.get("volumes"), "volumes").keySet();
        Set<String> hostPorts = new HashSet<>();
        Set<String> nodeIds = new HashSet<>();
        Path composeDirectory = DeployFiles.ROOT.resolve(COMPOSE).getParent();
        for (Map.Entry<String, Object> entry : services.entrySet()) {
            String name = entry.getKey();
            Map<String, Object> service = map(entry.getValue(), name);
            Path context = composeDirectory.resolve(string(service, "build", "context")).normalize();
            assertEquals(DeployFiles.ROOT.resolve(DOCKERFILE).normalize(), context.resolve(string(service, "build", "dockerfile")).normalize(),
                    name + " must build " + DOCKERFILE);
            assertNotNull(service.get("healthcheck"), name + " has no healthcheck");
            assertEquals("60s", service.get("stop_grace_period"), name + ": room for the leader hand-over");
            @SuppressWarnings("unchecked")
            List<String> command = (List<String>) service.get("command");
            String raft = command.get(command.indexOf("--raft") + 1);
            assertEquals(name + ":7000", raft, name + " must use its service name as its Raft host");
            nodeIds.add(command.get(command.indexOf("--node-id") + 1));
            String peers = command.get(command.indexOf("--peers") + 1);
            for (String peer : peers.split(",")) {
                String host = peer.substring(peer.indexOf('@') + 1, peer.lastIndexOf(':'));
                assertTrue(services.containsKey(host), name + " names peer " + host + ", which is not a service");
            }
            assertTrue(peers.contains(command.get(command.indexOf("--node-id") + 1) + "@" + raft), name + " is not in its own --peers");
            for (Object volume : list(service.get("volumes"), "volumes")) {
                String source = volume.toString().split(":")[0];
                assertTrue(declaredVolumes.contains(source), name + " uses an undeclared volume " + source);
            }
            Matcher port = Pattern.compile("\\$\\{RAFTCACHED_PORT_\\d:-(\\d+)}:11211").matcher(list(service.get("ports"), "ports").get(0).toString());
            assertTrue(port.matches(), name + " ports: " + service.get("ports"));
            hostPorts.add(port.group(1));
        }
        assertEquals(Set.of("1", "2", "3"), nodeIds);
        assertEquals(Set.of("11211", "11212", "11213"), hostPorts);
    }

    @Test
    void dockerfileIsMultiStageNonRootWithAHealthcheck() {
        String dockerfile = DeployFiles.read(DOCKERFILE);
        List<String> instructions = dockerfile.lines().filter(l -> !l.isBlank() && !l.startsWith("#") && !l.startsWith(" ")).toList();
        List<String> froms = instructions.stream().filter(l -> l.startsWith("FROM ")).toList();
        assertEquals(2, froms.size(), "a build stage and a runtime stage: " + froms);
        assertTrue(froms.get(0).contains("temurin-17") && froms.get(0).endsWith(" AS build"), froms.get(0));
        assertTrue(froms.get(1).contains("temurin:17-jre"), "a JRE at run time: " + froms.get(1));
        for (String instruction : List.of("ENTRYPOINT ", "HEALTHCHECK ", "USER ", "VOLUME ", "EXPOSE ", "STOPSIGNAL ")) {
            assertTrue(instructions.stream().anyMatch(l -> l.startsWith(instruction)), DOCKERFILE + " has no " + instruction.trim());
        }
        assertTrue(instructions.contains("EXPOSE 11211 7000 9100"), "client, Raft and metrics ports");
        assertTrue(instructions.stream().anyMatch(l -> l.startsWith("HEALTHCHECK ") && l.contains("\"raftcached\", \"probe\", \"ready\"")),
                "the HEALTHCHECK runs raftcached probe ready");
        assertTrue(instructions.stream().filter(l -> l.startsWith("USER ")).noneMatch(l -> l.equals("USER root") || l.equals("USER 0")),
                "the runtime user is not root");
        // Everything copied from the build context exists in the checkout.
        for (String copy : instructions.stream().filter(l -> l.startsWith("COPY ") && !l.contains("--from=")).toList()) {
            String source = copy.split("\\s+")[1];
            assertTrue(Files.exists(DeployFiles.ROOT.resolve(source)), DOCKERFILE + " copies " + source + ", which is not in the repository");
            assertFalse(DeployFiles.read(DOCKERFILE + ".dockerignore").lines().anyMatch(l -> l.trim().equals(source)),
                    source + " is copied but excluded from the build context");
        }
    }

    /**
     * The Dockerfile's ENTRYPOINT and CMD as Docker runs them (exec form, CMD appended), with a
     * stand-in {@code raftcached}: the launcher gets CMD's arguments unchanged and the server's
     * heap from SERVER_JAVA_OPTS, while JAVA_OPTS stays small for health checks and admin commands.
     */
    @Test
    void dockerEntrypointHandsCmdAndServerHeapToTheLauncher() throws IOException, InterruptedException {
        String dockerfile = DeployFiles.read(DOCKERFILE);
        List<String> entrypoint = jsonArray(dockerfile, "ENTRYPOINT");
        List<String> cmd = jsonArray(dockerfile, "CMD");
        Matcher env = Pattern.compile("\\nENV JAVA_OPTS=\"([^\"]*)\" \\\\\\n\\s+SERVER_JAVA_OPTS=\"([^\"]*)\"").matcher(dockerfile);
        assertTrue(env.find(), "ENV JAVA_OPTS=... SERVER_JAVA_OPTS=... in " + DOCKERFILE);
        assertTrue(megabytes(flag(env.group(1), "-Xmx")) <= 128, "JAVA_OPTS is for small JVMs: " + env.group(1));

        Path directory = Files.createTempDirectory(Files.createDirectories(NodeProcess.TEST_DIRECTORY), "entrypoint");
        Path record = directory.resolve("calls");
        Path stub = directory.resolve("raftcached");
        Files.writeString(stub, "#!/bin/bash\nprintf '%s\\n' \"JAVA_OPTS=$JAVA_OPTS\" \"$@\" >\"" + record + "\"\n");
        Files.setPosixFilePermissions(stub, PosixFilePermissions.fromString("rwxr-xr-x"));
        List<String> command = new ArrayList<>(entrypoint);
        command.addAll(cmd);
        ProcessRun.Result run = ProcessRun.run(command, Map.of("PATH", directory + ":/usr/bin:/bin", "JAVA_OPTS", env.group(1),
                "SERVER_JAVA_OPTS", env.group(2)), Duration.ofSeconds(20));
        assertEquals(0, run.exitCode(), run.toString());
        List<String> expected = new ArrayList<>(List.of("JAVA_OPTS=" + env.group(2)));
        expected.addAll(cmd);
        assertEquals(expected, Files.readAllLines(record, StandardCharsets.UTF_8));
    }

    /** The exec-form (JSON array) arguments of a Dockerfile instruction; JSON is YAML, so snakeyaml reads it. */
    private static List<String> jsonArray(String dockerfile, String instruction) {
        Matcher line = Pattern.compile("(?m)^" + instruction + " (\\[.*])$").matcher(dockerfile);
        assertTrue(line.find(), DOCKERFILE + " has no exec-form " + instruction);
        Object parsed = new org.yaml.snakeyaml.Yaml(new org.yaml.snakeyaml.constructor.SafeConstructor(
                new org.yaml.snakeyaml.LoaderOptions())).load(line.group(1));
        return list(parsed, instruction).stream().map(Object::toString).toList();
    }

    // --- health checks, for real ----------------------------------------------------------------

    /**
     * Every health check command the deployment files define — the StatefulSet's probes, the
     * compose healthchecks (plain and TLS), the Dockerfile's HEALTHCHECK — run through the real
     * launcher with the JVM options those files give it, against a live node (exit 0) and a closed
     * port (not 0). Checks with --tls go to a node started with the StatefulSet's own TLS flags,
     * so those flags are shown to start a node and the probes to reach it.
     */
    @Test
    void everyHealthCheckCommandWorksAgainstARealNode() throws IOException, InterruptedException {
        Map<String, List<String>> checks = new LinkedHashMap<>();
        Map<String, Object> container = statefulSetContainer();
        for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
            checks.put(KUBERNETES + " " + probe, stringList(get(container, probe, "exec", "command")));
        }
        for (String compose : List.of(COMPOSE, COMPOSE_TLS)) {
            Map<String, Object> services = map(map(DeployFiles.yamlDocuments(compose).get(0), compose).get("services"), "services");
            for (Map.Entry<String, Object> service : services.entrySet()) {
                List<String> test = stringList(get(map(service.getValue(), "service"), "healthcheck", "test"));
                assertEquals("CMD", test.get(0), "exec form, no shell needed");
                checks.put(compose + " " + service.getKey(), test.subList(1, test.size()));
            }
        }
        Matcher healthcheck = Pattern.compile("(?m)^HEALTHCHECK .* CMD \\[(.*)]$").matcher(DeployFiles.read(DOCKERFILE));
        assertTrue(healthcheck.find(), "Dockerfile HEALTHCHECK in exec form");
        checks.put(DOCKERFILE + " HEALTHCHECK", List.of(healthcheck.group(1).replace("\"", "").split(",\\s*")));
        String probeJavaOptions = environment(container).get("JAVA_OPTS");

        // TLS checks go to a node started with the StatefulSet's TLS flags, their certificates remapped.
        TestCertificates certificates = TestCertificates.make();
        java.util.function.UnaryOperator<String> remap = argument -> argument.replace(TLS_DIRECTORY, certificates.directory + "/");
        int plainPort = Ports.free();
        int tlsPort = Ports.free();
        List<String> tlsArguments = new ArrayList<>(List.of("-p", Integer.toString(plainPort), "-l", "notls:127.0.0.1:" + plainPort,
                "-l", "127.0.0.1:" + tlsPort, "--raft", "127.0.0.1:" + Ports.free(),
                "--data-dir", NodeProcess.freshDirectory("deploy-probes-tls").toString()));
        kubernetesTlsFlags().stream().map(remap).forEach(tlsArguments::add);
        try (NodeProcess node = NodeProcess.single("deploy-probes").start();
                NodeProcess tlsNode = new NodeProcess("deploy-probes-tls", plainPort, tlsArguments).start()) {
            node.awaitReady();
            tlsNode.awaitReady();
            int closed = Ports.free();
            for (Map.Entry<String, List<String>> check : checks.entrySet()) {
                List<String> command = check.getValue().stream().map(remap).toList();
                assertEquals("raftcached", command.get(0), check.getKey());
                boolean tls = command.contains("--tls");
                ProcessRun.Result up = runProbe(command, tls ? tlsPort : node.port, probeJavaOptions);
                assertEquals(0, up.exitCode(), check.getKey() + " against a ready node: " + up);
                ProcessRun.Result down = runProbe(command, closed, probeJavaOptions);
                assertNotEquals(0, down.exitCode(), check.getKey() + " against a closed port: " + down);
                assertTrue(down.err().contains("Connection refused"), check.getKey() + " says why: " + down);
            }
        } finally {
            certificates.delete();
        }
    }

    private static ProcessRun.Result runProbe(List<String> command, int port, String javaOptions) throws IOException, InterruptedException {
        List<String> local = new ArrayList<>(command);
        local.set(0, DeployFiles.LAUNCHER.toString());
        local.addAll(List.of("-p", Integer.toString(port)));
        return ProcessRun.run(local, Map.of("RAFTCACHED_JAR", NodeProcess.privateJar().toString(), "JAVA_OPTS", javaOptions),
                Duration.ofSeconds(30));
    }

    // --- HAProxy -----------------------------------------------------------------------------------

    @Test
    void haproxyConfigPassesHaproxyCheckAsShippedAndAsTheTestRunsIt() throws IOException, InterruptedException {
        assertTrue(Files.isExecutable(HAPROXY), HAPROXY + " is missing: apt-get install haproxy (.ci/run does)");
        ProcessRun.Result shipped = ProcessRun.run(List.of(HAPROXY.toString(), "-c", "-f", DeployFiles.ROOT.resolve(HaproxyConfig.SHIPPED).toString()),
                Map.of(), Duration.ofSeconds(20));
        assertEquals(0, shipped.exitCode(), shipped.toString());
        assertFalse((shipped.out() + shipped.err()).contains("[WARNING]"), "haproxy warns about the shipped file: " + shipped);

        Path generated = Files.createDirectories(NodeProcess.TEST_DIRECTORY).resolve("haproxy-check.cfg");
        Files.writeString(generated, HaproxyConfig.forTest(HaproxyConfig.shipped(), 20000, List.of(20001, 20002, 20003)));
        ProcessRun.Result test = ProcessRun.run(List.of(HAPROXY.toString(), "-c", "-f", generated.toString()), Map.of(), Duration.ofSeconds(20));
        assertEquals(0, test.exitCode(), test.toString());

        String config = HaproxyConfig.shipped();
        for (String line : List.of("mode tcp", "balance source", "option tcp-check", "tcp-check send \"stats raft\\r\\n\"",
                "tcp-check expect string \"raft_ready 1\"", "option redispatch")) {
            assertTrue(config.lines().map(String::trim).anyMatch(line::equals), HaproxyConfig.SHIPPED + " lacks: " + line);
        }
        assertEquals(3, config.lines().map(String::trim).filter(l -> l.startsWith("server ") && l.endsWith(" check")).count(),
                "three checked servers");
    }

    // --- README ------------------------------------------------------------------------------------

    /** The issue's rule: every file in deploy/ is referenced from the README with one line on when to use it. */
    @Test
    void everyDeployFileHasAReadmeLineSayingWhenToUseIt() throws IOException {
        String readme = DeployFiles.read("README.md");
        int start = readme.indexOf("\n## Deploying\n");
        assertTrue(start >= 0, "README.md has no '## Deploying' section");
        int end = readme.indexOf("\n## ", start + 1);
        String section = readme.substring(start, end < 0 ? readme.length() : end);
        List<String> missing = new ArrayList<>();
        for (String file : DeployFiles.all()) {
            boolean described = section.lines().anyMatch(line -> line.startsWith("- ") && line.contains("`" + file + "`")
                    && line.replace("`" + file + "`", "").replaceAll("[-:\\s]", "").length() >= 20);
            if (!described) {
                missing.add(file);
            }
        }
        if (!missing.isEmpty()) {
            fail("README.md '## Deploying' needs a line '- `<file>`: when to use it' for: " + missing);
        }
    }

    // --- helpers -----------------------------------------------------------------------------------

    private static List<String> concat(List<String> first, List<String> second) {
        List<String> all = new ArrayList<>(first);
        all.addAll(second);
        return all;
    }

    private static Map<String, Object> statefulSetContainer() {
        for (Object document : DeployFiles.yamlDocuments(KUBERNETES)) {
            if ("StatefulSet".equals(map(document, "document").get("kind"))) {
                return map(list(get(map(document, "set"), "spec", "template", "spec", "containers"), "containers").get(0), "container");
            }
        }
        throw new AssertionError("no StatefulSet in " + KUBERNETES);
    }

    private static Map<String, String> environment(Map<String, Object> container) {
        Map<String, String> env = new LinkedHashMap<>();
        for (Object entry : list(container.get("env"), "env")) {
            Map<String, Object> variable = map(entry, "env entry");
            if (variable.get("value") != null) {
                env.put((String) variable.get("name"), variable.get("value").toString());
            }
        }
        return env;
    }

    private static String flag(String options, String prefix) {
        for (String option : options.split("\\s+")) {
            if (option.startsWith(prefix)) {
                return option.substring(prefix.length());
            }
        }
        throw new AssertionError("no " + prefix + " in " + options);
    }

    /** "512m", "2304Mi", "2Gi", "1g" in MiB. */
    static long megabytes(String size) {
        Matcher m = Pattern.compile("(\\d+)([kKmMgG]i?)?").matcher(size.trim());
        assertTrue(m.matches(), "not a size: " + size);
        long value = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "" : m.group(2).substring(0, 1).toLowerCase();
        return switch (unit) {
            case "k" -> value / 1024;
            case "m" -> value;
            case "g" -> value * 1024;
            default -> value / (1024 * 1024);
        };
    }

    private static boolean selects(Map<String, Object> selector, Map<String, Object> labels) {
        return !selector.isEmpty() && selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
    }

    static Object get(Object root, String... path) {
        Object current = root;
        for (String key : path) {
            if (!(current instanceof Map<?, ?> m)) {
                throw new AssertionError("no " + String.join(".", path) + " (stopped at " + key + ")");
            }
            current = m.get(key);
        }
        return current;
    }

    private static String string(Object root, String... path) {
        Object value = get(root, path);
        return value == null ? null : value.toString();
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> map(Object value, String what) {
        if (!(value instanceof Map)) {
            throw new AssertionError(what + " is not a mapping: " + value);
        }
        return (Map<String, Object>) value;
    }

    @SuppressWarnings("unchecked")
    static List<Object> list(Object value, String what) {
        if (!(value instanceof List)) {
            throw new AssertionError(what + " is not a list: " + value);
        }
        return (List<Object>) value;
    }

    private static List<String> stringList(Object value) {
        return list(value, "command").stream().map(Object::toString).toList();
    }
}
