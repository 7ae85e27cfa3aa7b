package io.raftcached.node;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Certificates and private keys from the files TLS is configured with: PEM certificates, and
 * unencrypted PKCS#8 keys (PEM {@code BEGIN PRIVATE KEY}, or DER) of the usual algorithms.
 */
final class PemFiles {
    private static final Pattern PEM_PRIVATE_KEY =
            Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    private static final List<String> KEY_ALGORITHMS = List.of("EC", "RSA", "Ed25519", "Ed448", "DSA");

    private PemFiles() {}

    /** Every certificate in the file, in order; at least one. */
    static X509Certificate[] certificates(Path file) throws IOException, GeneralSecurityException {
        try (InputStream in = Files.newInputStream(file)) {
            List<X509Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toList();
            if (certificates.isEmpty()) {
                throw new GeneralSecurityException("no PEM certificate in the file");
            }
            return certificates.toArray(new X509Certificate[0]);
        }
    }

    /** An unencrypted PKCS#8 key, PEM ({@code der} false) or DER. */
    static PrivateKey privateKey(Path file, boolean der) throws IOException, GeneralSecurityException {
        byte[] bytes = Files.readAllBytes(file);
        byte[] pkcs8 = bytes;
        if (!der) {
            Matcher pem = PEM_PRIVATE_KEY.matcher(new String(bytes, StandardCharsets.US_ASCII));
            if (!pem.find()) {
                throw new GeneralSecurityException("not an unencrypted PKCS#8 PEM key (BEGIN PRIVATE KEY)");
            }
            pkcs8 = Base64.getMimeDecoder().decode(pem.group(1));
        }
        for (String algorithm : KEY_ALGORITHMS) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                // not this algorithm: try the next
            }
        }
        throw new GeneralSecurityException("not a PKCS#8 EC, RSA, EdDSA or DSA private key");
    }

    /** Why a file could not be read, in the words of the C library memcached's messages quote. */
    static String reason(Exception e) {
        if (e instanceof java.nio.file.NoSuchFileException) {
            return "No such file or directory";
        }
        if (e instanceof java.nio.file.AccessDeniedException) {
            return "Permission denied";
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
