#!/usr/bin/env bash
# Hit ratio of raftcached beside Debian's memcached on the same cache-aside workload, in one run (issue 15):
# Zipf-distributed keys over a key space larger than memory, 90 % gets / 10 % sets, and every get miss
# followed by a set of that key, as an application filling its cache from a database does.
#
# memcached (-m MEMORY_MB) and a one-node raftcached (-m MEMORY_MB, otherwise default flags) run on
# 127.0.0.1 one after the other, each alone on the machine. Each gets the same two generator passes:
# WARMUP_REQUESTS to fill memory and reach a steady state (seed 1), then MEASURED_REQUESTS (seed 2)
# whose hit ratio is reported twice: as the generator counted it from the replies (hits / (hits +
# misses); the figure compared) and from the server's own `stats` (get_hits and get_misses deltas over
# the measured pass; a cross-check). Request counts, not seconds, bound the passes, so a slower server
# sees the same key sequence, only later.
#
# A third run, raftcached with --debug-no-access-hints (HINT_COST=1, the default), prices the access hints
# that make reads count: beside each run's server CPU per op (the generator's --server-pid), the hint
# bytes raftcached sent (stats raft_lru_hint_bytes) against the bytes of the values it stored, and the
# hit ratio without them.
#
# Usage: bench/memory-parity.sh [--out DIR]
# Settings (environment):
#   MEMORY_MB=64 KEY_SPACE=250000 VALUE_SIZE=4000 ZIPF_EXPONENT=0.99 RATIO=9:1
#   WARMUP_REQUESTS=250000 MEASURED_REQUESTS=150000 THREADS=2 CONNECTIONS=8 PIPELINE=16
#   MEMCACHED_PORT=22132 RAFTCACHED_PORT=22133 RAFT_PORT=22134   must be free; checked first
#   MEMCACHED_BIN=memcached
#   RAFTCACHED_JAR=node/target/raftcached.jar   run through bin/raftcached with
#                                               JAVA_OPTS="-Xmx$RAFTCACHED_HEAP -XX:ActiveProcessorCount=$JVM_CPUS"
#   RAFTCACHED_ARGS=                            extra raftcached flags
#   BENCH_JAR=bench/target/raftcached-bench.jar (built if missing)
#   RAFTCACHED_HEAP=256m BENCH_HEAP=256m JVM_CPUS=2 READY_TIMEOUT=60 RUN_TIMEOUT=600 (seconds per pass)
#   HINT_COST=1                                 0: skip the run without access hints
#   OUT_DIR=$(mktemp -d)                        keeps results.tsv, each pass's JSON report, server logs
# Output: one line per server and the difference in points; OUT_DIR/results.tsv has, per server:
#   server hitRatio statsHitRatio opsPerSec gets hits misses fills evictions serverCpuMicrosPerOp hintBytes
#   setBytes (the last two over the measured pass; hint bytes 0 for memcached)
# Exit status: 0 both servers ran (whatever the ratios), 1 a pass or a server failed, 2 bad setup.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MEMORY_MB=${MEMORY_MB:-64}
KEY_SPACE=${KEY_SPACE:-250000}
VALUE_SIZE=${VALUE_SIZE:-4000}
ZIPF_EXPONENT=${ZIPF_EXPONENT:-0.99}
RATIO=${RATIO:-9:1}
WARMUP_REQUESTS=${WARMUP_REQUESTS:-250000}
MEASURED_REQUESTS=${MEASURED_REQUESTS:-150000}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-8}
PIPELINE=${PIPELINE:-16}
MEMCACHED_PORT=${MEMCACHED_PORT:-22132}
RAFTCACHED_PORT=${RAFTCACHED_PORT:-22133}
RAFT_PORT=${RAFT_PORT:-22134}
MEMCACHED_BIN=${MEMCACHED_BIN:-memcached}
RAFTCACHED_JAR=${RAFTCACHED_JAR:-$ROOT/node/target/raftcached.jar}
RAFTCACHED_ARGS=${RAFTCACHED_ARGS:-}
BENCH_JAR=${BENCH_JAR:-$ROOT/bench/target/raftcached-bench.jar}
RAFTCACHED_HEAP=${RAFTCACHED_HEAP:-256m}
BENCH_HEAP=${BENCH_HEAP:-256m}
JVM_CPUS=${JVM_CPUS:-2}
READY_TIMEOUT=${READY_TIMEOUT:-60}
RUN_TIMEOUT=${RUN_TIMEOUT:-600}
HINT_COST=${HINT_COST:-1}
OUT_DIR=${OUT_DIR:-}

SCRIPT_NAME=memory-parity
# shellcheck source=bench/script-lib.sh
source "$ROOT/bench/script-lib.sh"
parse_out_flag "$@"

for setting in MEMORY_MB KEY_SPACE VALUE_SIZE WARMUP_REQUESTS MEASURED_REQUESTS THREADS CONNECTIONS PIPELINE \
  MEMCACHED_PORT RAFTCACHED_PORT RAFT_PORT READY_TIMEOUT RUN_TIMEOUT; do
  [[ ${!setting} =~ ^[1-9][0-9]{0,9}$ ]] || die "$setting must be a positive whole number, got '${!setting}'"
done
for tool in java jq ss timeout "$MEMCACHED_BIN"; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -f $RAFTCACHED_JAR ]] || die "$RAFTCACHED_JAR missing; build it with: mvn -q -DskipTests package"
if [[ ! -f $BENCH_JAR && $BENCH_JAR == "$ROOT/bench/target/raftcached-bench.jar" ]]; then
  log "building $BENCH_JAR (mvn -q -DskipTests -pl bench package)"
  (cd "$ROOT" && mvn -q -DskipTests -pl bench package >&2) || die "building $BENCH_JAR failed"
fi
[[ -f $BENCH_JAR ]] || die "$BENCH_JAR missing"
for port in "$MEMCACHED_PORT" "$RAFTCACHED_PORT" "$RAFT_PORT"; do
  [[ -z $(ss -Hltn "sport = :$port") ]] || die "port $port is in use on this machine; set MEMCACHED_PORT/RAFTCACHED_PORT/RAFT_PORT"
done

if [[ -z $OUT_DIR ]]; then
  OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/raftcached-memory-parity.XXXXXX")
else
  mkdir -p "$OUT_DIR"
fi
OUT_DIR=$(cd "$OUT_DIR" && pwd)
# Private copies: a rebuild elsewhere must not swap a jar mid-run.
cp "$BENCH_JAR" "$OUT_DIR/bench.jar"
cp "$RAFTCACHED_JAR" "$OUT_DIR/raftcached.jar"

# --- the server under test: its own process group, stopped by that group's id ------------------
GROUP=
alive() { [[ -r /proc/$1/stat ]] && [[ $(awk '{sub(/.*\) /, ""); print $1}' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
stop_server() {
  [[ -n $GROUP ]] || return 0
  local group=$GROUP
  GROUP=
  kill -TERM -- "-$group" 2>/dev/null || true
  for _ in $(seq 1 100); do # up to 10 s for a clean shutdown
    alive "$group" || break
    sleep 0.1
  done
  if alive "$group"; then kill -KILL -- "-$group" 2>/dev/null || true; fi
  wait "$group" 2>/dev/null || true
}
trap 'status=$?; stop_server; exit $status' EXIT
trap 'exit 130' INT TERM

start_server() { # name port ready-check command...: starts it, waits (bounded) until the check passes
  local name=$1 port=$2 check=$3
  shift 3
  log "starting $name: $*"
  # Own process group (stopped as a whole), same session (same scheduler autogroup as the generator).
  set -m
  (exec "$@") >"$OUT_DIR/$name.log" 2>&1 </dev/null &
  GROUP=$!
  set +m
  local deadline=$((SECONDS + READY_TIMEOUT))
  until $check "$port"; do
    alive "$GROUP" || { tail -n 20 "$OUT_DIR/$name.log" >&2; fail "$name exited before answering on port $port"; }
    ((SECONDS < deadline)) || fail "$name did not answer on port $port within $READY_TIMEOUT s"
    sleep 0.2
  done
}

ask() { # port command: one text command, its reply lines without CR
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf '%s\r\nquit\r\n' '$2' >&3 && tr -d '\r' <&3" 2>/dev/null || true
}
answers_version() { [[ $(ask "$1" version) == VERSION* ]]; }
# A one-node raftcached answers version before it has elected itself; writes need the leader.
serves_writes() { [[ $(ask "$1" "stats raft") == *"STAT raft_ready 1"* ]]; }
stat_of() { # port name: one value of `stats`
  ask "$1" stats | awk -v name="$2" '$1 == "STAT" && $2 == name {print $3; found = 1} END {exit !found}' ||
    fail "no STAT $2 from port $1"
}
stat_or_zero() { # port name: a stat only raftcached has, 0 from memcached
  ask "$1" stats | awk -v name="$2" '$1 == "STAT" && $2 == name {print $3; found = 1} END {if (!found) print 0}'
}
server_pids() { # the processes of the server's group, for the generator's --server-pid
  pgrep -g "$GROUP" | paste -sd, -
}

bench_pass() { # name port seed requests: one generator pass, its JSON report in OUT_DIR
  local name=$1 port=$2 seed=$3 requests=$4 report=$OUT_DIR/$1.seed$3.json
  timeout $((RUN_TIMEOUT + 30)) java -Xmx"$BENCH_HEAP" -XX:ActiveProcessorCount="$JVM_CPUS" -jar "$OUT_DIR/bench.jar" \
    --servers "127.0.0.1:$port" --threads "$THREADS" --connections "$CONNECTIONS" --pipeline "$PIPELINE" \
    --ratio "$RATIO" --cache-aside --key-pattern zipf --zipf-exponent "$ZIPF_EXPONENT" --key-space "$KEY_SPACE" \
    --value-size "$VALUE_SIZE" --seed "$seed" --requests "$requests" --warmup 0 --duration "$RUN_TIMEOUT" --json \
    --server-pid "$(server_pids)" \
    >"$report" 2>"$OUT_DIR/$name.seed$seed.err" || fail "$name: generator pass (seed $seed) failed: $(head -c 2000 "$OUT_DIR/$name.seed$seed.err")"
  # An error reply is neither a hit nor a miss: a ratio computed around errors would flatter.
  [[ $(jq '.errors + .errorsOutsideWindow' "$report") == 0 ]] ||
    fail "$name: error replies in the pass with seed $seed: $(jq -c .errorSamples "$report")"
  echo "$report"
}

measure() { # name port: warm-up pass, then the measured pass with stats deltas; appends to results.tsv
  local name=$1 port=$2 report hits0 misses0 hits1 misses1 hints0 hints1 sets0 sets1
  log "$name: warm-up, $WARMUP_REQUESTS requests"
  bench_pass "$name" "$port" 1 "$WARMUP_REQUESTS" >/dev/null
  hits0=$(stat_of "$port" get_hits) misses0=$(stat_of "$port" get_misses)
  hints0=$(stat_or_zero "$port" raft_lru_hint_bytes) sets0=$(stat_of "$port" cmd_set)
  log "$name: measured pass, $MEASURED_REQUESTS requests"
  report=$(bench_pass "$name" "$port" 2 "$MEASURED_REQUESTS")
  hits1=$(stat_of "$port" get_hits) misses1=$(stat_of "$port" get_misses)
  hints1=$(stat_or_zero "$port" raft_lru_hint_bytes) sets1=$(stat_of "$port" cmd_set)
  jq -r --arg name "$name" --argjson hits $((hits1 - hits0)) --argjson misses $((misses1 - misses0)) \
    --arg evictions "$(stat_of "$port" evictions)" --argjson hintBytes $((hints1 - hints0)) \
    --argjson setBytes $(((sets1 - sets0) * VALUE_SIZE)) \
    '[$name, .hitRatio, (if $hits + $misses > 0 then $hits / ($hits + $misses) else null end), .opsPerSec,
      .gets, .hits, .misses, .fills, $evictions, .server.cpuMicrosPerOp, $hintBytes, $setBytes] | @tsv' \
    "$report" >>"$OUT_DIR/results.tsv"
}

printf 'server\thitRatio\tstatsHitRatio\topsPerSec\tgets\thits\tmisses\tfills\tevictions\tserverCpuMicrosPerOp\thintBytes\tsetBytes\n' \
  >"$OUT_DIR/results.tsv"
memcached_cmd=("$MEMCACHED_BIN" -m "$MEMORY_MB" -U 0 -l 127.0.0.1 -p "$MEMCACHED_PORT")
((EUID != 0)) || memcached_cmd+=(-u nobody) # memcached refuses root without -u
start_server memcached "$MEMCACHED_PORT" answers_version "${memcached_cmd[@]}"
measure memcached "$MEMCACHED_PORT"
stop_server
run_raftcached() { # name extra-flags...: a fresh one-node raftcached through both passes
  local name=$1
  shift
  # shellcheck disable=SC2086 # RAFTCACHED_ARGS is a list of flags
  start_server "$name" "$RAFTCACHED_PORT" serves_writes env RAFTCACHED_JAR="$OUT_DIR/raftcached.jar" \
    JAVA_OPTS="-Xmx$RAFTCACHED_HEAP -XX:ActiveProcessorCount=$JVM_CPUS" "$ROOT/bin/raftcached" \
    -m "$MEMORY_MB" -U 0 -l 127.0.0.1 -p "$RAFTCACHED_PORT" --raft "127.0.0.1:$RAFT_PORT" \
    --data-dir "$OUT_DIR/$name-data" $RAFTCACHED_ARGS "$@"
  measure "$name" "$RAFTCACHED_PORT"
  stop_server
}
run_raftcached raftcached
if ((HINT_COST)); then
  run_raftcached raftcached-no-hints --debug-no-access-hints
fi

echo "cache-aside Zipf s=$ZIPF_EXPONENT over $KEY_SPACE keys of $VALUE_SIZE B, get:set $RATIO, -m $MEMORY_MB;" \
  "$MEASURED_REQUESTS requests measured after $WARMUP_REQUESTS of warm-up (results in $OUT_DIR)"
awk -F'\t' 'NR > 1 {
    printf "%-19s hit ratio %6.2f%% (client-counted; server stats %6.2f%%), %8.0f ops/s, %6.2f server CPU-us/op, %d fills, %d evictions",
      $1, 100 * $2, 100 * $3, $4, $10, $8, $9
    if ($11 > 0) printf ", hints %.2f%% of the value bytes stored", 100 * $11 / $12
    printf "\n"
    ratio[$1] = $2; cpu[$1] = $10
  }
  END {
    printf "raftcached - memcached: %+.2f points\n", 100 * (ratio["raftcached"] - ratio["memcached"])
    if ("raftcached-no-hints" in ratio)
      printf "access hints: %+.2f points of hit ratio, %+.2f server CPU-us/op (%+.1f%%)\n",
        100 * (ratio["raftcached"] - ratio["raftcached-no-hints"]), cpu["raftcached"] - cpu["raftcached-no-hints"],
        100 * (cpu["raftcached"] / cpu["raftcached-no-hints"] - 1)
  }' "$OUT_DIR/results.tsv"
