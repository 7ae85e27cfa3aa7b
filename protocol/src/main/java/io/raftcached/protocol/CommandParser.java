package io.raftcached.protocol;

import io.raftcached.util.Limits;
import io.raftcached.util.SafeNumbers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Turns one command line into a {@link Request} (or the header of one that waits for its data
 * block), following memcached 1.6.18's {@code process_command_ascii} and the per-command functions
 * of proto_text.c: same dispatch, same token-count checks (memcached's WANT_TOKENS, which answer a
 * bare "ERROR"), same checks in the same order, same error lines, same noreply suppression.
 *
 * <p>Reused for every line of a connection; not thread-safe.
 */
final class CommandParser {

    /** What the decoder must do after one line. Reused; {@link #reset()} before each line. */
    static final class Outcome {
        /** Emit this now (null: nothing to emit). */
        Request request;
        /** A storage command waiting for {@link #dataLength} bytes plus "\r\n". */
        Request.Builder pending;
        int dataLength;
        /** For a pending command: suppress "CLIENT_ERROR bad data chunk" (classic noreply). */
        boolean badChunkSilent;
        /** Bytes to discard after this line (a refused storage command's data block). */
        long swallowBytes;
        /** Stop decoding: the emitted request closes the connection. */
        boolean stop;

        void reset() {
            request = null;
            pending = null;
            dataLength = 0;
            badChunkSilent = false;
            swallowBytes = 0;
            stop = false;
        }
    }

    private final LineTokenizer tok = new LineTokenizer();
    private final ItemSizeCheck itemSizeCheck;

    CommandParser(ItemSizeCheck itemSizeCheck) {
        this.itemSizeCheck = itemSizeCheck;
    }

    /** Parses {@code line[0, length)} (newline, trailing '\r' and anything after a NUL removed). */
    void parse(byte[] line, int length, Outcome out) {
        out.reset();
        int n = tok.tokenize(line, length);
        int ntokens = n + 1;
        // All commands need a minimum of two tokens and none is shorter than two bytes.
        if (n == 0 || tok.length(0) < 2) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        int cmdFrom = tok.start(0);
        int cmdLen = tok.length(0);
        byte first = line[cmdFrom];
        if (first == 'm' && cmdLen == 2) {
            switch (line[cmdFrom + 1]) {
                case 'g' -> metaGet(line, ntokens, out);
                case 's' -> metaSet(line, ntokens, out);
                case 'd' -> metaDelete(line, ntokens, out);
                case 'n' -> out.request = Request.builder(CommandType.META_NOOP).build();
                case 'a' -> metaArithmetic(line, ntokens, out);
                case 'e' -> metaDebug(line, ntokens, out);
                default -> error(out, Replies.ERROR_LINE);
            }
        } else if (first == 'g') {
            if (ntokens < 3) {
                error(out, Replies.ERROR_LINE);
            } else if (tok.is(line, 0, "get")) {
                retrieval(CommandType.GET, line, length, out);
            } else if (tok.is(line, 0, "gets")) {
                retrieval(CommandType.GETS, line, length, out);
            } else if (tok.is(line, 0, "gat")) {
                retrieval(CommandType.GAT, line, length, out);
            } else if (tok.is(line, 0, "gats")) {
                retrieval(CommandType.GATS, line, length, out);
            } else {
                error(out, Replies.ERROR_LINE);
            }
        } else if (first == 's') {
            if (tok.is(line, 0, "set")) {
                storage(CommandType.SET, line, ntokens, out);
            } else if (tok.is(line, 0, "stats")) {
                out.request = Request.builder(CommandType.STATS).args(tokens(line, 1)).build();
            } else if (tok.is(line, 0, "shutdown")) {
                shutdown(line, ntokens, out);
            } else if (tok.is(line, 0, "slabs")) {
                // memcached reads noreply only in the "slabs automove" branch
                boolean automove = ntokens >= 4 && tok.is(line, 1, "automove");
                admin(line, automove && lastIsNoreply(line), out);
            } else {
                error(out, Replies.ERROR_LINE);
            }
        } else if (first == 'a') {
            if (tok.is(line, 0, "add")) {
                storage(CommandType.ADD, line, ntokens, out);
            } else if (tok.is(line, 0, "append")) {
                storage(CommandType.APPEND, line, ntokens, out);
            } else {
                error(out, Replies.ERROR_LINE);
            }
        } else if (first == 'c') {
            if (tok.is(line, 0, "cas")) {
                storage(CommandType.CAS, line, ntokens, out);
            } else if (tok.is(line, 0, "cache_memlimit")) {
                if (ntokens != 3 && ntokens != 4) {
                    error(out, Replies.ERROR_LINE);
                } else {
                    admin(line, lastIsNoreply(line), out);
                }
            } else {
                error(out, Replies.ERROR_LINE);
            }
        } else if (first == 'i') {
            if (tok.is(line, 0, "incr")) {
                arithmetic(CommandType.INCR, line, ntokens, out);
            } else {
                error(out, Replies.ERROR_LINE);
            }
        } else if (first == 'd') {
            if (tok.is(line, 0, "delete")) {
                delete(line, ntokens, out);
            } else if (tok.is(line, 0, "decr")) {
                arithmetic(CommandType.DECR, line, ntokens, out);
            } else {
                error(out, Replies.ERROR_LINE); // debugtime exists only in debug builds
            }
        } else if (first == 't') {
            if (tok.is(line, 0, "touch")) {
                touch(line, ntokens, out);
            } else {
                error(out, Replies.ERROR_LINE);
            }
        } else if (tok.is(line, 0, "replace")) {
            storage(CommandType.REPLACE, line, ntokens, out);
        } else if (tok.is(line, 0, "prepend")) {
            storage(CommandType.PREPEND, line, ntokens, out);
        } else if (tok.is(line, 0, "bget")) {
            // ancient alias of get, still accepted by memcached
            if (ntokens < 3) {
                error(out, Replies.ERROR_LINE);
            } else {
                retrieval(CommandType.GET, line, length, out);
            }
        } else if (tok.is(line, 0, "flush_all")) {
            flushAll(line, ntokens, out);
        } else if (tok.is(line, 0, "version")) {
            out.request = Request.builder(CommandType.VERSION).build();
        } else if (tok.is(line, 0, "quit")) {
            out.request = Request.builder(CommandType.QUIT).closeConnection(true).build();
            out.stop = true;
        } else if (tok.is(line, 0, "lru_crawler")) {
            admin(line, false, out);
        } else if (tok.is(line, 0, "watch")) {
            admin(line, lastIsNoreply(line), out);
        } else if (tok.is(line, 0, "verbosity")) {
            verbosity(line, ntokens, out);
        } else if (tok.is(line, 0, "lru") || tok.is(line, 0, "extstore")) {
            if (ntokens < 3) {
                error(out, Replies.ERROR_LINE);
            } else {
                admin(line, lastIsNoreply(line), out);
            }
        } else if (tok.is(line, 0, "refresh_certs")) {
            admin(line, lastIsNoreply(line), out);
        } else if (startsWith(line, tok.start(n - 1), tok.end(n - 1), "HTTP/")) {
            // memcached closes silently on what looks like an HTTP request line
            out.request = Request.error(null, true);
            out.stop = true;
        } else {
            // includes misbehave and debugtime, which Debian's build does not compile in
            error(out, Replies.ERROR_LINE);
        }
    }

    // ---- classic commands ----

    private void retrieval(CommandType type, byte[] line, int length, Outcome out) {
        int firstKeyToken = 1;
        int exptime = 0;
        if (type == CommandType.GAT || type == CommandType.GATS) {
            try {
                exptime = SafeNumbers.strtol32(line, tok.start(1), tok.end(1));
            } catch (SafeNumbers.NotANumber e) {
                error(out, Replies.CLIENT_ERROR_INVALID_EXPTIME);
                return;
            }
            firstKeyToken = 2;
        }
        // Keys run to the end of the line: memcached re-tokenizes past its 23-token window.
        // The common single-key get builds no list of its own.
        byte[] firstKey = null;
        List<byte[]> keys = null;
        String badKey = null;
        if (firstKeyToken < tok.count()) {
            int i = tok.start(firstKeyToken);
            while (i < length) {
                while (i < length && line[i] == ' ') {
                    i++;
                }
                if (i == length) {
                    break;
                }
                int from = i;
                while (i < length && line[i] != ' ') {
                    i++;
                }
                if (i - from > Limits.KEY_MAX_BYTES) {
                    badKey = Replies.CLIENT_ERROR_BAD_FORMAT;
                    break;
                }
                byte[] key = Arrays.copyOfRange(line, from, i);
                if (firstKey == null) {
                    firstKey = key;
                } else {
                    if (keys == null) {
                        keys = new ArrayList<>();
                        keys.add(firstKey);
                    }
                    keys.add(key);
                }
            }
        }
        if (badKey != null && firstKey == null) {
            error(out, badKey);
            return;
        }
        List<byte[]> all = keys != null ? List.copyOf(keys) : firstKey != null ? List.of(firstKey) : List.of();
        out.request = Request.builder(type).keys(all).exptime(exptime).errorLine(badKey).build();
    }

    private void storage(CommandType type, byte[] line, int ntokens, Outcome out) {
        boolean cas = type == CommandType.CAS;
        if (cas ? (ntokens != 7 && ntokens != 8) : (ntokens != 6 && ntokens != 7)) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        // memcached reads noreply from the last token, whatever its position means
        boolean noreply = lastIsNoreply(line);
        if (tok.length(1) > Limits.KEY_MAX_BYTES) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT, noreply);
            return;
        }
        int flags;
        int exptime;
        int vlen;
        long casUnique = 0;
        try {
            flags = SafeNumbers.strtoul32(line, tok.start(2), tok.end(2));
            exptime = SafeNumbers.strtol32(line, tok.start(3), tok.end(3));
            vlen = SafeNumbers.strtol32(line, tok.start(4), tok.end(4));
            if (cas) {
                casUnique = SafeNumbers.strtoull(line, tok.start(5), tok.end(5));
            }
        } catch (SafeNumbers.NotANumber e) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT, noreply);
            return;
        }
        if (vlen < 0 || vlen > Integer.MAX_VALUE - 2) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT, noreply);
            return;
        }
        byte[] key = copy(line, 1);
        if (!itemSizeCheck.fits(key.length, flags, vlen)) {
            // memcached swallows the data block; a failed set also unlinks the old item
            out.request = Request.builder(CommandType.ERROR_REPLY)
                    .errorLine(noreply ? null : Replies.SERVER_ERROR_TOO_LARGE)
                    .key(type == CommandType.SET ? key : null)
                    .build();
            out.swallowBytes = (long) vlen + 2;
            if (out.request.errorLine() == null && out.request.key() == null) {
                out.request = null; // nothing to say and nothing to do
            }
            return;
        }
        out.pending = Request.builder(type).key(key).clientFlags(flags).exptime(exptime)
                .casUnique(casUnique).noreply(noreply);
        out.dataLength = vlen;
        out.badChunkSilent = noreply;
    }

    private void arithmetic(CommandType type, byte[] line, int ntokens, Outcome out) {
        if (ntokens != 4 && ntokens != 5) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        boolean noreply = lastIsNoreply(line);
        if (tok.length(1) > Limits.KEY_MAX_BYTES) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT, noreply);
            return;
        }
        long delta;
        try {
            delta = SafeNumbers.strtoull(line, tok.start(2), tok.end(2));
        } catch (SafeNumbers.NotANumber e) {
            error(out, Replies.CLIENT_ERROR_INVALID_DELTA, noreply);
            return;
        }
        out.request = Request.builder(type).key(copy(line, 1)).delta(delta).noreply(noreply).build();
    }

    private void touch(byte[] line, int ntokens, Outcome out) {
        if (ntokens != 4 && ntokens != 5) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        boolean noreply = lastIsNoreply(line);
        if (tok.length(1) > Limits.KEY_MAX_BYTES) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT, noreply);
            return;
        }
        int exptime;
        try {
            exptime = SafeNumbers.strtol32(line, tok.start(2), tok.end(2));
        } catch (SafeNumbers.NotANumber e) {
            error(out, Replies.CLIENT_ERROR_INVALID_EXPTIME, noreply);
            return;
        }
        out.request = Request.builder(CommandType.TOUCH).key(copy(line, 1)).exptime(exptime).noreply(noreply).build();
    }

    private void delete(byte[] line, int ntokens, Outcome out) {
        if (ntokens < 3 || ntokens > 5) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        boolean noreply = false;
        if (ntokens > 3) {
            // Legacy "delete <key> 0": a hold time of exactly "0" is tolerated, nothing else.
            boolean holdIsZero = tok.is(line, 2, "0");
            noreply = lastIsNoreply(line);
            boolean valid = (ntokens == 4 && (holdIsZero || noreply))
                    || (ntokens == 5 && holdIsZero && noreply);
            if (!valid) {
                error(out, Replies.CLIENT_ERROR_DELETE_USAGE, noreply);
                return;
            }
        }
        if (tok.length(1) > Limits.KEY_MAX_BYTES) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT, noreply);
            return;
        }
        out.request = Request.builder(CommandType.DELETE).key(copy(line, 1)).noreply(noreply).build();
    }

    private void flushAll(byte[] line, int ntokens, Outcome out) {
        if (ntokens < 2 || ntokens > 4) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        boolean noreply = lastIsNoreply(line);
        int delay = 0;
        String deferred = null;
        if (ntokens != (noreply ? 3 : 2)) {
            try {
                delay = SafeNumbers.strtol32(line, tok.start(1), tok.end(1));
            } catch (SafeNumbers.NotANumber e) {
                // memcached checks -F (flush disabled) before the argument: the node decides
                deferred = Replies.CLIENT_ERROR_INVALID_EXPTIME;
            }
        }
        out.request = Request.builder(CommandType.FLUSH_ALL).exptime(delay).noreply(noreply)
                .errorLine(deferred).build();
    }

    private void verbosity(byte[] line, int ntokens, Outcome out) {
        if (ntokens != 3 && ntokens != 4) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        boolean noreply = lastIsNoreply(line);
        int level;
        try {
            level = SafeNumbers.strtoul32(line, tok.start(1), tok.end(1));
        } catch (SafeNumbers.NotANumber e) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT, noreply);
            return;
        }
        out.request = Request.builder(CommandType.VERBOSITY).delta(level & 0xffffffffL).noreply(noreply)
                .args(tokens(line, 1)).build();
    }

    private void shutdown(byte[] line, int ntokens, Outcome out) {
        boolean valid = ntokens == 2 || (ntokens == 3 && tok.is(line, 1, "graceful"));
        out.request = Request.builder(CommandType.SHUTDOWN).args(tokens(line, 1))
                .errorLine(valid ? null : Replies.CLIENT_ERROR_INVALID_SHUTDOWN).build();
    }

    private void admin(byte[] line, boolean noreply, Outcome out) {
        out.request = Request.builder(CommandType.ADMIN).args(tokens(line, 0)).noreply(noreply).build();
    }

    // ---- meta commands ----

    private void metaGet(byte[] line, int ntokens, Outcome out) {
        if (ntokens < 3) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        if (tok.length(1) > Limits.KEY_MAX_BYTES) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT);
            return;
        }
        if (ntokens > MetaFlags.MAX_TOKENS_WITH_TERMINAL) {
            error(out, "CLIENT_ERROR options flags are too long");
            return;
        }
        MetaFlags flags;
        try {
            flags = MetaFlags.parse(line, tok, 2, tok.start(1), tok.end(1));
        } catch (ProtocolError e) {
            error(out, e.replyLine());
            return;
        }
        if (flags.opaqueTooLong()) {
            // memcached finds this while writing the reply, after a T/N has already been applied;
            // raftcached refuses the command before it changes anything.
            error(out, "CLIENT_ERROR opaque token too long");
            return;
        }
        out.request = Request.builder(CommandType.META_GET).key(metaKey(line, flags)).meta(flags).build();
    }

    private void metaSet(byte[] line, int ntokens, Outcome out) {
        if (ntokens < 3) {
            error(out, Replies.ERROR_LINE);
            return;
        }
        // Up to the data length, errors leave the data block to be read as commands, as in memcached.
        if (tok.length(1) > Limits.KEY_MAX_BYTES || ntokens == 3) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT);
            return;
        }
        if (ntokens > MetaFlags.MAX_TOKENS_WITH_TERMINAL) {
            error(out, "CLIENT_ERROR options flags too long");
            return;
        }
        int vlen;
        try {
            vlen = SafeNumbers.strtol32(line, tok.start(2), tok.end(2));
        } catch (SafeNumbers.NotANumber e) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT);
            return;
        }
        if (vlen < 0 || vlen > Integer.MAX_VALUE - 2) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT);
            return;
        }
        // From here on memcached knows the length and swallows the data block after an error.
        long swallow = (long) vlen + 2;
        MetaFlags flags;
        try {
            flags = MetaFlags.parse(line, tok, 3, tok.start(1), tok.end(1));
        } catch (ProtocolError e) {
            errorAndSwallow(out, e.replyLine(), swallow);
            return;
        }
        CommandType mode;
        switch (flags.mode()) {
            case 0, 'S' -> mode = CommandType.SET;
            case 'E' -> mode = CommandType.ADD;
            case 'A' -> mode = CommandType.APPEND;
            case 'P' -> mode = CommandType.PREPEND;
            case 'R' -> mode = CommandType.REPLACE;
            default -> {
                errorAndSwallow(out, "CLIENT_ERROR invalid mode for ms M token", swallow);
                return;
            }
        }
        // A CAS value turns set (and replace, which behaves the same with CAS) into cas.
        if (flags.hasCompareCas() && (mode == CommandType.SET || mode == CommandType.REPLACE)) {
            mode = CommandType.CAS;
        }
        if (flags.opaqueTooLong()) {
            errorAndSwallow(out, "CLIENT_ERROR opaque token too long", swallow);
            return;
        }
        byte[] key = metaKey(line, flags);
        if (!itemSizeCheck.fits(key.length, flags.clientFlags(), vlen)) {
            // ms unlinks the old item in every mode, and its errors ignore q
            out.request = Request.builder(CommandType.ERROR_REPLY).errorLine(Replies.SERVER_ERROR_TOO_LARGE)
                    .key(key).build();
            out.swallowBytes = swallow;
            return;
        }
        out.pending = Request.builder(CommandType.META_SET).key(key).meta(flags).metaSetMode(mode)
                .clientFlags(flags.clientFlags()).exptime(flags.touchExptime()).casUnique(flags.compareCas());
        out.dataLength = vlen;
        out.badChunkSilent = false; // meta set reports a bad data chunk even with q
    }

    private void metaDelete(byte[] line, int ntokens, Outcome out) {
        MetaFlags flags = metaFlagsForDeleteOrArithmetic(line, ntokens, out);
        if (flags == null) {
            return;
        }
        if (flags.opaqueTooLong()) {
            error(out, "CLIENT_ERROR opaque token too long");
            return;
        }
        out.request = Request.builder(CommandType.META_DELETE).key(metaKey(line, flags)).meta(flags).build();
    }

    private void metaArithmetic(byte[] line, int ntokens, Outcome out) {
        MetaFlags flags = metaFlagsForDeleteOrArithmetic(line, ntokens, out);
        if (flags == null) {
            return;
        }
        switch (flags.mode()) {
            case 0, 'I', '+', 'D', '-' -> {
            }
            default -> {
                error(out, "CLIENT_ERROR invalid mode for ma M token");
                return;
            }
        }
        if (flags.opaqueTooLong()) {
            // memcached applies the increment first and then fails on the opaque (or reports a
            // non-numeric value instead); raftcached refuses the command before it changes anything.
            error(out, "CLIENT_ERROR opaque token too long");
            return;
        }
        out.request = Request.builder(CommandType.META_ARITHMETIC).key(metaKey(line, flags)).meta(flags)
                .delta(flags.delta()).build();
    }

    /** The common prefix of md and ma, which word every flag error the same way. */
    private MetaFlags metaFlagsForDeleteOrArithmetic(byte[] line, int ntokens, Outcome out) {
        if (ntokens < 3) {
            error(out, Replies.ERROR_LINE);
            return null;
        }
        if (tok.length(1) > Limits.KEY_MAX_BYTES) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT);
            return null;
        }
        if (ntokens > MetaFlags.MAX_TOKENS_WITH_TERMINAL) {
            error(out, "CLIENT_ERROR options flags too long");
            return null;
        }
        try {
            return MetaFlags.parse(line, tok, 2, tok.start(1), tok.end(1));
        } catch (ProtocolError e) {
            error(out, "CLIENT_ERROR invalid or duplicate flag");
            return null;
        }
    }

    private void metaDebug(byte[] line, int ntokens, Outcome out) {
        if (ntokens < 3 || tok.length(1) > Limits.KEY_MAX_BYTES) {
            error(out, Replies.CLIENT_ERROR_BAD_FORMAT);
            return;
        }
        byte[] key;
        // me takes a single "b" token right after the key, and ignores anything else
        if (ntokens >= 4 && tok.length(2) == 1 && line[tok.start(2)] == 'b') {
            key = Base64Keys.decode(line, tok.start(1), tok.end(1));
            if (key == null) {
                error(out, Replies.CLIENT_ERROR_BAD_FORMAT);
                return;
            }
        } else {
            key = copy(line, 1);
        }
        out.request = Request.builder(CommandType.META_DEBUG).key(key).build();
    }

    private byte[] metaKey(byte[] line, MetaFlags flags) {
        return flags.keyBinary() ? flags.decodedKey() : copy(line, 1);
    }

    // ---- helpers ----

    private static void error(Outcome out, String line) {
        out.request = Request.error(line, false);
    }

    /** An error suppressed by classic noreply emits nothing: memcached sends nothing and does nothing. */
    private static void error(Outcome out, String line, boolean noreply) {
        if (!noreply) {
            error(out, line);
        }
    }

    private static void errorAndSwallow(Outcome out, String line, long swallow) {
        error(out, line);
        out.swallowBytes = swallow;
    }

    /** memcached's set_noreply_maybe: the last token (of the 23 it sees) is exactly "noreply". */
    private boolean lastIsNoreply(byte[] line) {
        return tok.is(line, tok.count() - 1, "noreply");
    }

    private byte[] copy(byte[] line, int token) {
        return Arrays.copyOfRange(line, tok.start(token), tok.end(token));
    }

    private List<byte[]> tokens(byte[] line, int fromToken) {
        int n = tok.count();
        if (fromToken >= n) {
            return List.of();
        }
        byte[][] out = new byte[n - fromToken][];
        for (int t = fromToken; t < n; t++) {
            out[t - fromToken] = copy(line, t);
        }
        return List.of(out);
    }

    private static boolean startsWith(byte[] line, int from, int to, String prefix) {
        if (to - from < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (line[from + i] != (byte) prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
