package io.raftcached.node;

/**
 * Log levels by memcached's verbosity: quiet apart from raftcached's own start-up and cluster
 * events by default, jraft's own news with -v, debugging with -vv and everything with -vvv.
 * slf4j-simple reads these properties once, so this runs before any logger is created.
 */
final class Logging {
    private Logging() {}

    static void configure(int verbosity) {
        String raftcached = verbosity >= 2 ? "debug" : "info";
        String others = switch (verbosity) {
            case 0 -> "warn";
            case 1, 2 -> "info";
            default -> "debug";
        };
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", others);
        setDefault("org.slf4j.simpleLogger.log.io.raftcached", raftcached);
        // bolt's connection checks warn on every reconnect to a peer that is down; that is not news.
        setDefault("org.slf4j.simpleLogger.log.com.alipay.sofa.common.log", verbosity >= 1 ? "warn" : "error");
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSZ");
        setDefault("org.slf4j.simpleLogger.showThreadName", verbosity >= 2 ? "true" : "false");
        setDefault("org.slf4j.simpleLogger.levelInBrackets", "true");
        // sofa-common-tools would otherwise look for a logging backend of its own and complain.
        setDefault("logging.path", System.getProperty("java.io.tmpdir"));
        setDefault("sofa.middleware.log.disable", "true");
        setDefault("com.google.protobuf.use_unsafe_pre22_gencode", "true");
    }

    /** For the admin subcommands (cluster, probe): only errors, so their own output stays readable. */
    static void configureTool() {
        setDefault("org.slf4j.simpleLogger.defaultLogLevel", "error");
        // jraft logs a failed connection to a dead member as an error; the command says it better.
        setDefault("org.slf4j.simpleLogger.log.com.alipay", "off");
        setDefault("sofa.middleware.log.disable", "true");
        setDefault("logging.path", System.getProperty("java.io.tmpdir"));
        setDefault("com.google.protobuf.use_unsafe_pre22_gencode", "true");
    }

    private static void setDefault(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }
}
