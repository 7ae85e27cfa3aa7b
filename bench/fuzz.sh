#!/usr/bin/env bash
# Long fuzzing of the protocol parsers (not in CI; CI runs each target for 35 s).
#
#   bench/fuzz.sh [minutes]     each Jazzer target of protocol/ for MINUTES (default 10), then the
#                               differential fuzz against Debian memcached
#   STREAMS=N SEED=S            the differential run's stream count (default 5000) and seed
#                               (default: random, printed)
#
# Findings:
#   - a crashing input of a Jazzer target is written to
#     protocol/src/test/resources/io/raftcached/protocol/ProtocolFuzzTestInputs/<target>/crash-<sha1>
#     and replays with every `mvn verify` from then on: give it a name that says what broke, fix the
#     bug, and add a plain JUnit test named after it (see "Fuzzing" in README.md);
#   - inputs that grew coverage collect in protocol/.cifuzz-corpus/ (git-ignored) and seed the next run;
#   - a differential mismatch fails MemcachedDifferentialTest with its seed, the stream and both
#     replies; rerun it with the SEED and STREAMS printed.
set -euo pipefail
cd "$(dirname "$0")/.."

minutes="${1:-10}"
[[ "$minutes" =~ ^[1-9][0-9]*$ ]] || { echo "usage: bench/fuzz.sh [minutes per target, default 10]" >&2; exit 2; }
streams="${STREAMS:-5000}"
seed="${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}"
export MAVEN_OPTS="${MAVEN_OPTS:--Xmx1g}"

failed=()
for target in decoderStream commandLine metaFlags; do
    echo "=== fuzzing ProtocolFuzzTest#$target for $minutes min"
    if ! mvn -B -pl protocol test-compile "surefire:test@fuzz-$target" -Pfuzz \
            -Dfuzz.seconds=$((minutes * 60)); then
        failed+=("$target")
    fi
done

echo "=== differential fuzz against memcached: $streams streams, seed $seed"
if ! mvn -B -pl integration-tests -am verify -Dtest=MemcachedDifferentialTest \
        -Dsurefire.failIfNoSpecifiedTests=false -Ddifferential.streams="$streams" -Ddifferential.seed="$seed"; then
    failed+=("differential (seed $seed)")
fi

if [ ${#failed[@]} -gt 0 ]; then
    echo "FINDINGS in: ${failed[*]}"
    git status --short protocol/src/test/resources/io/raftcached/protocol/ProtocolFuzzTestInputs
    exit 1
fi
echo "no findings"
