package io.raftcached.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a command to completion with a time limit; its output is kept in files, not pipes, so it cannot block. */
final class Subprocess {
    private Subprocess() {}

    /** What a finished command left behind. */
    record Result(List<String> command, int exitCode, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.ISO_8859_1);
        }

        @Override
        public String toString() {
            return String.join(" ", command) + " exited " + exitCode + "\nstdout: " + out() + "\nstderr: " + stderr;
        }
    }

    static boolean isInstalled(String binary) {
        return Files.isExecutable(Path.of("/usr/bin", binary));
    }

    static Result run(List<String> command, long timeoutMillis) throws IOException, InterruptedException {
        return run(command, Map.of(), timeoutMillis);
    }

    /** Runs {@code command} with extra environment variables; kills it (by its pid) past the timeout. */
    static Result run(List<String> command, Map<String, String> environment, long timeoutMillis)
            throws IOException, InterruptedException {
        Files.createDirectories(NodeProcess.TEST_DIRECTORY);
        Path stdout = Files.createTempFile(NodeProcess.TEST_DIRECTORY, "out", ".txt");
        Path stderr = Files.createTempFile(NodeProcess.TEST_DIRECTORY, "err", ".txt");
        try {
            ProcessBuilder builder = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            builder.environment().putAll(environment);
            Process process = builder.start();
            if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new IOException(String.join(" ", command) + " did not finish within " + timeoutMillis + " ms; stderr: "
                        + Files.readString(stderr, StandardCharsets.ISO_8859_1));
            }
            return new Result(List.copyOf(command), process.exitValue(), Files.readAllBytes(stdout),
                    Files.readString(stderr, StandardCharsets.ISO_8859_1));
        } finally {
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
        }
    }
}
