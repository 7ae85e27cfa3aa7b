package io.raftcached.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * End to end without a network: every transcript of {@code memcached-1.6.18-replies.txt}
 * (captured from Debian memcached 1.6.18) is fed through {@link TextProtocolDecoder}, executed by
 * the {@link ReferenceNode} model and answered with {@link Replies} / {@link MetaResponseWriter};
 * the bytes must match the capture. This shows the decoder and writers compose into memcached's
 * exact replies, and how the node is meant to use them.
 */
class ReferenceNodeTest {

    @Test
    void everyCapturedTranscriptReplaysByteForByte() throws IOException {
        List<String> failures = new ArrayList<>();
        ReferenceNode node = new ReferenceNode();
        for (RepliesFile.Case c : RepliesFile.load().cases()) {
            EmbeddedChannel flush = Wire.channel();
            flush.writeInbound(Unpooled.wrappedBuffer(Wire.bytes("flush_all\r\n")));
            ByteBuf ignored = Unpooled.buffer();
            node.handle((Request) flush.readInbound(), ignored);
            ignored.release();
            flush.finishAndReleaseAll();

            EmbeddedChannel ch = Wire.channel();
            boolean open = true;
            Map<String, String> bound = new HashMap<>();
            for (RepliesFile.Step s : c.steps()) {
                ByteBuf out = Unpooled.buffer();
                ch.writeInbound(Unpooled.wrappedBuffer(RepliesFile.renderSend(s.send(), bound, System.currentTimeMillis() / 1000)));
                for (Object o; open && (o = ch.readInbound()) != null; ) {
                    open = node.handle((Request) o, out);
                }
                String mismatch = RepliesFile.match(s.expect(), Wire.text(out), !open, bound);
                out.release();
                if (mismatch != null) {
                    failures.add(c.name() + " / " + s.send() + ": " + mismatch);
                    break;
                }
            }
            ch.finishAndReleaseAll();
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " transcripts differ:\n" + String.join("\n", failures));
        }
    }

    @Test
    void slabClassesFollowMemcachedDefaults() {
        // "me" in the captures: size=65 and 70 are class 1, size=563 is class 9
        assertEquals(1, ReferenceNode.slabClass(65));
        assertEquals(1, ReferenceNode.slabClass(96));
        assertEquals(2, ReferenceNode.slabClass(97));
        assertEquals(9, ReferenceNode.slabClass(563));
    }
}
