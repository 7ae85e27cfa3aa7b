package io.raftcached.node;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.raftcached.protocol.Replies;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Open client connections and listeners: enforces {@code -c}, answers {@code stats conns}, and
 * lets shutdown close everything at once.
 */
final class ConnectionRegistry {
    private final ChannelGroup channels = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ChannelGroup listeners = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    /** Per channel, set on every command: an attribute, so the hot path neither boxes nor locks. */
    private static final AttributeKey<AtomicLong> LAST_COMMAND_NANOS = AttributeKey.valueOf("raftcached.lastCommandNanos");

    void addListener(Channel listener) {
        listeners.add(listener);
        listener.attr(LAST_COMMAND_NANOS).set(new AtomicLong(System.nanoTime()));   // memcached: seconds since the listener opened
    }

    void add(Channel channel) {
        channels.add(channel);
        channel.attr(LAST_COMMAND_NANOS).set(new AtomicLong(System.nanoTime()));
    }

    void touched(Channel channel) {
        AtomicLong last = channel.attr(LAST_COMMAND_NANOS).get();
        if (last != null) {
            last.lazySet(System.nanoTime());
        }
    }

    ChannelGroup channels() {
        return channels;
    }

    ChannelGroup listeners() {
        return listeners;
    }

    void describe(ByteBuf out) {
        long now = System.nanoTime();
        for (Channel listener : listeners) {
            String id = id(listener);
            Replies.writeStat(out, id + ":addr", address(listener.localAddress()));
            Replies.writeStat(out, id + ":state", "conn_listening");
            Replies.writeStat(out, id + ":secs_since_last_cmd", secondsSince(listener, now));
        }
        for (Channel channel : channels) {
            String id = id(channel);
            Replies.writeStat(out, id + ":addr", address(channel.remoteAddress()));
            Replies.writeStat(out, id + ":listen_addr", address(channel.localAddress()));
            Replies.writeStat(out, id + ":state", "conn_parse_cmd");
            Replies.writeStat(out, id + ":secs_since_last_cmd", secondsSince(channel, now));
        }
    }

    private long secondsSince(Channel channel, long nowNanos) {
        AtomicLong last = channel.attr(LAST_COMMAND_NANOS).get();
        return last == null ? 0 : (nowNanos - last.get()) / 1_000_000_000L;
    }

    /** The socket's file descriptor where the transport exposes it, as memcached labels lines. */
    private static String id(Channel channel) {
        if (channel instanceof io.netty.channel.unix.UnixChannel unix) {
            return Integer.toString(unix.fd().intValue());
        }
        return channel.id().asShortText();
    }

    /** memcached's cfd in watch lines: the socket's descriptor, or (NIO, in-process tests) a stable number. */
    static int descriptor(Channel channel) {
        if (channel instanceof io.netty.channel.unix.UnixChannel unix) {
            return unix.fd().intValue();
        }
        return channel.id().hashCode() & 0x7fffffff;
    }

    private static String address(SocketAddress address) {
        if (address instanceof InetSocketAddress inet) {
            return "tcp:" + inet.getAddress().getHostAddress() + ":" + inet.getPort();
        }
        return "unix:" + address;
    }
}
