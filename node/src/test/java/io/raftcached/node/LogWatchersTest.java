package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The watcher buffer as memcached's logger keeps it: lines in logger.c's formats, a bounded buffer
 * per watcher, a watcher that cannot take more loses lines and is told {@code skipped=N} before the
 * next one it gets, and no more than {@link LogWatchers#WATCHERS_MAX} watchers.
 */
class LogWatchersTest {
    private static final byte[] KEY = "user:1 x".getBytes(StandardCharsets.US_ASCII);

    private static List<String> lines(EmbeddedChannel channel) {
        channel.runPendingTasks();
        StringBuilder text = new StringBuilder();
        for (ByteBuf out = channel.readOutbound(); out != null; out = channel.readOutbound()) {
            text.append(out.toString(StandardCharsets.US_ASCII));
            out.release();
        }
        List<String> lines = new ArrayList<>();
        for (String line : text.toString().split("\n")) {
            if (!line.isEmpty()) {
                lines.add(line);
            }
        }
        return lines;
    }

    @Test
    void linesHaveLoggerCsFormats() {
        LogWatchers watchers = new LogWatchers();
        EmbeddedChannel channel = new EmbeddedChannel();
        assertNotNull(watchers.add(channel, LogWatchers.FETCHERS | LogWatchers.MUTATIONS));
        watchers.itemGet(KEY, "found", 1, 25, 3);
        watchers.itemStore(KEY, "stored", "set", 100, 2, 25, 10);
        watchers.connectionNew(null, 25);   // not watched: nothing
        List<String> lines = lines(channel);
        assertEquals(2, lines.size(), lines.toString());
        assertTrue(Pattern.matches("ts=\\d+\\.\\d{1,6} gid=1 type=item_get key=user%3A1%20x status=found clsid=1 cfd=25 size=3",
                lines.get(0)), lines.get(0));
        assertTrue(Pattern.matches("ts=\\d+\\.\\d{1,6} gid=2 type=item_store key=user%3A1%20x status=stored cmd=set ttl=100"
                + " clsid=2 cfd=25 size=10", lines.get(1)), lines.get(1));
    }

    @Test
    void aWatcherThatCannotTakeMoreLosesLinesAndIsToldHowMany() {
        LogWatchers watchers = new LogWatchers();
        EmbeddedChannel slow = new EmbeddedChannel();
        EmbeddedChannel fast = new EmbeddedChannel();
        LogWatchers.Watcher slowWatcher = watchers.add(slow, LogWatchers.FETCHERS);
        watchers.add(fast, LogWatchers.FETCHERS);
        slow.unsafe().outboundBuffer().setUserDefinedWritability(1, false);   // its client does not read
        int events = 10_000;   // ~100 bytes each: four times the buffer
        int fastLines = 0;
        for (int i = 0; i < events; i++) {
            watchers.itemGet(KEY, "not_found", 0, 7, 0);
            if (i % 100 == 99) {
                fastLines += lines(fast).size();   // its event loop runs and its client reads
            }
        }
        assertEquals(events, fastLines, "a watcher that keeps up loses nothing");
        long skipped = watchers.skipped.sum();
        assertTrue(skipped > events / 2, "the slow watcher's buffer is bounded: skipped " + skipped);
        slow.unsafe().outboundBuffer().setUserDefinedWritability(1, true);
        slowWatcher.drain();
        List<String> buffered = lines(slow);
        assertEquals(events - skipped, buffered.size(), "what fit in the buffer is delivered");
        long bufferedBytes = buffered.stream().mapToLong(line -> line.length() + 1).sum();
        assertTrue(bufferedBytes <= LogWatchers.BUFFER_BYTES_DEFAULT, bufferedBytes + " bytes held");
        watchers.itemGet(KEY, "found", 1, 7, 3);
        List<String> after = lines(slow);
        assertEquals("skipped=" + skipped, after.get(0), "told how many before the next line");
        assertTrue(after.get(1).contains("status=found"), after.toString());
    }

    @Test
    void dashWRefusesWatchAndTheBufferSizeIsTheOptions() {
        EmbeddedChannel decoder = new EmbeddedChannel(new io.raftcached.protocol.TextProtocolDecoder(
                io.raftcached.protocol.DecoderConfig.memcachedDefaults((key, flags, value) -> true)));
        decoder.writeInbound(io.netty.buffer.Unpooled.copiedBuffer("watch mutations\r\n", StandardCharsets.US_ASCII));
        io.raftcached.protocol.Request watch = decoder.readInbound();
        assertEquals("CLIENT_ERROR watch commands not allowed", new LogWatchers(false, 1024).parse(watch).errorLine());
        assertEquals(LogWatchers.MUTATIONS, new LogWatchers().parse(watch).flags());
        LogWatchers small = new LogWatchers(true, 1024);
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.unsafe().outboundBuffer().setUserDefinedWritability(1, false);
        small.add(channel, LogWatchers.FETCHERS);
        for (int i = 0; i < 100; i++) {
            small.itemGet(KEY, "not_found", 0, 7, 0);
        }
        assertTrue(small.sent.sum() <= 1024 / 80 && small.skipped.sum() >= 100 - 1024 / 80, "a 1 KB buffer holds about ten lines");
    }

    @Test
    void watchersAreLimitedAndRemovedOnes() {
        LogWatchers watchers = new LogWatchers();
        AtomicReference<Boolean> evictionsWatched = new AtomicReference<>();
        watchers.onEvictionsWatched(evictionsWatched::set);
        List<LogWatchers.Watcher> added = new ArrayList<>();
        for (int i = 0; i < LogWatchers.WATCHERS_MAX; i++) {
            added.add(watchers.add(new EmbeddedChannel(), LogWatchers.EVICTIONS));
        }
        assertEquals(Boolean.TRUE, evictionsWatched.get(), "the replica records evictions once someone watches them");
        assertNull(watchers.add(new EmbeddedChannel(), LogWatchers.FETCHERS), "memcached's WATCHER_LIMIT");
        added.forEach(watchers::remove);
        assertEquals(0, watchers.count());
        assertEquals(Boolean.FALSE, evictionsWatched.get(), "and stops when nobody does");
        assertTrue(!watchers.watching(LogWatchers.EVICTIONS));
    }
}
