package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;

import java.util.List;

/**
 * Frames and parses memcached's ASCII protocol the way memcached 1.6.18 does, and emits one
 * {@link Request} per command in arrival order (pipelining: any number of commands per packet, a
 * command split over any number of packets).
 *
 * <h2>Framing, as memcached</h2>
 * <ul>
 *   <li>A command line ends at "\n"; a "\r" just before it is dropped (a lone "\r\n" line is the
 *       command "\r", i.e. ERROR). A NUL byte ends the command early (memcached uses C strings).</li>
 *   <li>Storage commands are followed by exactly {@code <bytes>} + 2 bytes; when the last two are
 *       not "\r\n" the reply is "CLIENT_ERROR bad data chunk" and parsing resumes right after those
 *       bytes, so a too-long data block is then read as commands (usually "ERROR").</li>
 *   <li>A data block refused before reading (item too large, ms flag errors) is discarded as it
 *       arrives, never buffered; so is everything after a request that closes the connection.</li>
 *   <li>A command line longer than {@code maxLineBytes} (2048, not counting its "\r\n") closes the
 *       connection, unless it starts, after at most 100 spaces, with "get " or "gets ": those
 *       multigets may grow to {@code maxMultigetLineBytes} (memcached: unbounded) and close the
 *       connection beyond.</li>
 *   <li>An unknown command whose last token starts with "HTTP/" closes the connection silently.</li>
 * </ul>
 *
 * <h2>Where raftcached differs from memcached 1.6.18, and why</h2>
 * <ul>
 *   <li><b>Binary protocol.</b> memcached switches a connection whose first byte is 0x80 to its
 *       binary protocol. raftcached does not speak it: it emits an ERROR_REPLY with no line that
 *       closes the connection, so binary clients fail fast instead of hanging.</li>
 *   <li><b>Long lines.</b> memcached only checks for a missing newline when a read leaves more than
 *       2048 bytes buffered, so whether a 3000-byte "set" line is refused depends on how TCP split
 *       it. raftcached always refuses it (what memcached does when the line arrives in pieces), so
 *       the outcome does not depend on packet boundaries.</li>
 *   <li><b>Closing.</b> memcached drops replies still queued from the same read when it closes on
 *       garbage; raftcached emits the closing request in order, so earlier replies are sent first.</li>
 *   <li><b>Meta opaque too long</b> with mg T/N or any ma: memcached applies the command and then
 *       answers "CLIENT_ERROR opaque token too long"; raftcached refuses it unapplied, same reply.</li>
 *   <li><b>E flag</b> accepted on meta commands (see {@link MetaFlags}).</li>
 *   <li><b>get with a key over 250 bytes</b>: memcached answers "CLIENT_ERROR bad command line
 *       format" and also drops every reply of the connection it has not yet written, so replies to
 *       earlier pipelined commands vanish or not depending on its reads; raftcached drops only that
 *       command's values ({@link Request#errorLine()}), and earlier replies are sent.</li>
 * </ul>
 *
 * <p>Memory stays bounded for any input: at most {@code maxMultigetLineBytes} of one line, or
 * {@link #BLOCK_RESERVE_AT_BYTES} of a data block not yet reserved, plus the data block of an item
 * that passed {@link ItemSizeCheck} (copied out as it arrives).
 *
 * <h2>Data block memory</h2>
 * A data block's memory comes from the {@link DataBlockBudget} shared by all connections, reserved
 * whole (so a block once begun can always finish, and blocks never wait on each other half-read)
 * but only once the block is really arriving: when {@link #BLOCK_RESERVE_AT_BYTES} of it, or all of
 * it if smaller, is at hand. A client that declares a large block and sends little of it holds no
 * more than what it sent. While a reserved block is read the decoder tells the pipeline
 * ({@link MemoryEvent}) when it was reserved, each time another {@link #BLOCK_PROGRESS_BYTES} of it
 * arrived, and when it was done, so the node can tell a block that is arriving from one whose
 * sender stalled.
 *
 * <p>One instance per connection (it is stateful and not {@code @Sharable}).
 */
public final class TextProtocolDecoder extends ByteToMessageDecoder {
    /** memcached tolerates this many spaces before "get " on an over-long line. */
    static final int MULTIGET_MAX_LEADING_SPACES = 100;
    /** Line buffers above this are released after use, so one huge multiget does not pin memory. */
    private static final int RETAINED_LINE_BUFFER_BYTES = 4096;
    private static final byte BINARY_PROTOCOL_MAGIC = (byte) 0x80;

    /**
     * A data block is reserved once this much of it has arrived (all of it, if it is smaller):
     * memcached's per-connection read buffer (16 KB), less than one full socket read, so a block
     * that is really being sent is reserved at its first read, while one that trickles in holds
     * only the bytes it sent (in the read buffer, outside the budget) meanwhile.
     */
    public static final int BLOCK_RESERVE_AT_BYTES = 16 * 1024;
    /**
     * A data block of at most this many bytes is reserved only once all of it and its "\r\n" are
     * here, and is then read at once: it never holds memory while its sender stalls.
     */
    public static final int WHOLE_BLOCK_MAX_BYTES = BLOCK_RESERVE_AT_BYTES - 2;
    /** A reserved block reports progress ({@link MemoryEvent#BLOCK_PROGRESS}) every this many bytes. */
    public static final int BLOCK_PROGRESS_BYTES = 16 * 1024;

    private enum State { LINE, DATA, WAIT_FOR_MEMORY, SWALLOW, DISCARD }

    /** Fired down the pipeline as this decoder takes and gives up data block memory. */
    public enum MemoryEvent {
        /** Reading stopped for want of data block memory: whoever owns auto-read keeps it off. */
        WAITING,
        /** The memory was granted; reading goes on. */
        RESUMED,
        /** A data block's memory was reserved and the block is being read. */
        BLOCK_RESERVED,
        /** Another {@link #BLOCK_PROGRESS_BYTES} of the reserved block arrived. */
        BLOCK_PROGRESS,
        /** The reserved block was read whole (its memory went on with the request) or dropped. */
        BLOCK_DONE
    }

    private final DecoderConfig config;
    private final DataBlockBudget budget;
    private final CommandParser parser;
    private final CommandParser.Outcome outcome = new CommandParser.Outcome();

    private State state = State.LINE;
    private boolean sawFirstByte;

    // LINE: bytes of the current line already searched for '\n', and whether it is a long multiget
    private int lineScannedBytes;
    private boolean longMultiget;
    private byte[] lineBuffer = new byte[256];

    // DATA: the storage command waiting for its data block
    private Request.Builder pending;
    private boolean pendingBadChunkSilent;
    private int dataLength;
    private byte[] data;
    private int dataFilled;
    private final byte[] trailer = new byte[2];
    private int trailerFilled;

    // SWALLOW
    private long swallowRemaining;

    public TextProtocolDecoder(DecoderConfig config) {
        this(config, DataBlockBudget.UNLIMITED);
    }

    /** A decoder whose data blocks are reserved from {@code budget} before they are read. */
    public TextProtocolDecoder(DecoderConfig config, DataBlockBudget budget) {
        this.config = config;
        this.budget = budget;
        this.parser = new CommandParser(config.itemSizeCheck());
    }

    /** Whether this decoder waits for data block memory (and reads nothing meanwhile). */
    public boolean waitingForMemory() {
        return state == State.WAIT_FOR_MEMORY;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            switch (state) {
                case LINE -> {
                    if (!sawFirstByte) {
                        sawFirstByte = true;
                        if (in.getByte(in.readerIndex()) == BINARY_PROTOCOL_MAGIC) {
                            closeWith(null, out);
                            continue;
                        }
                    }
                    if (!decodeLine(ctx, in, out)) {
                        return;
                    }
                }
                case DATA -> {
                    if (!readData(ctx, in, out)) {
                        return;
                    }
                }
                case WAIT_FOR_MEMORY -> {
                    return;
                }
                case SWALLOW -> {
                    int n = (int) Math.min(swallowRemaining, in.readableBytes());
                    in.skipBytes(n);
                    swallowRemaining -= n;
                    if (swallowRemaining == 0) {
                        state = State.LINE;
                    }
                }
                case DISCARD -> in.skipBytes(in.readableBytes());
            }
        }
    }

    /** @return false when more bytes are needed */
    private boolean decodeLine(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        int start = in.readerIndex();
        int readable = in.readableBytes();
        int limit = longMultiget ? config.maxMultigetLineBytes() : config.maxLineBytes();
        int window = limit + 2; // the longest accepted line and its "\r\n"
        int searchEnd = Math.min(readable, window);
        int newline = lineScannedBytes < searchEnd
                ? in.indexOf(start + lineScannedBytes, start + searchEnd, (byte) '\n')
                : -1;
        int lineLength = newline - start;
        if (newline >= 0 && lineLength > 1 && in.getByte(newline - 1) == '\r') {
            lineLength--; // memcached strips the \r only from a line of two bytes or more
        }
        if (newline < 0 || lineLength > limit) {
            if (newline < 0) {
                lineScannedBytes = searchEnd;
                boolean mayStillFit = readable <= limit
                        || (readable == limit + 1 && in.getByte(start + limit) == '\r');
                if (mayStillFit) {
                    return false; // wait for the rest of the line
                }
            }
            if (!longMultiget && isMultigetStart(in, start)) {
                longMultiget = true;
                return true; // search on with the multiget bound
            }
            closeWith(null, out);
            return true;
        }
        if (lineBuffer.length < lineLength) {
            lineBuffer = new byte[Math.max(lineLength, lineBuffer.length * 2)];
        }
        in.getBytes(start, lineBuffer, 0, lineLength);
        in.readerIndex(newline + 1);
        lineScannedBytes = 0;
        longMultiget = false;

        int commandLength = lineLength;
        for (int i = 0; i < lineLength; i++) {
            if (lineBuffer[i] == 0) {
                commandLength = i; // memcached parses a C string: a NUL ends the command
                break;
            }
        }
        parser.parse(lineBuffer, commandLength, outcome);
        if (lineBuffer.length > RETAINED_LINE_BUFFER_BYTES) {
            lineBuffer = new byte[256];
        }
        apply(outcome, out);
        return true;
    }

    /** The data block's memory, or a wait for it: reading stops until the budget has room. */
    private void reserveData(ChannelHandlerContext ctx) {
        if (budget.tryReserve(dataLength, () -> ctx.executor().execute(() -> retryReserve(ctx)))) {
            data = dataLength == 0 ? EMPTY : new byte[dataLength];
            state = State.DATA;
            ctx.fireUserEventTriggered(MemoryEvent.BLOCK_RESERVED);
            return;
        }
        state = State.WAIT_FOR_MEMORY;
        ctx.fireUserEventTriggered(MemoryEvent.WAITING);
    }

    private void retryReserve(ChannelHandlerContext ctx) {
        if (state != State.WAIT_FOR_MEMORY || ctx.isRemoved()) {
            return;
        }
        reserveData(ctx);
        if (state == State.DATA) {
            ctx.fireUserEventTriggered(MemoryEvent.RESUMED);
            try {
                channelRead(ctx, Unpooled.EMPTY_BUFFER);   // decode what is already buffered
                channelReadComplete(ctx);
            } catch (Exception e) {
                ctx.fireExceptionCaught(e);
            }
        }
    }

    /** Bytes held in the cumulation buffer, for tests of bounded memory. */
    int bufferedBytes() {
        ByteBuf buf = internalBuffer();
        return buf.readableBytes();
    }

    private void apply(CommandParser.Outcome o, List<Object> out) {
        if (o.request != null) {
            out.add(o.request);
        }
        if (o.stop) {
            state = State.DISCARD;
        } else if (o.pending != null) {
            pending = o.pending;
            pendingBadChunkSilent = o.badChunkSilent;
            dataLength = o.dataLength;
            data = null;   // reserved and allocated by reserveData once the block is arriving
            dataFilled = 0;
            trailerFilled = 0;
            state = State.DATA;
        } else if (o.swallowBytes > 0) {
            swallowRemaining = o.swallowBytes;
            state = State.SWALLOW;
        }
    }

    private static final byte[] EMPTY = new byte[0];

    /** @return false when more bytes are needed (or memory for them) */
    private boolean readData(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (data == null) {
            if (in.readableBytes() < Math.min(dataLength + 2L, BLOCK_RESERVE_AT_BYTES)) {
                return false;   // not arriving yet: what was sent waits in the read buffer, unreserved
            }
            reserveData(ctx);
            if (state != State.DATA) {
                return false;
            }
        }
        if (dataFilled < data.length) {
            int n = Math.min(data.length - dataFilled, in.readableBytes());
            in.readBytes(data, dataFilled, n);
            dataFilled += n;
            if (dataFilled / BLOCK_PROGRESS_BYTES > (dataFilled - n) / BLOCK_PROGRESS_BYTES && dataFilled < data.length) {
                ctx.fireUserEventTriggered(MemoryEvent.BLOCK_PROGRESS);
            }
            if (dataFilled < data.length) {
                return false;
            }
        }
        while (trailerFilled < 2) {
            if (!in.isReadable()) {
                return false;
            }
            trailer[trailerFilled++] = in.readByte();
        }
        if (trailer[0] == '\r' && trailer[1] == '\n') {
            out.add(pending.value(data).build());   // the reservation goes with the request
        } else {
            budget.release(data.length);
            if (!pendingBadChunkSilent) {
                out.add(Request.error(Replies.CLIENT_ERROR_BAD_DATA_CHUNK, false));
            }
        }
        pending = null;
        data = null;
        state = State.LINE;
        ctx.fireUserEventTriggered(MemoryEvent.BLOCK_DONE);
        return true;
    }

    /** A data block read half-way when the connection ends gives its memory back. */
    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        if (state == State.DATA && data != null) {
            budget.release(data.length);
            data = null;
        }
        state = State.DISCARD;
    }

    /** memcached's test for a multiget worth growing the buffer for. */
    private static boolean isMultigetStart(ByteBuf in, int start) {
        int end = in.writerIndex();
        int i = start;
        while (i < end && in.getByte(i) == ' ') {
            i++;
        }
        if (i - start > MULTIGET_MAX_LEADING_SPACES) {
            return false;
        }
        return startsWith(in, i, end, "get ") || startsWith(in, i, end, "gets ");
    }

    private static boolean startsWith(ByteBuf in, int from, int end, String prefix) {
        if (end - from < prefix.length()) {
            return false;
        }
        for (int i = 0; i < prefix.length(); i++) {
            if (in.getByte(from + i) != (byte) prefix.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    private void closeWith(String line, List<Object> out) {
        out.add(Request.error(line, true));
        state = State.DISCARD;
    }
}
