package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** memcached 1.6.18's parsing of the ssl_* -o options: values, messages, exit status 1. */
class TlsOptionsTest {
    @Test
    void verifyModesAreShownAsOpenSslsFlagBits() {
        int[] flags = new int[4];
        for (int mode = 0; mode < 4; mode++) {
            TlsOptions options = new TlsOptions();
            assertTrue(options.apply("ssl_verify_mode", Integer.toString(mode)));
            flags[mode] = options.verifyModeFlags();
        }
        // SSL_VERIFY_NONE, PEER, PEER|FAIL_IF_NO_PEER_CERT, and |CLIENT_ONCE, as memcached -Z prints them
        assertArrayEquals(new int[] {0, 1, 3, 7}, flags);
    }

    @Test
    void minVersionNamesAndTheProtocolsItAllows() {
        TlsOptions options = new TlsOptions();
        assertEquals("tlsv1.2", options.minVersionName(), "memcached's default");
        assertArrayEquals(new String[] {"TLSv1.2", "TLSv1.3"}, options.protocols());
        options.apply("ssl_min_version", "3");
        assertEquals("tlsv1.3", options.minVersionName());
        assertArrayEquals(new String[] {"TLSv1.3"}, options.protocols());
    }

    @Test
    void valuesAreTakenAsMemcachedTakesThem() {
        TlsOptions options = new TlsOptions();
        for (String option : List.of("ssl_chain_cert=c.pem", "ssl_key=k.pem", "ssl_ca_cert=ca.pem", "ssl_ciphers=A:B",
                "ssl_wbuf_size=32", "ssl_session_cache", "ssl_kernel_tls", "ssl_keyformat=2")) {
            String[] parts = option.split("=", 2);
            assertTrue(options.apply(parts[0], parts.length > 1 ? parts[1] : null), option);
        }
        assertEquals("c.pem", options.chainCert);
        assertEquals("k.pem", options.key);
        assertEquals("ca.pem", options.caCert);
        assertEquals("A:B", options.ciphers);
        assertEquals(32 * 1024, options.wbufSizeBytes, "kilobytes, shown in bytes");
        assertTrue(options.sessionCache && options.kernelTls);
        assertEquals(TlsOptions.KEY_FORMAT_DER, options.keyFormat);
        assertFalse(options.apply("idle_timeout", "5"), "not an ssl_ option");
    }

    @Test
    void badValuesGetMemcachedsMessagesAndExitStatus1() {
        assertRefused("ssl_verify_mode", "4", "Invalid ssl_verify_mode. Use help to see valid options.");
        assertRefused("ssl_min_version", "9", "Invalid ssl_min_version. Use help to see valid options.");
        assertRefused("ssl_verify_mode", "x", "could not parse argument to ssl_verify_mode");
        assertRefused("ssl_wbuf_size", "-1", "could not parse argument to ssl_wbuf_size");
        assertRefused("ssl_chain_cert", null, "Missing ssl_chain_cert argument");
        assertRefused("ssl_min_version", null, "Missing ssl_min_version argument");
    }

    private static void assertRefused(String name, String value, String message) {
        ServerOptions.FlagError error = assertThrows(ServerOptions.FlagError.class, () -> new TlsOptions().apply(name, value));
        assertEquals(message, error.getMessage());
        assertEquals(1, error.exitCode);
    }
}
