package io.raftcached.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.raftcached.util.Limits;
import io.raftcached.util.SafeNumbers;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * Properties of the decoder and its number and key parsers (jqwik), on generated command streams:
 * well formed and malformed, classic and meta, pipelined, cut into reads anywhere. They run on the
 * JUnit platform beside the Jupiter tests; a failure prints the shrunk stream and its seed.
 */
class DecoderPropertiesTest {
    private static final List<DecoderConfig> CONFIGS = List.of(DecoderHarness.TINY, DecoderHarness.MEMCACHED);

    /** Pipelined commands of every kind, sometimes closed by an over-long line, HTTP, quit, or binary first byte. */
    @Provide
    Arbitrary<byte[]> streams() {
        Arbitrary<byte[]> command = Arbitraries.randomValue(
                random -> new CommandStreams(random, "k", CommandStreams.Scope.ANY).command());
        Arbitrary<CommandStreams.Ending> ending = Arbitraries.frequency(Tuple.of(5, CommandStreams.Ending.NONE),
                Tuple.of(1, CommandStreams.Ending.QUIT), Tuple.of(1, CommandStreams.Ending.HTTP),
                Tuple.of(2, CommandStreams.Ending.LONG_LINE), Tuple.of(1, CommandStreams.Ending.BINARY));
        return Combinators.combine(command.list().ofMaxSize(25), ending, Arbitraries.randoms()).as((commands, kind, random) -> {
            byte[] end = new CommandStreams(random, "k", CommandStreams.Scope.ANY).ending(kind);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (kind == CommandStreams.Ending.BINARY) {
                out.writeBytes(end); // the binary protocol is told by a connection's first byte
            }
            commands.forEach(out::writeBytes);
            if (kind != CommandStreams.Ending.BINARY) {
                out.writeBytes(end);
            }
            return out.toByteArray();
        });
    }

    /** Streams, raw bytes, and long runs of what the framing looks for (spaces, "get ", '\r'). */
    @Provide
    Arbitrary<byte[]> hostile() {
        Arbitrary<byte[]> runs = Arbitraries.of(" ", "get ", "gets ", "x", "\r", "\r\n", "set k 0 0 99999\r\n", "ms k 2000 T0\r\n")
                .flatMap(piece -> Arbitraries.integers().between(1, 3000)
                        .map(times -> piece.repeat(Math.max(1, times / piece.length())).getBytes(StandardCharsets.ISO_8859_1)))
                .list().ofMaxSize(6)
                .map(DecoderPropertiesTest::concat);
        return Arbitraries.oneOf(streams(), runs, Arbitraries.bytes().array(byte[].class).ofMaxSize(5000));
    }

    @Property(tries = 500)
    void anyCutsGiveTheRequestsOfOneRead(@ForAll("streams") byte[] stream,
                                         @ForAll @Size(max = 40) List<@DoubleRange(min = 0, max = 1) Double> cutsAt) {
        int[] cuts = cutsAt.stream().mapToInt(f -> (int) (f * stream.length)).sorted().distinct().toArray();
        for (DecoderConfig config : CONFIGS) {
            DecoderHarness.Run whole = DecoderHarness.feed(config, stream);
            DecoderHarness.Run split = DecoderHarness.feed(config, stream, cuts);
            DecoderHarness.assertInvariants(config, stream, split);
            assertEquals(Wire.describeAll(whole.requests()), Wire.describeAll(split.requests()),
                    () -> "cut at " + Arrays.toString(cuts));
        }
    }

    @Property(tries = 300)
    void bufferedBytesStayWithinTheBound(@ForAll("hostile") byte[] stream, @ForAll @IntRange(min = 1, max = 4096) int readBytes) {
        int[] cuts = new int[stream.length / readBytes];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = (i + 1) * readBytes;
        }
        for (DecoderConfig config : CONFIGS) {
            DecoderHarness.assertInvariants(config, stream, DecoderHarness.feed(config, stream, cuts));
        }
    }

    @Provide
    Arbitrary<String> keys() {
        // any byte but the separator, the line end and NUL (which ends memcached's C string)
        return Arbitraries.strings().withCharRange('!', '~').withCharRange('\u0080', '\u00ff').withChars('\t', '\r')
                .ofMinLength(1).ofMaxLength(Limits.KEY_MAX_BYTES);
    }

    @Property(tries = 500)
    void aWellFormedStorageCommandRoundTrips(@ForAll("storageCommands") CommandType type, @ForAll("keys") String key,
                                             @ForAll @LongRange(min = 0, max = 0xffffffffL) long flags, @ForAll int exptime,
                                             @ForAll @Size(max = 600) byte[] value, @ForAll long cas, @ForAll boolean noreply,
                                             @ForAll @IntRange(min = 1, max = 64) int readBytes) {
        String line = type.name().toLowerCase() + " " + key + " " + flags + " " + exptime + " " + value.length
                + (type == CommandType.CAS ? " " + Long.toUnsignedString(cas) : "") + (noreply ? " noreply" : "") + "\r\n";
        byte[] stream = concat(List.of(Wire.bytes(line), value, Wire.bytes("\r\n")));
        Request r = single(stream, readBytes);
        assertEquals(type, r.type());
        assertEquals(key, r.keyString());
        assertEquals((int) flags, r.clientFlags());
        assertEquals(exptime, r.exptime());
        assertArrayEquals(value, r.value());
        assertEquals(type == CommandType.CAS ? cas : 0, r.casUnique());
        assertEquals(noreply, r.noreply());
    }

    @Provide
    Arbitrary<CommandType> storageCommands() {
        return Arbitraries.of(CommandType.SET, CommandType.ADD, CommandType.REPLACE, CommandType.APPEND,
                CommandType.PREPEND, CommandType.CAS);
    }

    @Property(tries = 500)
    void aWellFormedMetaSetRoundTrips(@ForAll @Size(min = 1, max = 186) byte[] binaryKey, @ForAll("keys") String key,
                                      @ForAll boolean base64, @ForAll @LongRange(min = 0, max = 0xffffffffL) long flags,
                                      @ForAll int ttl, @ForAll long cas, @ForAll boolean withCas,
                                      @ForAll("metaSetModes") String mode, @ForAll @Size(max = 600) byte[] value,
                                      @ForAll @IntRange(min = 1, max = 64) int readBytes) {
        String keyToken = base64 ? Base64.getEncoder().encodeToString(binaryKey) : key;
        String line = "ms " + keyToken + " " + value.length + (base64 ? " b" : "") + " F" + flags + " T" + ttl
                + (withCas ? " C" + Long.toUnsignedString(cas) : "") + (mode.isEmpty() ? "" : " M" + mode) + " k c\r\n";
        Request r = single(concat(List.of(Wire.bytes(line), value, Wire.bytes("\r\n"))), readBytes);
        assertEquals(CommandType.META_SET, r.type());
        assertArrayEquals(base64 ? binaryKey : Wire.bytes(key), r.key());
        assertEquals((int) flags, r.clientFlags());
        assertEquals(ttl, r.exptime());
        assertEquals(withCas ? cas : 0, r.casUnique());
        assertArrayEquals(value, r.value());
        CommandType expectedMode = switch (mode) {
            case "E" -> CommandType.ADD;
            case "A" -> CommandType.APPEND;
            case "P" -> CommandType.PREPEND;
            case "R" -> withCas ? CommandType.CAS : CommandType.REPLACE;
            default -> withCas ? CommandType.CAS : CommandType.SET;
        };
        assertEquals(expectedMode, r.metaSetMode());
    }

    @Provide
    Arbitrary<String> metaSetModes() {
        return Arbitraries.of("", "S", "E", "A", "P", "R");
    }

    /** Decodes a stream in reads of {@code readBytes}, expecting exactly one request. */
    private static Request single(byte[] stream, int readBytes) {
        int[] cuts = new int[stream.length / readBytes];
        for (int i = 0; i < cuts.length; i++) {
            cuts[i] = (i + 1) * readBytes;
        }
        DecoderHarness.Run run = DecoderHarness.feed(DecoderHarness.MEMCACHED, stream, cuts);
        DecoderHarness.assertInvariants(DecoderHarness.MEMCACHED, stream, run);
        assertEquals(1, run.requests().size(), () -> Wire.describeAll(run.requests()).toString());
        return run.requests().get(0);
    }

    /** Number tokens as clients and fuzzers write them: C-locale spaces, signs, digits, trailers. */
    @Provide
    Arbitrary<String> numberTokens() {
        Arbitrary<String> spaces = Arbitraries.strings().withChars('\t', '\n', '\u000b', '\f', '\r').ofMaxLength(2);
        Arbitrary<String> sign = Arbitraries.of("", "", "+", "-", "+-", "--");
        Arbitrary<String> digits = Arbitraries.oneOf(
                Arbitraries.strings().numeric().ofMaxLength(25),
                Arbitraries.of("9223372036854775807", "9223372036854775808", "18446744073709551615",
                        "18446744073709551616", "2147483647", "2147483648", "4294967295", "4294967296", "0000000000000000000001"));
        Arbitrary<String> trailer = Arbitraries.of("", "", "\t", "\tjunk", "x", "\u0001", "\u0085", " ");
        return Combinators.combine(spaces, sign, digits, trailer).as((a, b, c, d) -> a + b + c + d);
    }

    @Property(tries = 2000)
    void safeNumbersAgreeWithGlibc(@ForAll("numberTokens") String token) {
        byte[] b = token.getBytes(StandardCharsets.ISO_8859_1);
        assertEquals(GlibcNumbers.safeStrtol(b, 0, b.length), parsed(() -> SafeNumbers.strtol32(b, 0, b.length)), token);
        assertEquals(GlibcNumbers.safeStrtoul(b, 0, b.length), parsed(() -> SafeNumbers.strtoul32(b, 0, b.length)), token);
        assertEquals(GlibcNumbers.safeStrtoull(b, 0, b.length), parsed(() -> SafeNumbers.strtoull(b, 0, b.length)), token);
    }

    private interface Parse {
        Number run() throws SafeNumbers.NotANumber;
    }

    private static Number parsed(Parse parse) {
        try {
            return parse.run();
        } catch (SafeNumbers.NotANumber e) {
            return null;
        }
    }

    @Property(tries = 1000)
    void base64KeysRoundTripAndSkipBytesOutsideTheAlphabet(@ForAll @Size(min = 1, max = 187) byte[] key,
                                                            @ForAll @IntRange(min = 0, max = 300) int junkAt) {
        byte[] encoded = Base64Keys.encode(key);
        assertArrayEquals(Base64.getEncoder().encode(key), encoded);
        assertArrayEquals(key, Base64Keys.decode(encoded, 0, encoded.length));
        int at = Math.min(junkAt, encoded.length);
        byte[] withJunk = concat(List.of(Arrays.copyOf(encoded, at), Wire.bytes("!\t*"), Arrays.copyOfRange(encoded, at, encoded.length)));
        assertArrayEquals(key, Base64Keys.decode(withJunk, 0, withJunk.length));
    }

    private static byte[] concat(List<byte[]> parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        parts.forEach(out::writeBytes);
        return out.toByteArray();
    }
}
