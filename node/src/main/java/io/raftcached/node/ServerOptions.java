package io.raftcached.node;

import io.raftcached.raft.GroupedCache;
import io.raftcached.raft.InjectedFaults;
import io.raftcached.raft.LogStore;
import io.raftcached.raft.MemoryBudgets;
import io.raftcached.raft.PeerTls;
import io.raftcached.raft.RaftSettings;
import io.raftcached.store.LruSettings;
import io.raftcached.store.StoreConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * memcached's command-line flags, spelled and defaulted as memcached 1.6 spells them, plus the
 * cluster flags raftcached adds. Every flag is either honoured or refused at start-up with a clear
 * message; none is silently ignored.
 */
final class ServerOptions {
    // --- memcached's flags ------------------------------------------------------------------------
    @Option(names = {"-p", "--port"}, paramLabel = "<num>", description = "TCP port to listen on (default: 11211)")
    int port = 11211;

    @Option(names = {"-U", "--udp-port"}, paramLabel = "<num>", description = "UDP port; only 0 (off) is supported")
    int udpPort = 0;

    @Option(names = {"-s", "--unix-socket"}, paramLabel = "<file>", description = "UNIX socket to listen on (disables network support)")
    String unixSocket;

    @Option(names = {"-a", "--unix-mask"}, paramLabel = "<mask>", description = "access mask for UNIX socket, in octal (default: 700)")
    String unixMask = "700";

    @Option(names = {"-A", "--enable-shutdown"}, description = "enable ascii \"shutdown\" command")
    boolean enableShutdown;

    @Option(names = {"-l", "--listen"}, paramLabel = "<addr>",
            description = "interface(s) to listen on, comma separated or repeated, each host or host:port (default: INADDR_ANY);"
                    + " with -Z a notls:, btls: or mtls: prefix makes that listener plaintext, TLS without client"
                    + " certificates, or TLS requiring a verified one")
    List<String> listenOptions = new ArrayList<>();

    /** -l as memcached reports it in stats settings ("inter"); null when not given. */
    String listen;

    /** Where to listen: each -l address with its port (-p unless the address names one) and its TLS. */
    record ListenAddress(String host, int port, ClientTls.Listener tls) {}

    List<ListenAddress> listenAddresses = new ArrayList<>();

    @Option(names = {"-d", "--daemon"}, description = "run as a daemon (handled by the raftcached launcher script)")
    boolean daemon;

    @Option(names = {"-r", "--enable-coredumps"}, description = "not supported: refused")
    boolean enableCoredumps;

    @Option(names = {"-u", "--user"}, paramLabel = "<user>", description = "assume identity of <username> (handled by the launcher script)")
    String user;

    @Option(names = {"-m", "--memory-limit"}, paramLabel = "<num>", description = "item memory in megabytes (default: 64)")
    String memoryLimit = "64";

    @Option(names = {"-M", "--disable-evictions"}, description = "return error on memory exhausted instead of evicting")
    boolean disableEvictions;

    @Option(names = {"-c", "--conn-limit"}, paramLabel = "<num>", description = "max simultaneous connections (default: 1024)")
    int connLimit = 1024;

    @Option(names = {"-k", "--lock-memory"}, description = "not supported: refused")
    boolean lockMemory;

    @Option(names = {"-v", "--verbose"}, description = "verbose; -vv very verbose (also prints the slab classes)")
    boolean[] verbose = new boolean[0];

    @Option(names = {"-i", "--license"}, description = "print the license and exit")
    boolean license;

    @Option(names = {"-P", "--pidfile"}, paramLabel = "<file>", description = "save PID in <file>")
    Path pidFile;

    @Option(names = {"-f", "--slab-growth-factor"}, paramLabel = "<num>", description = "chunk size growth factor (default: 1.25)")
    double growthFactor = 1.25;

    @Option(names = {"-n", "--slab-min-size"}, paramLabel = "<bytes>", description = "min space used for key+value+flags (default: 48)")
    int slabMinSize = 48;

    @Option(names = {"-L", "--enable-largepages"}, description = "not supported: refused")
    boolean largePages;

    @Option(names = {"-D"}, paramLabel = "<char>",
            description = "use <char> as the delimiter between key prefixes and IDs, and turn per-prefix stats"
                + " (stats detail) on; ':' by default")
    String prefixDelimiter;

    @Option(names = {"-t", "--threads"}, paramLabel = "<num>", description = "number of event-loop threads (default: 4)")
    int threads = 4;

    @Option(names = {"-R", "--max-reqs-per-event"}, paramLabel = "<num>", description = "requests handled per read event before yielding (default: 20)")
    int maxRequestsPerEvent = 20;

    @Option(names = {"-C", "--disable-cas"}, description = "disable use of CAS")
    boolean disableCas;

    @Option(names = {"-b", "--listen-backlog"}, paramLabel = "<num>", description = "the backlog queue limit (default: 1024)")
    int listenBacklog = 1024;

    /** Null when not given: memcached refuses an explicit non-ascii -B with -Y, and takes the default as ascii. */
    @Option(names = {"-B", "--protocol"}, paramLabel = "<name>", description = "ascii or auto (default); binary is refused")
    String protocol;

    @Option(names = {"-I", "--max-item-size"}, paramLabel = "<num>", description = "max item size (default: 1m, min: 1k, max: 1024m)")
    String maxItemSize = "1m";

    @Option(names = {"-S", "--enable-sasl"}, description = "not supported: refused")
    boolean sasl;

    @Option(names = {"-F", "--disable-flush-all"}, description = "disable flush_all command")
    boolean disableFlushAll;

    @Option(names = {"-X", "--disable-dumping"}, description = "disable stats cachedump and lru_crawler metadump")
    boolean disableDumping;

    @Option(names = {"-W", "--disable-watch"}, description = "disable watch commands")
    boolean disableWatch;

    @Option(names = {"-Y", "--auth-file"}, paramLabel = "<file>",
            description = "enable ASCII protocol authentication. format: user:pass\\nuser2:pass2\\n (reloaded on SIGHUP)")
    String authFile;

    @Option(names = {"-e", "--memory-file"}, paramLabel = "<file>", description = "not supported: refused (the Raft log makes restarts warm)")
    String memoryFile;

    @Option(names = {"-Z", "--enable-ssl"}, description = "enable TLS/SSL on the TCP listeners (-o ssl_chain_cert, ssl_key,"
            + " ssl_ca_cert, ssl_verify_mode, ssl_min_version, ssl_ciphers, ssl_session_cache; -l notls:, btls:, mtls:"
            + " prefixes); the UNIX socket stays plaintext")
    boolean ssl;

    @Option(names = {"-o", "--extended"}, paramLabel = "<list>", split = ",",
            description = "extended options: idle_timeout and slab_chunk_max are honoured; memcached's LRU, crawler, "
                    + "slab mover and hash knobs are accepted with a warning; ssl_* as memcached (ssl_keyformat 1 PEM or"
                    + " 2 DER; ssl_wbuf_size and ssl_kernel_tls are accepted and shown but change nothing: Netty's"
                    + " TLS engine sizes its own records and encrypts in user space); others are refused")
    List<String> extended = new ArrayList<>();

    // --- raftcached's cluster flags -------------------------------------------------------------------
    @Option(names = "--node-id", paramLabel = "<id>", description = "this node's id in the cluster (default: 1)")
    int nodeId = 1;

    @Option(names = "--raft", paramLabel = "<host:port>",
            description = "Raft address (default: 127.0.0.1:<port + 1000> without --peers)")
    String raftAddress;

    @Option(names = "--peers", paramLabel = "<id@host:port,...>", split = ",",
            description = "initial members, this node included; without it the node is a one-member group")
    List<String> peers = new ArrayList<>();

    @Option(names = "--groups", paramLabel = "<count>",
            description = "Raft groups the keys are split into, each with its own log and leader, on 3 of --peers"
                    + " (every member while there are at most 3); a node's -m is split among the groups it may hold"
                    + " (default: 1, a single group). Fixed when the cluster is created; see docs/scale-out.md")
    int groups = 1;

    @Option(names = "--cluster-token", paramLabel = "<text>",
            description = "with --peers, names a new cluster's Raft group, so a cluster created again at the same"
                    + " addresses is never answered by a node of the old one; use a new token each time (default: raftcached)")
    String clusterToken = "raftcached";

    @Option(names = "--peer-cert", paramLabel = "<file>",
            description = "with --peer-key and --peer-ca: mutual TLS between members (Raft, forwarding, membership,"
                    + " `raftcached cluster`); this node's certificate (PEM), presented as server and client")
    Path peerCertificate;

    @Option(names = "--peer-key", paramLabel = "<file>", description = "the private key (PEM, PKCS#8) of --peer-cert")
    Path peerKey;

    @Option(names = "--peer-ca", paramLabel = "<file>",
            description = "the CA (PEM) every member's certificate must be signed by; host names are not checked")
    Path peerCa;

    @Option(names = "--data-dir", paramLabel = "<dir>",
            description = "Raft log, snapshots and identity (default: ./raftcached-data/node-<id>)")
    Path dataDirectory;

    @Option(names = "--election-timeout-ms", paramLabel = "<ms>", description = "Raft election timeout (default: 1000)")
    int electionTimeoutMillis = 1000;

    @Option(names = "--no-fsync", description = "RISK: do not fsync the Raft log; a power loss on a majority can lose "
            + "acknowledged writes (a process crash cannot)")
    boolean noFsync;

    @Option(names = "--log-store", paramLabel = "<rocksdb|segment>", converter = LogStoreConverter.class,
            description = "what holds the Raft log: segment (preallocated files, one fdatasync per batch) or rocksdb; "
                    + "default: the store the node's log was written in, segment for a new node")
    LogStore logStore;

    @Option(names = "--snapshot-interval-s", paramLabel = "<s>", description = "take a snapshot this often (default: 3600)")
    int snapshotIntervalSeconds = 3600;

    @Option(names = "--snapshot-log-mb", paramLabel = "<mb>",
            description = "also take one after this much log was applied (default: max(64, -m / 4))")
    Long snapshotLogMegabytes;

    @Option(names = "--write-timeout-ms", paramLabel = "<ms>",
            description = "a write not committed within this answers SERVER_ERROR (default: 5000)")
    long writeTimeoutMillis = 5000;

    @Option(names = "--max-staleness-ms", paramLabel = "<ms>",
            description = "stop serving reads when no leader was heard from for this long (default: 0, never)")
    long maxStalenessMillis = 0;

    @Option(names = "--linearizable-reads", description = "serve every read through Raft ReadIndex (slower, never stale)")
    boolean linearizableReads;

    @Option(names = "--linearizable-port", paramLabel = "<num>",
            description = "an extra client port whose reads are linearizable (default: off)")
    int linearizablePort = 0;

    @Option(names = "--metrics-port", paramLabel = "<num>",
            description = "serve Prometheus metrics on http://<addr>:<num>/metrics (default: off)")
    int metricsPort = 0;

    @Option(names = "--metrics-address", paramLabel = "<addr>",
            description = "the address --metrics-port listens on (default: the first -l address, else all)")
    String metricsAddress;

    @Option(names = "--log-format", paramLabel = "<text|json>",
            description = "log lines as text (default) or as one JSON object per line")
    String logFormat = "text";

    @Option(names = "--clock-offset-ms", hidden = true, paramLabel = "<ms>",
            description = "TESTS ONLY: pretend this node's wall clock is off by this much")
    long clockOffsetMillis = 0;

    @Option(names = "--write-buffer-mb", paramLabel = "<mb>",
            description = "this node's writes admitted and not yet applied, at most (default: heap / 8); a client"
                    + " that would exceed it is paused")
    Long writeBufferMegabytes;

    @Option(names = "--forward-buffer-mb", paramLabel = "<mb>",
            description = "on the leader, batches forwarded by followers and not yet committed, at most"
                    + " (default: heap / 16); followers retry later")
    Long forwardBufferMegabytes;

    @Option(names = "--log-buffer-mb", paramLabel = "<mb>",
            description = "on the leader, entries it appended to the Raft log and not yet applied, at most"
                    + " (default: heap / 32); this node's writes and forwarded batches wait for room")
    Long logBufferMegabytes;

    @Option(names = "--reads-waiting-max", paramLabel = "<num>",
            description = "linearizable reads waiting for their barrier, node-wide (default: "
                    + MemoryBudgets.READS_WAITING_MAX_DEFAULT + "); a client that would exceed it is paused")
    Integer readsWaitingMax;

    @Option(names = "--debug-no-access-hints", hidden = true,
            description = "BENCHMARKS ONLY: send no access hints, to measure what they cost (reads then do not count)")
    boolean noAccessHints;

    @Option(names = "--debug-fail-apply-at-index", hidden = true, paramLabel = "<index>",
            description = "TESTS ONLY: applying this log entry fails on this node (it must stop, then replay)")
    long failApplyAtIndex = 0;

    @Option(names = "--serve-stale-while-catching-up",
            description = "serve reads from a restarted node before it has caught up (default: SERVER_ERROR until then)")
    boolean serveStaleWhileCatchingUp;

    /** The key prefix delimiter of per-prefix stats: -D's first character, as memcached takes it. */
    char prefixDelimiter() {
        return prefixDelimiter == null ? ':' : prefixDelimiter.charAt(0);
    }

    /** Everything needed to run, validated the way memcached validates its flags. */
    ServerConfig validate() {
        splitListenPort();
        refuse(udpPort != 0, "UDP is not supported by raftcached; run without -U or with -U 0");
        refuse(enableCoredumps, "-r (core dumps) is not supported by raftcached");
        refuse(lockMemory, "-k (lock memory) is not supported by raftcached");
        refuse(largePages, "-L (large pages) is not supported by raftcached");
        refuseWithStatus1(prefixDelimiter != null && prefixDelimiter.isEmpty(), "No delimiter specified");
        refuse(sasl, "-S (SASL) is not supported by raftcached");
        refuse(memoryFile != null, "-e (memory file) is not supported by raftcached: a restart replays the Raft log instead");
        refuse(ssl && port == 0, "ERROR: You cannot enable SSL without a TCP port.");
        refuse(daemon, "-d must be handled by the raftcached launcher script (bin/raftcached), not the JVM");
        // memcached exits 1, not EX_USAGE, after these five messages
        refuseWithStatus1(connLimit <= 0, "Maximum connections must be greater than 0");
        refuseWithStatus1(threads <= 0, "Number of threads must be greater than 0");
        refuse(threads > THREADS_MAX, "-t above " + THREADS_MAX + " is not supported by raftcached (each worker thread"
                + " registers as a reader of the store; set -t to the number of cores or less)");
        refuseWithStatus1(maxRequestsPerEvent <= 0, "Number of requests per event must be greater than 0");
        refuseWithStatus1(growthFactor <= 1.0, "Factor must be greater than 1");
        refuseWithStatus1(slabMinSize <= 0, "Chunk size must be greater than 0");
        String protocolName = protocol == null ? "auto" : protocol.toLowerCase(Locale.ROOT);
        refuse(!List.of("auto", "ascii", "binary").contains(protocolName),
                "Invalid value for binding protocol: " + protocol + "\n -- should be one of auto, binary, or ascii");
        refuse(authFile != null && protocol != null && !protocolName.equals("ascii"),
                "ERROR: You cannot allow the BINARY protocol while using ascii authentication tokens.");
        refuse(protocolName.equals("binary"), "the binary protocol is not supported by raftcached; use -B ascii");
        refuse(metricsPort < 0 || metricsPort > 65535, "--metrics-port must be between 0 (off) and 65535");
        refuse(!List.of("text", "json").contains(logFormat), "--log-format must be text or json");
        long memoryBytes = parseMemory(memoryLimit);
        int itemSizeMax = parseItemSize(maxItemSize);
        Extended options = Extended.parse(extended);
        refuse(itemSizeMax < 1024, "Item max size cannot be less than 1024 bytes.");
        refuse(itemSizeMax > memoryBytes / 2, "Cannot set item size limit higher than 1/2 of memory max.");
        refuse(itemSizeMax > 1024 * StoreConfig.MEGABYTE, "Cannot set item size limit higher than a gigabyte.");
        int chunkMax = options.slabChunkMaxBytes != null ? options.slabChunkMaxBytes : StoreConfig.SLAB_PAGE_SIZE_BYTES / 2;
        refuse(chunkMax > itemSizeMax, "slab_chunk_max (bytes: " + chunkMax + ") cannot be larger than -I (item_size_max "
                + itemSizeMax + ")");
        refuse(itemSizeMax % chunkMax != 0, "-I (item_size_max: " + itemSizeMax
                + ") must be evenly divisible by slab_chunk_max (bytes: " + chunkMax + ")");
        refuse(StoreConfig.SLAB_PAGE_SIZE_BYTES % chunkMax != 0, "slab_chunk_max (bytes: " + chunkMax
                + ") must divide evenly into " + StoreConfig.SLAB_PAGE_SIZE_BYTES + " (slab_page_size)");
        StoreConfig store = new StoreConfig(memoryBytes, disableEvictions, slabMinSize, growthFactor, itemSizeMax,
                disableCas, StoreConfig.SLAB_PAGE_SIZE_BYTES, chunkMax, options.lru);
        RaftSettings raft = raftSettings(memoryBytes, budgets(options));
        if (groups != 1) {
            checkGroups(raft, store);
        }
        return new ServerConfig(this, store, raft, options, verbosity());
    }

    /** Whether {@code --groups} fits: members and memory enough, and each group's share takes an item of -I. */
    private void checkGroups(RaftSettings raft, StoreConfig store) {
        try {
            long groupBytes = GroupedCache.groupShape(store, GroupedCache.placement(raft, store, groups)).memoryLimitBytes();
            refuse(store.itemSizeMaxBytes() > groupBytes / 2, "Cannot set item size limit higher than 1/2 of each group's memory"
                    + " (-m " + store.memoryLimitBytes() / StoreConfig.MEGABYTE + " split into groups of "
                    + groupBytes / StoreConfig.MEGABYTE + " MB)");
        } catch (IllegalArgumentException e) {
            throw new ServerConfig.InvalidFlagException(e.getMessage());
        }
    }

    /** memcached's -v count: 0 to 3 and more. */
    int verbosity() {
        return verbose.length;
    }

    /** Where /metrics listens: --metrics-address, else the first -l address, else every address (null). */
    String metricsHost() {
        if (metricsAddress != null) {
            return metricsAddress;
        }
        return listenAddresses.isEmpty() ? null : listenAddresses.get(0).host();
    }

    /** Worker threads at most; each is a reader of the store's read epochs, which have room for twice this. */
    static final int THREADS_MAX = 256;

    /** Memory budgets: the flags given, the rest shares of this JVM's heap and direct memory. */
    private MemoryBudgets budgets(Extended options) {
        MemoryBudgets defaults = MemoryBudgets.defaultsFor(Runtime.getRuntime().maxMemory(),
                io.netty.util.internal.PlatformDependent.maxDirectMemory());
        long input = defaults.clientInputBytes();
        long output = defaults.clientOutputBytes();
        if (options.readBufferMegabytes != null) {
            // memcached's limit covers read and response buffers together: half each here.
            input = options.readBufferMegabytes * StoreConfig.MEGABYTE / 2;
            output = input;
        }
        try {
            return new MemoryBudgets(input, output,
                    writeBufferMegabytes != null ? writeBufferMegabytes * StoreConfig.MEGABYTE : defaults.writeBytes(),
                    forwardBufferMegabytes != null ? forwardBufferMegabytes * StoreConfig.MEGABYTE : defaults.forwardBytes(),
                    logBufferMegabytes != null ? logBufferMegabytes * StoreConfig.MEGABYTE : defaults.logBytes(),
                    readsWaitingMax != null ? readsWaitingMax : defaults.readsWaitingMax());
        } catch (IllegalArgumentException e) {
            throw new ServerConfig.InvalidFlagException(e.getMessage());
        }
    }

    /**
     * memcached's -l takes "host", "host:port", "[ipv6]:port" or an unbracketed IPv6 address,
     * comma separated, and may be repeated; a port given with an address is that listener's.
     */
    private void splitListenPort() {
        List<String> addresses = new ArrayList<>();
        for (String option : listenOptions) {
            for (String address : option.split(",")) {
                if (!address.isBlank()) {
                    addresses.add(address.trim());
                }
            }
        }
        if (addresses.isEmpty()) {
            return;
        }
        listen = String.join(",", addresses);
        for (String prefixed : addresses) {
            ClientTls.Listener tls = listenerTls();
            String address = prefixed;
            for (var prefix : LISTENER_PREFIXES.entrySet()) {
                if (prefixed.startsWith(prefix.getKey() + ":")) {
                    // memcached exits EX_OSERR: it finds out while opening the listeners
                    refuseWith(!ssl, "'" + prefix.getKey() + "' option is valid only when SSL is enabled", EXIT_OS_ERROR);
                    tls = prefix.getValue();
                    address = prefixed.substring(prefix.getKey().length() + 1);
                }
            }
            String host = address;
            String portText = null;
            if (address.startsWith("[")) {
                int close = address.indexOf(']');
                refuse(close < 0, "-l " + address + ": missing ']' after the IPv6 address");
                host = address.substring(1, close);
                if (close + 1 < address.length()) {
                    refuse(address.charAt(close + 1) != ':', "-l " + address + ": expected ':<port>' after ']'");
                    portText = address.substring(close + 2);
                }
            } else if (address.indexOf(':') >= 0 && address.indexOf(':') == address.lastIndexOf(':')) {
                host = address.substring(0, address.indexOf(':'));
                portText = address.substring(address.indexOf(':') + 1);
            }
            listenAddresses.add(new ListenAddress(host, portText != null ? parsePort(portText, "-l") : port, tls));
        }
        if (listenAddresses.size() == 1) {
            port = listenAddresses.get(0).port();   // a lone -l host:port is the node's port
        }
    }

    /**
     * memcached's -l prefixes: notls: (1.6.18) and btls:, mtls: (1.6.30: a listener that never asks
     * for, or always requires, a verified client certificate).
     */
    private static final java.util.Map<String, ClientTls.Listener> LISTENER_PREFIXES = java.util.Map.of(
            "notls", ClientTls.Listener.PLAIN, "btls", ClientTls.Listener.NO_PEER, "mtls", ClientTls.Listener.PEER);
    /** EX_OSERR, memcached's exit status when a listener cannot be opened. */
    private static final int EXIT_OS_ERROR = 71;

    /** A listener without a prefix: TLS under -Z, else plaintext. */
    ClientTls.Listener listenerTls() {
        return ssl ? ClientTls.Listener.DEFAULT : ClientTls.Listener.PLAIN;
    }

    private RaftSettings raftSettings(long memoryBytes, MemoryBudgets budgets) {
        List<RaftSettings.Peer> members = new ArrayList<>();
        for (String peer : peers) {
            try {
                members.add(RaftSettings.Peer.parse(peer.trim()));
            } catch (IllegalArgumentException e) {
                throw new ServerConfig.InvalidFlagException("--peers: " + e.getMessage());
            }
        }
        String host;
        int raftPort;
        if (raftAddress != null) {
            int colon = raftAddress.lastIndexOf(':');
            refuse(colon <= 0, "--raft must be <host>:<port>, got " + raftAddress);
            host = raftAddress.substring(0, colon);
            raftPort = parsePort(raftAddress.substring(colon + 1), "--raft");
        } else {
            RaftSettings.Peer me = members.stream().filter(p -> p.nodeId() == nodeId).findFirst().orElse(null);
            host = me != null ? me.host() : "127.0.0.1";
            raftPort = me != null ? me.port() : port + 1000;
            refuse(me == null && port == 0, "with -p 0 pass --raft explicitly");
        }
        Path data = dataDirectory != null ? dataDirectory : Path.of("raftcached-data", "node-" + nodeId);
        long snapshotBytes = (snapshotLogMegabytes != null ? snapshotLogMegabytes
                : Math.max(64, memoryBytes / StoreConfig.MEGABYTE / 4)) * StoreConfig.MEGABYTE;
        String clientAddress = (listenAddresses.isEmpty() ? "0.0.0.0" : listenAddresses.get(0).host()) + ":" + port;
        try {
            return new RaftSettings(nodeId, host, raftPort, members, data, electionTimeoutMillis, !noFsync,
                    logStore != null ? logStore : LogStore.forDataDirectory(data),
                    snapshotIntervalSeconds, snapshotBytes, writeTimeoutMillis, maxStalenessMillis, clientAddress,
                    clusterToken, budgets, new PeerTls.Files(peerCertificate, peerKey, peerCa),
                    new InjectedFaults(clockOffsetMillis, failApplyAtIndex, noAccessHints));
        } catch (IllegalArgumentException e) {
            throw new ServerConfig.InvalidFlagException(e.getMessage());
        } catch (IOException e) {
            throw new ServerConfig.InvalidFlagException("cannot read the data directory " + data + ": " + e.getMessage());
        }
    }

    private static int parsePort(String text, String flag) {
        try {
            int value = Integer.parseInt(text);
            refuse(value <= 0 || value > 65535, flag + " port must be 1-65535, got " + text);
            return value;
        } catch (NumberFormatException e) {
            throw new ServerConfig.InvalidFlagException(flag + " port must be a number, got " + text);
        }
    }

    /** -m: megabytes, like memcached; a k/m/g suffix is accepted too. */
    static long parseMemory(String text) {
        long megabytes;
        String lower = text.trim().toLowerCase(Locale.ROOT);
        try {
            if (lower.endsWith("g")) {
                megabytes = Long.parseLong(lower.substring(0, lower.length() - 1)) * 1024;
            } else if (lower.endsWith("m")) {
                megabytes = Long.parseLong(lower.substring(0, lower.length() - 1));
            } else {
                megabytes = Long.parseLong(lower);
            }
        } catch (NumberFormatException e) {
            throw new ServerConfig.InvalidFlagException("-m must be a number of megabytes, got " + text);
        }
        // -m 0 is memcached's too: it then fails the -I check with memcached's message
        refuse(megabytes < 0, "-m must be a number of megabytes, got " + text);
        return megabytes * StoreConfig.MEGABYTE;
    }

    /**
     * -I: bytes, or with a k/m suffix, exactly as memcached parses it: C's atoi (leading digits,
     * the rest ignored, so "2g" is 2 bytes) and int arithmetic (so "3000m" overflows to a negative
     * size). Either way the checks after it then give memcached's message.
     */
    static int parseItemSize(String text) {
        char unit = text.isEmpty() ? ' ' : Character.toLowerCase(text.charAt(text.length() - 1));
        if (unit == 'k' || unit == 'm') {
            return atoi(text.substring(0, text.length() - 1)) * (unit == 'k' ? 1024 : 1024 * 1024);
        }
        return atoi(text);
    }

    /**
     * glibc's atoi, {@code (int) strtol(text, NULL, 10)}: optional spaces and sign, then digits up
     * to the first non-digit; strtol saturates at the long range, the cast to int wraps.
     */
    static int atoi(String text) {
        int i = 0;
        while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
            i++;
        }
        boolean negative = false;
        if (i < text.length() && (text.charAt(i) == '-' || text.charAt(i) == '+')) {
            negative = text.charAt(i) == '-';
            i++;
        }
        long value = 0;
        boolean saturated = false;
        for (; i < text.length() && text.charAt(i) >= '0' && text.charAt(i) <= '9'; i++) {
            int digit = text.charAt(i) - '0';
            if (value > (Long.MAX_VALUE - digit) / 10) {
                saturated = true;
                break;
            }
            value = value * 10 + digit;
        }
        long parsed = saturated ? (negative ? Long.MIN_VALUE : Long.MAX_VALUE) : (negative ? -value : value);
        return (int) parsed;
    }

    static void refuse(boolean condition, String message) {
        if (condition) {
            throw new ServerConfig.InvalidFlagException(message);
        }
    }

    private static void refuseWithStatus1(boolean condition, String message) {
        refuseWith(condition, message, 1);
    }

    private static void refuseWith(boolean condition, String message, int exitCode) {
        if (condition) {
            throw new FlagError(message, exitCode);
        }
    }

    /** A bad flag for which memcached exits with a status other than EX_USAGE. */
    static final class FlagError extends RuntimeException {
        final int exitCode;

        FlagError(String message, int exitCode) {
            super(message, null, false, false);
            this.exitCode = exitCode;
        }
    }

    /**
     * The -o options. Those raftcached honours are applied — the LRU, slab mover and crawler
     * settings as memcached applies them, option by option; tuning knobs of memcached machinery
     * raftcached does not have (its hash functions, log watchers) change nothing a client can see,
     * so they are accepted with a warning printed at start-up; the ssl_* options are memcached's
     * ({@link TlsOptions}); anything else, such as extstore, is refused.
     */
    static final class Extended {
        Integer idleTimeoutSeconds;
        Integer slabChunkMaxBytes;
        boolean trackSizes;
        LruSettings lru = LruSettings.MEMCACHED_DEFAULTS;
        /** memcached's lru_crawler_sleep: shown in stats settings; the crawler here runs on the log's clock. */
        int lruCrawlerSleepMicros = 100;
        /** memcached's read_buf_mem_limit: megabytes for connection read and response buffers together. */
        Long readBufferMegabytes;
        /** memcached's watcher_logbuf_size (given in kilobytes): each watch connection's buffer. */
        int watcherBufferBytes = LogWatchers.BUFFER_BYTES_DEFAULT;
        final List<String> warnings = new ArrayList<>();
        /** memcached's ssl_* options; used under -Z, shown by stats settings either way (as memcached). */
        final TlsOptions tls = new TlsOptions();

        /** Options that already describe raftcached: nothing to do. */
        private static final List<String> ALREADY_TRUE = List.of("maxconns_fast", "modern", "inline_ascii_response",
                "no_inline_ascii_response");
        /** Knobs of machinery raftcached does not have. */
        private static final List<String> NO_SUCH_MACHINERY = List.of("no_maxconns_fast", "hash_algorithm",
                "worker_logbuf_size", "no_chunked_items", "no_hashexpand", "sock_cookie_id",
                "hashpower");

        static Extended parse(List<String> options) {
            Extended parsed = new Extended();
            LruFlags lru = new LruFlags();
            for (String option : options) {
                String trimmed = option.trim();
                if (trimmed.isEmpty()) {
                    continue;
                }
                int equals = trimmed.indexOf('=');
                String name = equals < 0 ? trimmed : trimmed.substring(0, equals);
                String value = equals < 0 ? null : trimmed.substring(equals + 1);
                switch (name) {
                    case "idle_timeout" -> parsed.idleTimeoutSeconds = number(name, value);
                    case "slab_chunk_max" -> parsed.slabChunkMaxBytes = number(name, value);
                    case "track_sizes" -> parsed.trackSizes = true;
                    case "watcher_logbuf_size" -> {
                        optionError(value == null, "Missing watcher_logbuf_size argument");
                        optionError(!value.matches("\\d{1,9}"), "could not parse argument to watcher_logbuf_size");
                        long kilobytes = Long.parseLong(value);
                        refuse(kilobytes > LogWatchers.BUFFER_BYTES_MAX / 1024, "-o watcher_logbuf_size above "
                                + LogWatchers.BUFFER_BYTES_MAX / 1024 + " (KB) is not supported by raftcached");
                        parsed.watcherBufferBytes = (int) (kilobytes * 1024);
                    }
                    case "read_buf_mem_limit" -> parsed.readBufferMegabytes = (long) number(name, value);
                    case "tail_repair_time" -> refuse(number(name, value) != 0, "tail_repair_time is not supported by raftcached");
                    case "lru_crawler_sleep" -> {
                        optionError(value == null, "Missing lru_crawler_sleep value");
                        parsed.lruCrawlerSleepMicros = atoi(value);
                        optionError(parsed.lruCrawlerSleepMicros > 1_000_000 || parsed.lruCrawlerSleepMicros < 0,
                                "LRU crawler sleep must be between 0 and 1 second");
                    }
                    default -> {
                        if (lru.apply(name, value) || parsed.tls.apply(name, value)) {
                            continue;
                        }
                        if (NO_SUCH_MACHINERY.contains(name)) {
                            parsed.warnings.add("-o " + name + " has no effect: raftcached has its own index hash and no per-worker log buffers");
                        } else {
                            refuse(!ALREADY_TRUE.contains(name), "-o " + name + " is not supported by raftcached");
                        }
                    }
                }
            }
            parsed.lru = lru.settings();
            return parsed;
        }

        private static int number(String name, String value) {
            refuse(value == null, "Missing " + name + " argument");
            try {
                return Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new ServerConfig.InvalidFlagException("could not parse argument to " + name);
            }
        }
    }

    /** memcached's -o errors that make it exit with status 1. */
    private static void optionError(boolean condition, String message) {
        refuseWithStatus1(condition, message);
    }

    /**
     * memcached's LRU, slab mover and crawler settings, changed by each option in turn as
     * memcached's own parser changes them ({@code no_modern} switches several off; a later option
     * may switch one back on), with its messages for bad values.
     */
    private static final class LruFlags {
        private final LruSettings defaults = LruSettings.MEMCACHED_DEFAULTS;
        private boolean segmented = defaults.segmented();
        private int hotLruPercent = defaults.hotLruPercent();
        private int warmLruPercent = defaults.warmLruPercent();
        private double hotMaxFactor = defaults.hotMaxFactor();
        private double warmMaxFactor = defaults.warmMaxFactor();
        private boolean tempLru = defaults.tempLru();
        private int temporaryTtlSeconds = defaults.temporaryTtlSeconds();
        private boolean slabReassign = defaults.slabReassign();
        private int slabAutomove = defaults.slabAutomove();
        private double slabAutomoveRatio = defaults.slabAutomoveRatio();
        private int slabAutomoveWindow = defaults.slabAutomoveWindow();
        private boolean crawler = defaults.crawler();
        private int crawlerToCrawl = defaults.crawlerToCrawl();

        /** Applies one option; false if it is not one of these. */
        boolean apply(String name, String value) {
            switch (name) {
                case "no_modern" -> {
                    // memcached also turns chunked items off here; raftcached keeps slab_chunk_max, as
                    // clusters created before it had the modern LRU did (they are the no_modern ones).
                    slabReassign = false;
                    slabAutomove = 0;
                    segmented = false;
                    crawler = false;
                }
                // lru_segmented is not a memcached option, only its stats name; accepted as lru_maintainer
                case "lru_maintainer", "lru_segmented" -> segmented = true;
                case "no_lru_maintainer" -> segmented = false;
                case "lru_crawler" -> crawler = true;
                case "no_lru_crawler" -> crawler = false;
                case "lru_crawler_tocrawl" -> {
                    optionError(value == null, "Missing lru_crawler_tocrawl value");
                    crawlerToCrawl = unsigned32(value, "lru_crawler_tocrawl takes a numeric 32bit value");
                }
                case "slab_reassign" -> slabReassign = true;
                case "no_slab_reassign" -> slabReassign = false;
                case "slab_automove" -> {
                    slabAutomove = value == null ? 1 : atoi(value);
                    optionError(slabAutomove < 0 || slabAutomove > 2, "slab_automove must be between 0 and 2");
                }
                case "no_slab_automove" -> slabAutomove = 0;
                case "slab_automove_ratio" -> {
                    optionError(value == null, "Missing slab_automove_ratio argument");
                    slabAutomoveRatio = atof(value);
                    optionError(slabAutomoveRatio <= 0 || slabAutomoveRatio > 1, "slab_automove_ratio must be > 0 and < 1");
                }
                case "slab_automove_window" -> {
                    optionError(value == null, "Missing slab_automove_window argument");
                    slabAutomoveWindow = atoi(value);
                    optionError(slabAutomoveWindow < 3, "slab_automove_window must be > 2");
                }
                case "hot_lru_pct" -> hotLruPercent = percent(name, value);
                case "warm_lru_pct" -> warmLruPercent = percent(name, value);
                case "hot_max_factor" -> hotMaxFactor = factor(name, value);
                case "warm_max_factor" -> warmMaxFactor = factor(name, value);
                case "temporary_ttl" -> {
                    optionError(value == null, "Missing temporary_ttl argument");
                    tempLru = true;
                    temporaryTtlSeconds = atoi(value);
                }
                default -> {
                    return false;
                }
            }
            return true;
        }

        LruSettings settings() {
            refuse(hotLruPercent + warmLruPercent > 80, "hot_lru_pct + warm_lru_pct cannot be more than 80% combined");
            refuse(tempLru && !segmented, "temporary_ttl requires lru_maintainer to be enabled");
            return new LruSettings(segmented, hotLruPercent, warmLruPercent, hotMaxFactor, warmMaxFactor, tempLru,
                    temporaryTtlSeconds, slabReassign, slabAutomove, slabAutomoveRatio, slabAutomoveWindow, crawler,
                    crawlerToCrawl);
        }

        private static int percent(String name, String value) {
            optionError(value == null, "Missing " + name + " argument");
            int percent = atoi(value);
            optionError(percent < 1 || percent >= 80, name + " must be > 1 and < 80");
            return percent;
        }

        private static double factor(String name, String value) {
            optionError(value == null, "Missing " + name + " argument");
            double factor = atof(value);
            optionError(factor <= 0, name + " must be > 0");
            return factor;
        }
    }

    /** C's atof() for plain decimals: the leading number, 0 when there is none. */
    static double atof(String text) {
        java.util.regex.Matcher number = java.util.regex.Pattern.compile("^\\s*[-+]?(\\d+\\.?\\d*|\\.\\d+)([eE][-+]?\\d+)?")
                .matcher(text);
        return number.find() ? Double.parseDouble(number.group().trim()) : 0;
    }

    private static int unsigned32(String text, String message) {
        try {
            long value = Long.parseLong(text.trim());
            optionError(value < 0 || value > 0xFFFF_FFFFL, message);
            return (int) Math.min(value, Integer.MAX_VALUE);
        } catch (NumberFormatException e) {
            throw new FlagError(message, 1);
        }
    }

    /** --log-store as spelled on the command line (lower case). */
    static final class LogStoreConverter implements CommandLine.ITypeConverter<LogStore> {
        @Override
        public LogStore convert(String value) {
            for (LogStore store : LogStore.values()) {
                if (store.flagValue().equals(value)) {
                    return store;
                }
            }
            throw new CommandLine.TypeConversionException("--log-store is rocksdb or segment, got '" + value + "'");
        }
    }
}
