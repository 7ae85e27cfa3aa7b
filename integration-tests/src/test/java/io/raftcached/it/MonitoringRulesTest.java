package io.raftcached.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * deploy/monitoring's alert rules are valid Prometheus rules, and each alert fires on the series
 * it is meant for and not below its threshold ({@code promtool test rules} on the rule unit
 * tests next to them). The dashboard's and the rules' expressions are run against a real
 * Prometheus in {@link PrometheusScrapeTest}.
 */
class MonitoringRulesTest {
    private static final Path TESTS = Path.of("..", "deploy", "monitoring", "raftcached-alerts.test.yml");
    private static final long PROMTOOL_TIMEOUT_MILLIS = 60_000;

    @BeforeAll
    static void promtoolInstalled() {
        Assumptions.assumeTrue(Subprocess.isInstalled("promtool"), "promtool is missing (apt-get install prometheus)");
    }

    @Test
    void alertRulesAreValid() throws Exception {
        Subprocess.Result check = Subprocess.run(List.of("promtool", "check", "rules",
                PrometheusScrapeTest.ALERT_RULES.toString()), PROMTOOL_TIMEOUT_MILLIS);
        assertEquals(0, check.exitCode(), check.toString());
        assertTrue(check.out().contains("SUCCESS: 9 rules found"), check.toString());
    }

    @Test
    void alertRulesPassTheirUnitTests() throws Exception {
        Subprocess.Result test = Subprocess.run(List.of("promtool", "test", "rules", TESTS.toString()), PROMTOOL_TIMEOUT_MILLIS);
        assertEquals(0, test.exitCode(), test.toString());
        assertTrue(test.out().contains("SUCCESS"), test.toString());
    }
}
