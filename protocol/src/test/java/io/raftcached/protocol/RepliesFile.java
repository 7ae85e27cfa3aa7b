package io.raftcached.protocol;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads, writes and matches {@code memcached-1.6.18-replies.txt}, the captured request/reply
 * transcripts whose format is documented at the top of that file. The integration tests use it
 * through this module's test-jar.
 */
public final class RepliesFile {
    private RepliesFile() {
    }

    static final String RESOURCE = "/memcached-1.6.18-replies.txt";

    /** One write and the complete reply expected to it (empty: nothing comes back). */
    public record Step(String send, List<String> expect) {
    }

    public record Case(String name, List<String> header, List<Step> steps) {
    }

    public record Parsed(List<String> preamble, List<Case> cases) {
    }

    public static Parsed load() throws IOException {
        try (InputStream in = RepliesFile.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IOException("missing resource " + RESOURCE);
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    public static Parsed parse(String text) {
        List<String> preamble = new ArrayList<>();
        List<Case> cases = new ArrayList<>();
        Case current = null;
        Step step = null;
        int lineNo = 0;
        for (String line : text.split("\n", -1)) {
            lineNo++;
            if (line.startsWith("=== ")) {
                current = new Case(line.substring(4).trim(), new ArrayList<>(), new ArrayList<>());
                cases.add(current);
                step = null;
            } else if (current == null) {
                preamble.add(line);
            } else if (line.startsWith("> ")) {
                step = new Step(line.substring(2), new ArrayList<>());
                current.steps().add(step);
            } else if (line.startsWith("< ") || line.equals("<")) {
                if (step == null) {
                    throw new IllegalArgumentException("line " + lineNo + ": reply before any request");
                }
                step.expect().add(line.length() > 2 ? line.substring(2) : "");
            } else if (line.startsWith("#") || line.isBlank()) {
                if (step == null && line.startsWith("#")) {
                    current.header().add(line);
                }
            } else {
                throw new IllegalArgumentException("line " + lineNo + ": unexpected: " + line);
            }
        }
        return new Parsed(preamble, cases);
    }

    static String format(Parsed parsed) {
        StringBuilder sb = new StringBuilder();
        for (String p : parsed.preamble()) {
            sb.append(p).append('\n');
        }
        while (sb.length() >= 2 && sb.charAt(sb.length() - 1) == '\n' && sb.charAt(sb.length() - 2) == '\n') {
            sb.setLength(sb.length() - 1);
        }
        for (Case c : parsed.cases()) {
            sb.append('\n').append("=== ").append(c.name()).append('\n');
            for (String h : c.header()) {
                sb.append(h).append('\n');
            }
            for (Step s : c.steps()) {
                sb.append("> ").append(s.send()).append('\n');
                for (String e : s.expect()) {
                    sb.append(e.isEmpty() ? "<" : "< " + e).append('\n');
                }
            }
        }
        return sb.toString();
    }

    // ---- escapes ----

    /** Decodes a send template into bytes: escapes, {repeat:C:N}, {now+S}/{now-S}, {cas:N}. */
    public static byte[] renderSend(String template, Map<String, String> bound, long nowSeconds) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '\\') {
                char e = template.charAt(++i);
                switch (e) {
                    case 'r' -> out.append('\r');
                    case 'n' -> out.append('\n');
                    case '\\' -> out.append('\\');
                    case 'x' -> {
                        out.append((char) Integer.parseInt(template.substring(i + 1, i + 3), 16));
                        i += 2;
                    }
                    default -> throw new IllegalArgumentException("bad escape \\" + e + " in " + template);
                }
            } else if (c == '{') {
                int end = template.indexOf('}', i);
                String ph = template.substring(i + 1, end);
                i = end;
                if (ph.startsWith("repeat:")) {
                    String[] parts = ph.split(":");
                    out.append(parts[1].repeat(Integer.parseInt(parts[2])));
                } else if (ph.startsWith("now")) {
                    out.append(nowSeconds + Long.parseLong(ph.substring(3).replace("+", "")));
                } else if (bound.containsKey(ph)) {
                    out.append(bound.get(ph));
                } else {
                    throw new IllegalArgumentException("unbound {" + ph + "} in " + template);
                }
            } else {
                out.append(c);
            }
        }
        return out.toString().getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Escapes reply bytes for a {@code <} line (no placeholders). */
    public static String escape(String raw) {
        StringBuilder sb = new StringBuilder();
        for (char c : raw.toCharArray()) {
            switch (c) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
                case '\\' -> sb.append("\\\\");
                case '{' -> sb.append("\\x7b");
                case '}' -> sb.append("\\x7d");
                default -> {
                    if (c < 0x20 || c >= 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.toString();
    }

    // ---- matching ----

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(cas|ttl|age|num|close)(?::([0-9A-Za-z]+))?}");

    /**
     * Matches the bytes received against the expected lines (each followed by "\r\n").
     *
     * @param bound {cas:N} values seen so far in the case; new bindings are added
     * @return null when they match, else a description of the mismatch
     */
    public static String match(List<String> expect, String received, boolean closed, Map<String, String> bound) {
        StringBuilder regex = new StringBuilder();
        List<String[]> groups = new ArrayList<>();
        boolean expectClose = false;
        for (String line : expect) {
            if (line.equals("{close}")) {
                expectClose = true;
                continue;
            }
            // placeholders are found on the escaped text, where a literal brace is \x7b
            Matcher m = PLACEHOLDER.matcher(line);
            int last = 0;
            while (m.find()) {
                regex.append(Pattern.quote(unescape(line.substring(last, m.start()))));
                regex.append("([0-9]+)");
                groups.add(new String[]{m.group(1), m.group(2)});
                last = m.end();
            }
            regex.append(Pattern.quote(unescape(line.substring(last)))).append(Pattern.quote("\r\n"));
        }
        Matcher m = Pattern.compile(regex.toString(), Pattern.DOTALL).matcher(received);
        if (!m.matches()) {
            return "expected " + expect + " got " + escape(received);
        }
        Map<String, String> newlyBound = new HashMap<>();
        for (int g = 0; g < groups.size(); g++) {
            String kind = groups.get(g)[0];
            String arg = groups.get(g)[1];
            String value = m.group(g + 1);
            switch (kind) {
                case "cas" -> {
                    if (arg != null) {
                        String key = "cas:" + arg;
                        String prior = bound.containsKey(key) ? bound.get(key) : newlyBound.get(key);
                        if (prior != null && !prior.equals(value)) {
                            return "{" + key + "} was " + prior + ", now " + value;
                        }
                        newlyBound.put(key, value);
                    }
                }
                case "ttl" -> {
                    long want = Long.parseLong(arg);
                    long got = Long.parseLong(value);
                    if (got > want + 1 || got < want - 2) {
                        return "ttl " + got + " not within " + (want - 2) + ".." + (want + 1);
                    }
                }
                case "age" -> {
                    long want = Long.parseLong(arg);
                    long got = Long.parseLong(value);
                    if (got < want || got > want + 2) {
                        return "age " + got + " not within 2 s above " + want;
                    }
                }
                default -> {
                }
            }
        }
        if (expectClose != closed) {
            return expectClose ? "expected the connection to close" : "connection closed unexpectedly";
        }
        bound.putAll(newlyBound);
        return null;
    }

    static String unescape(String line) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\') {
                char e = line.charAt(++i);
                switch (e) {
                    case 'r' -> out.append('\r');
                    case 'n' -> out.append('\n');
                    case '\\' -> out.append('\\');
                    case 'x' -> {
                        out.append((char) Integer.parseInt(line.substring(i + 1, i + 3), 16));
                        i += 2;
                    }
                    default -> throw new IllegalArgumentException("bad escape \\" + e);
                }
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    // ---- templating a captured reply ----

    private static final Pattern META_NUMBER_FLAG = Pattern.compile(" ([ctl])([0-9]+)");

    /**
     * Splits a captured reply into {@code <} lines and replaces values that differ between servers
     * or runs with placeholders: CAS values (VALUE of gets/gats, meta {@code c}, me {@code cas=}),
     * TTLs (meta {@code t}, me {@code exp=-}), ages (meta {@code l}, me {@code la=}). Data blocks are
     * copied verbatim.
     *
     * @param casNames value to placeholder name, shared across the case so equal CAS values get the
     *                 same name
     */
    static List<String> template(String reply, boolean closed, Map<String, String> casNames) {
        List<String> lines = new ArrayList<>();
        int i = 0;
        while (i < reply.length()) {
            int eol = reply.indexOf("\r\n", i);
            if (eol < 0) {
                lines.add(escape(reply.substring(i)) + "{INCOMPLETE}");
                break;
            }
            String line = reply.substring(i, eol);
            i = eol + 2;
            String[] t = line.split(" ");
            int dataBytes = -1;
            if (t[0].equals("VALUE") && (t.length == 4 || t.length == 5)) {
                dataBytes = Integer.parseInt(t[3]);
                if (t.length == 5) {
                    t[4] = casPlaceholder(t[4], casNames);
                }
                lines.add(escape(String.join(" ", t[0], t[1], t[2], t[3])) + (t.length == 5 ? " " + t[4] : ""));
            } else if (t[0].equals("ME")) {
                StringBuilder sb = new StringBuilder(escape(t[0] + " " + t[1]));
                for (int k = 2; k < t.length; k++) {
                    String tok = t[k];
                    if (tok.startsWith("exp=-") && !tok.equals("exp=-1")) { // -1: no expiry
                        tok = "exp=-{ttl:" + tok.substring(5) + "}";
                    } else if (tok.startsWith("la=")) {
                        tok = "la={age:" + tok.substring(3) + "}";
                    } else if (tok.startsWith("cas=")) {
                        tok = "cas=" + casPlaceholder(tok.substring(4), casNames);
                    }
                    sb.append(' ').append(tok);
                }
                lines.add(sb.toString());
            } else if (t[0].matches("HD|VA|EN|NS|EX|NF")) {
                if (t[0].equals("VA")) {
                    dataBytes = Integer.parseInt(t[1]);
                }
                Matcher m = META_NUMBER_FLAG.matcher(escape(line));
                StringBuilder sb = new StringBuilder();
                while (m.find()) {
                    String n = m.group(2);
                    String rep = switch (m.group(1)) {
                        case "c" -> casPlaceholder(n, casNames);
                        case "t" -> Long.parseLong(n) > Integer.MAX_VALUE ? "{num}" : "{ttl:" + n + "}";
                        default -> "{age:" + n + "}";
                    };
                    m.appendReplacement(sb, Matcher.quoteReplacement(" " + m.group(1) + rep));
                }
                m.appendTail(sb);
                lines.add(sb.toString());
            } else {
                lines.add(escape(line));
            }
            if (dataBytes >= 0) {
                int end = Math.min(reply.length(), i + dataBytes + 2);
                String data = reply.substring(i, Math.max(i, end - 2));
                lines.add(escape(data));
                i = end;
            }
        }
        if (closed) {
            lines.add("{close}");
        }
        return lines;
    }

    private static String casPlaceholder(String value, Map<String, String> casNames) {
        if (value.equals("0")) {
            return "0"; // not a CAS but memcached's "none" (ms prints c0 when nothing was stored)
        }
        String name = casNames.computeIfAbsent(value, v -> Integer.toString(casNames.size() + 1));
        return "{cas:" + name + "}";
    }
}
