package io.raftcached.protocol;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One decoded command, or one decoder-detected error ({@link CommandType#ERROR_REPLY}) so that
 * errors take their turn in the reply order like any command.
 *
 * <p>Numbers are kept exactly as memcached parsed them, not interpreted:
 * <ul>
 *   <li>{@link #exptime()} is the raw int32 (after memcached's 64-bit parse and truncation); the store
 *       applies memcached's rules: negative means already expired, over 30 days is a unix time, 0 is
 *       never (and for flush_all, the delay: 0 or negative means now);</li>
 *   <li>{@link #clientFlags()} is a uint32 in an int, {@link #casUnique()} and {@link #delta()} are
 *       uint64 in a long (use {@link Long#toUnsignedString} and friends).</li>
 * </ul>
 * Immutable; byte arrays are shared, not copied, and must not be modified.
 */
public final class Request {
    private final CommandType type;
    private final byte[] key;
    private final List<byte[]> keys;
    private final int clientFlags;
    private final int exptime;
    private final byte[] value;
    private final long casUnique;
    private final long delta;
    private final boolean noreply;
    private final MetaFlags meta;
    private final List<byte[]> args;
    private final String errorLine;
    private final boolean closeConnection;
    private final CommandType metaSetMode;

    private Request(Request r, byte[] value) {
        this.type = r.type;
        this.key = r.key;
        this.keys = r.keys;
        this.clientFlags = r.clientFlags;
        this.exptime = r.exptime;
        this.value = value;
        this.casUnique = r.casUnique;
        this.delta = r.delta;
        this.noreply = r.noreply;
        this.meta = r.meta;
        this.args = r.args;
        this.errorLine = r.errorLine;
        this.closeConnection = r.closeConnection;
        this.metaSetMode = r.metaSetMode;
    }

    private Request(Builder b) {
        this.type = b.type;
        this.key = b.key;
        this.keys = b.keys;
        this.clientFlags = b.clientFlags;
        this.exptime = b.exptime;
        this.value = b.value;
        this.casUnique = b.casUnique;
        this.delta = b.delta;
        this.noreply = b.noreply;
        this.meta = b.meta;
        this.args = b.args;
        this.errorLine = b.errorLine;
        this.closeConnection = b.closeConnection;
        this.metaSetMode = b.metaSetMode;
    }

    public CommandType type() {
        return type;
    }

    /**
     * The key of a single-key command. For meta commands with {@code b}, the decoded binary key.
     * For {@link CommandType#ERROR_REPLY}: the key memcached unlinks before answering
     * "SERVER_ERROR object too large for cache" (a too-large {@code set} or {@code ms} drops the old
     * value so a stale one is not served), else null.
     */
    public byte[] key() {
        return key;
    }

    /**
     * Keys of get, gets, gat, gats, in request order (may be empty: {@code gat 10} answers END).
     * Null for other commands.
     */
    public List<byte[]> keys() {
        return keys;
    }

    /** Client flags of a storage command (uint32). */
    public int clientFlags() {
        return clientFlags;
    }

    /**
     * Raw exptime: storage commands, touch, gat/gats; the delay of flush_all (0 when absent).
     * Meta commands carry theirs in {@link #meta()}.
     */
    public int exptime() {
        return exptime;
    }

    /** The data block of set/add/replace/append/prepend/cas/ms, without the trailing "\r\n". */
    public byte[] value() {
        return value;
    }

    /**
     * This request without its data block, for what is kept until the reply is written: once the
     * value is on its way to the log, the connection must not hold a second copy of it.
     */
    public Request withoutValue() {
        return value == null ? this : new Request(this, null);
    }

    /** Bytes of the data block (0 without one): what the decoder reserved from its {@link DataBlockBudget}. */
    public int valueBytes() {
        return value == null ? 0 : value.length;
    }

    /** The CAS unique of {@code cas} (uint64). */
    public long casUnique() {
        return casUnique;
    }

    /** incr/decr delta (uint64). */
    public long delta() {
        return delta;
    }

    /**
     * Classic noreply: send nothing for this command, neither success nor the errors the store or
     * node finds (memcached suppresses those too).
     */
    public boolean noreply() {
        return noreply;
    }

    /** Meta flags for mg ms md ma (never null for them); null otherwise. */
    public MetaFlags meta() {
        return meta;
    }

    /**
     * For ms: what memcached's mode switch turned the command into: SET (default or MS), ADD (ME),
     * REPLACE (MR), APPEND (MA), PREPEND (MP), or CAS (a C flag with set or replace mode). Null
     * otherwise.
     */
    public CommandType metaSetMode() {
        return metaSetMode;
    }

    /**
     * verbosity: the level as memcached parsed it (uint32); memcached clamps it to its maximum
     * verbosity, 2, when applying it.
     */
    public int verbosityLevel() {
        return (int) delta;
    }

    /** shutdown: true for {@code shutdown graceful} (memcached raises SIGUSR1 instead of SIGINT). */
    public boolean shutdownGraceful() {
        return type == CommandType.SHUTDOWN && args != null && args.size() == 1;
    }

    /** For ma: true to increment (default, MI, M+), false to decrement (MD, M-). */
    public boolean metaIncrement() {
        byte m = meta == null ? 0 : meta.mode();
        return !(m == 'D' || m == '-');
    }

    /**
     * Tokens after the command name: stats arguments, shutdown arguments, verbosity arguments. For
     * {@link CommandType#ADMIN}, every token including the command name. Limited to memcached's 23
     * tokens per line.
     */
    public List<byte[]> args() {
        return args;
    }

    /** Argument {@code i} of {@link #args()} as ISO-8859-1 text. */
    public String arg(int i) {
        return new String(args.get(i), StandardCharsets.ISO_8859_1);
    }

    /**
     * The reply line without "\r\n":
     * <ul>
     *   <li>ERROR_REPLY: the line to send, or null when memcached sends nothing (noreply) but
     *       {@link #key()} still has to be unlinked, or when the connection just closes;</li>
     *   <li>GET/GETS/GAT/GATS: a key after {@link #keys()} was invalid; memcached had already
     *       processed the keys before it (gat touched them), then threw their VALUE blocks away
     *       and sent only this line. Execute the keys, send this instead of their reply;</li>
     *   <li>FLUSH_ALL and SHUTDOWN: the argument error memcached reports only after its own checks
     *       (flush_all disabled by -F: "CLIENT_ERROR flush_all not allowed"; shutdown disabled:
     *       "ERROR: shutdown not enabled") pass; send it instead of acting (flush_all: unless
     *       noreply);</li>
     *   <li>null otherwise.</li>
     * </ul>
     */
    public String errorLine() {
        return errorLine;
    }

    /**
     * Close the connection after this request's reply (ERROR_REPLY for HTTP, binary protocol,
     * oversized lines; QUIT). The decoder reads nothing more from the connection after it.
     */
    public boolean closeConnection() {
        return closeConnection;
    }

    /** The key as ISO-8859-1 text (for logs and tests). */
    public String keyString() {
        return key == null ? null : new String(key, StandardCharsets.ISO_8859_1);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(type.name());
        if (key != null) {
            sb.append(" key=").append(keyString());
        }
        if (keys != null) {
            sb.append(" keys=").append(keys.size());
        }
        if (value != null) {
            sb.append(" value=").append(value.length).append('b');
        }
        if (noreply) {
            sb.append(" noreply");
        }
        if (meta != null) {
            sb.append(' ').append(meta);
        }
        if (errorLine != null) {
            sb.append(" error=").append(errorLine);
        }
        if (closeConnection) {
            sb.append(" close");
        }
        return sb.toString();
    }

    static Builder builder(CommandType type) {
        return new Builder(type);
    }

    /** Creates the request for a decoder-detected error. */
    static Request error(String line, boolean close) {
        return builder(CommandType.ERROR_REPLY).errorLine(line).closeConnection(close).build();
    }

    /** Package-private builder used by the parser. */
    static final class Builder {
        private final CommandType type;
        private byte[] key;
        private List<byte[]> keys;
        private int clientFlags;
        private int exptime;
        private byte[] value;
        private long casUnique;
        private long delta;
        private boolean noreply;
        private MetaFlags meta;
        private List<byte[]> args;
        private String errorLine;
        private boolean closeConnection;
        private CommandType metaSetMode;

        private Builder(CommandType type) {
            this.type = type;
        }

        CommandType type() {
            return type;
        }

        Builder key(byte[] v) {
            this.key = v;
            return this;
        }

        byte[] key() {
            return key;
        }

        Builder keys(List<byte[]> v) {
            this.keys = v;
            return this;
        }

        Builder clientFlags(int v) {
            this.clientFlags = v;
            return this;
        }

        int clientFlags() {
            return clientFlags;
        }

        Builder exptime(int v) {
            this.exptime = v;
            return this;
        }

        Builder value(byte[] v) {
            this.value = v;
            return this;
        }

        Builder casUnique(long v) {
            this.casUnique = v;
            return this;
        }

        Builder delta(long v) {
            this.delta = v;
            return this;
        }

        Builder noreply(boolean v) {
            this.noreply = v;
            return this;
        }

        boolean noreply() {
            return noreply;
        }

        Builder meta(MetaFlags v) {
            this.meta = v;
            return this;
        }

        MetaFlags meta() {
            return meta;
        }

        Builder args(List<byte[]> v) {
            this.args = v;
            return this;
        }

        Builder errorLine(String v) {
            this.errorLine = v;
            return this;
        }

        Builder closeConnection(boolean v) {
            this.closeConnection = v;
            return this;
        }

        Builder metaSetMode(CommandType v) {
            this.metaSetMode = v;
            return this;
        }

        Request build() {
            return new Request(this);
        }
    }
}
