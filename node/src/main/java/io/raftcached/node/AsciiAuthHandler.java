package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * One connection's state under {@code -Y}: until it authenticates, its input is read here, as
 * memcached's try_read_command_asciiauth reads it, and never reaches the command decoder. A line
 * {@code set <key> <flags> <exptime> <bytes>} announces a data block {@code user password}; it
 * answers {@code STORED} when they match the auth file (the handler then leaves the pipeline and
 * hands what follows to the decoder), or {@code CLIENT_ERROR authentication failure}. Every other
 * line, whatever command it names (get, meta, stats, version, quit, shutdown), is answered
 * {@code CLIENT_ERROR unauthenticated} and the connection stays open; 2048 bytes without a newline
 * close it.
 *
 * <p>memcached writes these answers into one reply object that it reuses until it sends it, so
 * answers to lines read together overwrite each other and the client sees the last one (or one per
 * {@code -R}+1 lines): this handler answers the same way, per read.
 *
 * <p>Memory: a line is at most what one read brings (2048 bytes without a newline close the
 * connection), a data block at most {@link #TOKEN_MAX_BYTES}; while the client does not read its
 * answers, its input is not read either.
 */
final class AsciiAuthHandler extends ChannelInboundHandlerAdapter {
    /** memcached closes a connection that sends this much without a newline ("getting junk data"). */
    static final int LINE_MAX_BYTES = 2048;
    /** memcached's MAX_AUTH_REQ_LEN: a longer announced block is answered "auth token too long". */
    static final int TOKEN_MAX_BYTES = 16384;
    static final String UNAUTHENTICATED = "CLIENT_ERROR unauthenticated";
    private static final byte[] SET = "set".getBytes(StandardCharsets.US_ASCII);

    private final AuthFile credentials;
    private final NodeStats stats;
    /** memcached answers (flushes) after -R requests plus the one that starts an event. */
    private final int requestsPerWrite;
    /** Input read and not yet answered. */
    private ByteBuf input;
    /** Bytes of the announced data block, or -1 while a command line is expected. */
    private int blockBytes = -1;
    /** The answer not yet written: a later answer before the write replaces it, as in memcached. */
    private String answer;
    private int answeredSinceWrite;
    private boolean authenticated;

    AsciiAuthHandler(AuthFile credentials, NodeStats stats, int requestsPerEvent) {
        this.credentials = credentials;
        this.stats = stats;
        this.requestsPerWrite = requestsPerEvent + 1;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        if (!(message instanceof ByteBuf bytes)) {
            ctx.fireChannelRead(message);
            return;
        }
        input = input == null ? bytes : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), input, bytes);
        answerInput(ctx);
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && input != null) {
            ctx.channel().config().setAutoRead(true);
            answerInput(ctx);   // what was read while the client did not read its answers
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void answerInput(ChannelHandlerContext ctx) {
        while (input != null && input.isReadable() && !authenticated) {
            if (!ctx.channel().isWritable()) {
                ctx.channel().config().setAutoRead(false);   // resumes in channelWritabilityChanged
                break;
            }
            if (blockBytes >= 0) {
                if (input.readableBytes() < blockBytes + 2) {
                    break;
                }
                byte[] block = new byte[blockBytes + 2];
                input.readBytes(block);
                blockBytes = -1;
                answer(ctx, checkBlock(block));
                continue;
            }
            if (input.readableBytes() < 2) {
                break;   // memcached waits for two bytes before it looks for a line: a lone "\n" waits too
            }
            int newline = input.indexOf(input.readerIndex(), input.writerIndex(), (byte) '\n');
            if (newline < 0) {
                if (input.readableBytes() > LINE_MAX_BYTES) {
                    ctx.close();
                    release();
                    return;
                }
                break;
            }
            byte[] line = new byte[newline - input.readerIndex()];
            input.readBytes(line).skipBytes(1);
            String lineAnswer = checkLine(line);
            if (lineAnswer != null) {
                answer(ctx, lineAnswer);
            }
        }
        write(ctx);
        if (authenticated) {
            ctx.pipeline().remove(this);   // handlerRemoved hands the rest of the input to the decoder
        } else if (input != null && !input.isReadable()) {
            release();
        } else if (input != null) {
            input.discardSomeReadBytes();
        }
    }

    /** The answer to a command line, or null when it announced a data block. */
    private String checkLine(byte[] line) {
        List<byte[]> tokens = tokens(line, 5);
        if (tokens.size() < 5 || !Arrays.equals(tokens.get(0), SET)) {
            return UNAUTHENTICATED;
        }
        long size = unsigned(tokens.get(4));
        if (size < 0 || size > 0xFFFF_FFFFL) {
            return UNAUTHENTICATED;
        }
        if (size > TOKEN_MAX_BYTES) {
            return "CLIENT_ERROR auth token too long";
        }
        blockBytes = (int) size;
        return null;
    }

    private String checkBlock(byte[] block) {
        int length = block.length - 2;
        if (block[length] != '\r' || block[length + 1] != '\n') {
            return "CLIENT_ERROR bad command line termination";
        }
        List<byte[]> tokens = tokens(Arrays.copyOf(block, length), 2);
        if (tokens.size() < 2) {
            return "CLIENT_ERROR bad authentication token format";
        }
        stats.authCommands.increment();
        if (credentials.check(tokens.get(0), tokens.get(1))) {
            authenticated = true;
            return "STORED";
        }
        stats.authErrors.increment();
        return "CLIENT_ERROR authentication failure";
    }

    private void answer(ChannelHandlerContext ctx, String line) {
        answer = line;
        if (++answeredSinceWrite == requestsPerWrite) {
            write(ctx);
        }
    }

    private void write(ChannelHandlerContext ctx) {
        answeredSinceWrite = 0;
        if (answer == null) {
            return;
        }
        byte[] bytes = (answer + "\r\n").getBytes(StandardCharsets.US_ASCII);
        answer = null;
        stats.bytesWritten.add(bytes.length);
        ctx.writeAndFlush(ctx.alloc().buffer(bytes.length).writeBytes(bytes));
    }

    /**
     * memcached's tokenize_command: C-string semantics (a NUL ends the text), tokens split at
     * spaces, empty ones skipped; a '\r' before the newline stays in the last token. Only the
     * first {@code needed} tokens are taken, as only those are looked at.
     */
    static List<byte[]> tokens(byte[] text, int needed) {
        List<byte[]> tokens = new ArrayList<>();
        int end = 0;
        while (end < text.length && text[end] != 0) {
            end++;
        }
        int start = 0;
        for (int i = 0; i <= end && tokens.size() < needed; i++) {
            if (i == end || text[i] == ' ') {
                if (i > start) {
                    tokens.add(Arrays.copyOfRange(text, start, i));
                }
                start = i + 1;
            }
        }
        return tokens;
    }

    /**
     * memcached's safe_strtoul: optional leading white space and sign, decimal digits, then the
     * end or white space ("5\r" is 5); a negative number other than zero is refused. -1 when refused.
     */
    static long unsigned(byte[] token) {
        int i = 0;
        while (i < token.length && isSpace(token[i])) {
            i++;
        }
        boolean negative = i < token.length && token[i] == '-';
        if (i < token.length && (token[i] == '-' || token[i] == '+')) {
            i++;
        }
        int digitsStart = i;
        long value = 0;
        for (; i < token.length && token[i] >= '0' && token[i] <= '9'; i++) {
            value = value * 10 + (token[i] - '0');
            if (value > 0xFFFF_FFFFL) {
                return value;   // beyond 32 bits: the caller refuses it, so no need to read on
            }
        }
        if (i == digitsStart || i < token.length && !isSpace(token[i]) || negative && value != 0) {
            return -1;
        }
        return value;
    }

    private static boolean isSpace(byte b) {
        return b == ' ' || b == '\t' || b == '\n' || b == '\u000b' || b == '\f' || b == '\r';
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        ByteBuf rest = input;
        input = null;
        if (rest == null) {
            return;
        }
        if (authenticated && rest.isReadable() && ctx.channel().isActive()) {
            ctx.fireChannelRead(rest);
        } else {
            rest.release();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        release();
        ctx.fireChannelInactive();
    }

    private void release() {
        if (input != null) {
            input.release();
            input = null;
        }
    }
}
