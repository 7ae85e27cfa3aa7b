package io.raftcached.protocol;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;

/**
 * Optional cross-check against a real memcached: run the tests with
 * {@code -Dmemcached.port=22199} (a Debian memcached 1.6.18 started with
 * {@code memcached -l 127.0.0.1 -p 22199 -U 0}) and every {@link Wire#assertErrorReply} also sends its
 * bytes to that server and compares the reply. Without the property nothing connects, so the build
 * never needs a memcached.
 */
final class LiveMemcached {
    private LiveMemcached() {
    }

    static final Integer PORT = Integer.getInteger("memcached.port");
    private static final int IDLE_MILLIS = 300;

    static boolean enabled() {
        return PORT != null;
    }

    /** Sends {@code input} on a fresh connection and returns everything received until idle or closed. */
    static String exchange(byte[] input) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", PORT), 2000);
            s.getOutputStream().write(input);
            s.getOutputStream().flush();
            s.setSoTimeout(IDLE_MILLIS);
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            InputStream in = s.getInputStream();
            byte[] buf = new byte[8192];
            while (true) {
                int n;
                try {
                    n = in.read(buf);
                } catch (SocketTimeoutException idle) {
                    break;
                }
                if (n < 0) {
                    got.write(Wire.bytes("<CLOSE>"), 0, 7);
                    break;
                }
                got.write(buf, 0, n);
            }
            return Wire.text(got.toByteArray());
        } catch (IOException e) {
            throw new IllegalStateException("memcached on port " + PORT + ": " + e, e);
        }
    }
}
