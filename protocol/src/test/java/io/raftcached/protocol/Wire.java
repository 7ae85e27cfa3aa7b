package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/** Test helpers: drive a {@link TextProtocolDecoder} in an {@link EmbeddedChannel}, format bytes. */
final class Wire {
    private Wire() {
    }

    /**
     * An item size check shaped like memcached 1.6.18's default -I 1m for tests: 48 header bytes,
     * key + 1, 4 bytes of flags unless 0, 8 of CAS, value + 2, up to 1 MiB. (The node supplies the
     * real one.)
     */
    static final ItemSizeCheck ONE_MIB_ITEMS =
            (keyLength, clientFlags, valueLength) ->
                    48L + keyLength + 1 + (clientFlags != 0 ? 4 : 0) + 8 + valueLength + 2L <= 1024 * 1024;

    static final DecoderConfig CONFIG = DecoderConfig.memcachedDefaults(ONE_MIB_ITEMS);

    static EmbeddedChannel channel() {
        return new EmbeddedChannel(new TextProtocolDecoder(CONFIG));
    }

    static EmbeddedChannel channel(DecoderConfig config) {
        return new EmbeddedChannel(new TextProtocolDecoder(config));
    }

    static byte[] bytes(String latin1) {
        return latin1.getBytes(StandardCharsets.ISO_8859_1);
    }

    static String text(byte[] b) {
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    static String text(ByteBuf b) {
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    /** Decodes {@code input} sent in one packet. */
    static List<Request> decode(String input) {
        return decode(CONFIG, bytes(input));
    }

    static List<Request> decode(DecoderConfig config, byte[] input) {
        EmbeddedChannel ch = channel(config);
        ch.writeInbound(Unpooled.wrappedBuffer(input));
        List<Request> out = drain(ch);
        ch.finishAndReleaseAll();
        return out;
    }

    static List<Request> drain(EmbeddedChannel ch) {
        List<Request> out = new ArrayList<>();
        for (Object o; (o = ch.readInbound()) != null; ) {
            out.add((Request) o);
        }
        return out;
    }

    /** Decodes {@code input}, which must produce exactly one request. */
    static Request one(String input) {
        List<Request> out = decode(input);
        assertEquals(1, out.size(), () -> "expected one request from " + escape(input) + ", got " + out);
        return out.get(0);
    }

    /** Asserts that {@code input} decodes to exactly one decoder error with this reply line. */
    static Request assertErrorReply(String input, String expectedLine) {
        Request r = one(input);
        assertEquals(CommandType.ERROR_REPLY, r.type(), () -> "for " + escape(input) + ": " + r);
        assertEquals(expectedLine, r.errorLine(), () -> "for " + escape(input));
        if (LiveMemcached.enabled()) {
            String expected = expectedLine + "\r\n" + (r.closeConnection() ? "<CLOSE>" : "");
            assertEquals(escape(expected), escape(LiveMemcached.exchange(bytes(input))),
                    () -> "real memcached disagrees for " + escape(input));
        }
        return r;
    }

    /**
     * Like {@link #assertErrorReply}, for a deliberate deviation: raftcached answers
     * {@code expectedLine} where memcached 1.6.18 answers {@code memcachedReply} (checked when live).
     */
    static Request assertDeviatingErrorReply(String input, String expectedLine, String memcachedReply) {
        Request r = one(input);
        assertEquals(CommandType.ERROR_REPLY, r.type(), () -> "for " + escape(input) + ": " + r);
        assertEquals(expectedLine, r.errorLine(), () -> "for " + escape(input));
        if (LiveMemcached.enabled()) {
            assertEquals(escape(memcachedReply), escape(LiveMemcached.exchange(bytes(input))));
        }
        return r;
    }

    /**
     * What the connection would send for requests the decoder answers alone: the error lines of
     * ERROR_REPLY requests, concatenated (other requests contribute {@code <TYPE>}).
     */
    static String decoderReplies(List<Request> requests) {
        StringBuilder sb = new StringBuilder();
        for (Request r : requests) {
            if (r.type() == CommandType.ERROR_REPLY) {
                if (r.errorLine() != null) {
                    sb.append(r.errorLine()).append("\r\n");
                }
                if (r.closeConnection()) {
                    sb.append("<CLOSE>");
                }
            } else {
                sb.append('<').append(r.type()).append('>');
            }
        }
        return sb.toString();
    }

    /**
     * Asserts what the decoder alone answers for {@code input} (see {@link #decoderReplies}). When
     * live, also compares with the real memcached if every request left is stateless: META_NOOP and
     * VERSION are replaced by their replies; other requests make the live check skip.
     */
    static List<Request> assertReplies(String expected, String input) {
        List<Request> out = decode(input);
        assertEquals(escape(expected), escape(decoderReplies(out)), () -> "for " + escape(input));
        if (LiveMemcached.enabled()) {
            String live = expected.replace("<META_NOOP>", "MN\r\n").replace("<VERSION>", "VERSION 1.6.18\r\n");
            if (!live.replace("<CLOSE>", "").contains("<")) {
                assertEquals(escape(live), escape(LiveMemcached.exchange(bytes(input))),
                        () -> "real memcached disagrees for " + escape(input));
            }
        }
        return out;
    }

    /** Runs a writer into a fresh buffer and returns what it wrote. */
    static String written(Consumer<ByteBuf> writer) {
        ByteBuf buf = Unpooled.buffer();
        try {
            writer.accept(buf);
            return text(buf);
        } finally {
            buf.release();
        }
    }

    static List<String> describeAll(List<Request> requests) {
        return requests.stream().map(Wire::describe).toList();
    }

    /** Every field of a request, for exact comparison of two decodings. */
    static String describe(Request r) {
        StringBuilder sb = new StringBuilder(r.type().name());
        if (r.key() != null) {
            sb.append(" key=").append(escape(text(r.key())));
        }
        if (r.keys() != null) {
            sb.append(" keys=").append(r.keys().stream().map(k -> escape(text(k))).toList());
        }
        sb.append(" flags=").append(r.clientFlags()).append(" exp=").append(r.exptime());
        if (r.value() != null) {
            sb.append(" value=").append(escape(text(r.value())));
        }
        sb.append(" cas=").append(r.casUnique()).append(" delta=").append(r.delta());
        sb.append(" noreply=").append(r.noreply());
        if (r.meta() != null) {
            MetaFlags m = r.meta();
            sb.append(" meta=").append(escape(text(m.order()))).append(" mode=").append(r.metaSetMode())
                    .append(" b=").append(m.keyBinary())
                    .append(" N=").append(m.vivifyExptime()).append(" T=").append(m.touchExptime())
                    .append(" R=").append(m.recacheExptime()).append(" F=").append(m.clientFlags())
                    .append(" C=").append(m.compareCas()).append(" E=").append(m.newCas())
                    .append(" D=").append(m.delta()).append(" J=").append(m.initial())
                    .append(" M=").append(m.mode());
            if (m.opaqueToken() != null) {
                sb.append(" O=").append(escape(text(m.opaqueToken())));
            }
        }
        if (r.args() != null) {
            sb.append(" args=").append(r.args().stream().map(a -> escape(text(a))).toList());
        }
        sb.append(" error=").append(r.errorLine()).append(" close=").append(r.closeConnection());
        return sb.toString();
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder();
        for (char c : s.toCharArray()) {
            switch (c) {
                case '\r' -> sb.append("\\r");
                case '\n' -> sb.append("\\n");
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

    static <T> T notNull(T t) {
        assertNotNull(t);
        return t;
    }
}
