package io.raftcached.node;

import picocli.CommandLine.Option;

/**
 * {@code -h}/{@code --help} for a subcommand: its own usage. A mixin rather than an inherited
 * option of {@code raftcached}, whose {@code help} subcommand (picocli's) has a {@code -h} of its own.
 */
final class HelpOption {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "print this command's help and exit")
    boolean help;
}
