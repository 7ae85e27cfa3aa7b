package io.raftcached.bench;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The PEM files memcached's {@code -o ssl_chain_cert,ssl_key,ssl_ca_cert} take (and
 * deploy/tls/make-test-certs.sh writes): X.509 certificates and unencrypted PKCS#8 private keys.
 * The JDK reads neither PEM wrapper itself, only the DER inside.
 */
final class Pem {
    private Pem() {
    }

    /** The base64 bodies of every {@code -----BEGIN label-----} block, in file order. */
    static List<byte[]> blocks(String text, String label) {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        List<byte[]> blocks = new ArrayList<>();
        int from = 0;
        while (true) {
            int start = text.indexOf(begin, from);
            if (start < 0) {
                return blocks;
            }
            int stop = text.indexOf(end, start);
            if (stop < 0) {
                throw new IllegalArgumentException("PEM block " + label + " has no END line");
            }
            String body = text.substring(start + begin.length(), stop).replaceAll("\\s", "");
            try {
                blocks.add(Base64.getDecoder().decode(body));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("PEM block " + label + " is not base64: " + e.getMessage());
            }
            from = stop + end.length();
        }
    }

    static List<X509Certificate> certificates(String text) throws GeneralSecurityException {
        CertificateFactory factory = CertificateFactory.getInstance("X.509");
        List<X509Certificate> certificates = new ArrayList<>();
        for (byte[] der : blocks(text, "CERTIFICATE")) {
            certificates.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der)));
        }
        if (certificates.isEmpty()) {
            throw new IllegalArgumentException("no -----BEGIN CERTIFICATE----- block");
        }
        return certificates;
    }

    /** An unencrypted PKCS#8 key ({@code BEGIN PRIVATE KEY}), EC or RSA. */
    static PrivateKey privateKey(String text) throws GeneralSecurityException {
        List<byte[]> keys = blocks(text, "PRIVATE KEY");
        if (keys.size() != 1) {
            throw new IllegalArgumentException("want one -----BEGIN PRIVATE KEY----- block (unencrypted PKCS#8),"
                    + " found " + keys.size());
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(keys.get(0));
        for (String algorithm : new String[] {"EC", "RSA"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (InvalidKeySpecException e) {
                // Not this algorithm; try the next.
            }
        }
        throw new InvalidKeySpecException("the private key is neither EC nor RSA PKCS#8");
    }
}
