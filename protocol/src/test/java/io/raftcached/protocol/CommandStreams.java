package io.raftcached.protocol;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Generates memcached text-protocol commands, classic and meta, well formed and malformed, from a
 * {@link Random}. Each {@link #command()} is complete (its line and, for storage commands, a data
 * block), so commands concatenate into pipelined streams. Shared by the decoder's properties and,
 * through the test-jar, by the differential fuzz against memcached.
 *
 * <p>Keys come from a small pool under a prefix, so commands of one stream meet the same items
 * and streams with different prefixes do not meet at all.
 */
public final class CommandStreams {
    /** What the commands may contain. */
    public enum Scope {
        /**
         * Anything a client could send, including what raftcached answers differently on purpose
         * (over-long lines, binary protocol, E, over-long opaques on mg/ma) and what depends on
         * time or on the server (stats, me, mg h/l).
         */
        ANY,
        /**
         * Only what memcached 1.6.18 and raftcached must answer byte for byte, with replies that
         * do not depend on time beyond the mg t flag (TTLs are far from now) or on the server
         * beyond CAS values. Values may be over the default 1 MiB item size.
         */
        COMPARABLE
    }

    /** How a stream may end: with nothing, or with a command after which the server closes. */
    public enum Ending { NONE, QUIT, HTTP, LONG_LINE, BINARY }

    private static final String[] KEYS = {"a", "b", "c", "n"};
    private static final String[] EXPTIMES = {"0", "0", "1000000", "2592000", "2592001", "-1", "1900000000",
            "4000000000", "+5000", " ", "abc", "1x", "9223372036854775808"};
    private static final String[] META_TTLS = {"0", "1000000", "2592000", "-1", "1900000000", "x"};
    private static final String[] FLAGS = {"0", "0", "1", "4294967295", "4294967296", "-1", "abc", "18446744073709551615", "-0", "7\t"};
    private static final String[] NUMBERS = {"0", "1", "9", "10", "99", "18446744073709551615", "18446744073709551614",
            " 5", "12abc", "-1", "", "007"};
    private static final String[] DELTAS = {"1", "5", "100", "18446744073709551615", "18446744073709551616", "-1", "x", "0"};

    private final Random random;
    private final String prefix;
    private final Scope scope;

    public CommandStreams(Random random, String keyPrefix, Scope scope) {
        this.random = random;
        this.prefix = keyPrefix;
        this.scope = scope;
    }

    /** One complete command. */
    public byte[] command() {
        int pick = random.nextInt(100);
        if (pick < 18) {
            return classicStorage();
        } else if (pick < 22) {
            return cas();
        } else if (pick < 33) {
            return retrieval();
        } else if (pick < 36) {
            return line("touch " + key() + " " + pickOf(EXPTIMES) + noreply());
        } else if (pick < 40) {
            return delete();
        } else if (pick < 46) {
            return line(pickOf("incr", "decr") + " " + numericKeyMostly() + " " + pickOf(DELTAS) + noreply());
        } else if (pick < 48) {
            return line(pickOf("flush_all", "flush_all 0", "flush_all -1", "flush_all noreply", "flush_all x",
                    "flush_all 0 noreply", "flush_all 0 0 0"));
        } else if (pick < 50) {
            return line(pickOf("version", "verbosity 1", "verbosity 0 noreply", "verbosity", "verbosity x", "mn", "mn x"));
        } else if (pick < 60) {
            return metaGet();
        } else if (pick < 68) {
            return metaSet();
        } else if (pick < 72) {
            return metaDelete();
        } else if (pick < 77) {
            return metaArithmetic();
        } else if (pick < 88) {
            return malformed();
        } else if (scope == Scope.ANY) {
            return serverSpecific();
        } else {
            return retrieval();
        }
    }

    /** The closing command of a stream (binary protocol only makes sense as a connection's first byte). */
    public byte[] ending(Ending ending) {
        return switch (ending) {
            case NONE -> new byte[0];
            case QUIT -> bytes(pickOf("quit\r\n", "quit\r\nget " + key() + "\r\n", "quit\n", "quit x\r\n"));
            case HTTP -> bytes(pickOf("GET / HTTP/1.1\r\nHost: x\r\n\r\n", "POST /x HTTP/1.0\r\n", "HEAD /x HTTP/\r\n"));
            case LONG_LINE -> longLine();
            case BINARY -> binaryRequest();
        };
    }

    private byte[] longLine() {
        int length = DecoderConfig.MEMCACHED_MAX_LINE_BYTES + 1 + random.nextInt(2000);
        String start = pickOf("", "set ", "mg ", "gat 0 ", "bogus ");
        String body = start + "x".repeat(length - start.length());
        return bytes(random.nextBoolean() ? body : body + "\r\nversion\r\n");
    }

    private byte[] binaryRequest() {
        byte[] header = new byte[24 + random.nextInt(16)];
        random.nextBytes(header);
        header[0] = (byte) 0x80;
        return header;
    }

    // ---- classic ----

    private byte[] classicStorage() {
        String command = pickOf("set", "set", "add", "replace", "append", "prepend");
        if (scope == Scope.COMPARABLE && random.nextInt(40) == 0) {
            // a well-formed header: were it refused before the length, the value would become a line
            byte[] big = bigValue();
            return concat(line(command + " " + key() + " 0 0 " + big.length + noreply()), concat(big, bytes("\r\n")));
        }
        return storage(command + " " + key() + " " + pickOf(FLAGS) + " " + pickOf(EXPTIMES), "");
    }

    private byte[] cas() {
        return storage("cas " + key() + " " + pickOf(FLAGS) + " " + pickOf(EXPTIMES), " " + casLiteral());
    }

    /**
     * A storage line "header length[ suffix][ noreply]" and its data block, the block exact or
     * broken in the ways clients break it.
     */
    private byte[] storage(String header, String suffix) {
        byte[] value = value();
        int shape = random.nextInt(100);
        String length;
        byte[] block;
        if (shape < 75) {
            length = Integer.toString(value.length);
            block = concat(value, bytes("\r\n"));
        } else if (shape < 80) {
            length = Integer.toString(Math.max(0, value.length - 1 - random.nextInt(3))); // data too long
            block = concat(value, bytes("\r\n"));
        } else if (shape < 84) {
            length = Integer.toString(value.length);
            block = concat(value, bytes(pickOf("\n", "\r\r", "xx", "\r", "")));   // wrong trailer
        } else if (shape < 88) {
            length = Integer.toString(value.length + 1 + random.nextInt(3));     // too short: eats what follows
            block = concat(value, bytes("\r\n"));
        } else if (shape < 94) {
            length = pickOf("-1", "2147483647", "2147483646", "4294967296", "4294967297", "abc", "99999999999999999999", "");
            block = concat(shortToken(), bytes("\r\n"));
        } else {
            length = Integer.toString(value.length);
            header = header + " extra";       // a token too many (or the noreply position shifts)
            block = concat(value, bytes("\r\n"));
        }
        return concat(line(header + " " + length + suffix + noreply()), block);
    }

    private byte[] retrieval() {
        String command = pickOf("get", "get", "gets", "gat", "gats", "bget");
        StringBuilder line = new StringBuilder(command);
        String exptime = command.startsWith("gat") ? pickOf(EXPTIMES).trim() : "";
        if (!exptime.isEmpty()) {
            line.append(' ').append(exptime);
        }
        // An expiring gat naming a key twice is the differential test's EXPIRING_TOUCH deviation.
        boolean keysOnce = scope == Scope.COMPARABLE && expiresAtOnce(exptime);
        Set<String> named = new HashSet<>();
        int keys = random.nextInt(10) == 0 ? 20 + random.nextInt(15) : 1 + random.nextInt(4);
        for (int i = 0; i < keys; i++) {
            String key = random.nextInt(40) == 0 ? longKey(251) : key();
            if (named.add(key) || !keysOnce) {
                line.append(' ').append(key);
            }
        }
        return line(line.toString());
    }

    /**
     * Whether a gat with this exptime leaves the items it touches already expired: a negative time, an
     * absolute one before now, or 4000000000, which memcached 1.6.18 keeps in an int32 (negative).
     */
    private static boolean expiresAtOnce(String exptime) {
        return exptime.equals("-1") || exptime.equals("2592001") || exptime.equals("4000000000");
    }

    private byte[] delete() {
        return line("delete " + key() + pickOf("", "", " 0", " noreply", " 0 noreply", " 1", " 0 0", " x noreply"));
    }

    // ---- meta ----

    private byte[] metaGet() {
        List<String> flags = pickFlags("v", "k", "c", "f", "s", "t", "q", "u", "N" + pickOf(META_TTLS),
                "T" + pickOf(META_TTLS), "R" + pickOf("30", "2000000"), "O" + opaque(scope == Scope.ANY));
        if (scope == Scope.ANY && random.nextInt(5) == 0) {
            flags.add(pickOf("h", "l", "E123", "Ex"));
        }
        return metaLine("mg", flags, "");
    }

    private byte[] metaSet() {
        List<String> flags = pickFlags("F" + pickOf(FLAGS).trim(), "T" + pickOf(META_TTLS), "C" + casLiteral(), "q", "I",
                "M" + pickOf("S", "E", "A", "P", "R", "X", "SS"), "k", "O" + opaque(true), "c");
        if (scope == Scope.ANY && random.nextInt(5) == 0) {
            flags.add("E" + pickOf("42", "x"));
        }
        if (scope == Scope.COMPARABLE && random.nextInt(40) == 0) {
            byte[] big = bigValue();
            return concat(line("ms " + key() + " " + big.length + " T0"), concat(big, bytes("\r\n")));
        }
        byte[] value = value();
        int shape = random.nextInt(10);
        String length = shape == 0 ? pickOf("-1", "x", "4294967296", "") : Integer.toString(value.length);
        byte[] block = shape == 1 ? concat(value, bytes("zz")) : concat(value, bytes("\r\n"));
        return concat(metaLine("ms", flags, " " + length), block);
    }

    private byte[] metaDelete() {
        return metaLine("md", pickFlags("q", "I", "T" + pickOf(META_TTLS), "C" + casLiteral(), "k", "O" + opaque(true)), "");
    }

    private byte[] metaArithmetic() {
        List<String> flags = pickFlags("N" + pickOf(META_TTLS), "J" + pickOf(NUMBERS).trim(), "D" + pickOf(DELTAS),
                "T" + pickOf(META_TTLS), "M" + pickOf("I", "+", "D", "-", "X", "II"), "q", "O" + opaque(scope == Scope.ANY),
                "v", "t", "c", "k");
        return metaLine("ma", flags, "", numericKeyMostly());
    }

    private byte[] metaLine(String command, List<String> flags, String afterKey) {
        return metaLine(command, flags, afterKey, key());
    }

    /** "cmd key[afterKey] flags...", the key sometimes base64 with b, a flag sometimes repeated or unknown. */
    private byte[] metaLine(String command, List<String> flags, String afterKey, String key) {
        if (random.nextInt(6) == 0) {
            key = Base64.getEncoder().encodeToString(bytes(key));
            flags.add("b");
        }
        if (random.nextInt(12) == 0) {
            flags.add(pickOf("z", "q", "v", "T", "Tabc", "M", "Dx", "Jx", "Fx", "C-1", "\u00ff")); // errors
        }
        Collections.shuffle(flags, random);
        String line = command + " " + (random.nextInt(40) == 0 ? longKey(251) : key) + afterKey;
        return line(flags.isEmpty() ? line : line + " " + String.join(" ", flags));
    }

    /** Each candidate flag with probability 1/3. */
    private List<String> pickFlags(String... candidates) {
        List<String> flags = new ArrayList<>();
        for (String flag : candidates) {
            if (random.nextInt(3) == 0) {
                flags.add(flag);
            }
        }
        return flags;
    }

    /** An opaque token body, over memcached's 32 bytes only where allowed. */
    private String opaque(boolean mayBeTooLong) {
        int length = mayBeTooLong && random.nextInt(8) == 0 ? 32 + random.nextInt(10) : 1 + random.nextInt(8);
        return "o".repeat(length);
    }

    // ---- malformed and server-specific ----

    private byte[] malformed() {
        return switch (random.nextInt(12)) {
            case 0 -> line("");
            case 1 -> line(" ".repeat(1 + random.nextInt(5)));
            case 2 -> line(pickOf("bogus", "GET", "sets " + key(), "g", "m", "mz " + key(), "md", "ms " + key(), "ma"));
            case 3 -> line(pickOf("set", "get", "gat", "incr", "touch", "delete", "cas") + pickOf("", " " + key(), " " + key() + " 1 2 3 4 5 6"));
            case 4 -> bytes(pickOf("get " + key() + "\u0000junk\r\n", "set\u0000 x\r\n", "\u0000\r\n", "version\u0000\r\n"));
            case 5 -> bytes(pickOf("get\t" + key() + "\r\n", "get " + key() + "\t\r\n", "  get  " + key() + "  \r\n"));
            case 6 -> bytes(pickOf("\r\r\n", "version\r\r\n", "\n", "get " + key() + "\n", "mn\n"));
            case 7 -> {
                StringBuilder many = new StringBuilder(pickOf("get", "mg " + key(), "set " + key() + " 0 0 1", "delete " + key()));
                int tokens = 20 + random.nextInt(10);
                for (int i = 0; i < tokens; i++) {
                    many.append(' ').append(pickOf("v", "k", "noreply", key()));
                }
                yield line(many.toString());
            }
            case 8 -> {
                byte[] garbage = new byte[1 + random.nextInt(60)];
                random.nextBytes(garbage);
                for (int i = 0; i < garbage.length; i++) {
                    // no line end inside, no NUL (it hides the rest), nothing that looks like HTTP
                    if (garbage[i] == '\n' || garbage[i] == 0 || garbage[i] == '/') {
                        garbage[i] = 'x';
                    }
                }
                yield concat(garbage, bytes("\r\n"));
            }
            case 9 -> line("set " + longKey(250) + " 0 0 1 noreply\r\nv");
            case 10 -> line(pickOf("incr", "decr", "touch", "delete") + " " + longKey(251) + " 1");
            default -> line(pickOf("mg", "md", "ma") + " " + key() + " "
                    + "v ".repeat(MetaFlags.MAX_TOKENS_WITH_TERMINAL).trim());
        };
    }

    /** Commands whose replies depend on the server, its clock or its operator state. */
    private byte[] serverSpecific() {
        return line(pickOf("stats", "stats items", "stats slabs x", "me " + key(), "me " + key() + " b",
                "lru_crawler metadump all", "slabs automove 1 noreply", "cache_memlimit 100", "watch",
                "shutdown", "shutdown graceful", "shutdown x", "lru mode", "extstore x"));
    }

    // ---- pieces ----

    private String key() {
        return prefix + pickOf(KEYS);
    }

    /** incr/decr/ma mostly on the numeric key, so they meet numbers. */
    private String numericKeyMostly() {
        return random.nextInt(4) == 0 ? key() : prefix + "n";
    }

    private String longKey(int length) {
        return (prefix + "L").length() >= length ? prefix : prefix + "L".repeat(length - prefix.length());
    }

    private byte[] value() {
        byte[] value = anyValue();
        // memcached 1.6.18's incr/decr/ma read past a value of only spaces into whatever memory
        // follows it in the slab; raftcached calls it non-numeric (protocol/README.md)
        return scope == Scope.COMPARABLE && value.length > 0 && onlyCSpaces(value) ? bytes("x") : value;
    }

    private static boolean onlyCSpaces(byte[] value) {
        for (byte b : value) {
            if (b != ' ' && (b < 0x09 || b > 0x0d)) {
                return false;
            }
        }
        return true;
    }

    private byte[] anyValue() {
        return switch (random.nextInt(6)) {
            case 0 -> new byte[0];
            case 1, 2 -> bytes(pickOf(NUMBERS));
            case 3 -> {
                byte[] v = new byte[1 + random.nextInt(40)];
                random.nextBytes(v);
                yield v;
            }
            // under memcached's 2048-byte line: a value after a refused header is read as a line
            case 4 -> bytes(pickOf("a\r\nb", "\r\n", "END\r\n", "x".repeat(random.nextInt(2000))));
            default -> bytes("v" + random.nextInt(1000));
        };
    }

    /** Around memcached's default 1 MiB item limit (-I 1m), on both sides of it. */
    private byte[] bigValue() {
        int length = (1 << 20) - 200 + random.nextInt(400);
        byte[] v = new byte[length];
        java.util.Arrays.fill(v, (byte) 'B');
        return v;
    }

    private byte[] shortToken() {
        return bytes(pickOf("x", "v1", "mn", "12"));
    }

    /** A CAS value far above any counter either server reaches in a test, so it never matches. */
    private String casLiteral() {
        return pickOf(Long.toUnsignedString(random.nextLong() | (1L << 62)), "abc", "-1", "18446744073709551616");
    }

    private String noreply() {
        return random.nextInt(5) == 0 ? " noreply" : "";
    }

    @SafeVarargs
    private <T> T pickOf(T... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private static byte[] line(String text) {
        return bytes(text + "\r\n");
    }

    private static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(a.length + b.length);
        out.writeBytes(a);
        out.writeBytes(b);
        return out.toByteArray();
    }
}
