package io.raftcached.node;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.nio.NioEventLoopGroup;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.timeout.IdleStateHandler;
import io.raftcached.protocol.DecoderConfig;
import io.raftcached.protocol.TextProtocolDecoder;
import io.raftcached.raft.ClusterNode;
import io.raftcached.raft.GroupedCache;
import io.raftcached.raft.FatalStop;
import io.raftcached.raft.ReplicatedCache;
import io.raftcached.store.SlabClasses;
import io.raftcached.store.StoreConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running node: the cluster member and the memcached listeners in front of it.
 * Netty's native epoll transport when available, {@code -t} event loops, pooled buffers.
 */
final class Server {
    private static final Logger LOG = LoggerFactory.getLogger(Server.class);
    private static final byte[] TOO_MANY_CONNECTIONS = "ERROR Too many open connections\r\n".getBytes(StandardCharsets.US_ASCII);
    private static final long STOP_GRACE_MILLIS = 5_000;
    /**
     * A connection stops being executed above the high mark of unsent reply bytes and goes on below
     * the low one: with replies handed over every 64 KB, a client that does not read holds about
     * this much besides the one value being written.
     */
    private static final int SOCKET_BUFFER_LOW_BYTES = 256 * 1024;
    private static final int SOCKET_BUFFER_HIGH_BYTES = 1024 * 1024;

    private final ServerConfig config;
    /** -Y: the credentials every connection must present first, or null. */
    private final AuthFile authFile;
    private final ReplicatedCache cluster;
    private final NodeStats stats;
    private final ConnectionRegistry registry = new ConnectionRegistry();
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Class<? extends ServerChannel> tcpChannel;
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Client data blocks and requests not yet handed on, node-wide (-o read_buf_mem_limit). */
    private final ByteBudget input;
    /** Replies handed to sockets and not yet sent, node-wide (-o resp_obj_mem_limit). */
    private final ByteBudget output;
    /** Takes the input budget back from stalled clients when other clients wait for it. */
    private final InputReclaimer reclaimer = new InputReclaimer(System::nanoTime);
    /** Whole-store walks (stats digest), off the event loops. */
    private final ExecutorService walks = Executors.newSingleThreadExecutor(new io.netty.util.concurrent.DefaultThreadFactory("raftcached-walks", true));
    private final AtomicBoolean stopping = new AtomicBoolean();
    /** {@code /metrics}, when --metrics-port asks for it. */
    private volatile MetricsEndpoint metrics;
    /** -Z: the TLS context for the TCP listeners; null without it. */
    private final ClientTls tls;

    private Server(ServerConfig config, AuthFile authFile, ReplicatedCache cluster, ClientTls tls) {
        this.config = config;
        this.authFile = authFile;
        this.cluster = cluster;
        this.tls = tls;
        this.stats = new NodeStats(new PrefixStats(config.flags().prefixDelimiter(), config.flags().prefixDelimiter != null),
                new LogWatchers(!config.flags().disableWatch, config.extended().watcherBufferBytes));
        boolean epoll = Epoll.isAvailable();
        this.acceptors = epoll ? new EpollEventLoopGroup(1) : new NioEventLoopGroup(1);
        this.workers = epoll ? new EpollEventLoopGroup(config.flags().threads) : new NioEventLoopGroup(config.flags().threads);
        this.tcpChannel = epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
        this.stats.verbosity = config.verbosity();
        this.stats.clientTls = tls;
        this.stats.crawlerSleepMicros = config.extended().lruCrawlerSleepMicros;
        this.input = ByteBudget.clientInput(config.raft().budgets().clientInputBytes());
        this.output = new ByteBudget("client output", config.raft().budgets().clientOutputBytes());
    }

    static Server start(ServerConfig config, FatalStop fatal) throws IOException, InterruptedException {
        AuthFile authFile = loadAuthFile(config.flags().authFile);
        // before the cluster starts: a bad certificate refuses to start, as memcached does
        ClientTls tls = config.flags().ssl ? ClientTls.start(config.extended().tls) : null;
        ReplicatedCache cluster = config.flags().groups == 1 ? ClusterNode.start(config.raft(), config.store(), fatal)
                : GroupedCache.start(config.raft(), config.store(), fatal, config.flags().groups);
        if (config.extended().trackSizes) {
            cluster.trackSizes();
        }
        Server server = new Server(config, authFile, cluster, tls);
        try {
            server.listen();
        } catch (IOException | RuntimeException e) {
            server.stopGracefully();
            throw e;
        }
        return server;
    }

    private void listen() throws IOException, InterruptedException {
        ServerOptions flags = config.flags();
        cluster.events().watch(line -> stats.watchers.raft(line));
        stats.watchers.onEvictionsWatched(on -> cluster.watchEvictions(on ? stats.watchers::eviction : null,
                stats.watchers.skipped::add));
        StatsReplies statsReplies = new StatsReplies(cluster, config, stats, registry);
        workers.next().scheduleWithFixedDelay(reclaimer::check, InputReclaimer.CHECK_INTERVAL_MILLIS,
                InputReclaimer.CHECK_INTERVAL_MILLIS, TimeUnit.MILLISECONDS);
        AdminCommands admin = new AdminCommands(config, stats, statsReplies, () -> new Thread(this::stopGracefully,
                "raftcached-shutdown-command").start());
        RequestExecutor plain = new RequestExecutor(cluster, config, stats, admin, walks, flags.linearizableReads);
        if (flags.unixSocket != null) {
            listenUnix(Path.of(flags.unixSocket), plain);
        } else {
            if (flags.listenAddresses.isEmpty()) {
                listenTcp(null, flags.port, flags.listenerTls(), plain);
            }
            for (ServerOptions.ListenAddress address : flags.listenAddresses) {
                listenTcp(address.host(), address.port(), address.tls(), plain);
            }
        }
        if (flags.metricsPort > 0) {
            metrics = MetricsEndpoint.start(flags.metricsHost(), flags.metricsPort, cluster, statsReplies, stats);
            LOG.info("serving Prometheus metrics on {}:{}/metrics", flags.metricsHost() == null ? "*" : flags.metricsHost(),
                    metrics.port());
        }
        if (flags.linearizablePort > 0) {
            // the first listener's address and TLS
            ServerOptions.ListenAddress first = flags.listenAddresses.isEmpty() ? null : flags.listenAddresses.get(0);
            listenTcp(first == null ? null : first.host(), flags.linearizablePort,
                    first == null ? flags.listenerTls() : first.tls(), new RequestExecutor(cluster, config, stats, admin, walks, true));
        }
        LOG.info("raftcached {} serving memcached's protocol on {}{} with {} MB, node {} of {}", Versions.RAFTCACHED,
                flags.unixSocket != null ? flags.unixSocket : (flags.listen == null ? "*:" + flags.port : flags.listen),
                flags.linearizablePort > 0 ? " (linearizable reads on port " + flags.linearizablePort + ")" : "",
                config.store().memoryLimitBytes() / StoreConfig.MEGABYTE, config.raft().nodeId(),
                config.raft().singleMember() ? "a one-member group" : config.raft().peers());
    }

    /** -Y: memcached refuses to start, exit status 1, when the file cannot be read or is malformed. */
    private static AuthFile loadAuthFile(String file) {
        if (file == null) {
            return null;
        }
        try {
            return AuthFile.load(Path.of(file));
        } catch (AuthFile.LoadException e) {
            throw new ServerOptions.FlagError(e.getMessage(), 1);
        }
    }

    /** SIGHUP: memcached reloads its auth file (and nothing else, in 1.6.18). */
    void reloadOnHangup() {
        if (authFile != null) {
            authFile.reload();
        }
    }

    /** The decoder's limits: memcached's line limits and the item sizes this store shape takes. */
    static DecoderConfig decoderConfig(StoreConfig store) {
        return new DecoderConfig(new SlabClasses(store)::itemFits,
                DecoderConfig.MEMCACHED_MAX_LINE_BYTES, DecoderConfig.DEFAULT_MAX_MULTIGET_LINE_BYTES);
    }

    private ServerBootstrap bootstrap(RequestExecutor executor, ClientTls.Listener listenerTls) {
        DecoderConfig decoderConfig = decoderConfig(config.store());
        Integer idleSeconds = config.extended().idleTimeoutSeconds;
        ChannelHandler limiter = new ConnectionLimiter();
        ChannelHandler byteCounter = new ByteCounter();
        return new ServerBootstrap().group(acceptors, workers)
                .option(ChannelOption.SO_BACKLOG, config.flags().listenBacklog)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(SOCKET_BUFFER_LOW_BYTES, SOCKET_BUFFER_HIGH_BYTES))
                .childHandler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel channel) {
                        // The limiter goes before TLS: memcached refuses past -c in plaintext, before SSL_accept.
                        channel.pipeline().addLast(limiter);
                        if (listenerTls != ClientTls.Listener.PLAIN) {
                            channel.pipeline().addLast(tls.newHandler(channel.alloc(), listenerTls), tls.handshakeWatcher());
                        }
                        // after TLS: bytes_read counts what the client sent, decrypted, as memcached's does
                        channel.pipeline().addLast(byteCounter);
                        if (idleSeconds != null && idleSeconds > 0) {
                            channel.pipeline().addLast(new IdleStateHandler(0, 0, idleSeconds, TimeUnit.SECONDS));
                        }
                        if (authFile != null) {
                            channel.pipeline().addLast(new AsciiAuthHandler(authFile, stats, config.flags().maxRequestsPerEvent));
                        }
                        channel.pipeline().addLast(new TextProtocolDecoder(decoderConfig, input),
                                new ConnectionHandler(executor, stats, registry, input, output, reclaimer));
                    }
                });
    }

    private void listenTcp(String host, int port, ClientTls.Listener listenerTls, RequestExecutor executor)
            throws IOException, InterruptedException {
        ServerBootstrap bootstrap = bootstrap(executor, listenerTls).channel(tcpChannel).childOption(ChannelOption.TCP_NODELAY, true);
        InetSocketAddress address = host == null ? new InetSocketAddress(port) : new InetSocketAddress(host, port);
        var bind = bootstrap.bind(address).await();
        if (!bind.isSuccess()) {
            throw new IOException("failed to listen on TCP port " + port + ": " + bind.cause().getMessage(), bind.cause());
        }
        registry.addListener(bind.channel());
    }

    private void listenUnix(Path socket, RequestExecutor executor) throws IOException, InterruptedException {
        if (!Epoll.isAvailable()) {
            throw new IOException("-s needs Linux epoll, which is not available here");
        }
        Files.deleteIfExists(socket);
        // plaintext, as memcached's UNIX socket under -Z
        var bind = bootstrap(executor, ClientTls.Listener.PLAIN).channel(EpollServerDomainSocketChannel.class)
                .bind(new DomainSocketAddress(socket.toFile())).await();
        if (!bind.isSuccess()) {
            throw new IOException("failed to listen on UNIX socket " + socket + ": " + bind.cause().getMessage(), bind.cause());
        }
        Files.setPosixFilePermissions(socket, permissions(config.flags().unixMask));
        registry.addListener(bind.channel());
    }

    /** -a is an octal mask, as memcached applies it to the socket file. */
    private static Set<PosixFilePermission> permissions(String octal) {
        int mask = Integer.parseInt(octal, 8);
        Set<PosixFilePermission> permissions = EnumSet.noneOf(PosixFilePermission.class);
        PosixFilePermission[] order = {PosixFilePermission.OTHERS_EXECUTE, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_READ, PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OWNER_WRITE,
            PosixFilePermission.OWNER_READ};
        for (int bit = 0; bit < order.length; bit++) {
            if ((mask & (1 << bit)) != 0) {
                permissions.add(order[bit]);
            }
        }
        return permissions;
    }

    /** memcached's maxconns_fast: past {@code -c}, say so and close at once. */
    @ChannelHandler.Sharable
    private final class ConnectionLimiter extends ChannelInboundHandlerAdapter {
        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            if (stats.currentConnections.incrementAndGet() > config.flags().connLimit) {
                stats.rejectedConnections.increment();
                ctx.writeAndFlush(Unpooled.wrappedBuffer(TOO_MANY_CONNECTIONS)).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            stats.totalConnections.increment();
            registry.add(ctx.channel());
            ctx.fireChannelActive();
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            stats.currentConnections.decrementAndGet();
            ctx.fireChannelInactive();
        }
    }

    @ChannelHandler.Sharable
    private final class ByteCounter extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object message) {
            if (message instanceof ByteBuf bytes) {
                stats.bytesRead.add(bytes.readableBytes());
            }
            ctx.fireChannelRead(message);
        }
    }

    /** Blocks until the node has stopped; returns the process exit code. */
    int awaitStopped() throws InterruptedException {
        stopped.await();
        return 0;
    }

    /**
     * Stops accepting, lets requests in flight finish for a bounded time, closes connections and
     * leaves the cluster's Raft group cleanly.
     */
    void stopGracefully() {
        if (!stopping.compareAndSet(false, true)) {
            try {
                stopped.await(STOP_GRACE_MILLIS * 2, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return;
        }
        LOG.info("stopping: no new connections; finishing writes in flight");
        try {
            registry.listeners().close().awaitUninterruptibly(STOP_GRACE_MILLIS);
            if (metrics != null) {
                metrics.close();
            }
            cluster.handOver(STOP_GRACE_MILLIS);
            registry.channels().close().awaitUninterruptibly(STOP_GRACE_MILLIS);
            cluster.close();
            walks.shutdownNow();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            workers.shutdownGracefully(0, STOP_GRACE_MILLIS, TimeUnit.MILLISECONDS).awaitUninterruptibly(STOP_GRACE_MILLIS);
            acceptors.shutdownGracefully(0, STOP_GRACE_MILLIS, TimeUnit.MILLISECONDS).awaitUninterruptibly(STOP_GRACE_MILLIS);
        } finally {
            stopped.countDown();
        }
    }

    ReplicatedCache cluster() {
        return cluster;
    }
}
