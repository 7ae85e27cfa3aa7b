package io.raftcached.protocol;

/**
 * memcached's {@code tokenize_command}: splits a command line on ' ' only (tabs and other bytes are
 * part of tokens), skips empty tokens, and keeps at most {@link #MAX_REAL_TOKENS} tokens. memcached
 * counts one more, a terminal empty token, in its {@code ntokens}; {@link #ntokens()} reproduces that
 * count because the WANT_TOKENS checks and the noreply position are defined on it.
 *
 * <p>Reusable: one instance per decoder, overwritten by each {@link #tokenize} call.
 */
final class LineTokenizer {
    /** memcached's MAX_TOKENS (24) minus its terminal token. */
    static final int MAX_REAL_TOKENS = 23;

    private final int[] starts = new int[MAX_REAL_TOKENS];
    private final int[] ends = new int[MAX_REAL_TOKENS];
    private int count;
    private int restFrom;

    /**
     * Tokenizes {@code line[0, length)}.
     *
     * @return the number of real tokens kept (at most 23)
     */
    int tokenize(byte[] line, int length) {
        count = 0;
        restFrom = -1;
        int i = 0;
        while (i < length) {
            while (i < length && line[i] == ' ') {
                i++;
            }
            if (i == length) {
                break;
            }
            if (count == MAX_REAL_TOKENS) {
                restFrom = i; // memcached stops here; get-family commands continue from this point
                break;
            }
            int start = i;
            while (i < length && line[i] != ' ') {
                i++;
            }
            starts[count] = start;
            ends[count] = i;
            count++;
        }
        return count;
    }

    /** Real tokens kept. */
    int count() {
        return count;
    }

    /** memcached's ntokens: real tokens plus its terminal token. */
    int ntokens() {
        return count + 1;
    }

    int start(int token) {
        return starts[token];
    }

    int end(int token) {
        return ends[token];
    }

    int length(int token) {
        return ends[token] - starts[token];
    }

    /** Offset of the first byte not tokenized because of the 23-token limit, or -1. */
    int restFrom() {
        return restFrom;
    }

    /** Whether token {@code t} equals the ASCII string {@code s}. */
    boolean is(byte[] line, int t, String s) {
        int from = starts[t];
        int len = ends[t] - from;
        if (len != s.length()) {
            return false;
        }
        for (int i = 0; i < len; i++) {
            if (line[from + i] != (byte) s.charAt(i)) {
                return false;
            }
        }
        return true;
    }
}
