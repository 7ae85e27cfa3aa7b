package io.raftcached.protocol;

import io.raftcached.util.SafeNumbers;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The flags of one meta command (mg ms md ma), parsed as memcached 1.6.18's
 * {@code _meta_flag_preparse} does, and kept in request order because replies echo the return
 * flags (O k c t s f h l) in the order they were asked for.
 *
 * <p>Parsing rules reproduced (each pinned against the binary in {@code MetaFlagsTest}):
 * <ul>
 *   <li>only the first byte of a token names the flag; the rest is its argument or ignored
 *       ({@code vvv} is {@code v});</li>
 *   <li>a byte &ge; 127 or a repeated flag stops parsing with "CLIENT_ERROR duplicate flag"; an unknown
 *       flag stops it with "CLIENT_ERROR invalid flag";</li>
 *   <li>a bad argument does not stop parsing: the error reported is the last one set, and a bad
 *       {@code F} sets none, leaving "CLIENT_ERROR bad command line format";</li>
 *   <li>{@code N T R} parse like exptimes (int32 after a 64-bit parse), {@code F} as uint32,
 *       {@code C D J E} as uint64 (see {@link SafeNumbers});</li>
 *   <li>{@code b} base64-decodes the key where it stands in the flag order
 *       ("CLIENT_ERROR error decoding key");</li>
 *   <li>{@code M} must be exactly two bytes ("CLIENT_ERROR incorrect length for M token"); which
 *       modes are valid depends on the command and is checked by the caller.</li>
 * </ul>
 * md and ma report every error above as "CLIENT_ERROR invalid or duplicate flag"; the caller maps it.
 *
 * <p><b>Deviation, on purpose:</b> {@code E<uint64>} (use this value as the item's new CAS) is
 * accepted on every meta command although 1.6.18 answers "CLIENT_ERROR invalid flag". raftcached
 * follows memcached 1.6.21+ there (see doc/protocol.txt of 1.6.30), because an explicit CAS lets a
 * client version items from an external clock, and the replicated CAS counter supports it. A bad E
 * argument is "CLIENT_ERROR bad token in command line format", as in 1.6.30.
 *
 * <p>Immutable once parsed; the arrays it hands out must not be modified.
 */
public final class MetaFlags {
    /** memcached's MFLAG_MAX_OPAQUE_LENGTH: an O token, its 'O' included, may be 32 bytes. */
    public static final int MAX_OPAQUE_TOKEN_BYTES = 32;
    /**
     * memcached's MFLAG_MAX_OPT_LENGTH: a meta command line may have at most this many tokens,
     * counting the command, key, (ms) data length, flags, and memcached's terminal empty token.
     */
    public static final int MAX_TOKENS_WITH_TERMINAL = 20;

    static final String ERR_DUPLICATE = "CLIENT_ERROR duplicate flag";
    static final String ERR_INVALID = "CLIENT_ERROR invalid flag";
    static final String ERR_BAD_TOKEN = "CLIENT_ERROR bad token in command line format";
    static final String ERR_BAD_FORMAT = "CLIENT_ERROR bad command line format";
    static final String ERR_DECODING_KEY = "CLIENT_ERROR error decoding key";
    static final String ERR_M_LENGTH = "CLIENT_ERROR incorrect length for M token";
    static final String ERR_INITIAL = "CLIENT_ERROR invalid numeric initial value";
    static final String ERR_DELTA = "CLIENT_ERROR invalid numeric delta value";

    private final byte[] order;
    private final byte[] opaqueToken;
    private final byte[] decodedKey;
    private final boolean keyBinary;
    private final boolean noReply;
    private final boolean returnValue;
    private final boolean noLruBump;
    private final boolean invalidate;
    private final byte mode;
    private final boolean hasVivify;
    private final int vivifyExptime;
    private final boolean hasTouch;
    private final int touchExptime;
    private final boolean hasRecache;
    private final int recacheExptime;
    private final int clientFlags;
    private final boolean hasCompareCas;
    private final long compareCas;
    private final boolean hasNewCas;
    private final long newCas;
    private final long delta;
    private final long initial;

    private MetaFlags(Parser p) {
        this.order = p.order;
        this.opaqueToken = p.opaqueToken;
        this.decodedKey = p.decodedKey;
        this.keyBinary = p.keyBinary;
        this.noReply = p.noReply;
        this.returnValue = p.returnValue;
        this.noLruBump = p.noLruBump;
        this.invalidate = p.invalidate;
        this.mode = p.mode;
        this.hasVivify = p.hasVivify;
        this.vivifyExptime = p.vivifyExptime;
        this.hasTouch = p.hasTouch;
        this.touchExptime = p.touchExptime;
        this.hasRecache = p.hasRecache;
        this.recacheExptime = p.recacheExptime;
        this.clientFlags = p.clientFlags;
        this.hasCompareCas = p.hasCompareCas;
        this.compareCas = p.compareCas;
        this.hasNewCas = p.hasNewCas;
        this.newCas = p.newCas;
        this.delta = p.delta;
        this.initial = p.initial;
    }

    /** No flags at all (e.g. a bare {@code mg key}). */
    static final MetaFlags NONE = new MetaFlags(new Parser());

    /**
     * Parses the flag tokens {@code [firstFlag, tokens.count())} of a tokenized line.
     *
     * @param keyFrom start of the key token in {@code line} (decoded in place of the flag order if
     *                {@code b} is present)
     * @throws ProtocolError with memcached's mg/ms wording; md and ma callers remap it
     */
    static MetaFlags parse(byte[] line, LineTokenizer tokens, int firstFlag, int keyFrom, int keyTo)
            throws ProtocolError {
        int count = tokens.count();
        if (count <= firstFlag) {
            return NONE;
        }
        Parser p = new Parser();
        p.order = new byte[count - firstFlag];
        long seenLow = 0; // flags 0..63 seen so far, as bits
        long seenHigh = 0; // flags 64..126
        String error = null;
        for (int t = firstFlag; t < count; t++) {
            int from = tokens.start(t);
            int to = tokens.end(t);
            int o = line[from] & 0xff;
            if (o >= 127 || ((o < 64 ? seenLow : seenHigh) & (1L << (o & 63))) != 0) {
                throw new ProtocolError(ERR_DUPLICATE); // memcached's wording for bytes >= 127 too
            }
            if (o < 64) {
                seenLow |= 1L << o;
            } else {
                seenHigh |= 1L << (o - 64);
            }
            p.order[t - firstFlag] = (byte) o;
            try {
                switch (o) {
                    case 'b' -> {
                        p.keyBinary = true;
                        p.decodedKey = Base64Keys.decode(line, keyFrom, keyTo);
                        if (p.decodedKey == null) {
                            error = ERR_DECODING_KEY;
                        }
                    }
                    case 'N' -> {
                        p.hasVivify = true;
                        p.vivifyExptime = SafeNumbers.strtol32(line, from + 1, to);
                    }
                    case 'T' -> {
                        p.hasTouch = true;
                        p.touchExptime = SafeNumbers.strtol32(line, from + 1, to);
                    }
                    case 'R' -> {
                        p.hasRecache = true;
                        p.recacheExptime = SafeNumbers.strtol32(line, from + 1, to);
                    }
                    case 'O' -> p.opaqueToken = Arrays.copyOfRange(line, from, to);
                    case 'l', 'P', 'L', 'k', 's', 't', 'c', 'f', 'h' -> {
                        // known; return flags are echoed from `order`, P and L are accepted and ignored
                    }
                    case 'v' -> p.returnValue = true;
                    case 'u' -> p.noLruBump = true;
                    case 'q' -> p.noReply = true;
                    case 'I' -> p.invalidate = true;
                    case 'F' -> {
                        try {
                            p.clientFlags = SafeNumbers.strtoul32(line, from + 1, to);
                        } catch (SafeNumbers.NotANumber e) {
                            // memcached flags the error without naming it: the default message stays
                            p.failedWithoutMessage = true;
                        }
                    }
                    case 'C' -> {
                        p.compareCas = SafeNumbers.strtoull(line, from + 1, to);
                        p.hasCompareCas = true;
                    }
                    case 'E' -> {
                        // raftcached extension (memcached >= 1.6.21), see the class comment
                        p.newCas = SafeNumbers.strtoull(line, from + 1, to);
                        p.hasNewCas = true;
                    }
                    case 'M' -> {
                        if (to - from != 2) {
                            error = ERR_M_LENGTH;
                        } else {
                            p.mode = line[from + 1];
                        }
                    }
                    case 'J' -> {
                        try {
                            p.initial = SafeNumbers.strtoull(line, from + 1, to);
                        } catch (SafeNumbers.NotANumber e) {
                            error = ERR_INITIAL;
                        }
                    }
                    case 'D' -> {
                        try {
                            p.delta = SafeNumbers.strtoull(line, from + 1, to);
                        } catch (SafeNumbers.NotANumber e) {
                            error = ERR_DELTA;
                        }
                    }
                    default -> throw new ProtocolError(ERR_INVALID);
                }
            } catch (SafeNumbers.NotANumber e) {
                error = ERR_BAD_TOKEN; // N T R C E
            }
        }
        if (error != null) {
            throw new ProtocolError(error);
        }
        if (p.failedWithoutMessage) {
            throw new ProtocolError(ERR_BAD_FORMAT);
        }
        return new MetaFlags(p);
    }

    /** Mutable scratch used while parsing. */
    private static final class Parser {
        byte[] order = new byte[0];
        byte[] opaqueToken;
        byte[] decodedKey;
        boolean keyBinary;
        boolean noReply;
        boolean returnValue;
        boolean noLruBump;
        boolean invalidate;
        byte mode;
        boolean hasVivify;
        int vivifyExptime;
        boolean hasTouch;
        int touchExptime;
        boolean hasRecache;
        int recacheExptime;
        int clientFlags;
        boolean hasCompareCas;
        long compareCas;
        boolean hasNewCas;
        long newCas;
        long delta = 1; // ma without D adds or subtracts one
        long initial;
        boolean failedWithoutMessage;
    }

    /** The first byte of every flag token, in request order (e.g. {@code "vkO"} for v k Oabc). */
    public byte[] order() {
        return order;
    }

    /** Whether the flag {@code c} was sent. */
    public boolean has(char flag) {
        for (byte b : order) {
            if (b == flag) {
                return true;
            }
        }
        return false;
    }

    /** The whole O token, 'O' included, as it is echoed; null without O. */
    public byte[] opaqueToken() {
        return opaqueToken;
    }

    /** The O token is longer than {@link #MAX_OPAQUE_TOKEN_BYTES}. */
    boolean opaqueTooLong() {
        return opaqueToken != null && opaqueToken.length > MAX_OPAQUE_TOKEN_BYTES;
    }

    /** The key is base64-encoded binary ({@code b}); keys are echoed re-encoded with a trailing " b". */
    public boolean keyBinary() {
        return keyBinary;
    }

    /** The key after base64 decoding (only with {@link #keyBinary()}). */
    byte[] decodedKey() {
        return decodedKey;
    }

    /** {@code q}: suppress the nominal reply (EN for mg, HD for ms/md/ma); errors are always sent. */
    public boolean noReply() {
        return noReply;
    }

    /** {@code v}: return the value (VA instead of HD). */
    public boolean returnValue() {
        return returnValue;
    }

    /** {@code u}: do not bump the item in the LRU. */
    public boolean noLruBump() {
        return noLruBump;
    }

    /** {@code I}: invalidate — md marks stale instead of deleting; ms with C may store over a stale item. */
    public boolean invalidate() {
        return invalidate;
    }

    /** The byte after {@code M}, or 0 without M (ms: E A P R S; ma: I + D -). */
    public byte mode() {
        return mode;
    }

    /** {@code N<exptime>}: vivify on miss. */
    public boolean hasVivify() {
        return hasVivify;
    }

    /** Raw exptime of N, as memcached parsed it (not yet through the 30-day rule). */
    public int vivifyExptime() {
        return vivifyExptime;
    }

    /** {@code T<exptime>}: touch (mg, ma, md with I) or set the TTL (ms). */
    public boolean hasTouch() {
        return hasTouch;
    }

    /** Raw exptime of T; 0 without T (ms without T stores with exptime 0). */
    public int touchExptime() {
        return touchExptime;
    }

    /** {@code R<exptime>}: win the recache token when the remaining TTL is below this. */
    public boolean hasRecache() {
        return hasRecache;
    }

    /** Raw exptime of R. */
    public int recacheExptime() {
        return recacheExptime;
    }

    /** {@code F<uint32>} client flags for ms, 0 without F. */
    public int clientFlags() {
        return clientFlags;
    }

    /** {@code C<uint64>}: compare CAS. */
    public boolean hasCompareCas() {
        return hasCompareCas;
    }

    /** The C value (uint64 in a long). */
    public long compareCas() {
        return compareCas;
    }

    /** {@code E<uint64>}: explicit new CAS value (raftcached extension, see class comment). */
    public boolean hasNewCas() {
        return hasNewCas;
    }

    /** The E value (uint64 in a long). */
    public long newCas() {
        return newCas;
    }

    /** {@code D<uint64>} for ma; 1 when absent. */
    public long delta() {
        return delta;
    }

    /** {@code J<uint64>} initial value for ma with N; 0 when absent. */
    public long initial() {
        return initial;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("MetaFlags[");
        sb.append(new String(order, StandardCharsets.ISO_8859_1));
        if (opaqueToken != null) {
            sb.append(" opaque=").append(new String(opaqueToken, StandardCharsets.ISO_8859_1));
        }
        return sb.append(']').toString();
    }
}
