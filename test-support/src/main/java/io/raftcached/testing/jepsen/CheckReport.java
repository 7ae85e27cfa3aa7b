package io.raftcached.testing.jepsen;

import java.util.List;

/** The checkers' verdicts as plain text, for a run's report file and the test output. */
public final class CheckReport {
    /** Most counterexample events printed per verdict; the rest are counted. */
    public static final int MAX_EVENTS_SHOWN = 60;

    private CheckReport() {}

    /**
     * One line per verdict ({@code [ok]}, {@code [INVALID]} or {@code [GAVE UP]}, the checker, the
     * explanation), each violation followed by its counterexample events, one per line.
     */
    public static String text(List<CheckResult> results) {
        long valid = results.stream().filter(CheckResult::valid).count();
        StringBuilder text = new StringBuilder();
        text.append("checkers: ").append(valid).append(" of ").append(results.size()).append(" valid")
                .append(valid == results.size() ? "" : " — FAILED").append('\n');
        for (CheckResult result : results) {
            String verdict = result.valid() ? "[ok]     " : result.isGaveUp() ? "[GAVE UP]" : "[INVALID]";
            text.append(verdict).append(' ').append(result.checker()).append(": ").append(result.explanation()).append('\n');
            List<Op> events = result.counterexample();
            if (!events.isEmpty()) {
                text.append("          counterexample (").append(events.size()).append(" events):\n");
                for (Op op : events.subList(0, Math.min(MAX_EVENTS_SHOWN, events.size()))) {
                    text.append("            ").append(op).append('\n');
                }
                if (events.size() > MAX_EVENTS_SHOWN) {
                    text.append("            ... ").append(events.size() - MAX_EVENTS_SHOWN).append(" more\n");
                }
            }
        }
        return text.toString();
    }
}
