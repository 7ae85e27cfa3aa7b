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
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: executes its requests in the order sent and replies in that order.
 *
 * <p>Writes are sent to the log as soon as they arrive (the node's write stream keeps their
 * order), so a pipeline of sets is not serialised on round trips. A read executes only once every
 * earlier write of the connection has been applied on this node — {@code set k} then {@code get k}
 * returns the new value — and later writes wait until such a read has run, so no read sees a
 * write sent after it. Replies leave strictly in request order. The queue is bounded: past it the
 * connection stops reading until it drains, and a slow reader likewise pauses its own input.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHandler.class);
    /** Requests queued per connection before it stops reading. */
    static final int PIPELINE_MAX = 4_096;

    private enum State { UNEXECUTED, PENDING, DONE }

    private static final class Slot {
        final Request request;
        State state = State.UNEXECUTED;
        ByteBuf content;
        RequestExecutor.Reply reply;

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
        if (slots.isEmpty()) {
            executeNow(request);
        } else {
            slots.addLast(new Slot(request));
            advance();
        }
        if (slots.size() >= PIPELINE_MAX) {
            ctx.channel().config().setAutoRead(false);
        }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        flush();
        ctx.fireChannelReadComplete();
    }

    /** The common case: nothing queued before this request. */
    private void executeNow(Request request) {
        ByteBuf buffer = output();
        CompletableFuture<RequestExecutor.Reply> later = executor.execute(request, buffer, context.channel().eventLoop());
        if (later == null) {
            afterReply(request);
            return;
        }
        Slot slot = new Slot(request);
        slot.state = State.PENDING;
        slots.addLast(slot);
        complete(slot, later);
    }

    /** Executes what may run now, then moves finished replies at the head to the output. */
    private void advance() {
        boolean writesPending = false;
        for (Slot slot : slots) {
            if (slot.state == State.PENDING) {
                writesPending = true;
            } else if (slot.state == State.UNEXECUTED) {
                if (!RequestExecutor.isWrite(slot.request) && writesPending) {
                    break;   // a read waits for every earlier write; later requests wait for it
                }
                ByteBuf buffer = context.alloc().buffer();
                CompletableFuture<RequestExecutor.Reply> later =
                        executor.execute(slot.request, buffer, context.channel().eventLoop());
                if (later == null) {
                    slot.content = buffer;
                    slot.state = State.DONE;
                } else {
                    buffer.release();
                    slot.state = State.PENDING;
                    writesPending = true;
                    complete(slot, later);
                }
            }
        }
        while (!slots.isEmpty() && slots.peekFirst().state == State.DONE && !closing) {
            Slot slot = slots.pollFirst();
            ByteBuf buffer = output();
            if (slot.content != null) {
                buffer.writeBytes(slot.content);
                slot.content.release();
            } else if (slot.reply != null) {
                slot.reply.writeTo(buffer);
            }
            afterReply(slot.request);
        }
        if (!closing && slots.size() < PIPELINE_MAX / 2 && !context.channel().config().isAutoRead()
                && context.channel().isWritable()) {
            context.channel().config().setAutoRead(true);
        }
    }

    private void complete(Slot slot, CompletableFuture<RequestExecutor.Reply> later) {
        later.whenComplete((reply, failure) -> context.executor().execute(() -> {
            if (failure != null) {
                LOG.warn("request failed unexpectedly: {}", slot.request, failure);
                reply(slot, out -> Replies.writeLine(out, "SERVER_ERROR internal error"));
            } else {
                reply(slot, reply);
            }
        }));
    }

    private void reply(Slot slot, RequestExecutor.Reply reply) {
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
        if (!context.channel().isWritable()) {
            context.channel().config().setAutoRead(false);   // a slow reader pauses its own input
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && slots.size() < PIPELINE_MAX && !closing) {
            ctx.channel().config().setAutoRead(true);
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
