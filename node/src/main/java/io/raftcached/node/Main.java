package io.raftcached.node;

import io.raftcached.protocol.Replies;
import io.raftcached.raft.FatalStop;
import io.raftcached.store.SlabClasses;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.Callable;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code raftcached}: with memcached's flags it runs a cache node; its subcommands administer a
 * cluster ({@code cluster ...}) and probe a node ({@code probe}). The load generator is a separate
 * tool, {@code bin/raftcached-bench} (the {@code bench} module).
 */
@Command(name = "raftcached", mixinStandardHelpOptions = false, sortOptions = false,
        subcommands = {ClusterCommand.class, ProbeCommand.class, CommandLine.HelpCommand.class},
        description = {"A memcached-compatible cache whose writes are replicated through Raft.",
            "Takes memcached's flags; the cluster flags at the end are raftcached's own."})
public final class Main implements Callable<Integer> {
    /** memcached's exit code for bad usage (EX_USAGE). */
    static final int EXIT_USAGE = 64;
    /** A node that must not go on (EX_SOFTWARE): it replays or resyncs when restarted. */
    static final int EXIT_FATAL = 70;

    /**
     * The one way a running node ends itself: at once, without the graceful stop, because the state
     * it would hand over or serve is what cannot be trusted.
     */
    static final FatalStop HALT = (message, cause) -> {
        LoggerFactory.getLogger(Main.class).error("FATAL: {}", message, cause);
        System.err.println("raftcached: " + message);
        System.err.flush();
        Runtime.getRuntime().halt(EXIT_FATAL);
    };

    @Mixin
    ServerOptions options = new ServerOptions();

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this help and exit")
    boolean help;

    @Option(names = {"-V", "--version"}, versionHelp = true, description = "print version and exit")
    boolean version;

    public static void main(String[] args) {
        Logging.useNodeLogManager();
        if (args.length > 0 && (args[0].equals("cluster") || args[0].equals("probe") || args[0].equals("help"))) {
            Logging.configureTool();
        }
        System.exit(commandLine().execute(args));
    }

    /** The command line with its handlers, as {@link #main} runs it (tests run it in process). */
    static CommandLine commandLine() {
        CommandLine commandLine = new CommandLine(new Main())
                .setPosixClusteredShortOptionsAllowed(true)
                .setCaseInsensitiveEnumValuesAllowed(true);
        commandLine.getCommandSpec().version("raftcached " + Versions.RAFTCACHED + " (memcached "
                + Replies.MEMCACHED_VERSION + " protocol)");
        commandLine.setExecutionExceptionHandler((exception, cmd, parsed) -> {
            if (exception instanceof ServerConfig.InvalidFlagException) {
                cmd.getErr().println(exception.getMessage());
                return EXIT_USAGE;
            }
            if (exception instanceof ServerOptions.FlagError flagError) {
                cmd.getErr().println(flagError.getMessage());
                return flagError.exitCode;
            }
            if (exception instanceof java.io.IOException) {
                // Start-up refusals (another cluster, another store shape, a port in use): one
                // line an operator can act on, not a stack trace.
                cmd.getErr().println("raftcached: " + exception.getMessage());
                return 1;
            }
            throw exception;
        });
        commandLine.setParameterExceptionHandler((exception, args1) -> {
            exception.getCommandLine().getErr().println(exception.getMessage());
            return EXIT_USAGE;
        });
        return commandLine;
    }

    @Override
    public Integer call() throws Exception {
        if (options.license) {
            System.out.println("raftcached is released under the Apache License 2.0; it speaks memcached's protocol"
                    + " and takes its flags but contains no memcached code.");
            return 0;
        }
        // Before validate: it reaches Netty, whose first logger would fix the logging set-up too early.
        Logging.configure(options.verbosity(), "json".equals(options.logFormat));
        ServerConfig config = options.validate();
        if (config.verbosity() >= 2) {
            PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
            new SlabClasses(config.store()).describe().forEach(err::println);
        }
        for (String warning : config.extended().warnings) {
            System.err.println("raftcached: " + warning);
        }
        refuseUserSwitch(config);
        HangupSignal hangups = HangupSignal.install();
        Server server = Server.start(config, HALT);
        hangups.deliverTo(server::reloadOnHangup);
        if (options.pidFile != null) {
            writePidFile(options.pidFile);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::stopGracefully, "raftcached-shutdown"));
        return server.awaitStopped();
    }

    private static void refuseUserSwitch(ServerConfig config) {
        String user = config.flags().user;
        if (user != null && !user.equals(System.getProperty("user.name"))) {
            throw new ServerConfig.InvalidFlagException("-u " + user + " must be handled by the raftcached launcher"
                    + " script (bin/raftcached), which starts the JVM as that user");
        }
    }

    private static void writePidFile(java.nio.file.Path file) throws IOException {
        Files.writeString(file, ProcessHandle.current().pid() + "\n", StandardCharsets.US_ASCII);
        file.toFile().deleteOnExit();
    }
}
