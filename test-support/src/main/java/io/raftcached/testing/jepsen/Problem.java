package io.raftcached.testing.jepsen;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/** One thing a history checker found wrong, and the operations that show it. */
record Problem(String text, List<Operation> witnesses) {
    private static final int MAX_LISTED = 8;

    /** A violation naming the first problems; the first one's witnesses are the counterexample. */
    static CheckResult violation(String checker, List<Problem> problems) {
        List<String> texts = new ArrayList<>();
        for (Problem problem : problems.subList(0, Math.min(MAX_LISTED, problems.size()))) {
            texts.add(problem.text());
        }
        String more = problems.size() > MAX_LISTED ? "; and " + (problems.size() - MAX_LISTED) + " more" : "";
        return CheckResult.violation(checker, String.join("; ", texts) + more, Operation.eventsOf(problems.get(0).witnesses()));
    }

    /** Pairs the history's events into operations and judges them; a malformed history is a give-up. */
    static CheckResult judgePaired(String checker, History history, Function<List<Operation>, CheckResult> judge) {
        Operation.Paired paired = Operation.pair(history.events());
        if (!paired.problems().isEmpty()) {
            return CheckResult.gaveUp(checker, "malformed history: " + String.join("; ", paired.problems()));
        }
        return judge.apply(paired.operations());
    }
}
