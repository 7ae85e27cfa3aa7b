package io.raftcached.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/** The checkout's deploy/ directory and README, as the tests of the shipped deployment files read them. */
final class DeployFiles {
    /** The repository root: the nearest directory upwards holding both deploy/ and README.md. */
    static final Path ROOT = findRoot();
    static final Path DEPLOY = ROOT.resolve("deploy");
    /** The launcher the deployment files install as {@code raftcached}. */
    static final Path LAUNCHER = ROOT.resolve("bin/raftcached");

    private DeployFiles() {}

    private static Path findRoot() {
        Path directory = Path.of("").toAbsolutePath();
        for (int depth = 0; directory != null && depth < 5; depth++, directory = directory.getParent()) {
            if (Files.isDirectory(directory.resolve("deploy")) && Files.isRegularFile(directory.resolve("README.md"))) {
                return directory;
            }
        }
        throw new IllegalStateException("no deploy/ and README.md above " + Path.of("").toAbsolutePath());
    }

    static String read(String relative) {
        try {
            return Files.readString(ROOT.resolve(relative), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Every regular file under deploy/, as a path relative to the root ("deploy/..."), sorted;
     * without deploy/docker/certs/, the git-ignored test certificates compose.tls.yaml's steps make.
     */
    static List<String> all() throws IOException {
        try (var paths = Files.walk(DEPLOY, 5)) {
            return paths.filter(Files::isRegularFile).map(p -> ROOT.relativize(p).toString().replace('\\', '/'))
                    .filter(p -> !p.startsWith("deploy/docker/certs/")).sorted().toList();
        }
    }

    /** Every non-empty document of a YAML file, loaded without arbitrary types. */
    static List<Object> yamlDocuments(String relative) {
        Yaml yaml = new Yaml(new SafeConstructor(new LoaderOptions()));
        List<Object> documents = new ArrayList<>();
        yaml.loadAll(read(relative)).forEach(documents::add);
        return documents.stream().filter(Objects::nonNull).toList();
    }
}
