package io.raftcached.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.raftcached.testing.DataDriven.Argument;
import io.raftcached.testing.DataDriven.TestCase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataDrivenTest {
    @TempDir
    Path directory;

    /** Writes {@code lines}, each ending in a newline, to a fresh file. */
    private Path file(String... lines) throws IOException {
        Path file = Files.createTempFile(directory, "case", ".txt");
        Files.writeString(file, lines.length == 0 ? "" : String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return file;
    }

    /** Every case of the file, run in compare mode with a handler that returns the expected output. */
    private static List<TestCase> cases(Path file) {
        List<TestCase> cases = new ArrayList<>();
        DataDriven.run(file, testCase -> {
            cases.add(testCase);
            return testCase.expected();
        }, false);
        return cases;
    }

    // --- parsing -------------------------------------------------------------------------------------

    @Test
    void parsesTheCommandAndEveryFormOfArgument() throws IOException {
        Path file = file("put flag k=v n=12 empty= list=(1, 2, 3) nested=(f(x, y), z) spaced=(a b)"
                + " q=\"a b\" escaped=\"say \\\"hi\\\" \\\\ bye\" quotedList=(\"x, y\", z)", "----", "");
        TestCase put = cases(file).get(0);
        assertEquals("put", put.command());
        assertEquals(List.of(new Argument("flag", List.of()), new Argument("k", List.of("v")), new Argument("n", List.of("12")),
                new Argument("empty", List.of("")), new Argument("list", List.of("1", "2", "3")),
                new Argument("nested", List.of("f(x, y)", "z")), new Argument("spaced", List.of("a b")),
                new Argument("q", List.of("a b")), new Argument("escaped", List.of("say \"hi\" \\ bye")),
                new Argument("quotedList", List.of("x, y", "z"))), put.arguments());
        assertTrue(put.hasArg("flag"));
        assertFalse(put.hasArg("absent"));
        assertEquals(List.of(), put.args("flag"));
        assertEquals(12, put.intArg("n"));
        assertEquals(12L, put.longArg("n"));
        assertEquals(7, put.intArg("absent", 7));
        assertEquals("v", put.stringArg("k"));
        assertEquals("dflt", put.stringArg("absent", "dflt"));
        assertEquals(List.of("1", "2", "3"), put.args("list"));
    }

    @Test
    void aBadArgumentFailsNamingFileLineAndWhatIsWrong() throws IOException {
        Path file = file("# first line", "", "put n=twelve list=(1, 2) k=v", "----", "");
        String position = file + ":3: put n=twelve list=(1, 2) k=v: ";
        Map<String, Function<TestCase, Object>> misuses = Map.of(
                "missing argument size", c -> c.intArg("size"),
                "argument n=twelve is not an int", c -> c.intArg("n"),
                "argument n=twelve is not a long", c -> c.longArg("n"),
                "argument list needs exactly one value, has [1, 2]", c -> c.stringArg("list"),
                "missing argument values", c -> c.args("values"));
        misuses.forEach((message, misuse) -> {
            AssertionError error = assertThrows(AssertionError.class,
                    () -> DataDriven.run(file, c -> String.valueOf(misuse.apply(c)), false));
            assertEquals(position + message, error.getMessage());
        });
    }

    @Test
    void inputMayHoldBlankLinesAndIsTrimmedAsAWhole() throws IOException {
        Path file = file("apply", "  first", "", "second  ", "", "----", "ok", "", "plain", "----", "ok");
        List<TestCase> cases = cases(file);
        assertEquals("first\n\nsecond", cases.get(0).input());
        assertEquals("ok\n", cases.get(0).expected());
        assertEquals("", cases.get(1).input());
    }

    @Test
    void commentsAndBlankLinesBetweenCasesAreNotCases() throws IOException {
        Path file = file("# a file comment", "", "", "one", "----", "1", "", "  # an indented comment", "", "two a=b", "----", "2",
                "second line of 2", "", "", "# trailing comment");
        List<TestCase> cases = cases(file);
        assertEquals(2, cases.size());
        assertEquals(4, cases.get(0).line());
        assertEquals(10, cases.get(1).line());
        assertEquals("2\nsecond line of 2\n", cases.get(1).expected());
        assertEquals(file, cases.get(1).file());
        assertEquals(file + ":10", cases.get(1).position());
        assertEquals(file + ":10: two a=b", cases.get(1).toString());
    }

    @Test
    void doubleSeparatorsFenceOutputWithBlankLines() throws IOException {
        Path file = file("dump", "----", "----", "first", "", "after a blank line", "----", "not the end", "----", "----", "",
                "next", "----", "x");
        List<TestCase> cases = cases(file);
        assertEquals("first\n\nafter a blank line\n----\nnot the end\n", cases.get(0).expected());
        assertEquals("next", cases.get(1).command());
        assertEquals(12, cases.get(1).line());
    }

    @Test
    void aDirectiveContinuesAfterABackslash() throws IOException {
        TestCase testCase = cases(file("put k=v \\", "    n=3", "----", "")).get(0);
        assertEquals("put k=v n=3", testCase.directive());
        assertEquals(3, testCase.intArg("n"));
        assertEquals(1, testCase.line());
    }

    @Test
    void aCaseMayEndWithoutSeparatorOrOutput() throws IOException {
        List<TestCase> cases = cases(file("first", "----", "", "last", "with input"));
        assertEquals("", cases.get(0).expected());
        assertEquals("with input", cases.get(1).input());
        assertEquals("", cases.get(1).expected());
    }

    @Test
    void malformedFilesFailWithTheirLine() throws IOException {
        Path unclosedList = file("", "put list=(1, 2", "----", "");
        AssertionError list = assertThrows(AssertionError.class, () -> cases(unclosedList));
        assertEquals(unclosedList + ":2: cannot parse the directive at column 10 (no ) closes this (): put list=(1, 2", list.getMessage());

        Path unclosedQuote = file("put q=\"open");
        assertTrue(assertThrows(AssertionError.class, () -> cases(unclosedQuote)).getMessage()
                .startsWith(unclosedQuote + ":1: cannot parse the directive at column 7 (no \" closes this quote)"));

        Path noBlankAfterFence = file("dump", "----", "----", "x", "----", "----", "next", "----", "");
        assertEquals(noBlankAfterFence + ":7: a blank line must follow the closing ---- ---- of the case at line 1",
                assertThrows(AssertionError.class, () -> cases(noBlankAfterFence)).getMessage());

        Path neverClosed = file("dump", "----", "----", "x", "", "y");
        assertEquals(neverClosed + ":1: the output opened by ---- ---- is never closed by another ---- ----",
                assertThrows(AssertionError.class, () -> cases(neverClosed)).getMessage());
    }

    // --- comparing -----------------------------------------------------------------------------------

    @Test
    void everyMismatchIsReportedWithItsLineAndADiff() throws IOException {
        Path file = file("echo text=a", "----", "a", "", "echo text=b", "----", "b", "", "echo text=c", "----", "c", "same", "");
        AssertionError error = assertThrows(AssertionError.class,
                () -> DataDriven.run(file, c -> c.stringArg("text").equals("a") ? "a\n" : "x\nsame", false));
        assertEquals(file + ": 2 of 3 cases differ (run with -Drewrite=true or REWRITE=1 to take the actual outputs, then review the"
                + " diff):\n\n"
                + file + ":5: echo text=b\n--- expected\n+++ actual\n- b\n+ x\n+ same\n\n"
                + file + ":9: echo text=c\n--- expected\n+++ actual\n- c\n+ x\n  same\n", error.getMessage());
    }

    @Test
    void aMissingFinalNewlineIsNoMismatch() throws IOException {
        Path file = file("one", "----", "1", "", "none", "----", "");
        DataDriven.run(file, c -> c.command().equals("one") ? "1" : "", false);
    }

    @Test
    void aHandlerFailureEndsTheFileNamingTheCase() throws IOException {
        Path file = file("fine", "----", "wrong", "", "boom", "----", "", "never", "----", "");
        List<String> seen = new ArrayList<>();
        IllegalStateException cause = new IllegalStateException("no leader");
        AssertionError error = assertThrows(AssertionError.class, () -> DataDriven.run(file, c -> {
            seen.add(c.command());
            if (c.command().equals("boom")) {
                throw cause;
            }
            return "right";
        }, false));
        assertEquals(List.of("fine", "boom"), seen);
        assertSame(cause, error.getCause());
        assertTrue(error.getMessage().startsWith(file + ":5: boom: java.lang.IllegalStateException: no leader\n\n"
                + "before that, cases that differed: 1\n\n" + file + ":1: fine\n"), error.getMessage());
    }

    @Test
    void diffMarksRemovedAddedAndCommonLines() {
        assertEquals("--- expected\n+++ actual\n  a\n- b\n+ B\n  c\n+ d\n", DataDriven.diff("a\nb\nc\n", "a\nB\nc\nd\n"));
        assertEquals("--- expected\n+++ actual\n+ new\n", DataDriven.diff("", "new\n"));
    }

    // --- rewriting -----------------------------------------------------------------------------------

    /** A file in the form rewrite writes: comments, inputs, single and fenced outputs, an empty output, a continuation. */
    private static final String CANONICAL = String.join("\n",
            "# Scenario comment.",
            "",
            "put k=a v=(1, 2)",
            "input line",
            "",
            "more input",
            "----",
            "stored a",
            "",
            "# between cases",
            "",
            "dump \\",
            "  all",
            "----",
            "----",
            "a=1",
            "",
            "b=2",
            "----",
            "----",
            "",
            "noop",
            "----",
            "",
            "get k=a",
            "----",
            "1, 2") + "\n";

    @Test
    void rewriteRegeneratesAFileInItsOwnFormByteForByte() throws IOException {
        Path file = directory.resolve("canonical.txt");
        Files.writeString(file, CANONICAL, StandardCharsets.UTF_8);
        List<TestCase> cases = new ArrayList<>();
        DataDriven.run(file, testCase -> {
            cases.add(testCase);
            return testCase.expected();
        }, true);
        assertEquals(4, cases.size());
        assertEquals(CANONICAL, Files.readString(file, StandardCharsets.UTF_8));
    }

    @Test
    void rewriteReplacesChangedOutputsAndKeepsEverythingElse() throws IOException {
        Path file = directory.resolve("changed.txt");
        Files.writeString(file, CANONICAL, StandardCharsets.UTF_8);
        Map<String, String> outputs = Map.of("put", "stored a\nreplicated", "dump", "a=1 b=2", "noop", "", "get", "1\n\n2");
        DataDriven.run(file, testCase -> outputs.get(testCase.command()), true);
        // Only the outputs change: one grows a line, a fenced one loses its blank line, one gains one.
        String expected = CANONICAL
                .replace("----\nstored a\n", "----\nstored a\nreplicated\n")
                .replace("----\n----\na=1\n\nb=2\n----\n----\n\n", "----\na=1 b=2\n\n")
                .replace("----\n1, 2\n", "----\n----\n1\n\n2\n----\n----\n");
        assertEquals(expected, Files.readString(file, StandardCharsets.UTF_8));
        DataDriven.run(file, testCase -> outputs.get(testCase.command()), false);   // and it now passes
    }

    @Test
    void rewriteIsAskedForWithTheRewriteProperty() throws IOException {
        Path file = file("get", "----", "old");
        String before = System.getProperty("rewrite");
        System.setProperty("rewrite", "true");
        try {
            DataDriven.run(file, c -> "new");
        } finally {
            if (before == null) {
                System.clearProperty("rewrite");
            } else {
                System.setProperty("rewrite", before);
            }
        }
        assertEquals("get\n----\nnew\n", Files.readString(file, StandardCharsets.UTF_8));
    }
}
