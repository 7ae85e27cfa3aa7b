package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Help everywhere: {@code -h} and {@code --help} on the server and on every subcommand print that
 * command's usage naming all its options and exit 0; {@code raftcached help [command]} does the
 * same; a command that needs a subcommand names them when given none; a malformed flag is one line
 * and the usage exit status, not a stack trace. Run in process through the
 * command line {@link Main#main} runs.
 */
class HelpTest {
    private record Run(int exitCode, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine commandLine = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
        int exitCode = commandLine.execute(args);
        return new Run(exitCode, out.toString(), err.toString());
    }

    /** Every command path below {@code raftcached}, the server itself as the empty path. */
    static Stream<List<String>> commandPaths() {
        List<List<String>> paths = new ArrayList<>();
        collect(Main.commandLine(), new ArrayList<>(), paths);
        return paths.stream();
    }

    private static void collect(CommandLine command, List<String> path, List<List<String>> paths) {
        paths.add(List.copyOf(path));
        command.getSubcommands().forEach((name, sub) -> {
            if (!name.equals("help")) {
                List<String> deeper = new ArrayList<>(path);
                deeper.add(name);
                collect(sub, deeper, paths);
            }
        });
    }

    private static CommandLine.Model.CommandSpec spec(List<String> path) {
        CommandLine command = Main.commandLine();
        for (String name : path) {
            command = command.getSubcommands().get(name);
        }
        return command.getCommandSpec();
    }

    @ParameterizedTest(name = "raftcached {0} --help / -h")
    @MethodSource("commandPaths")
    void everyCommandAnswersHelpNamingItsOptions(List<String> path) {
        for (String flag : List.of("--help", "-h")) {
            List<String> args = new ArrayList<>(path);
            args.add(flag);
            Run run = run(args.toArray(String[]::new));
            assertEquals(0, run.exitCode(), args + " exit code; stderr: " + run.err());
            assertTrue(run.out().startsWith("Usage: raftcached" + (path.isEmpty() ? "" : " " + String.join(" ", path))),
                    args + " prints its usage: " + run.out());
            for (OptionSpec option : spec(path).options()) {
                assertTrue(option.hidden() || run.out().contains(option.longestName()), args + " names " + option.longestName() + ":\n" + run.out());
            }
        }
    }

    @Test
    void clusterSubcommandsNameTheirOwnOptions() {
        Run run = run("cluster", "add", "--help");
        assertTrue(run.out().contains("--learner") && run.out().contains("--node") && run.out().contains("--timeout-ms"),
                run.out());
    }

    @Test
    void helpCommandPrintsTheUsageOfTheCommandNamed() {
        Run top = run("help");
        assertEquals(0, top.exitCode());
        assertTrue(top.out().contains("cluster") && top.out().contains("probe") && top.out().contains("help"), top.out());
        Run status = run("help", "probe");
        assertEquals(0, status.exitCode());
        assertTrue(status.out().startsWith("Usage: raftcached probe") && status.out().contains("--timeout-ms"), status.out());
    }

    @Test
    void aPeerWithoutItsNodeIdIsAUsageErrorInOneLine() {
        Run run = run("-p", "0", "--peers", "127.0.0.1:24001");
        assertEquals(Main.EXIT_USAGE, run.exitCode(), run.err());
        assertEquals("--peers: a peer is <node id>@<host>:<raft port>, got '127.0.0.1:24001'", run.err().strip());
    }

    @Test
    void clusterWithoutASubcommandListsThem() {
        Run run = run("cluster");
        assertEquals(Main.EXIT_USAGE, run.exitCode());
        for (String subcommand : Main.commandLine().getSubcommands().get("cluster").getSubcommands().keySet()) {
            assertTrue(run.err().contains(subcommand), "names " + subcommand + ":\n" + run.err());
        }
    }
}
