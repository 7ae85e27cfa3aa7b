package io.raftcached.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.raftcached.util.Limits;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Coverage-guided fuzz targets (Jazzer) for the protocol's parsers: the decoder on any byte stream
 * cut into reads at any points, the command parser on one line, the meta flag parser. Nothing a
 * client sends may throw; protocol errors are {@link CommandType#ERROR_REPLY} requests.
 *
 * <p>A plain {@code mvn verify} runs every file under
 * {@code src/test/resources/io/raftcached/protocol/ProtocolFuzzTestInputs/<method>/} as a
 * regression test: the seeds (built from the captured transcripts and the decoder tests), the
 * inputs fuzzing found that reach code the seeds do not ({@code found-<sha1>}, merged on edge
 * coverage), and crash inputs, named after what broke. With {@code JAZZER_FUZZ=1} Jazzer fuzzes one target for
 * {@link #MAX_DURATION} unless told otherwise (the {@code fuzz} profile of this module's pom, and
 * {@code bench/fuzz.sh}); a crashing input lands in that directory and fails the run.
 */
class ProtocolFuzzTest {
    /** For an IDE run with JAZZER_FUZZ=1; the fuzz profile and bench/fuzz.sh set their own. */
    static final String MAX_DURATION = "60s";

    /** Streams up to this long are also fed one byte per read (a read per byte is what costs). */
    private static final int EVERY_BYTE_MAX_BYTES = 512;

    /**
     * The decoder on {@code stream} with memcached's limits and with tiny ones (every bound within
     * reach of short inputs): fed whole, in reads of 1 to 16 bytes cut where the stream's own hash
     * says, and (short streams) one byte per read. All decodings are equal and each keeps every
     * invariant of {@link DecoderHarness#assertInvariants}.
     */
    @FuzzTest(maxDuration = MAX_DURATION)
    void decoderStream(byte[] stream) {
        for (DecoderConfig config : List.of(DecoderHarness.TINY, DecoderHarness.MEMCACHED)) {
            DecoderHarness.Run whole = DecoderHarness.feed(config, stream);
            DecoderHarness.assertInvariants(config, stream, whole);
            List<String> expected = Wire.describeAll(whole.requests());
            List<int[]> splits = stream.length <= EVERY_BYTE_MAX_BYTES
                    ? List.of(hashedCuts(stream), DecoderHarness.everyByte(stream.length))
                    : List.of(hashedCuts(stream));
            for (int[] cuts : splits) {
                DecoderHarness.Run split = DecoderHarness.feed(config, stream, cuts);
                DecoderHarness.assertInvariants(config, stream, split);
                assertEquals(expected, Wire.describeAll(split.requests()),
                        () -> "cut at " + Arrays.toString(cuts) + ": " + Wire.escape(Wire.text(stream)));
            }
        }
    }

    /** Reads of 1 to 16 bytes, their sizes drawn from a generator seeded by the stream. */
    private static int[] hashedCuts(byte[] stream) {
        Random random = new Random(Arrays.hashCode(stream));
        List<Integer> cuts = new ArrayList<>();
        for (int at = 1 + random.nextInt(16); at < stream.length; at += 1 + random.nextInt(16)) {
            cuts.add(at);
        }
        return cuts.stream().mapToInt(Integer::intValue).toArray();
    }

    /** A line that fills the tokenizer to its 23 tokens and leaves the rest of the line unsplit. */
    private static final byte[] BUSY_LINE = Wire.bytes("ms busy 5 T1 F2 C3 q k O" + "x".repeat(40) + " b v"
            + " a1 a2 a3 a4 a5 a6 a7 a8 a9 a10 a11 a12 a13 a14 a15 a16 a17 a18 a19");

    /**
     * One command line, as the decoder hands it over (any bytes; it has cut the newline and
     * anything after a NUL). The outcome is consistent, reads nothing past the line's length, and
     * does not depend on the line parsed before it.
     */
    @FuzzTest(maxDuration = MAX_DURATION)
    void commandLine(byte[] line) {
        ItemSizeCheck sizeCheck = DecoderHarness.TINY.itemSizeCheck();
        CommandParser.Outcome fresh = new CommandParser.Outcome();
        new CommandParser(sizeCheck).parse(line, line.length, fresh);
        String expected = describe(fresh);
        assertOutcomeConsistent(line, fresh, sizeCheck);

        byte[] padded = Arrays.copyOf(line, line.length + BUSY_LINE.length + 1);
        padded[line.length] = ' ';
        System.arraycopy(BUSY_LINE, 0, padded, line.length + 1, BUSY_LINE.length);
        CommandParser.Outcome bounded = new CommandParser.Outcome();
        new CommandParser(sizeCheck).parse(padded, line.length, bounded);
        assertEquals(expected, describe(bounded), "the parser read past the line");

        CommandParser reused = new CommandParser(sizeCheck);
        CommandParser.Outcome second = new CommandParser.Outcome();
        reused.parse(BUSY_LINE, BUSY_LINE.length, second);
        reused.parse(line, line.length, second);
        assertEquals(expected, describe(second), "the previous line changed this one's outcome");
    }

    private static void assertOutcomeConsistent(byte[] line, CommandParser.Outcome o, ItemSizeCheck sizeCheck) {
        String context = Wire.escape(Wire.text(line));
        assertTrue(o.swallowBytes >= 0 && o.swallowBytes <= Integer.MAX_VALUE, () -> "swallow " + o.swallowBytes + ": " + context);
        assertEquals(o.stop, o.request != null && o.request.closeConnection(), () -> "stop without a closing request: " + context);
        if (o.pending != null) {
            assertNull(o.request, () -> "a request and a pending data block: " + context);
            assertEquals(0, o.swallowBytes, () -> "swallow and data block: " + context);
            assertTrue(o.dataLength >= 0, () -> "negative data length: " + context);
            assertTrue(DecoderHarness.STORAGE.contains(o.pending.type()), () -> "pending " + o.pending.type() + ": " + context);
            byte[] key = o.pending.key();
            assertTrue(key != null && key.length > 0 && key.length <= Limits.KEY_MAX_BYTES, () -> "pending key: " + context);
            assertTrue(sizeCheck.fits(key.length, o.pending.clientFlags(), o.dataLength),
                    () -> "a data block that failed the size check would be read: " + context);
            assertEquals(o.pending.noreply(), o.badChunkSilent, () -> "bad chunk silence differs from noreply: " + context);
        } else {
            assertEquals(0, o.dataLength, () -> "data length without pending: " + context);
        }
        if (o.request != null) {
            assertFalse(DecoderHarness.STORAGE.contains(o.request.type()), () -> "storage request without data: " + context);
            DecoderHarness.assertWellFormed(o.request, line, new DecoderHarness.Run(List.of(o.request), 0, List.of()));
        }
    }

    private static String describe(CommandParser.Outcome o) {
        return (o.request == null ? "-" : Wire.describe(o.request))
                + " | pending=" + (o.pending == null ? "-" : Wire.describe(o.pending.value(new byte[0]).build()))
                + " data=" + o.dataLength + " silent=" + o.badChunkSilent + " swallow=" + o.swallowBytes + " stop=" + o.stop;
    }

    /**
     * The meta flags of a line "&lt;cmd&gt; &lt;key&gt; &lt;flags&gt;..." (after the data length
     * for "ms"): parsed exactly when memcached 1.6.18's {@code _meta_flag_preparse} accepts them,
     * refused with its error line otherwise, every number as glibc reads it ({@link GlibcNumbers}).
     */
    @FuzzTest(maxDuration = MAX_DURATION)
    void metaFlags(byte[] line) {
        LineTokenizer tokens = new LineTokenizer();
        int count = tokens.tokenize(line, line.length);
        if (count < 2) {
            return;
        }
        int firstFlag = tokens.is(line, 0, "ms") ? 3 : 2;
        String expectedError = expectedMetaFlagsError(line, tokens, firstFlag);
        MetaFlags flags;
        try {
            flags = MetaFlags.parse(line, tokens, firstFlag, tokens.start(1), tokens.end(1));
        } catch (ProtocolError e) {
            assertEquals(expectedError, e.replyLine(), () -> Wire.escape(Wire.text(line)));
            return;
        }
        assertNull(expectedError, () -> Wire.escape(Wire.text(line)));
        assertParsedAsMemcachedDoes(line, tokens, firstFlag, flags);
    }

    /** memcached's _meta_flag_preparse, rewritten from proto_text.c: null when it accepts the flags. */
    private static String expectedMetaFlagsError(byte[] line, LineTokenizer tokens, int firstFlag) {
        boolean[] seen = new boolean[127];
        String error = null;
        boolean badClientFlags = false;
        for (int t = firstFlag; t < tokens.count(); t++) {
            int from = tokens.start(t);
            int to = tokens.end(t);
            int o = line[from] & 0xff;
            if (o >= 127 || seen[o]) {
                return MetaFlags.ERR_DUPLICATE;
            }
            seen[o] = true;
            switch (o) {
                case 'b' -> {
                    if (Base64Keys.decode(line, tokens.start(1), tokens.end(1)) == null) {
                        error = MetaFlags.ERR_DECODING_KEY;
                    }
                }
                case 'N', 'T', 'R' -> {
                    if (GlibcNumbers.safeStrtol(line, from + 1, to) == null) {
                        error = MetaFlags.ERR_BAD_TOKEN;
                    }
                }
                case 'C', 'E' -> {
                    if (GlibcNumbers.safeStrtoull(line, from + 1, to) == null) {
                        error = MetaFlags.ERR_BAD_TOKEN;
                    }
                }
                case 'F' -> badClientFlags |= GlibcNumbers.safeStrtoul(line, from + 1, to) == null;
                case 'M' -> {
                    if (to - from != 2) {
                        error = MetaFlags.ERR_M_LENGTH;
                    }
                }
                case 'J' -> {
                    if (GlibcNumbers.safeStrtoull(line, from + 1, to) == null) {
                        error = MetaFlags.ERR_INITIAL;
                    }
                }
                case 'D' -> {
                    if (GlibcNumbers.safeStrtoull(line, from + 1, to) == null) {
                        error = MetaFlags.ERR_DELTA;
                    }
                }
                case 'l', 'O', 'P', 'L', 'k', 's', 't', 'c', 'f', 'v', 'h', 'u', 'q', 'I' -> {
                }
                default -> {
                    return MetaFlags.ERR_INVALID;
                }
            }
        }
        return error != null ? error : badClientFlags ? MetaFlags.ERR_BAD_FORMAT : null;
    }

    /** Every accessor agrees with the tokens, read the way memcached reads them. */
    private static void assertParsedAsMemcachedDoes(byte[] line, LineTokenizer tokens, int firstFlag, MetaFlags flags) {
        String context = Wire.escape(Wire.text(line));
        int count = tokens.count();
        assertEquals(Math.max(0, count - firstFlag), flags.order().length, context);
        for (int t = firstFlag; t < count; t++) {
            assertEquals(line[tokens.start(t)], flags.order()[t - firstFlag], context);
        }
        int[] at = new int[128];
        Arrays.fill(at, -1);
        for (int t = firstFlag; t < count; t++) {
            at[line[tokens.start(t)]] = t;
        }
        assertEquals(at['v'] >= 0, flags.returnValue(), context);
        assertEquals(at['q'] >= 0, flags.noReply(), context);
        assertEquals(at['u'] >= 0, flags.noLruBump(), context);
        assertEquals(at['I'] >= 0, flags.invalidate(), context);
        assertEquals(at['N'] >= 0, flags.hasVivify(), context);
        assertEquals(at['T'] >= 0, flags.hasTouch(), context);
        assertEquals(at['R'] >= 0, flags.hasRecache(), context);
        assertEquals(at['C'] >= 0, flags.hasCompareCas(), context);
        assertEquals(at['E'] >= 0, flags.hasNewCas(), context);
        assertEquals(at['b'] >= 0, flags.keyBinary(), context);
        assertEquals((int) intArgument(line, tokens, at['N'], 0), flags.vivifyExptime(), context);
        assertEquals((int) intArgument(line, tokens, at['T'], 0), flags.touchExptime(), context);
        assertEquals((int) intArgument(line, tokens, at['R'], 0), flags.recacheExptime(), context);
        assertEquals(at['F'] < 0 ? 0 : GlibcNumbers.safeStrtoul(line, tokens.start(at['F']) + 1, tokens.end(at['F'])),
                flags.clientFlags(), context);
        assertEquals(longArgument(line, tokens, at['C'], 0), flags.compareCas(), context);
        assertEquals(longArgument(line, tokens, at['E'], 0), flags.newCas(), context);
        assertEquals(longArgument(line, tokens, at['D'], 1), flags.delta(), context);
        assertEquals(longArgument(line, tokens, at['J'], 0), flags.initial(), context);
        assertEquals(at['M'] < 0 ? 0 : line[tokens.start(at['M']) + 1], flags.mode(), context);
        if (at['O'] >= 0) {
            assertArrayEquals(Arrays.copyOfRange(line, tokens.start(at['O']), tokens.end(at['O'])), flags.opaqueToken(), context);
        } else {
            assertNull(flags.opaqueToken(), context);
        }
        if (flags.keyBinary()) {
            byte[] key = flags.decodedKey();
            int keyLength = tokens.length(1);
            assertTrue(key.length > 0 && key.length <= keyLength / 4 * 3, context);
            byte[] encoded = Base64Keys.encode(key);
            assertArrayEquals(key, Base64Keys.decode(encoded, 0, encoded.length), context);
        }
    }

    private static long intArgument(byte[] line, LineTokenizer tokens, int token, int absent) {
        return token < 0 ? absent : GlibcNumbers.safeStrtol(line, tokens.start(token) + 1, tokens.end(token));
    }

    private static long longArgument(byte[] line, LineTokenizer tokens, int token, long absent) {
        return token < 0 ? absent : GlibcNumbers.safeStrtoull(line, tokens.start(token) + 1, tokens.end(token));
    }
}
