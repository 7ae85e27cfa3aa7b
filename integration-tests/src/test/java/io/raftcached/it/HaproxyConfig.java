package io.raftcached.it;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shipped deploy/haproxy/haproxy.cfg turned into a test's config by substituting addresses
 * only: the frontend binds a free loopback port and the servers point at the test's nodes, while
 * every check, timeout and balancing line stays exactly as shipped — so the test exercises what
 * operators run.
 */
final class HaproxyConfig {
    static final String SHIPPED = "deploy/haproxy/haproxy.cfg";
    static final Pattern BIND = Pattern.compile("(?m)^(\\s*bind\\s+)(\\S+)(.*)$");
    static final Pattern SERVER = Pattern.compile("(?m)^(\\s*server\\s+\\S+\\s+)(\\S+)(.*)$");

    private HaproxyConfig() {}

    static String shipped() {
        return DeployFiles.read(SHIPPED);
    }

    /** The shipped file with its one bind and its servers (in order) moved to 127.0.0.1 ports. */
    static String forTest(String shipped, int bindPort, List<Integer> serverPorts) {
        Matcher bind = BIND.matcher(shipped);
        if (!bind.find()) {
            throw new IllegalArgumentException(SHIPPED + " has no bind line");
        }
        String text = bind.replaceFirst("$1" + Matcher.quoteReplacement("127.0.0.1:" + bindPort) + "$3");
        if (bind.find()) {
            throw new IllegalArgumentException(SHIPPED + " has more than one bind line; the test substitutes one");
        }
        Matcher server = SERVER.matcher(text);
        StringBuilder out = new StringBuilder();
        List<String> replaced = new ArrayList<>();
        while (server.find()) {
            if (replaced.size() == serverPorts.size()) {
                throw new IllegalArgumentException(SHIPPED + " has more servers than the test's " + serverPorts.size() + " nodes");
            }
            String address = "127.0.0.1:" + serverPorts.get(replaced.size());
            replaced.add(server.group(2));
            server.appendReplacement(out, Matcher.quoteReplacement(server.group(1) + address + server.group(3)));
        }
        server.appendTail(out);
        if (replaced.size() != serverPorts.size()) {
            throw new IllegalArgumentException(SHIPPED + " has " + replaced.size() + " servers, the test has "
                    + serverPorts.size() + " nodes");
        }
        return out.toString();
    }
}
