package io.raftcached.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Data-driven tests in the manner of etcd's raft tests (the Go package
 * {@code github.com/cockroachdb/datadriven}): scenario files of commands and their expected output,
 * run by a handler that executes each command and returns what it printed.
 *
 * <h2>The file</h2>
 * <pre>
 * # A comment: a line starting with '#' outside a case.
 * put k=a value=(1, 2) sync
 * optional input lines
 * ----
 * expected output
 * lines
 *
 * dump
 * ----
 * ----
 * output that holds
 *
 * a blank line, fenced by double separators
 * ----
 * ----
 * </pre>
 * Cases are separated by blank lines. A case is a directive line {@code command arg key=value
 * key=(v1, v2) ...}, a directive may continue on the next line after a trailing {@code \}; then
 * input lines (they may be blank), a {@code ----} line and the expected output, which ends at the
 * first blank line. Output that contains a blank line is written between {@code ----}/{@code ----}
 * pairs, followed by a blank line. A value in parentheses may hold spaces, commas and nested
 * parentheses; as an extension of the Go format, a value may also be double-quoted ({@code
 * name="a b"}, with {@code \"} and {@code \\} escapes).
 *
 * <h2>Running</h2>
 * {@link #run(Path, Function)} hands every case to the handler, in file order, and compares what
 * it returns with the expected output (a missing final newline is added to both sides). It checks
 * the whole file and then fails with every mismatch, each named {@code file:line} with a line diff.
 * An exception from the handler ends the file at once, named with the case's {@code file:line}.
 * Pass the file's path in the source tree (Maven runs tests in the module directory, so {@code
 * src/test/resources/...}), not a class-path copy, so that rewrite mode edits the file under
 * version control.
 *
 * <h2>Rewrite mode</h2>
 * Run with {@code -Drewrite=true} (or the environment variable {@code REWRITE=1}) and, instead of
 * comparing, the file is rewritten in place with the actual outputs: comments, blank lines,
 * directives and inputs are kept as they are, each expected output is replaced (in the double
 * separator form exactly when it holds a blank line). Review the change with {@code git diff} and
 * commit it with the code that caused it. A file already in that form and whose outputs match is
 * rewritten byte for byte.
 */
public final class DataDriven {
    /** The line between a case's input and its expected output. */
    public static final String SEPARATOR = "----";
    /** Above this many expected times actual lines, a mismatch lists both sides instead of a diff. */
    private static final long DIFF_CELLS_MAX = 4_000_000;

    private DataDriven() {}

    /** One argument of a directive: {@code key} has no values, {@code key=v} one, {@code key=(a, b)} several. */
    public record Argument(String key, List<String> values) {
        public Argument {
            values = List.copyOf(values);
        }
    }

    /** One case of a file, as the handler sees it. */
    public static final class TestCase {
        private final Path file;
        private final int line;
        private final String directive;
        private final String command;
        private final List<Argument> arguments;
        private final String input;
        private final String expected;

        TestCase(Path file, int line, String directive, String command, List<Argument> arguments, String input, String expected) {
            this.file = file;
            this.line = line;
            this.directive = directive;
            this.command = command;
            this.arguments = List.copyOf(arguments);
            this.input = input;
            this.expected = expected;
        }

        public String command() {
            return command;
        }

        /** Every argument, in the order written. */
        public List<Argument> arguments() {
            return arguments;
        }

        public boolean hasArg(String key) {
            return find(key) != null;
        }

        /** The values of {@code key}: none for a bare {@code key}, one for {@code key=v}, several for {@code key=(a, b)}. */
        public List<String> args(String key) {
            Argument argument = find(key);
            if (argument == null) {
                throw new ArgumentError(this, "missing argument " + key);
            }
            return argument.values();
        }

        /** The single value of {@code key}. */
        public String stringArg(String key) {
            List<String> values = args(key);
            if (values.size() != 1) {
                throw new ArgumentError(this, "argument " + key + " needs exactly one value, has " + values);
            }
            return values.get(0);
        }

        /** The single value of {@code key}, or {@code absent} when there is no such argument. */
        public String stringArg(String key, String absent) {
            return hasArg(key) ? stringArg(key) : absent;
        }

        public int intArg(String key) {
            return parsed(key, Integer::parseInt, "an int");
        }

        public int intArg(String key, int absent) {
            return hasArg(key) ? intArg(key) : absent;
        }

        public long longArg(String key) {
            return parsed(key, Long::parseLong, "a long");
        }

        private <T> T parsed(String key, Function<String, T> parse, String what) {
            String value = stringArg(key);
            try {
                return parse.apply(value);
            } catch (NumberFormatException e) {
                throw new ArgumentError(this, "argument " + key + "=" + value + " is not " + what);
            }
        }

        /** The input lines between the directive and the separator, trimmed as a whole (empty when none). */
        public String input() {
            return input;
        }

        /** The expected output as the file holds it, each line ending in a newline (empty when none). */
        public String expected() {
            return expected;
        }

        /** The directive line as written (continuation lines joined). */
        public String directive() {
            return directive;
        }

        public Path file() {
            return file;
        }

        /** The line number (from 1) of the directive in {@link #file()}. */
        public int line() {
            return line;
        }

        /** {@code file:line}, for messages. */
        public String position() {
            return file + ":" + line;
        }

        @Override
        public String toString() {
            return position() + ": " + directive;
        }

        private Argument find(String key) {
            for (Argument argument : arguments) {
                if (argument.key().equals(key)) {
                    return argument;
                }
            }
            return null;
        }
    }

    /** A missing or malformed argument: already names the case, so {@link #run} passes it on as it is. */
    private static final class ArgumentError extends AssertionError {
        private static final long serialVersionUID = 1L;

        ArgumentError(TestCase testCase, String message) {
            super(testCase + ": " + message);
        }
    }

    /**
     * The scenario files ({@code *.txt}) of {@code directory}, in name order, for a test factory to
     * run one by one. None at all is an error, so a moved directory cannot pass silently.
     */
    public static List<Path> scenarioFiles(Path directory) throws IOException {
        List<Path> files;
        try (java.util.stream.Stream<Path> listing = Files.list(directory)) {
            files = listing.filter(p -> p.toString().endsWith(".txt")).sorted().toList();
        }
        if (files.isEmpty()) {
            throw new IllegalStateException("no scenarios in " + directory.toAbsolutePath());
        }
        return files;
    }

    /**
     * Runs every case of {@code file} through {@code handler} and compares its output with the
     * expected one; with {@code -Drewrite=true} or {@code REWRITE=1}, rewrites the file instead.
     */
    public static void run(Path file, Function<TestCase, String> handler) {
        run(file, handler, rewriteRequested());
    }

    static boolean rewriteRequested() {
        String environment = System.getenv("REWRITE");
        return Boolean.parseBoolean(System.getProperty("rewrite"))
                || environment != null && (environment.equals("1") || environment.equalsIgnoreCase("true"));
    }

    static void run(Path file, Function<TestCase, String> handler, boolean rewrite) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Parser parser = new Parser(file, lines(text), rewrite);
        List<String> mismatches = new ArrayList<>();
        int cases = 0;
        for (TestCase testCase = parser.next(); testCase != null; testCase = parser.next()) {
            cases++;
            String actual = withFinalNewline(runOne(handler, testCase, mismatches));
            if (rewrite) {
                parser.emitOutput(actual);
            } else if (!actual.equals(testCase.expected())) {
                mismatches.add(testCase + "\n" + diff(testCase.expected(), actual));
            }
        }
        if (rewrite) {
            write(file, text, parser.rewritten());
        } else if (!mismatches.isEmpty()) {
            throw new AssertionError(file + ": " + mismatches.size() + " of " + cases + " cases differ (run with -Drewrite=true"
                    + " or REWRITE=1 to take the actual outputs, then review the diff):\n\n" + String.join("\n", mismatches));
        }
    }

    private static String runOne(Function<TestCase, String> handler, TestCase testCase, List<String> mismatchesSoFar) {
        String actual;
        try {
            actual = handler.apply(testCase);
        } catch (ArgumentError e) {
            throw withEarlier(e, mismatchesSoFar);
        } catch (RuntimeException | AssertionError e) {
            throw withEarlier(new AssertionError(testCase + ": " + e, e), mismatchesSoFar);
        }
        if (actual == null) {
            throw withEarlier(new AssertionError(testCase + ": the handler returned null"), mismatchesSoFar);
        }
        return actual;
    }

    private static AssertionError withEarlier(AssertionError error, List<String> mismatches) {
        if (mismatches.isEmpty()) {
            return error;
        }
        return new AssertionError(error.getMessage() + "\n\nbefore that, cases that differed: " + mismatches.size() + "\n\n"
                + String.join("\n", mismatches), error.getCause() != null ? error.getCause() : error);
    }

    private static void write(Path file, String before, String after) {
        if (after.equals(before)) {
            return;
        }
        try {
            Files.writeString(file, after, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot rewrite " + file, e);
        }
        System.out.println("datadriven: rewrote " + file);
    }

    /** The file's lines without their line ends; a final line end does not start another line. */
    private static List<String> lines(String text) {
        List<String> lines = new ArrayList<>(List.of(text.split("\n", -1)));
        if (lines.get(lines.size() - 1).isEmpty()) {
            lines.remove(lines.size() - 1);
        }
        lines.replaceAll(line -> line.endsWith("\r") ? line.substring(0, line.length() - 1) : line);
        return lines;
    }

    private static String withFinalNewline(String output) {
        return output.isEmpty() || output.endsWith("\n") ? output : output + "\n";
    }

    /** Reads cases one by one; in rewrite mode, echoes every line but the expected outputs. */
    private static final class Parser {
        private final Path file;
        private final List<String> lines;
        private final StringBuilder echo;
        private int taken;

        Parser(Path file, List<String> lines, boolean rewrite) {
            this.file = file;
            this.lines = lines;
            this.echo = rewrite ? new StringBuilder() : null;
        }

        private boolean hasLine() {
            return taken < lines.size();
        }

        /** The next line; {@link #taken} is then its line number. */
        private String take() {
            return lines.get(taken++);
        }

        private void emit(String line) {
            if (echo != null) {
                echo.append(line).append('\n');
            }
        }

        TestCase next() {
            while (hasLine()) {
                String raw = take();
                emit(raw);
                int lineNumber = taken;
                String directive = raw.strip();
                if (directive.startsWith("#")) {
                    continue;
                }
                while (directive.endsWith("\\") && hasLine()) {
                    String continued = take();
                    emit(continued);
                    directive = directive.substring(0, directive.length() - 1).stripTrailing() + " " + continued.strip();
                }
                if (directive.isBlank()) {
                    continue;
                }
                Directive parsed = Directive.parse(directive, file, lineNumber);
                List<String> input = new ArrayList<>();
                boolean separated = false;
                while (hasLine()) {
                    String line = take();
                    if (line.equals(SEPARATOR)) {
                        separated = true;
                        break;
                    }
                    emit(line);
                    input.add(line);
                }
                String expected = separated ? readExpected(lineNumber) : "";
                return new TestCase(file, lineNumber, directive, parsed.command(), parsed.arguments(), String.join("\n", input).strip(),
                        expected);
            }
            return null;
        }

        /** The expected output after the separator: up to a blank line, or fenced by double separators. */
        private String readExpected(int directiveLine) {
            StringBuilder expected = new StringBuilder();
            if (!hasLine()) {
                return "";
            }
            String line = take();
            if (!line.equals(SEPARATOR)) {
                while (!line.isBlank()) {
                    expected.append(line).append('\n');
                    if (!hasLine()) {
                        break;
                    }
                    line = take();
                }
                return expected.toString();
            }
            while (hasLine()) {
                line = take();
                if (line.equals(SEPARATOR) && hasLine()) {
                    String second = take();
                    if (second.equals(SEPARATOR)) {
                        if (hasLine() && !take().isEmpty()) {
                            throw new AssertionError(file + ":" + taken + ": a blank line must follow the closing " + SEPARATOR + " "
                                    + SEPARATOR + " of the case at line " + directiveLine);
                        }
                        return expected.toString();
                    }
                    expected.append(line).append('\n').append(second).append('\n');
                    continue;
                }
                expected.append(line).append('\n');
            }
            throw new AssertionError(file + ":" + directiveLine + ": the output opened by " + SEPARATOR + " " + SEPARATOR
                    + " is never closed by another " + SEPARATOR + " " + SEPARATOR);
        }

        /** Writes a case's actual output where its expected output was, as the Go package does. */
        void emitOutput(String actual) {
            emit(SEPARATOR);
            if (hasBlankLine(actual)) {
                emit(SEPARATOR);
                echo.append(actual);
                emit(SEPARATOR);
                emit(SEPARATOR);
                emit("");
            } else {
                echo.append(actual).append('\n');
            }
        }

        /** The rewritten file: without a blank line at its very end. */
        String rewritten() {
            int length = echo.length();
            if (length > 2 && echo.charAt(length - 1) == '\n' && echo.charAt(length - 2) == '\n') {
                echo.setLength(length - 1);
            }
            return echo.toString();
        }

        private static boolean hasBlankLine(String output) {
            return outputLines(output).stream().anyMatch(String::isBlank);
        }
    }

    /** A parsed directive line: the command and its arguments. */
    record Directive(String command, List<Argument> arguments) {
        /** Parses {@code command arg key=value key=(v1, v2) key="quoted value" ...}. */
        static Directive parse(String line, Path file, int lineNumber) {
            return new DirectiveParser(line, file, lineNumber).parse();
        }
    }

    private static final class DirectiveParser {
        private final String line;
        private final Path file;
        private final int lineNumber;
        private int at;

        DirectiveParser(String line, Path file, int lineNumber) {
            this.line = line;
            this.file = file;
            this.lineNumber = lineNumber;
        }

        Directive parse() {
            String command = until(" ");
            List<Argument> arguments = new ArrayList<>();
            skipSpaces();
            while (at < line.length()) {
                String key = until(" =");
                if (key.isEmpty()) {
                    throw error("an argument without a name");
                }
                List<String> values = new ArrayList<>();
                if (at < line.length() && line.charAt(at) == '=') {
                    at++;
                    if (at == line.length() || line.charAt(at) == ' ') {
                        values.add("");
                    } else if (line.charAt(at) == '(') {
                        values.addAll(list());
                    } else if (line.charAt(at) == '"') {
                        values.add(quoted());
                    } else {
                        values.add(until(" "));
                    }
                }
                arguments.add(new Argument(key, values));
                skipSpaces();
            }
            return new Directive(command, arguments);
        }

        /** {@code (v1, v2, ...)}: values split at top-level commas, nested parentheses and quotes kept whole. */
        private List<String> list() {
            int open = at;
            at++;
            List<String> values = new ArrayList<>();
            StringBuilder value = new StringBuilder();
            int depth = 1;
            while (true) {
                if (at == line.length()) {
                    at = open;
                    throw error("no ) closes this (");
                }
                char c = line.charAt(at);
                if (c == '"' && value.toString().isBlank()) {
                    value.setLength(0);
                    value.append(quoted());
                    continue;
                }
                at++;
                if (c == '(') {
                    depth++;
                } else if (c == ')' && --depth == 0) {
                    values.add(value.toString());
                    break;
                } else if (c == ',' && depth == 1) {
                    values.add(value.toString());
                    value.setLength(0);
                    skipSpaces();
                    continue;
                }
                value.append(c);
            }
            return values;
        }

        /** {@code "..."} with {@code \"} and {@code \\} escapes; returns the text between the quotes. */
        private String quoted() {
            int open = at;
            at++;
            StringBuilder value = new StringBuilder();
            while (at < line.length()) {
                char c = line.charAt(at++);
                if (c == '"') {
                    return value.toString();
                }
                if (c == '\\' && at < line.length()) {
                    c = line.charAt(at++);
                }
                value.append(c);
            }
            at = open;
            throw error("no \" closes this quote");
        }

        /** The text up to (not including) the first of {@code stops}, or to the end. */
        private String until(String stops) {
            int start = at;
            while (at < line.length() && stops.indexOf(line.charAt(at)) < 0) {
                at++;
            }
            return line.substring(start, at);
        }

        private void skipSpaces() {
            while (at < line.length() && line.charAt(at) == ' ') {
                at++;
            }
        }

        private AssertionError error(String what) {
            return new AssertionError(file + ":" + lineNumber + ": cannot parse the directive at column " + (at + 1) + " (" + what
                    + "): " + line);
        }
    }

    /**
     * A line diff of {@code expected} against {@code actual}: lines of both prefixed "  ", lines
     * only expected "- ", lines only actual "+ " (a longest common subsequence).
     */
    static String diff(String expected, String actual) {
        List<String> a = outputLines(expected);
        List<String> b = outputLines(actual);
        StringBuilder text = new StringBuilder("--- expected\n+++ actual\n");
        if ((long) a.size() * b.size() > DIFF_CELLS_MAX) {
            a.forEach(line -> text.append("- ").append(line).append('\n'));
            b.forEach(line -> text.append("+ ").append(line).append('\n'));
            return text.toString();
        }
        int[][] common = new int[a.size() + 1][b.size() + 1];
        for (int i = a.size() - 1; i >= 0; i--) {
            for (int j = b.size() - 1; j >= 0; j--) {
                common[i][j] = a.get(i).equals(b.get(j)) ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
            }
        }
        int i = 0;
        int j = 0;
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                text.append("  ").append(a.get(i++)).append('\n');
                j++;
            } else if (i < a.size() && (j == b.size() || common[i + 1][j] >= common[i][j + 1])) {
                text.append("- ").append(a.get(i++)).append('\n');
            } else {
                text.append("+ ").append(b.get(j++)).append('\n');
            }
        }
        return text.toString();
    }

    /** The lines of an output that ends in a newline (or is empty). */
    private static List<String> outputLines(String output) {
        return output.isEmpty() ? List.of() : List.of(output.substring(0, output.length() - 1).split("\n", -1));
    }
}
