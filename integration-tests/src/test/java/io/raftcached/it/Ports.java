package io.raftcached.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.util.HashSet;
import java.util.Set;

/** Free loopback ports, never the same one twice in a test JVM. */
final class Ports {
    private static final Set<Integer> HANDED_OUT = new HashSet<>();

    private Ports() {}

    static synchronized int free() {
        for (int attempt = 0; attempt < 100; attempt++) {
            try (ServerSocket socket = new ServerSocket(0)) {
                int port = socket.getLocalPort();
                if (HANDED_OUT.add(port)) {
                    return port;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new IllegalStateException("no free port after 100 attempts");
    }

    /** A base such that base+1 .. base+count are free now (for scripts that number their ports). */
    static synchronized int freeRangeBase(int count) {
        for (int attempt = 0; attempt < 100; attempt++) {
            int first = free();
            boolean restFree = true;
            for (int port = first + 1; port < first + count && restFree; port++) {
                restFree = !HANDED_OUT.contains(port) && bindable(port);
            }
            if (restFree) {
                for (int port = first + 1; port < first + count; port++) {
                    HANDED_OUT.add(port);
                }
                return first - 1;
            }
        }
        throw new IllegalStateException("no " + count + " consecutive free ports after 100 attempts");
    }

    private static boolean bindable(int port) {
        try (ServerSocket socket = new ServerSocket(port)) {
            return true;
        } catch (IOException inUse) {
            return false;
        }
    }
}
