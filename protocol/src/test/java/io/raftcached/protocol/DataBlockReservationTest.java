package io.raftcached.protocol;

import static io.raftcached.protocol.Wire.bytes;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * When the decoder takes a data block's memory from the node's budget: only once the block is
 * arriving ({@link TextProtocolDecoder#BLOCK_RESERVE_AT_BYTES} of it, or all of it), so a client
 * that declares a large block and sends a little holds nothing of the budget; and what it tells
 * the pipeline meanwhile, which the node uses to tell a stalled block from one that arrives.
 */
class DataBlockReservationTest {
    private static final int ONE_MEGABYTE = 1_000_000;

    /** A budget of a fixed size that records what it granted. */
    private static final class RecordingBudget implements DataBlockBudget {
        final long limitBytes;
        long reservedBytes;
        Runnable waiter;

        RecordingBudget(long limitBytes) {
            this.limitBytes = limitBytes;
        }

        @Override
        public boolean tryReserve(long sizeBytes, Runnable onAvailable) {
            if (reservedBytes + sizeBytes > limitBytes) {
                waiter = onAvailable;
                return false;
            }
            reservedBytes += sizeBytes;
            return true;
        }

        @Override
        public void release(long sizeBytes) {
            reservedBytes -= sizeBytes;
            Runnable wake = waiter;
            waiter = null;
            if (wake != null) {
                wake.run();
            }
        }
    }

    /** Records the decoder's memory events, and lets requests through to the channel's inbound queue. */
    private static final class Events extends ChannelInboundHandlerAdapter {
        final List<TextProtocolDecoder.MemoryEvent> seen = new ArrayList<>();

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
            seen.add((TextProtocolDecoder.MemoryEvent) event);
        }

        List<TextProtocolDecoder.MemoryEvent> drain() {
            List<TextProtocolDecoder.MemoryEvent> drained = new ArrayList<>(seen);
            seen.clear();
            return drained;
        }
    }

    private final RecordingBudget budget = new RecordingBudget(2L * ONE_MEGABYTE);
    private final Events events = new Events();
    private final EmbeddedChannel channel = new EmbeddedChannel(new TextProtocolDecoder(Wire.CONFIG, budget), events);

    private void send(String latin1) {
        channel.writeInbound(Unpooled.wrappedBuffer(bytes(latin1)));
    }

    private void send(int count, byte fill) {
        byte[] block = new byte[count];
        Arrays.fill(block, fill);
        channel.writeInbound(Unpooled.wrappedBuffer(block));
    }

    @Test
    void aDeclaredMegabyteReservesNothingUntilItsFirstReadArrives() {
        send("set k 0 0 " + ONE_MEGABYTE + "\r\n0123456789");
        assertEquals(0, budget.reservedBytes, "ten bytes sent of a megabyte declared");
        assertEquals(List.of(), events.drain());

        send(TextProtocolDecoder.BLOCK_RESERVE_AT_BYTES - 11, (byte) 'v');
        assertEquals(0, budget.reservedBytes, "one byte short of the reservation mark");
        assertEquals(TextProtocolDecoder.BLOCK_RESERVE_AT_BYTES - 1, channel.pipeline().get(TextProtocolDecoder.class).bufferedBytes(),
                "what was sent waits in the read buffer");
        assertEquals(List.of(), events.drain());

        send(1, (byte) 'v');
        assertEquals(ONE_MEGABYTE, budget.reservedBytes, "the block is arriving: reserved whole");
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.BLOCK_RESERVED, TextProtocolDecoder.MemoryEvent.BLOCK_PROGRESS),
                events.drain());
        assertEquals(0, channel.pipeline().get(TextProtocolDecoder.class).bufferedBytes(), "copied out once reserved");

        send(ONE_MEGABYTE - TextProtocolDecoder.BLOCK_RESERVE_AT_BYTES, (byte) 'v');
        send("\r\n");
        Request set = channel.readInbound();
        assertNotNull(set);
        assertEquals(ONE_MEGABYTE, set.value().length);
        assertEquals(ONE_MEGABYTE, set.valueBytes(), "the reservation goes on with the request");
        List<TextProtocolDecoder.MemoryEvent> seen = events.drain();
        assertEquals(TextProtocolDecoder.MemoryEvent.BLOCK_DONE, seen.get(seen.size() - 1));
        channel.finishAndReleaseAll();
    }

    @Test
    void aSmallBlockIsReservedWhenAllOfItIsHere() {
        send("set k 0 0 5\r\nab");
        assertEquals(0, budget.reservedBytes);
        send("cde\r");
        assertEquals(0, budget.reservedBytes, "the trailer's last byte is still missing");
        send("\n");
        assertEquals(5, budget.reservedBytes);
        assertEquals("abcde", Wire.text(((Request) channel.readInbound()).value()));
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.BLOCK_RESERVED, TextProtocolDecoder.MemoryEvent.BLOCK_DONE),
                events.drain());
        channel.finishAndReleaseAll();
    }

    @Test
    void aReservedBlockReportsProgressEachReadThatCrossesASixteenKilobyteMark() {
        send("set k 0 0 " + ONE_MEGABYTE + "\r\n");
        send(TextProtocolDecoder.BLOCK_RESERVE_AT_BYTES, (byte) 'v');
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.BLOCK_RESERVED, TextProtocolDecoder.MemoryEvent.BLOCK_PROGRESS),
                events.drain());
        send(TextProtocolDecoder.BLOCK_PROGRESS_BYTES - 1, (byte) 'v');
        assertEquals(List.of(), events.drain(), "16 KB minus one byte more: no mark crossed");
        send(1, (byte) 'v');
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.BLOCK_PROGRESS), events.drain());
        send(3 * TextProtocolDecoder.BLOCK_PROGRESS_BYTES, (byte) 'v');
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.BLOCK_PROGRESS), events.drain(), "one event per read");
        channel.finishAndReleaseAll();
    }

    @Test
    void aBlockThatDoesNotFitWaitsHoldingNothingAndGoesOnWhenMemoryIsReleased() {
        budget.reservedBytes = budget.limitBytes - 100;   // held by other connections
        send("set k 0 0 200\r\n" + "v".repeat(200) + "\r\nmn\r\n");
        assertEquals(budget.limitBytes - 100, budget.reservedBytes);
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.WAITING), events.drain());
        assertNull(channel.readInbound(), "nothing after the waiting block is decoded either");

        budget.release(budget.limitBytes - 100);   // the others finish
        channel.runPendingTasks();
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.BLOCK_RESERVED, TextProtocolDecoder.MemoryEvent.RESUMED,
                TextProtocolDecoder.MemoryEvent.BLOCK_DONE), events.drain());
        assertEquals(200, ((Request) channel.readInbound()).value().length);
        assertEquals(CommandType.META_NOOP, ((Request) channel.readInbound()).type());
        channel.finishAndReleaseAll();
    }

    @Test
    void aBadChunkGivesItsReservationBack() {
        send("set k 0 0 3\r\nabcXY");
        assertEquals(0, budget.reservedBytes);
        assertEquals(Replies.CLIENT_ERROR_BAD_DATA_CHUNK, ((Request) channel.readInbound()).errorLine());
        assertEquals(List.of(TextProtocolDecoder.MemoryEvent.BLOCK_RESERVED, TextProtocolDecoder.MemoryEvent.BLOCK_DONE),
                events.drain());
        channel.finishAndReleaseAll();
    }

    @Test
    void aBlockCutOffByTheConnectionClosingGivesItsReservationBack() {
        send("set k 0 0 " + ONE_MEGABYTE + "\r\n");
        send(TextProtocolDecoder.BLOCK_RESERVE_AT_BYTES, (byte) 'v');
        assertEquals(ONE_MEGABYTE, budget.reservedBytes);
        channel.close();
        assertEquals(0, budget.reservedBytes);
        channel.finishAndReleaseAll();
    }
}
