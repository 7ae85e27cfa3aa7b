package io.raftcached.protocol;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.raftcached.util.Limits;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Feeds a byte stream to a fresh {@link TextProtocolDecoder} in chunks, records what the decoder
 * asked its {@link ItemSizeCheck} and the most it kept buffered, and checks what must hold for any
 * input whatever: the invariants the fuzz targets and the properties share.
 */
final class DecoderHarness {
    private DecoderHarness() {
    }

    /** memcached's item size limit shape at -I 1m, and a tiny one that makes every bound easy to reach. */
    static final DecoderConfig MEMCACHED = Wire.CONFIG;
    static final DecoderConfig TINY = new DecoderConfig((keyLength, clientFlags, valueLength) -> keyLength + valueLength <= 100,
            DecoderConfig.MIN_MAX_LINE_BYTES, 300);

    /** Classic and meta commands whose request carries a data block. */
    static final Set<CommandType> STORAGE = EnumSet.of(CommandType.SET, CommandType.ADD, CommandType.REPLACE,
            CommandType.APPEND, CommandType.PREPEND, CommandType.CAS, CommandType.META_SET);

    /** One question the decoder asked the item size check, and the answer. */
    record SizeCheck(int keyLength, int clientFlags, int valueLength, boolean fits) {
    }

    /** What one feeding produced. */
    record Run(List<Request> requests, int maxBufferedBytes, List<SizeCheck> sizeChecks) {
    }

    /** The whole stream in one read. */
    static Run feed(DecoderConfig config, byte[] input) {
        return feed(config, input, new int[0]);
    }

    /**
     * Feeds {@code input} in reads that end at {@code cuts} (ascending offsets; out-of-range and
     * repeated ones are skipped), then closes the channel, which lets the decoder see the end of input.
     */
    static Run feed(DecoderConfig config, byte[] input, int[] cuts) {
        List<SizeCheck> sizeChecks = new ArrayList<>();
        ItemSizeCheck real = config.itemSizeCheck();
        DecoderConfig recording = new DecoderConfig((keyLength, clientFlags, valueLength) -> {
            boolean fits = real.fits(keyLength, clientFlags, valueLength);
            sizeChecks.add(new SizeCheck(keyLength, clientFlags, valueLength, fits));
            return fits;
        }, config.maxLineBytes(), config.maxMultigetLineBytes());
        TextProtocolDecoder decoder = new TextProtocolDecoder(recording);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        int maxBuffered = 0;
        int from = 0;
        for (int cut : cuts) {
            if (cut > from && cut < input.length) {
                channel.writeInbound(Unpooled.wrappedBuffer(input, from, cut - from));
                maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes());
                from = cut;
            }
        }
        if (from < input.length) {
            channel.writeInbound(Unpooled.wrappedBuffer(input, from, input.length - from));
            maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes());
        }
        List<Request> requests = Wire.drain(channel);
        channel.finish(); // end of input: ByteToMessageDecoder decodes what is left once more
        requests.addAll(Wire.drain(channel));
        return new Run(requests, maxBuffered, sizeChecks);
    }

    /** Every offset a cut: the stream arrives one byte per read. */
    static int[] everyByte(int length) {
        int[] cuts = new int[Math.max(0, length - 1)];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = i + 1;
        }
        return cuts;
    }

    /**
     * Asserts what holds for any input: memory within the documented bound, requests in stream
     * order and at most one per line, every emitted request well formed, and data blocks exactly
     * the length that passed the item size check.
     */
    static void assertInvariants(DecoderConfig config, byte[] input, Run run) {
        // at most one line of a multiget (and the '\r' that may precede its '\n') stays buffered;
        // accepted data blocks are copied out as they arrive, once they are reserved (at most
        // BLOCK_RESERVE_AT_BYTES waits for that, less than these configs' multiget bound)
        check(run.maxBufferedBytes() <= config.maxMultigetLineBytes() + 1,
                "buffered " + run.maxBufferedBytes() + " bytes", input, run);
        long newlines = count(input, (byte) '\n');
        check(run.requests().size() <= newlines + 1,
                run.requests().size() + " requests from " + newlines + " lines", input, run);
        for (int i = 0; i < run.requests().size(); i++) {
            Request r = run.requests().get(i);
            assertWellFormed(r, input, run);
            check(!r.closeConnection() || i == run.requests().size() - 1,
                    "a request after a close: " + r, input, run);
        }
        assertDataBlocksPassedTheSizeCheck(input, run);
        assertFieldsAppearInStreamOrder(input, run);
    }

    /** Invariants of one request, whatever produced it. */
    static void assertWellFormed(Request r, byte[] input, Run run) {
        check(r.type() != null, "no type", input, run);
        if (r.key() != null) {
            check(r.key().length <= Limits.KEY_MAX_BYTES, "key of " + r.key().length + " bytes", input, run);
            check(r.key().length > 0, "empty key: " + r, input, run);
        }
        if (r.keys() != null) {
            for (byte[] key : r.keys()) {
                check(key.length > 0 && key.length <= Limits.KEY_MAX_BYTES && indexOf(key, (byte) ' ') < 0,
                        "bad multiget key " + Wire.escape(Wire.text(key)), input, run);
            }
        }
        boolean storage = STORAGE.contains(r.type());
        check(storage == (r.value() != null), "value presence does not match " + r.type(), input, run);
        boolean meta = r.type().name().startsWith("META_") && r.type() != CommandType.META_NOOP
                && r.type() != CommandType.META_DEBUG;
        check(meta == (r.meta() != null), "meta flags presence does not match " + r.type(), input, run);
        check((r.type() == CommandType.META_SET) == (r.metaSetMode() != null), "metaSetMode on " + r.type(), input, run);
        check(!(meta && r.noreply()), "classic noreply on a meta command", input, run);
        if (r.type() == CommandType.ERROR_REPLY) {
            String line = r.errorLine();
            check(line != null || r.key() != null || r.closeConnection(),
                    "an error request that asks nothing of the node", input, run);
            check(line == null || (line.matches("(CLIENT_|SERVER_)?ERROR.*") && line.indexOf('\n') < 0
                    && line.indexOf('\r') < 0), "error line " + line, input, run);
        }
        if (r.args() != null) {
            for (byte[] arg : r.args()) {
                check(arg.length > 0 && indexOf(arg, (byte) ' ') < 0, "bad argument token", input, run);
            }
            check(r.args().size() <= LineTokenizer.MAX_REAL_TOKENS, "too many argument tokens", input, run);
        }
    }

    /**
     * Each storage request's value has exactly the length the decoder had checked for it, for the
     * same key length and flags, in order; each refused item's ERROR_REPLY follows a refusal.
     */
    private static void assertDataBlocksPassedTheSizeCheck(byte[] input, Run run) {
        int next = 0;
        List<SizeCheck> checks = run.sizeChecks();
        for (Request r : run.requests()) {
            boolean storage = STORAGE.contains(r.type());
            boolean refused = r.type() == CommandType.ERROR_REPLY && Replies.SERVER_ERROR_TOO_LARGE.equals(r.errorLine())
                    || r.type() == CommandType.ERROR_REPLY && r.errorLine() == null && r.key() != null;
            if (!storage && !refused) {
                continue;
            }
            while (next < checks.size() && !matches(checks.get(next), r, storage)) {
                next++;
            }
            check(next < checks.size(), "no item size check matches " + r, input, run);
            next++;
        }
    }

    private static boolean matches(SizeCheck check, Request r, boolean storage) {
        if (!storage) {
            return !check.fits() && (r.key() == null || r.key().length == check.keyLength());
        }
        return check.fits() && check.keyLength() == r.key().length && check.clientFlags() == r.clientFlags()
                && check.valueLength() == r.value().length;
    }

    /**
     * Keys, values and tokens copied from the stream are found in it in the order the requests
     * were emitted, each value followed by its "\r\n" (greedy earliest matching never fails on a
     * correct decoder, and fails when a request overtakes an earlier one).
     */
    private static void assertFieldsAppearInStreamOrder(byte[] input, Run run) {
        int cursor = 0;
        for (Request r : run.requests()) {
            List<byte[]> fields = new ArrayList<>();
            // base64 keys (meta b; me with b, which has no flags to tell) are decoded, not copied
            boolean copiedKey = r.type() != CommandType.ERROR_REPLY && r.type() != CommandType.META_DEBUG
                    && (r.meta() == null || !r.meta().keyBinary());
            if (r.key() != null && copiedKey) {
                fields.add(r.key());
            }
            if (r.keys() != null) {
                fields.addAll(r.keys());
            }
            if (r.args() != null) {
                fields.addAll(r.args());
            }
            if (r.value() != null) {
                byte[] block = Arrays.copyOf(r.value(), r.value().length + 2);
                block[block.length - 2] = '\r';
                block[block.length - 1] = '\n';
                fields.add(block);
            }
            int first = -1;
            int at = cursor;
            for (byte[] field : fields) {
                at = indexOf(input, field, at);
                check(at >= 0, "field " + Wire.escape(Wire.text(field)) + " of " + r + " not found in order", input, run);
                if (first < 0) {
                    first = at;
                }
            }
            if (first >= 0) {
                cursor = first;
            }
        }
    }

    static void check(boolean condition, String what, byte[] input, Run run) {
        if (!condition) {
            throw new AssertionError(what + "\ninput: " + Wire.escape(Wire.text(input))
                    + "\nrequests: " + Wire.describeAll(run.requests()));
        }
    }

    private static long count(byte[] bytes, byte b) {
        long n = 0;
        for (byte x : bytes) {
            if (x == b) {
                n++;
            }
        }
        return n;
    }

    private static int indexOf(byte[] bytes, byte b) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == b) {
                return i;
            }
        }
        return -1;
    }

    /** First offset at or after {@code from} where {@code needle} occurs in {@code hay}, or -1. */
    static int indexOf(byte[] hay, byte[] needle, int from) {
        outer:
        for (int i = from; i <= hay.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
