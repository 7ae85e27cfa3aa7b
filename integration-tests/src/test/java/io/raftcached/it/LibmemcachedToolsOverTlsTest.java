package io.raftcached.it;

import io.raftcached.it.DropInServers.Target;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Every {@link LibmemcachedToolsTest} test against memcached -Z and raftcached -Z with the same
 * certificates. Debian's libmemcached tools have no TLS, so each server is reached through its own
 * socat bridge (plaintext on a local port, TLS verified against the test CA to the server): the
 * tools' exit codes and outputs, and the values they read back, must be memcached's.
 */
class LibmemcachedToolsOverTlsTest extends LibmemcachedToolsTest {
    private TlsServers tls;
    private Target memcached;
    private Target raftcached;

    @Override
    void startServers() throws Exception {
        tls = TlsServers.start("libmemcached-tools-tls");
        memcached = tls.bridge(tls.memcached());
        raftcached = tls.bridge(tls.raftcached());
    }

    @AfterAll
    void stopTls() throws Exception {
        if (tls != null) {
            tls.close();
        }
    }

    @Override
    Target memcachedTarget() {
        return memcached;
    }

    @Override
    Target raftcachedTarget() {
        return raftcached;
    }

    @Override
    Stream<Arguments> targets() {
        return Stream.of(Arguments.of(memcached), Arguments.of(raftcached));
    }
}
