package io.raftcached.protocol;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Keeps {@code memcached-1.6.18-replies.txt} well-formed, tests its matcher, and (with
 * {@code -Dmemcached.port}) replays it against a real memcached to show the captures still hold.
 */
class RepliesFileTest {
    private static final Pattern SEND_PLACEHOLDER = Pattern.compile("\\{([^}]*)}");
    private static final Pattern CAS_NAME = Pattern.compile("\\{cas:([0-9A-Za-z]+)}");

    @Test
    void everyCaseIsWellFormed() throws IOException {
        RepliesFile.Parsed parsed = RepliesFile.load();
        assertTrue(parsed.cases().size() >= 30, "cases: " + parsed.cases().size());
        Set<String> names = new HashSet<>();
        for (RepliesFile.Case c : parsed.cases()) {
            assertTrue(names.add(c.name()), "duplicate case " + c.name());
            assertTrue(!c.steps().isEmpty(), c.name());
            Set<String> bound = new HashSet<>();
            for (RepliesFile.Step s : c.steps()) {
                Matcher m = SEND_PLACEHOLDER.matcher(s.send());
                while (m.find()) {
                    String ph = m.group(1);
                    boolean ok = ph.startsWith("repeat:") || ph.matches("now[+-][0-9]+")
                            || (ph.startsWith("cas:") && bound.contains(ph));
                    assertTrue(ok, c.name() + ": {" + ph + "} in " + s.send());
                }
                for (String line : s.expect()) {
                    assertTrue(!line.contains("{INCOMPLETE}"), c.name() + ": incomplete reply");
                    Matcher cas = CAS_NAME.matcher(line);
                    while (cas.find()) {
                        bound.add("cas:" + cas.group(1));
                    }
                }
                assertNotNull(RepliesFile.renderSend(s.send(), fakeBindings(bound), 1_700_000_000L));
            }
        }
    }

    @Test
    void formatRoundTrips() throws IOException {
        RepliesFile.Parsed parsed = RepliesFile.load();
        RepliesFile.Parsed again = RepliesFile.parse(RepliesFile.format(parsed));
        assertEquals(parsed.cases(), again.cases());
    }

    @Test
    void templateThenMatch() {
        Map<String, String> names = new HashMap<>();
        List<String> lines = RepliesFile.template(
                "VALUE k 5 2 77\r\n{}\r\nEND\r\nHD c77 t100 l3 W\r\nNS c0\r\nME k exp=-1 la=2 cas=78 fetch=no cls=1 size=69\r\n",
                false, names);
        assertEquals(List.of("VALUE k 5 2 {cas:1}", "\\x7b\\x7d", "END", "HD c{cas:1} t{ttl:100} l{age:3} W", "NS c0",
                "ME k exp=-1 la={age:2} cas={cas:2} fetch=no cls=1 size=69"), lines);
        Map<String, String> bound = new HashMap<>();
        assertNull(RepliesFile.match(lines,
                "VALUE k 5 2 9\r\n{}\r\nEND\r\nHD c9 t99 l3 W\r\nNS c0\r\nME k exp=-1 la=4 cas=10 fetch=no cls=1 size=69\r\n",
                false, bound));
        assertEquals("9", bound.get("cas:1"));
        // a different value under the same name, a TTL out of range, an unexpected close
        assertNotNull(RepliesFile.match(List.of("HD c{cas:1}"), "HD c8\r\n", false, bound));
        assertNotNull(RepliesFile.match(List.of("HD t{ttl:100}"), "HD t97\r\n", false, new HashMap<>()));
        assertNotNull(RepliesFile.match(List.of("HD"), "HD\r\n", true, new HashMap<>()));
        assertNull(RepliesFile.match(List.of("END", "{close}"), "END\r\n", true, new HashMap<>()));
        assertNull(RepliesFile.match(List.of(), "", false, new HashMap<>()));
    }

    @Test
    void replaysAgainstRealMemcached() throws IOException {
        Assumptions.assumeTrue(LiveMemcached.enabled(), "set -Dmemcached.port to replay against memcached");
        List<String> failures = new ArrayList<>();
        for (RepliesFile.Case c : RepliesFile.load().cases()) {
            RepliesFileCapture.flushAll(LiveMemcached.PORT);
            Map<String, String> bound = new HashMap<>();
            try (RepliesFileCapture.Connection conn = new RepliesFileCapture.Connection(LiveMemcached.PORT)) {
                for (RepliesFile.Step s : c.steps()) {
                    String reply = conn.exchange(RepliesFile.renderSend(s.send(), bound, System.currentTimeMillis() / 1000));
                    String mismatch = RepliesFile.match(s.expect(), reply, conn.closed, bound);
                    if (mismatch != null) {
                        failures.add(c.name() + " / " + s.send() + ": " + mismatch);
                        break;
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            fail(String.join("\n", failures));
        }
    }

    private static Map<String, String> fakeBindings(Set<String> names) {
        Map<String, String> m = new HashMap<>();
        for (String n : names) {
            m.put(n, "1");
        }
        return m;
    }
}
