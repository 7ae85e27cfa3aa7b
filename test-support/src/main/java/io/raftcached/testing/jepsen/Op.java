package io.raftcached.testing.jepsen;

/**
 * One event of a recorded history, as Jepsen records them: a client process invokes an operation
 * and later sees it complete — ok (it happened, with this result), fail (it surely did not
 * happen) or info (unknown: a timeout or a lost connection, so it may or may not have happened).
 *
 * @param process   the client session (one connection) that issued it; a process may have several
 *                  operations open (a pipeline), which complete in the order they were invoked
 * @param type      invoke, ok, fail or info
 * @param fn        what was asked
 * @param key       the memcached key
 * @param value     set/add/cas: the value written; get: the value read (null = not found)
 * @param expected  cas: the value the client believed the key held (null otherwise)
 * @param number    incr: the counter's value after it (ok only); null otherwise
 * @param nanos     when, on the test's monotonic clock (System.nanoTime)
 * @param node      the node the client talked to (for reports)
 */
public record Op(int process, Type type, Fn fn, String key, String value, String expected, Long number, long nanos,
        String node) {

    public enum Type { INVOKE, OK, FAIL, INFO }

    public enum Fn { SET, GET, CAS, INCR, DELETE, ADD }

    public Op completedAs(Type outcome, String resultValue, Long resultNumber, long atNanos) {
        return new Op(process, outcome, fn, key, resultValue, expected, resultNumber, atNanos, node);
    }

    @Override
    public String toString() {
        return String.format("%d %s %s %s%s%s%s @%.3fs %s", process, type, fn, key,
                value == null ? "" : " value=" + value, expected == null ? "" : " expected=" + expected,
                number == null ? "" : " number=" + number, nanos / 1e9, node == null ? "" : node);
    }
}
