package io.raftcached.it;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short command to completion within a time limit. Output goes to files, not pipes, so a
 * chatty command cannot block; past the limit the command is killed by its own pid.
 */
final class ProcessRun {
    private ProcessRun() {}

    /** What a finished command left behind. */
    record Result(List<String> command, int exitCode, String out, String err, long elapsedMillis) {
        @Override
        public String toString() {
            return String.join(" ", command) + "\n  exited " + exitCode + " after " + elapsedMillis + " ms\n  stdout: "
                    + out.strip() + "\n  stderr: " + err.strip();
        }
    }

    static Result run(List<String> command, Map<String, String> environment, Duration timeout) throws IOException, InterruptedException {
        Files.createDirectories(NodeProcess.TEST_DIRECTORY);
        Path out = Files.createTempFile(NodeProcess.TEST_DIRECTORY, "run", ".out");
        Path err = Files.createTempFile(NodeProcess.TEST_DIRECTORY, "run", ".err");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile()).redirectError(err.toFile());
            builder.environment().putAll(environment);
            long started = System.nanoTime();
            Process process = builder.start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IOException(String.join(" ", command) + " did not finish within " + timeout.toMillis()
                        + " ms; stdout: " + Files.readString(out, StandardCharsets.UTF_8) + "; stderr: "
                        + Files.readString(err, StandardCharsets.UTF_8));
            }
            return new Result(List.copyOf(command), process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8), TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /**
     * {@code raftcached cluster <arguments>} from the jar, as an operator runs it, in its own small JVM.
     */
    static Result clusterCli(String... arguments) throws IOException, InterruptedException {
        List<String> command = new java.util.ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms16m", "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-Dcom.google.protobuf.use_unsafe_pre22_gencode=true",
                "-jar", NodeProcess.privateJar().toString(), "cluster"));
        command.addAll(List.of(arguments));
        return run(command, Map.of(), Duration.ofSeconds(60));
    }
}
