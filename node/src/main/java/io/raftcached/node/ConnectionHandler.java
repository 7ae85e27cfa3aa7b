package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.raftcached.protocol.CommandType;
import io.raftcached.protocol.Replies;
import io.raftcached.protocol.Request;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: executes its requests in the order sent and replies in that order.
 *
 * <p>Writes are sent to the log as soon as they may be (the node's write stream keeps their
 * order), so a pipeline of sets is not serialised on round trips. A read executes only once every
 * earlier write of the connection has been applied on this node — {@code set k} then {@code get k}
 * returns the new value — and later writes wait until such a read has run, so no read sees a
 * write sent after it. Replies leave strictly in request order.
 *
 * <p>Memory stays bounded whatever the client does. Replies are flushed once a megabyte has
 * accumulated; while the socket cannot take more (a client that sends without reading) requests
 * wait unexecuted and the connection stops reading. Writes wait likewise, instead of failing,
 * when the node has as many writes in flight as it admits.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHandler.class);
    /** Requests queued per connection before it stops reading. */
    static final int PIPELINE_MAX = 4_096;
    /** Reply bytes gathered before they are handed to the socket. */
    static final int FLUSH_BYTES = 1024 * 1024;

    private enum State { UNEXECUTED, PENDING, DONE }

    private static final class Slot {
        final Request request;
        State state = State.UNEXECUTED;
        /** The reply, once known: bytes already rendered, a writer, or (written) already in the output. */
        ByteBuf content;
        RequestExecutor.Reply reply;
        boolean written;

        Slot(Request request) {
            this.request = request;
        }
    }

    private final RequestExecutor executor;
    private final NodeStats stats;
    private final ConnectionRegistry registry;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private ChannelHandlerContext context;
    private ByteBuf out;
    private boolean inRead;
    private boolean closing;
    private boolean waitingForWriteRoom;

    ConnectionHandler(RequestExecutor executor, NodeStats stats, ConnectionRegistry registry) {
        this.executor = executor;
        this.stats = stats;
        this.registry = registry;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        context = ctx;
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        if (!(message instanceof Request request)) {
            ctx.fireChannelRead(message);
            return;
        }
        if (closing) {
            return;
        }
        inRead = true;
        registry.touched(ctx.channel());
        slots.addLast(new Slot(request));
        advance();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        flush();
        ctx.fireChannelReadComplete();
    }

    /**
     * Executes what may run now, in order, moving each finished reply at the head to the output
     * as soon as it is known, so a reply is never rendered into a buffer of its own while the
     * socket's backpressure is being checked.
     */
    private void advance() {
        boolean writesPending = false;
        for (Iterator<Slot> it = slots.iterator(); it.hasNext() && !closing; ) {
            Slot slot = it.next();
            boolean atHead = slots.peekFirst() == slot;
            if (slot.state == State.UNEXECUTED) {
                if (!context.channel().isWritable()) {
                    break;   // the client is not reading: execute nothing more until it does
                }
                boolean write = RequestExecutor.isWrite(slot.request);
                if (!write && writesPending) {
                    break;   // a read waits for every earlier write; later requests wait for it
                }
                if (write && !executor.admitsWrite(this::writeRoomFreed)) {
                    waitingForWriteRoom = true;
                    break;
                }
                execute(slot, atHead);
            }
            if (slot.state == State.PENDING) {
                writesPending = true;
            } else if (atHead) {
                it.remove();
                emit(slot);
            }
        }
        boolean shouldRead = !closing && !waitingForWriteRoom && slots.size() < PIPELINE_MAX
                && context.channel().isWritable();
        if (context.channel().config().isAutoRead() != shouldRead) {
            context.channel().config().setAutoRead(shouldRead);
        }
    }

    private void execute(Slot slot, boolean atHead) {
        // At the head nothing is waiting ahead of the reply: render it straight into the output.
        ByteBuf buffer = atHead ? output() : context.alloc().buffer();
        CompletableFuture<RequestExecutor.Reply> later = executor.execute(slot.request, buffer, context.channel().eventLoop());
        if (later == null) {
            slot.state = State.DONE;
            if (atHead) {
                slot.written = true;
            } else {
                slot.content = buffer;
            }
            return;
        }
        if (!atHead) {
            buffer.release();
        }
        slot.state = State.PENDING;
        later.whenComplete((reply, failure) -> context.executor().execute(() -> {
            if (failure != null) {
                LOG.warn("request failed unexpectedly: {}", slot.request, failure);
                completed(slot, target -> Replies.writeLine(target, "SERVER_ERROR internal error"));
            } else {
                completed(slot, reply);
            }
        }));
    }

    /** Moves a finished reply at the head of the queue to the output. */
    private void emit(Slot slot) {
        if (!slot.written) {
            ByteBuf buffer = output();
            if (slot.content != null) {
                buffer.writeBytes(slot.content);
                slot.content.release();
            } else if (slot.reply != null) {
                slot.reply.writeTo(buffer);
            }
        }
        afterReply(slot.request);
        if (out != null && out.readableBytes() >= FLUSH_BYTES) {
            flush();
        }
    }

    private void completed(Slot slot, RequestExecutor.Reply reply) {
        if (!context.channel().isActive()) {
            return;
        }
        slot.reply = reply;
        slot.state = State.DONE;
        advance();
        if (!inRead) {
            flush();
        }
    }

    /** Runs on any thread once the node admits writes again. */
    private void writeRoomFreed() {
        context.executor().execute(() -> {
            waitingForWriteRoom = false;
            if (context.channel().isActive()) {
                advance();
                flush();
            }
        });
    }

    /** quit, and errors memcached answers by closing, end the connection after earlier replies. */
    private void afterReply(Request request) {
        boolean close = request.type() == CommandType.QUIT
                || request.type() == CommandType.ERROR_REPLY && request.closeConnection();
        if (close) {
            closing = true;
            ByteBuf buffer = out;
            out = null;
            if (buffer != null && buffer.isReadable()) {
                stats.bytesWritten.add(buffer.readableBytes());
                context.writeAndFlush(buffer).addListener(ChannelFutureListener.CLOSE);
            } else {
                if (buffer != null) {
                    buffer.release();
                }
                context.close();
            }
        }
    }

    private ByteBuf output() {
        if (out == null) {
            out = context.alloc().buffer();
        }
        return out;
    }

    private void flush() {
        ByteBuf buffer = out;
        out = null;
        if (buffer == null) {
            return;
        }
        if (!buffer.isReadable()) {
            buffer.release();
            return;
        }
        stats.bytesWritten.add(buffer.readableBytes());
        context.writeAndFlush(buffer, context.voidPromise());
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && !closing) {
            advance();   // resumes the requests held back while the client was not reading
            flush();
        }
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && slots.isEmpty()) {
            ctx.close();   // -o idle_timeout
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        for (Slot slot : slots) {
            if (slot.content != null) {
                slot.content.release();
            }
        }
        slots.clear();
        if (out != null) {
            out.release();
            out = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("closing connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        ctx.close();
    }
}
