package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.timeout.IdleStateEvent;
import io.raftcached.protocol.CommandType;
import io.raftcached.protocol.Replies;
import io.raftcached.protocol.Request;
import io.raftcached.protocol.TextProtocolDecoder;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: executes its requests in the order sent and replies in that order.
 *
 * <h2>Order</h2>
 * Writes are sent to the log as soon as they may be (the node's write stream keeps their order),
 * so a pipeline of sets is not serialised on round trips. A read runs only once every earlier
 * write of the connection has been applied on this node ({@code set k} then {@code get k} returns
 * the new value), and a write is sent only once every earlier read has run ({@code get k} then
 * {@code set k} returns the old value) — also when the read first waits for a linearizable
 * barrier. gat is both: its touches wait like a write, and what follows waits for its reads.
 * Replies leave strictly in request order.
 *
 * <h2>Memory</h2>
 * Bounded in bytes whatever the client does. Input: the decoder reserves each data block from the
 * node's input budget once the block is arriving, and the value is released to the write stream's
 * own budget when the write is sent; at most {@link #PIPELINE_MAX} requests wait. Input memory
 * whose client keeps it from moving on (a reserved block it stopped sending, or requests read and
 * not executed because it does not read its replies) may be reclaimed when others wait for input
 * memory ({@link InputReclaimer}): this handler tells the reclaimer since when, not counting the
 * time the node itself kept the connection from being read. Output: replies are
 * handed to the socket every {@link #FLUSH_BYTES}; while the socket is full (the client does not
 * read) or the node's output budget is, nothing more is executed and nothing more is read — the
 * client is paused, not disconnected — and a reply in progress (a multi-get of large values)
 * stops between values and resumes when there is room. Replies executed but not yet written
 * (write results behind a paused head) hold at most {@link #REPLY_BYTES_MAX} plus one request's.
 */
final class ConnectionHandler extends ChannelInboundHandlerAdapter implements RequestExecutor.Output, InputReclaimer.Connection {
    private static final Logger LOG = LoggerFactory.getLogger(ConnectionHandler.class);
    /** memcached's answer when it cannot get memory for a connection's input (then it closes it). */
    static final String OUT_OF_MEMORY_READING = "SERVER_ERROR out of memory reading request";
    /** Requests queued per connection before it stops reading. */
    static final int PIPELINE_MAX = 4_096;
    /** Reply bytes gathered before they are handed to the socket. */
    static final int FLUSH_BYTES = 64 * 1024;
    /** Bound on the reply bytes of requests executed but not yet written, per connection. */
    static final long REPLY_BYTES_MAX = 4L * 1024 * 1024;

    private enum State { UNEXECUTED, PENDING, DONE, WRITING }

    private static final class Slot {
        Request request;
        final RequestExecutor.Kind kind;
        final long replyBytesBound;
        State state = State.UNEXECUTED;
        RequestExecutor.Reply reply;

        Slot(Request request, RequestExecutor.Kind kind, long replyBytesBound) {
            this.request = request;
            this.kind = kind;
            this.replyBytesBound = replyBytesBound;
        }
    }

    private final RequestExecutor executor;
    private final NodeStats stats;
    private final ConnectionRegistry registry;
    private final ByteBudget input;
    private final ByteBudget output;
    private final InputReclaimer reclaimer;
    private final ArrayDeque<Slot> slots = new ArrayDeque<>();
    private ChannelHandlerContext context;
    private ByteBuf out;
    private boolean inRead;
    /**
     * {@link #advance} is running. A reply's flush may drain the socket and make the channel
     * writable again inside it, and Netty then calls back into this handler at once: that nested
     * call only asks the running one to go round again, which otherwise would find its slot queue
     * changed under its iterator (a reply written twice, the next one lost).
     */
    private boolean advancing;
    private boolean advanceAgain;
    private boolean closing;
    private boolean waitingForAdmission;
    private boolean waitingForOutput;
    /** Reply bytes reserved by executed requests not yet written. */
    private long replyBytesReserved;
    /** Bytes handed to the socket and not yet written by it (this connection's share of {@link #output}). */
    private long outputPendingBytes;
    /** The decoder reads a data block it has reserved input memory for. */
    private boolean readingReservedBlock;
    /** When that block was reserved or last progressed, or the node stopped pausing this connection. */
    private long blockProgressNanos;
    /** Whether the node itself keeps this connection from being read (admission, shared output, pipeline depth). */
    private boolean pausedByNode;
    /** Values of requests read and not yet executed: input memory this connection holds besides its decoder's block. */
    private long queuedInputBytes;
    /** Since when the socket has been full (the client does not read its replies), or {@link InputReclaimer#NEVER}. */
    private long unwritableSinceNanos = InputReclaimer.NEVER;
    private volatile long inputStalledSinceNanos = InputReclaimer.NEVER;
    private volatile long waitingForMemorySinceNanos = InputReclaimer.NEVER;
    /** memcached's cfd in watch lines. */
    private int descriptor;
    /** Set once this connection has become a watcher: from then on it only receives the log stream. */
    private LogWatchers.Watcher watcher;
    /** Why this connection closes, for conn_close: memcached's normal, error or idle_timeout. */
    private String closeReason = "normal";

    ConnectionHandler(RequestExecutor executor, NodeStats stats, ConnectionRegistry registry, ByteBudget input,
            ByteBudget output, InputReclaimer reclaimer) {
        this.executor = executor;
        this.stats = stats;
        this.registry = registry;
        this.input = input;
        this.output = output;
        this.reclaimer = reclaimer;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        context = ctx;
        reclaimer.add(this);
        descriptor = ConnectionRegistry.descriptor(ctx.channel());
        stats.watchers.connectionNew(ctx.channel().remoteAddress(), descriptor);
        ctx.fireChannelActive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object message) {
        if (!(message instanceof Request request)) {
            ctx.fireChannelRead(message);
            return;
        }
        if (closing || watcher != null) {
            input.release(request.valueBytes());   // a watcher's input is ignored, as memcached stops reading it
            return;
        }
        inRead = true;
        registry.touched(ctx.channel());
        queuedInputBytes += request.valueBytes();
        slots.addLast(new Slot(request, RequestExecutor.kind(request), executor.replyBytesBound(request)));
        advance();
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        inRead = false;
        flush();
        ctx.fireChannelReadComplete();
    }

    /**
     * Executes what may run now, in order, and writes finished replies at the head of the queue as
     * soon as they are known. Stops at the first request that must wait (for an earlier one, for
     * admission, or for output room).
     */
    private void advance() {
        if (advancing) {
            advanceAgain = true;
            return;
        }
        advancing = true;
        try {
            do {
                advanceAgain = false;
                advanceOnce();
            } while (advanceAgain && !closing);
        } finally {
            advancing = false;
        }
    }

    private void advanceOnce() {
        boolean writesUnapplied = false;
        boolean readUnfinished = false;
        for (Iterator<Slot> it = slots.iterator(); it.hasNext() && !closing; ) {
            Slot slot = it.next();
            boolean atHead = slots.peekFirst() == slot;
            if (slot.state == State.UNEXECUTED && isWatch(slot.request)) {
                if (!atHead) {
                    break;   // earlier replies go out first; then the connection turns into a watcher
                }
                if (startWatching(slot)) {
                    return;
                }
            }
            if (slot.state == State.UNEXECUTED) {
                if (!mayExecute(slot, writesUnapplied, readUnfinished)) {
                    break;
                }
                execute(slot);
            }
            if (atHead && (slot.state == State.DONE || slot.state == State.WRITING)) {
                slot.state = State.WRITING;
                if (!slot.reply.writeTo(this)) {
                    break;   // out of room mid-reply: it resumes when the client has read
                }
                it.remove();
                replyBytesReserved -= slot.replyBytesBound;
                afterReply(slot.request);
                if (out != null && out.readableBytes() >= FLUSH_BYTES) {
                    flush();
                }
                continue;
            }
            writesUnapplied |= slot.kind != RequestExecutor.Kind.READ && slot.state == State.PENDING;
            readUnfinished |= slot.kind != RequestExecutor.Kind.WRITE && slot.state != State.DONE;
        }
        updateAutoRead();
    }

    private static boolean isWatch(Request request) {
        return request.type() == CommandType.ADMIN && request.args() != null && !request.args().isEmpty()
                && request.arg(0).equals("watch");
    }

    /**
     * {@code watch}: answers OK and hands the connection to the log stream (true), dropping what
     * was pipelined after it; or sets the refusal as the slot's reply (false).
     */
    private boolean startWatching(Slot slot) {
        LogWatchers.Parsed parsed = stats.watchers.parse(slot.request);
        String refusal = parsed.errorLine();
        if (refusal == null) {
            LogWatchers.Watcher added = stats.watchers.add(context.channel(), parsed.flags());
            if (added != null) {
                Replies.writeLine(buffer(), "OK");
                flush();
                watcher = added;
                for (Slot dropped : slots) {
                    input.release(dropped.request.valueBytes());
                }
                slots.clear();
                context.channel().config().setAutoRead(true);   // reads only to see the watcher close
                return true;
            }
            refusal = "WATCHER_TOO_MANY log watcher limit reached";
        }
        String line = refusal;
        slot.reply = RequestExecutor.whole(out -> Replies.writeLine(out, line));
        slot.state = State.DONE;
        return false;
    }

    private boolean mayExecute(Slot slot, boolean writesUnapplied, boolean readUnfinished) {
        if (!outputRoom()) {
            return false;   // the client is not reading: execute nothing more until it does
        }
        if (readUnfinished || slot.kind == RequestExecutor.Kind.READ && writesUnapplied) {
            return false;   // a read waits for earlier writes; nothing overtakes an earlier read
        }
        if (replyBytesReserved > 0 && replyBytesReserved + slot.replyBytesBound > REPLY_BYTES_MAX) {
            return false;
        }
        boolean admitted = slot.kind == RequestExecutor.Kind.READ
                ? executor.admitsRead(slot.request, this::admissionFreed)
                : executor.admitsWrite(slot.request, this::admissionFreed);
        waitingForAdmission = !admitted;
        return admitted;
    }

    private void execute(Slot slot) {
        RequestExecutor.Outcome outcome = executor.execute(slot.request, descriptor);
        queuedInputBytes -= slot.request.valueBytes();
        input.release(slot.request.valueBytes());   // the value has moved on (to the log) or was dropped
        slot.request = slot.request.withoutValue();
        replyBytesReserved += slot.replyBytesBound;
        if (outcome.now() != null) {
            slot.reply = outcome.now();
            slot.state = State.DONE;
            return;
        }
        slot.state = State.PENDING;
        outcome.later().whenComplete((reply, failure) -> context.executor().execute(() -> {
            if (failure != null) {
                LOG.warn("request failed unexpectedly: {}", slot.request, failure);
                completed(slot, RequestExecutor.whole(target -> Replies.writeLine(target, "SERVER_ERROR internal error")));
            } else {
                completed(slot, reply);
            }
        }));
    }

    private void completed(Slot slot, RequestExecutor.Reply reply) {
        if (!context.channel().isActive()) {
            reply.abandon();
            return;
        }
        slot.reply = reply;
        slot.state = State.DONE;
        advance();
        if (!inRead) {
            flush();
        }
    }

    // --- output --------------------------------------------------------------------------------

    @Override
    public ByteBuf buffer() {
        if (out == null) {
            out = context.alloc().buffer();
        }
        return out;
    }

    @Override
    public boolean room() {
        if (out != null && out.readableBytes() >= FLUSH_BYTES) {
            flush();
        }
        return outputRoom();
    }

    @Override
    public void resumeWhen(CompletableFuture<?> ready) {
        ready.whenComplete((ignored, failure) -> context.executor().execute(() -> {
            if (context.channel().isActive()) {
                advance();
                if (!inRead) {
                    flush();
                }
            }
        }));
    }

    /**
     * Whether replies may be produced now: the socket takes more, and the node's output budget has
     * room (or this connection holds none of it, so it can always make progress).
     */
    private boolean outputRoom() {
        if (!context.channel().isWritable()) {
            return false;
        }
        if (outputPendingBytes == 0) {
            return true;
        }
        if (waitingForOutput) {
            return false;
        }
        if (output.hasRoom(this::outputFreed)) {
            return true;
        }
        waitingForOutput = true;
        return false;
    }

    private void flush() {
        ByteBuf buffer = out;
        out = null;
        if (buffer == null) {
            return;
        }
        int bytes = buffer.readableBytes();
        if (bytes == 0) {
            buffer.release();
            return;
        }
        stats.bytesWritten.add(bytes);
        output.add(bytes);
        outputPendingBytes += bytes;
        context.writeAndFlush(buffer).addListener(future -> {
            outputPendingBytes -= bytes;
            output.release(bytes);
            if (outputPendingBytes == 0 && waitingForOutput) {
                // Holding none of the budget now, it may always go on (outputRoom); the budget's own
                // wake-up comes only once the others release theirs, which slow clients may never do.
                waitingForOutput = false;
                resume();
            }
        });
    }

    /** quit, and errors memcached answers by closing, end the connection after earlier replies. */
    private void afterReply(Request request) {
        boolean close = request.type() == CommandType.QUIT
                || request.type() == CommandType.ERROR_REPLY && request.closeConnection();
        if (close) {
            closing = true;
            flush();
            context.writeAndFlush(context.alloc().buffer(0)).addListener(ChannelFutureListener.CLOSE);
        }
    }

    // --- resuming -------------------------------------------------------------------------------

    /** Runs on any thread once the node admits writes (or waiting reads) again. */
    private void admissionFreed() {
        context.executor().execute(() -> {
            waitingForAdmission = false;
            resume();
        });
    }

    /** Runs on any thread once the node's output budget has room again. */
    private void outputFreed() {
        context.executor().execute(() -> {
            waitingForOutput = false;
            resume();
        });
    }

    private void resume() {
        if (context.channel().isActive() && !closing && watcher == null) {
            advance();
            flush();
        }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        if (ctx.channel().isWritable() && watcher != null) {
            watcher.drain();
        } else if (ctx.channel().isWritable()) {
            resume();   // goes on with the requests held back while the client was not reading
        } else {
            updateAutoRead();   // stops reading now, and the reclaimer learns the client does not read
        }
        ctx.fireChannelWritabilityChanged();
    }

    private void updateAutoRead() {
        if (watcher != null) {
            return;
        }
        boolean writable = context.channel().isWritable();
        boolean shouldRead = !closing && !waitingForAdmission && !waitingForOutput && slots.size() < PIPELINE_MAX
                && writable && !waitingForDataBlockMemory();
        if (context.channel().config().isAutoRead() != shouldRead) {
            context.channel().config().setAutoRead(shouldRead);
        }
        // A client that does not read its replies keeps itself from being read: that is not the node's doing.
        boolean nodePaused = writable && (waitingForAdmission || waitingForOutput || slots.size() >= PIPELINE_MAX);
        if (pausedByNode && !nodePaused) {
            blockProgressNanos = reclaimer.nanoTime();   // its sender could not send meanwhile
        }
        pausedByNode = nodePaused;
        if (writable) {
            unwritableSinceNanos = InputReclaimer.NEVER;
        } else if (unwritableSinceNanos == InputReclaimer.NEVER) {
            unwritableSinceNanos = reclaimer.nanoTime();
        }
        if (closing) {
            inputStalledSinceNanos = InputReclaimer.NEVER;
        } else if (readingReservedBlock && !nodePaused) {
            inputStalledSinceNanos = blockProgressNanos;
        } else if (queuedInputBytes > 0 && !writable) {
            inputStalledSinceNanos = unwritableSinceNanos;   // read, not executed until the client reads its replies
        } else {
            inputStalledSinceNanos = InputReclaimer.NEVER;
        }
    }

    @Override
    public long waitingForMemorySinceNanos() {
        return waitingForMemorySinceNanos;
    }

    @Override
    public long inputStalledSinceNanos() {
        return inputStalledSinceNanos;
    }

    /**
     * Closes this connection to free the input memory its client keeps from moving on, as memcached
     * does when it runs out of read buffer memory: earlier replies and the error line go out if the
     * socket takes them, then the connection closes at once (a client that does not read must not
     * keep the memory either).
     */
    @Override
    public void reclaimInput() {
        context.executor().execute(() -> {
            if (!reclaimer.lastedTooLong(inputStalledSinceNanos) || closing || !context.channel().isActive()) {
                return;   // it moved on since the reclaimer looked
            }
            stats.connectionsClosedForMemory.increment();
            LOG.debug("closing {}: its input memory did not move on for {} ms while others waited for input memory",
                    context.channel().remoteAddress(), InputReclaimer.STALL_MILLIS);
            closing = true;
            inputStalledSinceNanos = InputReclaimer.NEVER;
            Slot head = slots.peekFirst();
            if (head == null || head.state != State.WRITING) {   // never inside a value half-written
                Replies.writeLine(buffer(), OUT_OF_MEMORY_READING);
            }
            flush();
            context.close();
        });
    }

    /**
     * Whether the decoder waits for the node's input budget before reading a data block: the node
     * paused this client, so it is not idle (idle_timeout must not close it) and must not be read.
     */
    private boolean waitingForDataBlockMemory() {
        TextProtocolDecoder decoder = context.pipeline().get(TextProtocolDecoder.class);
        return decoder != null && decoder.waitingForMemory();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent && slots.isEmpty() && watcher == null && !waitingForDataBlockMemory()) {
            closeReason = "idle_timeout";
            ctx.close();   // -o idle_timeout
            return;
        }
        if (event instanceof TextProtocolDecoder.MemoryEvent memory) {
            switch (memory) {
                case WAITING -> waitingForMemorySinceNanos = reclaimer.nanoTime();
                case RESUMED -> waitingForMemorySinceNanos = InputReclaimer.NEVER;
                case BLOCK_RESERVED, BLOCK_PROGRESS -> {
                    readingReservedBlock = true;
                    blockProgressNanos = reclaimer.nanoTime();
                }
                case BLOCK_DONE -> readingReservedBlock = false;
            }
            updateAutoRead();   // the decoder waits for data block memory, or goes on
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        reclaimer.remove(this);
        inputStalledSinceNanos = InputReclaimer.NEVER;
        waitingForMemorySinceNanos = InputReclaimer.NEVER;
        if (watcher != null) {
            stats.watchers.remove(watcher);
        }
        if (context != null) {
            stats.watchers.connectionClose(ctx.channel().remoteAddress(), closeReason, descriptor);
        }
        for (Slot slot : slots) {
            input.release(slot.request.valueBytes());
            if (slot.reply != null) {
                slot.reply.abandon();
            }
        }
        slots.clear();
        queuedInputBytes = 0;
        if (out != null) {
            out.release();
            out = null;
        }
        ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        LOG.debug("closing connection {}: {}", ctx.channel().remoteAddress(), cause.toString());
        closeReason = "error";
        ctx.close();
    }
}
