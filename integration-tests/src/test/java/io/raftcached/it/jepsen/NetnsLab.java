package io.raftcached.it.jepsen;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A private network for one fault run: a network namespace per node slot, each with a veth into a
 * bridge that lives in a "switch" namespace of its own, and one veth from the switch to the root
 * namespace for the test's clients. Every name starts with {@link #PREFIX}; addresses come from
 * {@link #SUBNET}, a benchmarking range (RFC 2544) that exists only on these devices.
 *
 * <p>Links are cut with iproute2 alone (see shared/notes/network-partitions.md): inside a node's
 * namespace a policy rule {@code from <peer> blackhole} drops what that peer sends, placed above
 * the {@code lookup local} rule, which is moved down once at set-up. A cut between a and b is a
 * rule in each of the two namespaces. The root namespace (the test client) is never cut.
 */
final class NetnsLab implements AutoCloseable {
    static final String PREFIX = "rcj-";
    /** The test subnet's first three octets; node slot i has .i, the root namespace .254. */
    static final String SUBNET = "198.18.77";
    static final String HOST_ADDRESS = SUBNET + ".254";
    private static final String SWITCH = PREFIX + "sw";
    private static final int LOCAL_RULE_PREF = 1000;
    private static final int CUT_RULE_PREF_BASE = 100;
    private static final long COMMAND_TIMEOUT_MILLIS = 10_000;

    /**
     * Namespace names are global, so only one suite may use them at a time on a machine: a lab
     * holds this file lock (across JVMs) from creation to close, and leftovers are cleared only
     * under it, so two suites wait for each other instead of deleting each other's nodes.
     */
    static final Path LOCK_FILE = Path.of(System.getProperty("java.io.tmpdir"), "raftcached-jepsen-netns.lock");
    static final long LOCK_WAIT_MILLIS = 20 * 60_000;

    private final int slots;
    private final Set<String> cuts = new TreeSet<>();   // "a-b" with a < b, both directions cut
    private final MachineLock lock;

    private NetnsLab(int slots, MachineLock lock) {
        this.slots = slots;
        this.lock = lock;
    }

    /** The machine-wide lock on the namespaces: a FileLock on {@link #LOCK_FILE}. */
    static final class MachineLock implements AutoCloseable {
        private final FileChannel channel;
        private final FileLock lock;

        private MachineLock(FileChannel channel, FileLock lock) {
            this.channel = channel;
            this.lock = lock;
        }

        /** Waits up to {@code timeoutMillis} for the lock; null when another suite held it all along. */
        static MachineLock acquire(long timeoutMillis) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
            boolean announced = false;
            while (true) {
                FileChannel channel = FileChannel.open(LOCK_FILE, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                FileLock lock;
                try {
                    lock = channel.tryLock();
                } catch (java.nio.channels.OverlappingFileLockException heldHere) {
                    lock = null;
                }
                if (lock != null) {
                    return new MachineLock(channel, lock);
                }
                channel.close();
                if (System.nanoTime() > deadline) {
                    return null;
                }
                if (!announced) {
                    System.out.println("netns: another fault suite on this machine holds " + LOCK_FILE + "; waiting for it");
                    announced = true;
                }
                Thread.sleep(500);
            }
        }

        @Override
        public void close() throws IOException {
            try {
                lock.release();
            } finally {
                channel.close();
            }
        }
    }

    /** Why namespaces cannot be used here, or null when they can. */
    static String unavailableReason() {
        if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
                && !Files.isExecutable(Path.of("/usr/bin/ip"))) {
            return "iproute2's ip is not installed";
        }
        try {
            Sh.Result probe = Sh.run(List.of("ip", "netns", "add", PREFIX + "probe"), COMMAND_TIMEOUT_MILLIS);
            if (probe.exitCode() != 0) {
                return "cannot create a network namespace: " + probe.output().strip();
            }
            Sh.run(List.of("ip", "netns", "del", PREFIX + "probe"), COMMAND_TIMEOUT_MILLIS);
            return null;
        } catch (IOException | InterruptedException e) {
            return "cannot run ip netns: " + e;
        }
    }

    static boolean runningAsRoot() {
        try {
            Sh.Result id = Sh.run(List.of("id", "-u"), COMMAND_TIMEOUT_MILLIS);
            return id.output().strip().equals("0");
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /** Creates the switch and {@code slots} node namespaces (slot ids 1..slots), after clearing leftovers. */
    static NetnsLab create(int slots) throws IOException, InterruptedException {
        if (slots < 1 || slots > 20) {
            throw new IllegalArgumentException("1..20 node slots, not " + slots);
        }
        MachineLock lock = MachineLock.acquire(LOCK_WAIT_MILLIS);
        if (lock == null) {
            throw new IOException("another fault suite held " + LOCK_FILE + " for " + LOCK_WAIT_MILLIS / 60_000 + " min");
        }
        NetnsLab lab = new NetnsLab(slots, lock);
        try {
            removeOurNamespaces();
            refuseIfSubnetInUse();
            lab.build();
            return lab;
        } catch (IOException | InterruptedException | RuntimeException e) {
            lab.close();
            throw e;
        }
    }

    static String namespace(int slot) {
        return PREFIX + "n" + slot;
    }

    static String address(int slot) {
        return SUBNET + "." + slot;
    }

    int slots() {
        return slots;
    }

    private void build() throws IOException, InterruptedException {
        ip("netns", "add", SWITCH);
        inNs(SWITCH, "ip", "link", "set", "lo", "up");
        inNs(SWITCH, "ip", "link", "add", "br0", "type", "bridge");
        inNs(SWITCH, "ip", "link", "set", "br0", "up");
        for (int slot = 1; slot <= slots; slot++) {
            String ns = namespace(slot);
            String inside = PREFIX + "n" + slot;
            String port = PREFIX + "s" + slot;
            ip("netns", "add", ns);
            ip("link", "add", inside, "type", "veth", "peer", "name", port);
            ip("link", "set", inside, "netns", ns);
            ip("link", "set", port, "netns", SWITCH);
            inNs(SWITCH, "ip", "link", "set", port, "master", "br0");
            inNs(SWITCH, "ip", "link", "set", port, "up");
            // IPv6 off so nothing bypasses the IPv4 blackhole rules.
            inNs(ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1");
            inNs(ns, "sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1");
            inNs(ns, "ip", "link", "set", "lo", "up");
            inNs(ns, "ip", "addr", "add", address(slot) + "/24", "dev", inside);
            inNs(ns, "ip", "link", "set", inside, "up");
            // The local table must come after the cut rules, or local delivery is decided first.
            inNs(ns, "ip", "rule", "add", "pref", Integer.toString(LOCAL_RULE_PREF), "lookup", "local");
            inNs(ns, "ip", "rule", "del", "pref", "0");
        }
        String host = PREFIX + "h";
        String hostPort = PREFIX + "sh";
        ip("link", "add", host, "type", "veth", "peer", "name", hostPort);
        ip("link", "set", hostPort, "netns", SWITCH);
        inNs(SWITCH, "ip", "link", "set", hostPort, "master", "br0");
        inNs(SWITCH, "ip", "link", "set", hostPort, "up");
        Sh.run(List.of("sysctl", "-qw", "net.ipv6.conf." + host + ".disable_ipv6=1"), COMMAND_TIMEOUT_MILLIS);
        ip("addr", "add", HOST_ADDRESS + "/24", "dev", host);
        ip("link", "set", host, "up");
    }

    // --- partitions -----------------------------------------------------------------------------

    /** Cuts every link between nodes of different groups (slots), both directions; links inside a group stay. */
    synchronized void partition(List<Set<Integer>> groups) throws IOException, InterruptedException {
        Set<String> wanted = new TreeSet<>();
        for (int g = 0; g < groups.size(); g++) {
            for (int h = g + 1; h < groups.size(); h++) {
                for (int a : groups.get(g)) {
                    for (int b : groups.get(h)) {
                        wanted.add(link(a, b));
                    }
                }
            }
        }
        applyCuts(wanted);
    }

    /** Cuts exactly these links ("a-b"); used for shapes that groups cannot express (a bridge). */
    synchronized void cutLinks(Set<String> links) throws IOException, InterruptedException {
        Set<String> wanted = new TreeSet<>();
        for (String l : links) {
            String[] ab = l.split("-");
            wanted.add(link(Integer.parseInt(ab[0]), Integer.parseInt(ab[1])));
        }
        applyCuts(wanted);
    }

    /** Removes every cut. */
    synchronized void heal() throws IOException, InterruptedException {
        applyCuts(Set.of());
    }

    synchronized Set<String> cuts() {
        return Set.copyOf(cuts);
    }

    static String link(int a, int b) {
        return Math.min(a, b) + "-" + Math.max(a, b);
    }

    private void applyCuts(Set<String> wanted) throws IOException, InterruptedException {
        for (String l : new ArrayList<>(cuts)) {
            if (!wanted.contains(l)) {
                String[] ab = l.split("-");
                int a = Integer.parseInt(ab[0]);
                int b = Integer.parseInt(ab[1]);
                inNs(namespace(a), "ip", "rule", "del", "pref", Integer.toString(CUT_RULE_PREF_BASE + b));
                inNs(namespace(b), "ip", "rule", "del", "pref", Integer.toString(CUT_RULE_PREF_BASE + a));
                cuts.remove(l);
            }
        }
        for (String l : wanted) {
            if (!cuts.contains(l)) {
                String[] ab = l.split("-");
                int a = Integer.parseInt(ab[0]);
                int b = Integer.parseInt(ab[1]);
                if (a < 1 || b > slots || a == b) {
                    throw new IllegalArgumentException("no link " + l + " among slots 1.." + slots);
                }
                // One rule per peer, numbered after the peer, so a heal removes exactly it.
                inNs(namespace(a), "ip", "rule", "add", "pref", Integer.toString(CUT_RULE_PREF_BASE + b), "from", address(b), "blackhole");
                inNs(namespace(b), "ip", "rule", "add", "pref", Integer.toString(CUT_RULE_PREF_BASE + a), "from", address(a), "blackhole");
                cuts.add(l);
            }
        }
    }

    // --- processes ------------------------------------------------------------------------------

    /** The command prefix that runs a program inside a slot's namespace ({@code ip netns exec} execs it). */
    static List<String> execPrefix(int slot) {
        return List.of("ip", "netns", "exec", namespace(slot));
    }

    // --- clean-up -------------------------------------------------------------------------------

    /** Removes the namespaces and releases the machine lock; runs to the end even when interrupted. */
    @Override
    public void close() throws IOException, InterruptedException {
        boolean interrupted = Thread.interrupted();
        try {
            removeOurNamespaces();
        } finally {
            lock.close();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Clears what a crashed run left behind, if no other suite is using the namespaces now (then
     * they are not leftovers, and are left alone).
     */
    static void cleanUpLeftovers() throws IOException, InterruptedException {
        try (MachineLock lock = MachineLock.acquire(0)) {
            if (lock == null) {
                System.out.println("netns: another fault suite is running; not touching its namespaces");
                return;
            }
            removeOurNamespaces();
        }
    }

    /**
     * Removes every namespace and root link with our prefix; the caller holds the machine lock. A
     * process still inside one of our namespaces would keep it alive: only raftcached node JVMs run
     * there (this suite starts them), so those are killed by pid first; anything else found there
     * is left alone and reported.
     */
    private static void removeOurNamespaces() throws IOException, InterruptedException {
        Sh.Result list = Sh.run(List.of("ip", "netns", "list"), COMMAND_TIMEOUT_MILLIS);
        Set<String> ours = new LinkedHashSet<>();
        for (String line : list.output().split("\n")) {
            String name = line.strip().split(" ")[0];
            if (name.startsWith(PREFIX)) {
                ours.add(name);
            }
        }
        for (String ns : ours) {
            Sh.Result pids = Sh.run(List.of("ip", "netns", "pids", ns), COMMAND_TIMEOUT_MILLIS);
            for (String pidText : pids.output().split("\\s+")) {
                if (pidText.isBlank()) {
                    continue;
                }
                long pid = Long.parseLong(pidText.strip());
                String cmdline = cmdline(pid);
                if (cmdline.contains("raftcached")) {
                    ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
                    waitGone(pid);
                } else {
                    System.err.println("netns: leaving pid " + pid + " in " + ns + " alone (not a raftcached node): " + cmdline);
                }
            }
            Sh.run(List.of("ip", "netns", "del", ns), COMMAND_TIMEOUT_MILLIS);
        }
        Sh.Result links = Sh.run(List.of("ip", "-o", "link", "show"), COMMAND_TIMEOUT_MILLIS);
        for (String line : links.output().split("\n")) {
            String[] fields = line.split(":\\s+");
            if (fields.length > 1) {
                String name = fields[1].split("@")[0];
                if (name.startsWith(PREFIX)) {
                    Sh.run(List.of("ip", "link", "del", name), COMMAND_TIMEOUT_MILLIS);
                }
            }
        }
    }

    private static String cmdline(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8)
                    .replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    private static void waitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private static void refuseIfSubnetInUse() throws IOException, InterruptedException {
        String addresses = Sh.run(List.of("ip", "-4", "-o", "addr", "show"), COMMAND_TIMEOUT_MILLIS).output();
        String routes = Sh.run(List.of("ip", "-4", "route", "show", "table", "all"), COMMAND_TIMEOUT_MILLIS).output();
        for (String text : List.of(addresses, routes)) {
            if (text.contains(" " + SUBNET + ".") || text.startsWith(SUBNET + ".") || text.contains("\n" + SUBNET + ".")) {
                throw new IOException("the test subnet " + SUBNET + ".0/24 is already in use on this host; refusing to touch it:\n"
                        + addresses + routes);
            }
        }
    }

    // --- commands -------------------------------------------------------------------------------

    private static void ip(String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(List.of(arguments));
        Sh.check(command, COMMAND_TIMEOUT_MILLIS);
    }

    private static void inNs(String ns, String... arguments) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip", "netns", "exec", ns));
        command.addAll(List.of(arguments));
        Sh.check(command, COMMAND_TIMEOUT_MILLIS);
    }

    /** Short commands with a time limit; output through a file so nothing blocks. */
    static final class Sh {
        record Result(List<String> command, int exitCode, String output) {}

        private Sh() {}

        static Result run(List<String> command, long timeoutMillis) throws IOException, InterruptedException {
            Path out = Files.createTempFile("rcj-sh", ".out");
            try {
                Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(out.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                if (!process.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                    throw new IOException(String.join(" ", command) + " did not finish within " + timeoutMillis + " ms");
                }
                return new Result(command, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8));
            } finally {
                Files.deleteIfExists(out);
            }
        }

        static Result check(List<String> command, long timeoutMillis) throws IOException, InterruptedException {
            Result result = run(command, timeoutMillis);
            if (result.exitCode() != 0) {
                throw new IOException(String.join(" ", command) + " exited " + result.exitCode() + ": " + result.output().strip());
            }
            return result;
        }
    }
}
