#!/usr/bin/env bash
# Runs the JMH microbenchmarks: the off-heap store (store module, io.raftcached.store.bench: get,
# set, eviction, snapshot) and the protocol decoder (protocol module, io.raftcached.protocol.bench).
# Builds both modules with Maven first, then runs org.openjdk.jmh.Main on their test classpath,
# from a private copy of the classes so a rebuild or `mvn clean` elsewhere cannot change them mid-run.
# Each benchmark forks one JVM; all of them together take a few minutes.
#
# Usage: bench/jmh.sh [REGEX] [JMH options...]
#   bench/jmh.sh                       every store and decoder benchmark
#   bench/jmh.sh StoreGet              benchmarks whose class.method name matches the regex
#   bench/jmh.sh StoreGet -prof gc     extra arguments go to JMH (allocation per op: gc.alloc.rate.norm)
#   bench/jmh.sh 'Store(Set|Eviction)' -rf json -rff /tmp/store.json
#   bench/jmh.sh -l                    list the benchmarks (options first: REGEX is the default one)
#   bench/jmh.sh -h                    JMH's own options
# Settings (environment):
#   JAVA_OPTS='-Xmx512m --add-opens java.base/java.lang=ALL-UNNAMED -Dcom.google.protobuf.use_unsafe_pre22_gencode=true'
#                 flags of the JMH JVM; its benchmark forks inherit them. The root pom's test.jvm.args
#                 without -ea (assertions would be measured) and without -XX:ActiveProcessorCount.
#   SKIP_BUILD=1  run what store/target and protocol/target already hold (no Maven at all)
#   MVN_ARGS=     extra Maven arguments, e.g. -o
# Needs for the snapshot benchmarks about 600 MB of native memory and 256 MB free in the temp dir.
# Exit status: 0 all ran; 1 a benchmark threw (e.g. a setup check found the store not as expected):
#   JMH stops there unless given -foe false; 2 the classes or classpath are missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEFAULT_REGEX='io\.raftcached\.(store|protocol)\.bench\.'
JAVA_OPTS=${JAVA_OPTS:-"-Xmx512m --add-opens java.base/java.lang=ALL-UNNAMED -Dcom.google.protobuf.use_unsafe_pre22_gencode=true"}
SKIP_BUILD=${SKIP_BUILD:-0}
MVN_ARGS=${MVN_ARGS:-}
MODULES=(store protocol)

REGEX=$DEFAULT_REGEX
if [[ $# -gt 0 && $1 != -* ]]; then
  REGEX=$1
  shift
fi

cd "$ROOT"
if [[ $SKIP_BUILD != 1 ]]; then
  # Only the modules benchmarked and what they depend on: `install` makes proto resolvable for
  # dependency:build-classpath; -DskipTests still compiles the test classes (and runs JMH's
  # annotation processor, which writes META-INF/BenchmarkList).
  # shellcheck disable=SC2086
  mvn -B -q $MVN_ARGS -DskipTests -pl "$(IFS=,; echo "${MODULES[*]}")" -am install
  # shellcheck disable=SC2086
  mvn -B -q $MVN_ARGS -pl "$(IFS=,; echo "${MODULES[*]}")" dependency:build-classpath \
    -Dmdep.outputFile=target/jmh.classpath -Dmdep.includeScope=test
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/raftcached-jmh.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
CLASSPATH_PARTS=()
for module in "${MODULES[@]}"; do
  for dir in test-classes classes; do
    if [[ ! -d $module/target/$dir ]]; then
      echo "$module/target/$dir missing; run without SKIP_BUILD=1" >&2
      exit 2
    fi
    mkdir -p "$WORK/$module"
    cp -r "$module/target/$dir" "$WORK/$module/$dir"
    CLASSPATH_PARTS+=("$WORK/$module/$dir")
  done
  if [[ ! -f $module/target/test-classes/META-INF/BenchmarkList ]]; then
    echo "$module/target/test-classes/META-INF/BenchmarkList missing: JMH's annotation processor did not run" >&2
    exit 2
  fi
  if [[ ! -f $module/target/jmh.classpath ]]; then
    echo "$module/target/jmh.classpath missing; run without SKIP_BUILD=1" >&2
    exit 2
  fi
  CLASSPATH_PARTS+=("$(cat "$module/target/jmh.classpath")")
done
CLASSPATH=$(IFS=:; echo "${CLASSPATH_PARTS[*]}")

# Stop at the first benchmark that throws (e.g. a setup check), with a non-zero exit, unless told
# otherwise: JMH refuses -foe given twice.
FAIL_ON_ERROR=(-foe true)
for arg in "$@"; do
  if [[ $arg == -foe ]]; then
    FAIL_ON_ERROR=()
  fi
done

# shellcheck disable=SC2086
java $JAVA_OPTS -cp "$CLASSPATH" org.openjdk.jmh.Main "$REGEX" "${FAIL_ON_ERROR[@]}" "$@"
