package io.raftcached.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The -Y file read as memcached's authfile.c reads it (checked against memcached 1.6.18 by hand). */
class AuthFileTest {
    private static final Path NAME = Path.of("auth");

    private static List<String> parse(String text) throws AuthFile.LoadException {
        return AuthFile.parse(NAME, text.getBytes(StandardCharsets.ISO_8859_1)).stream()
                .map(e -> new String(e.user(), StandardCharsets.ISO_8859_1) + "|" + new String(e.password(), StandardCharsets.ISO_8859_1))
                .toList();
    }

    @Test
    void linesAreUserColonPasswordEndedByNewlineOrCarriageReturn() throws Exception {
        assertEquals(List.of("alice|secret", "bob|x y"), parse("alice:secret\r\nbob:x y\n"));
        assertEquals(List.of("u|p:q", "|empty user", "v|"), parse("u:p:q\n:empty user\nv:\n"));
    }

    @Test
    void theLastLineNeedsNoNewline() throws Exception {
        // memcached 1.6.18 dropped the last character here ("secre"); later 1.6 releases keep it
        assertEquals(List.of("alice|secret"), parse("alice:secret"));
        assertEquals(List.of(), parse(""));
    }

    @Test
    void aLineWithoutColonOrAnEmptyLineMakesTheFileMalformed() {
        for (String text : List.of("nocolon\n", "alice:secret\n\n", "alice:secret\nbob\n", "\nalice:secret\n")) {
            AuthFile.LoadException e = assertThrows(AuthFile.LoadException.class, () -> parse(text), text);
            assertEquals("Authfile [auth] has a malformed entry. Should be 'user:password'", e.getMessage());
        }
    }

    @Test
    void memcachedsLimitsEightEntriesAndLinesOf255Bytes() throws Exception {
        StringBuilder nine = new StringBuilder();
        for (int i = 0; i < 9; i++) {
            nine.append("u").append(i).append(":p\n");
        }
        List<String> entries = parse(nine + "malformed, never read\n");
        assertEquals(8, entries.size());
        assertEquals("u7|p", entries.get(7));
        String longPassword = "p".repeat(300);
        assertEquals(List.of("u|" + longPassword.substring(0, 253)), parse("u:" + longPassword + "\nv:w\n"));
    }

    @Test
    void checkComparesWholeUserAndPassword(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("auth");
        Files.writeString(file, "alice:secret\nbob:pw\n");
        AuthFile auth = AuthFile.load(file);
        assertTrue(auth.check(bytes("alice"), bytes("secret")));
        assertTrue(auth.check(bytes("bob"), bytes("pw")));
        assertFalse(auth.check(bytes("alice"), bytes("pw")));
        assertFalse(auth.check(bytes("alice"), bytes("secre")));
        assertFalse(auth.check(bytes("alic"), bytes("secret")));
        assertFalse(auth.check(bytes(""), bytes("")));
    }

    @Test
    void aFailedReloadKeepsTheCredentialsLoadedBefore(@TempDir Path directory) throws Exception {
        Path file = directory.resolve("auth");
        Files.writeString(file, "alice:one\n");
        AuthFile auth = AuthFile.load(file);
        Files.writeString(file, "alice:two\n");
        auth.reload();
        assertTrue(auth.check(bytes("alice"), bytes("two")));
        assertFalse(auth.check(bytes("alice"), bytes("one")));
        Files.writeString(file, "broken\n");
        auth.reload();
        assertTrue(auth.check(bytes("alice"), bytes("two")));
        Files.delete(file);
        auth.reload();
        assertTrue(auth.check(bytes("alice"), bytes("two")));
    }

    @Test
    void anUnreadableFileHasMemcachedsMessage(@TempDir Path directory) {
        Path missing = directory.resolve("missing");
        AuthFile.LoadException e = assertThrows(AuthFile.LoadException.class, () -> AuthFile.load(missing));
        assertEquals("Could not open authfile [" + missing + "] for reading, error No such file or directory:"
                + " No such file or directory", e.getMessage());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
