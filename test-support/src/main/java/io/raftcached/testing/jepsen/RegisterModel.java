package io.raftcached.testing.jepsen;

import java.util.Objects;

/**
 * The sequential specification of one memcached key, as the linearizability search steps it: the
 * key holds a value or is absent (null). Counters are the same register holding a decimal number.
 *
 * <ul>
 *   <li>set v: holds v.</li>
 *   <li>add v: only when absent; then holds v.</li>
 *   <li>cas e→v: only when it holds e (by value: values are unique per write, so this is the same
 *       as comparing CAS uniques); then holds v.</li>
 *   <li>delete: only when present; then absent.</li>
 *   <li>incr d: only when it holds a number n; then holds n+d, and an ok incr must have returned
 *       n+d.</li>
 *   <li>get: returns what it holds (null = miss); changes nothing.</li>
 * </ul>
 * Failed operations never reach the model (they did not happen). An operation whose outcome is
 * unknown steps only in the branch where it took effect; "it never happened" is the search
 * leaving it out. So its preconditions must hold where it is placed, and its result is not checked.
 */
final class RegisterModel {
    /** Returned by {@link #step} when the operation cannot take effect in that state (compared by identity). */
    static final String INVALID = new String("<invalid>");

    private RegisterModel() {}

    /** The state after {@code operation} in {@code state}, or {@link #INVALID}. */
    static String step(String state, Operation operation) {
        boolean judged = !operation.pending();
        switch (operation.fn()) {
            case SET:
                return operation.written();
            case ADD:
                return state == null ? operation.written() : INVALID;
            case CAS:
                return state != null && state.equals(operation.expected()) ? operation.written() : INVALID;
            case DELETE:
                return state != null ? null : INVALID;
            case INCR: {
                Long current = number(state);
                if (current == null) {
                    return INVALID;
                }
                long next = current + operation.delta();
                if (judged && operation.number() != null && operation.number() != next) {
                    return INVALID;
                }
                return Long.toString(next);
            }
            case GET:
                // a get whose outcome is unknown never reaches the model
                return Objects.equals(state, operation.read()) ? state : INVALID;
            default:
                throw new IllegalArgumentException(operation.fn().name());
        }
    }

    /** The number a counter holds, or null when it holds something else (incr then fails). */
    static Long number(String state) {
        if (state == null || state.isEmpty() || state.length() > 18) {
            return null;
        }
        for (int i = 0; i < state.length(); i++) {
            if (state.charAt(i) < '0' || state.charAt(i) > '9') {
                return null;
            }
        }
        return Long.parseLong(state);
    }
}
