package io.raftcached.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class PemTest {

    @Test
    void blocksAreTheBase64BodiesOfTheLabelAskedFor() {
        String text = "junk before\n-----BEGIN CERTIFICATE-----\nAAEC\nAw==\n-----END CERTIFICATE-----\n"
                + "-----BEGIN PRIVATE KEY-----\nBAU=\n-----END PRIVATE KEY-----\n"
                + "-----BEGIN CERTIFICATE-----\r\n/w==\r\n-----END CERTIFICATE-----\r\n";
        List<byte[]> certificates = Pem.blocks(text, "CERTIFICATE");
        assertEquals(2, certificates.size());
        assertArrayEquals(new byte[] {0, 1, 2, 3}, certificates.get(0));
        assertArrayEquals(new byte[] {(byte) 0xff}, certificates.get(1));
        assertArrayEquals(new byte[] {4, 5}, Pem.blocks(text, "PRIVATE KEY").get(0));
        assertEquals(0, Pem.blocks(text, "EC PRIVATE KEY").size());
    }

    @Test
    void malformedBlocksAreRefusedWithTheReason() {
        IllegalArgumentException noEnd = assertThrows(IllegalArgumentException.class,
                () -> Pem.blocks("-----BEGIN CERTIFICATE-----\nAAEC\n", "CERTIFICATE"));
        assertTrue(noEnd.getMessage().contains("no END line"), noEnd.getMessage());
        IllegalArgumentException notBase64 = assertThrows(IllegalArgumentException.class,
                () -> Pem.blocks("-----BEGIN CERTIFICATE-----\n#!\n-----END CERTIFICATE-----", "CERTIFICATE"));
        assertTrue(notBase64.getMessage().contains("not base64"), notBase64.getMessage());
        // An OpenSSL "traditional" EC key is not PKCS#8: say what is wanted.
        IllegalArgumentException traditional = assertThrows(IllegalArgumentException.class,
                () -> Pem.privateKey("-----BEGIN EC PRIVATE KEY-----\nAAEC\n-----END EC PRIVATE KEY-----"));
        assertTrue(traditional.getMessage().contains("unencrypted PKCS#8"), traditional.getMessage());
    }
}
