package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.raftcached.protocol.TextProtocolDecoder;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The node's client input budget is shared fairly: connections that declare data blocks and do
 * not send them hold none of it, small blocks are stored at once from the reserve whatever large
 * ones hold, and large blocks that really hold the budget but stall, or requests whose client does
 * not read its replies, are reclaimed when another client waits, while blocks that keep arriving,
 * and connections the node itself paused, are left alone. Driven in process through the real decoder and connection handler over a real
 * replica ({@link InProcessCache}), on a test clock: each check of the {@link InputReclaimer} is
 * called by the test, as the node's timer would.
 */
class InputBudgetFairnessTest {
    private static final int BLOCK_BYTES = 1_000_000;
    /** More than the decoder waits for before it reserves the block. */
    private static final int SENT_OF_BLOCK_BYTES = 100_000;
    /** A writer's block too large for the small blocks' reserve. */
    private static final int LARGE_WRITE_BYTES = 100_000;

    private final ServerConfig config = config();
    private final InProcessCache cache = new InProcessCache(config.store());
    private final NodeStats stats = new NodeStats();
    private final ConnectionRegistry registry = new ConnectionRegistry();
    private final RequestExecutor executor = new RequestExecutor(cache, config, stats,
            new AdminCommands(config, stats, new StatsReplies(cache, config, stats, registry), () -> { }), Runnable::run, false);
    private final ByteBudget output = new ByteBudget("output", 64L << 20);
    private final AtomicLong nowNanos = new AtomicLong(TimeUnit.SECONDS.toNanos(100));
    private final InputReclaimer reclaimer = new InputReclaimer(nowNanos::get);
    private final List<EmbeddedChannel> channels = new ArrayList<>();
    /** Room for four 1 MB blocks besides the reserve, not for a fifth large one. */
    private ByteBudget input = ByteBudget.clientInput(4_600_000);

    private static ServerConfig config() {
        ServerOptions options = new ServerOptions();
        new CommandLine(options).parseArgs("-p", "0", "--raft", "127.0.0.1:1");   // never bound: there is no Raft here
        return options.validate();
    }

    @AfterEach
    void close() {
        channels.forEach(EmbeddedChannel::finishAndReleaseAll);
        cache.close();
    }

    private EmbeddedChannel connection() {
        EmbeddedChannel channel = new EmbeddedChannel(new TextProtocolDecoder(Server.decoderConfig(config.store()), input),
                new ConnectionHandler(executor, stats, registry, input, output, reclaimer));
        channels.add(channel);
        return channel;
    }

    private static void send(EmbeddedChannel channel, String latin1) {
        channel.writeInbound(Unpooled.wrappedBuffer(latin1.getBytes(StandardCharsets.ISO_8859_1)));
        channel.runPendingTasks();
    }

    private static void sendBlockBytes(EmbeddedChannel channel, int count) {
        byte[] bytes = new byte[count];
        Arrays.fill(bytes, (byte) 'v');
        channel.writeInbound(Unpooled.wrappedBuffer(bytes));
        channel.runPendingTasks();
    }

    /** What the node wrote to the client so far. */
    private static String replies(EmbeddedChannel channel) {
        channel.runPendingTasks();
        ByteArrayOutputStream reply = new ByteArrayOutputStream();
        for (ByteBuf out; (out = channel.readOutbound()) != null; ) {
            byte[] bytes = new byte[out.readableBytes()];
            out.readBytes(bytes);
            out.release();
            reply.writeBytes(bytes);
        }
        return reply.toString(StandardCharsets.ISO_8859_1);
    }

    private void advanceMillis(long millis) {
        nowNanos.addAndGet(TimeUnit.MILLISECONDS.toNanos(millis));
    }

    /** Connections that each sent a 1 MB set's header and 100 KB of its block, 10 ms apart: the budget is theirs. */
    private List<EmbeddedChannel> reservedBlocksFillingTheBudget() {
        List<EmbeddedChannel> holders = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            EmbeddedChannel holder = connection();
            send(holder, "set holder-" + i + " 0 0 " + BLOCK_BYTES + "\r\n");
            sendBlockBytes(holder, SENT_OF_BLOCK_BYTES);
            holders.add(holder);
            advanceMillis(10);
        }
        assertEquals(4L * BLOCK_BYTES, input.usedBytes());
        return holders;
    }

    /** A writer of a block too large for the reserve, waiting because large blocks hold the rest. */
    private EmbeddedChannel writerWaitingForInputMemory() {
        EmbeddedChannel writer = connection();
        send(writer, "set large 0 0 " + LARGE_WRITE_BYTES + "\r\n" + "w".repeat(LARGE_WRITE_BYTES) + "\r\n");
        assertEquals("", replies(writer), "the input budget is full: the writer waits");
        return writer;
    }

    private static ConnectionHandler handler(EmbeddedChannel channel) {
        return channel.pipeline().get(ConnectionHandler.class);
    }

    @Test
    void declaredBlocksThatDoNotArriveHoldNoneOfTheBudget() {
        for (int i = 0; i < 8; i++) {
            send(connection(), "set holder-" + i + " 0 0 " + BLOCK_BYTES + "\r\n0123456789");
        }
        assertEquals(0, input.usedBytes(), "eight megabytes declared, eighty bytes sent");
        EmbeddedChannel writer = connection();
        send(writer, "set small 0 0 5\r\nhello\r\n");
        assertEquals("STORED\r\n", replies(writer));
    }

    @Test
    void aSmallSetIsStoredAtOnceFromTheReserveWhileLargeBlocksHoldTheRest() {
        reservedBlocksFillingTheBudget();
        EmbeddedChannel writer = writerWaitingForInputMemory();
        EmbeddedChannel small = connection();
        send(small, "set small 0 0 " + TextProtocolDecoder.WHOLE_BLOCK_MAX_BYTES + "\r\n"
                + "s".repeat(TextProtocolDecoder.WHOLE_BLOCK_MAX_BYTES) + "\r\n");
        assertEquals("STORED\r\n", replies(small), "no wait, and nothing reclaimed for it");
        assertNull(reclaimer.check());
        assertEquals("", replies(writer));
        assertEquals(0, stats.connectionsClosedForMemory.sum());
    }

    @Test
    void stalledBlocksAreReclaimedOldestFirstOnceAWriterHasWaitedASecond() {
        List<EmbeddedChannel> holders = reservedBlocksFillingTheBudget();
        EmbeddedChannel writer = writerWaitingForInputMemory();
        advanceMillis(900);
        assertNull(reclaimer.check(), "nobody has waited a second yet");

        advanceMillis(200);
        assertSame(handler(holders.get(0)), reclaimer.check(), "the block stalled longest");
        assertEquals(ConnectionHandler.OUT_OF_MEMORY_READING + "\r\n", replies(holders.get(0)));
        assertFalse(holders.get(0).isOpen());
        assertEquals(1, stats.connectionsClosedForMemory.sum());

        assertEquals("STORED\r\n", replies(writer), "the writer got the memory given back");
        assertEquals(3L * BLOCK_BYTES, input.usedBytes());
        assertNull(reclaimer.check(), "nobody waits any more: the other stalled blocks stay");
        for (EmbeddedChannel holder : holders.subList(1, holders.size())) {
            assertEquals("", replies(holder));
        }
    }

    @Test
    void blocksThatKeepArrivingAreNotReclaimedHoweverSlow() {
        List<EmbeddedChannel> holders = reservedBlocksFillingTheBudget();
        EmbeddedChannel writer = writerWaitingForInputMemory();
        for (int round = 0; round < 6; round++) {
            advanceMillis(500);
            for (EmbeddedChannel holder : holders) {
                sendBlockBytes(holder, TextProtocolDecoder.BLOCK_PROGRESS_BYTES);
                advanceMillis(1);   // holder 0 has gone longest without progress at any time
            }
            assertNull(reclaimer.check(), "16 KB every half second is progress (round " + round + ")");
        }
        assertEquals("", replies(writer), "the budget is in use: the writer still waits");

        advanceMillis(InputReclaimer.STALL_MILLIS);
        assertSame(handler(holders.get(0)), reclaimer.check(), "once they stop, they are stalled");
        assertEquals(ConnectionHandler.OUT_OF_MEMORY_READING + "\r\n", replies(holders.get(0)));
        assertEquals("STORED\r\n", replies(writer));
    }

    @Test
    void requestsHeldBecauseTheirClientDoesNotReadItsRepliesAreReclaimed() {
        EmbeddedChannel nonReader = connection();
        nonReader.unsafe().outboundBuffer().setUserDefinedWritability(1, false);   // its client stopped reading replies
        nonReader.runPendingTasks();
        for (int i = 0; i < 4; i++) {
            send(nonReader, "set queued-" + i + " 0 0 " + BLOCK_BYTES + "\r\n" + "q".repeat(BLOCK_BYTES) + "\r\n");
        }
        assertEquals(4L * BLOCK_BYTES, input.usedBytes(), "read whole, not executed: their values hold the budget");
        EmbeddedChannel writer = writerWaitingForInputMemory();
        advanceMillis(900);
        assertNull(reclaimer.check());

        advanceMillis(200);
        assertSame(handler(nonReader), reclaimer.check());
        nonReader.runPendingTasks();
        assertFalse(nonReader.isOpen());
        assertEquals("STORED\r\n", replies(writer));
        assertEquals(0, input.usedBytes());
    }

    @Test
    void aBlockTheNodeItselfKeepsFromBeingReadIsNotStalled() {
        input = ByteBudget.clientInput(1_300_000);   // one large block of 1 MB, not one more of 200 KB
        cache.admitWrites(false);   // the write stream is full: connections with writes to send stop being read
        EmbeddedChannel holder = connection();
        send(holder, "set first 0 0 1\r\nx\r\nset big 0 0 " + BLOCK_BYTES + "\r\n" + "v".repeat(SENT_OF_BLOCK_BYTES));
        assertEquals(BLOCK_BYTES + 1L, input.usedBytes(), "the first set waits for admission, the second's block is reserved");
        EmbeddedChannel writer = connection();
        send(writer, "set other 0 0 200000\r\n" + "w".repeat(200_000) + "\r\n");

        advanceMillis(5_000);
        assertNull(reclaimer.check(), "paused by the node, not stalled by its client");

        cache.admitWrites(true);
        assertEquals("STORED\r\n", replies(holder));
        assertNull(reclaimer.check(), "its client gets its chance to send from now on");
        advanceMillis(InputReclaimer.STALL_MILLIS);
        assertSame(handler(holder), reclaimer.check());
        assertEquals(ConnectionHandler.OUT_OF_MEMORY_READING + "\r\n", replies(holder));
        assertEquals("STORED\r\n", replies(writer));
    }
}
