package io.raftcached.node;

import java.util.List;

/**
 * memcached's {@code -o ssl_*} options, parsed with memcached 1.6.18's messages and exit status
 * (1 for a missing or unparsable value), and shown in {@code stats settings} as memcached shows
 * them (verify mode as OpenSSL's flag bits, keyformat as OpenSSL's file type number).
 */
final class TlsOptions {
    /** OpenSSL's SSL_FILETYPE_PEM and SSL_FILETYPE_ASN1 (DER), the numbers ssl_keyformat takes. */
    static final int KEY_FORMAT_PEM = 1;
    static final int KEY_FORMAT_DER = 2;
    /** ssl_min_version 0..3 in memcached's spelling. */
    private static final List<String> VERSION_NAMES = List.of("tlsv1.0", "tlsv1.1", "tlsv1.2", "tlsv1.3");
    /** The JSSE/Netty protocol names of the same versions. */
    private static final List<String> PROTOCOLS = List.of("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3");
    /** ssl_verify_mode 0..3 as the SSL_VERIFY_* bits memcached stores and prints. */
    private static final int[] VERIFY_FLAGS = {0, 1, 3, 7};

    String chainCert;
    String key;
    String caCert;
    /** 0 none, 1 request, 2 require, 3 once (require on the first handshake; renegotiation is off, so as 2). */
    int verifyMode;
    int keyFormat = KEY_FORMAT_PEM;
    String ciphers;
    /** memcached's per-connection TLS write buffer; Netty's SslHandler writes TLS records of its own size. */
    long wbufSizeBytes = 16 * 1024;
    boolean sessionCache;
    /** memcached asks OpenSSL for kernel TLS offload; Netty's engines encrypt in user space, so this changes nothing. */
    boolean kernelTls;
    int minVersion = 2;

    /** Applies one {@code -o} option; false if it is not an ssl_* option. */
    boolean apply(String name, String value) {
        switch (name) {
            case "ssl_chain_cert" -> chainCert = required(name, value);
            case "ssl_key" -> key = required(name, value);
            case "ssl_ca_cert" -> caCert = required(name, value);
            case "ssl_ciphers" -> ciphers = required(name, value);
            case "ssl_verify_mode" -> {
                verifyMode = integer(name, required(name, value));
                optionError(verifyMode < 0 || verifyMode > 3, "Invalid ssl_verify_mode. Use help to see valid options.");
            }
            case "ssl_keyformat" -> keyFormat = integer(name, required(name, value));
            case "ssl_wbuf_size" -> {
                String kilobytes = required(name, value);
                optionError(!kilobytes.matches("\\d{1,9}"), "could not parse argument to ssl_wbuf_size");
                wbufSizeBytes = Long.parseLong(kilobytes) * 1024;
            }
            case "ssl_session_cache" -> sessionCache = true;
            case "ssl_kernel_tls" -> kernelTls = true;
            case "ssl_min_version" -> {
                minVersion = integer(name, required(name, value));
                optionError(minVersion < 0 || minVersion > 3, "Invalid ssl_min_version. Use help to see valid options.");
            }
            default -> {
                return false;
            }
        }
        return true;
    }

    /** stats settings' ssl_verify_mode: OpenSSL's SSL_VERIFY_* bits, as memcached prints them. */
    int verifyModeFlags() {
        return VERIFY_FLAGS[verifyMode];
    }

    String minVersionName() {
        return VERSION_NAMES.get(minVersion);
    }

    /** ssl_min_version and every newer version, in Netty's names. */
    String[] protocols() {
        return PROTOCOLS.subList(minVersion, PROTOCOLS.size()).toArray(new String[0]);
    }

    private static String required(String name, String value) {
        optionError(value == null, "Missing " + name + " argument");
        return value;
    }

    /** memcached's safe_strtol: a whole decimal number or the "could not parse" error. */
    private static int integer(String name, String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException e) {
            throw new ServerOptions.FlagError("could not parse argument to " + name, 1);
        }
    }

    private static void optionError(boolean condition, String message) {
        if (condition) {
            throw new ServerOptions.FlagError(message, 1);
        }
    }
}
