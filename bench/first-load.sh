#!/usr/bin/env bash
# The first load a fresh 3-node cluster gets, second by second: what the load benchmark's "first 10 s"
# row sums up in one figure. Starts three nodes through bin/raftcached on 127.0.0.1, waits for a
# leader, runs the generator (sets at pipeline 1 from CONNECTIONS connections over all three nodes)
# for DURATION seconds and prints, each second, the sets the cluster took (the nodes' cmd_set), the
# cores the nodes' JIT compiler threads used and the cores the nodes used in all; then the mean of
# the first 10 seconds against the last 10, REPEATS times, each on a new cluster.
#
# Usage: bench/first-load.sh [--out DIR]
# Settings (environment):
#   DURATION=60 CONNECTIONS=64 REPEATS=1 RAFTCACHED_HEAP=2g JVM_CPUS=2
#   RAFTCACHED_JAVA_EXTRA=   extra JVM options for the nodes, e.g. -XX:TieredStopAtLevel=1 or -Xshare:off
#   BASE_PORT=23211          client ports BASE_PORT+1..3, Raft ports BASE_PORT+101..103
# Output: the table on stdout; OUT_DIR keeps each repeat's timeline (timeline.N.tsv), the generator's
# report and the node logs.
# Exit status: 0 done, 1 a node or the generator failed, 2 bad setup.
set -euo pipefail

SCRIPT_NAME=first-load.sh
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/script-lib.sh
source "$ROOT/bench/script-lib.sh"
OUT_DIR=
parse_out_flag "$@"
DURATION=${DURATION:-60}
CONNECTIONS=${CONNECTIONS:-64}
REPEATS=${REPEATS:-1}
RAFTCACHED_HEAP=${RAFTCACHED_HEAP:-2g}
JVM_CPUS=${JVM_CPUS:-2}
RAFTCACHED_JAVA_EXTRA=${RAFTCACHED_JAVA_EXTRA:-}
BASE_PORT=${BASE_PORT:-23211}
[[ $DURATION =~ ^[0-9]+$ && $DURATION -ge 25 && $DURATION -le 3600 ]] || die "DURATION must be 25 to 3600 seconds"
[[ $REPEATS =~ ^[0-9]+$ && $REPEATS -ge 1 && $REPEATS -le 20 ]] || die "REPEATS must be 1 to 20"
BENCH_JAR=$ROOT/bench/target/raftcached-bench.jar
[[ -f $BENCH_JAR && -f $ROOT/node/target/raftcached.jar ]] || die "build first: mvn -q -DskipTests package"
OUT_DIR=${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/first-load.XXXXXX")}
mkdir -p "$OUT_DIR"
CLOCK_TICKS=$(getconf CLK_TCK)

PIDS=()
stop_nodes() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  PIDS=()
}
trap stop_nodes EXIT

ask() { # port, command: the reply up to END (a stats call), bounded
  timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1; printf '%s\r\n' '$2' >&3; while read -r line <&3; do
    line=\${line%\$'\r'}; echo \"\$line\"; [[ \$line == END || \$line == ERROR ]] && break; done" 2>/dev/null
}
cluster_sets() { # the cmd_set of the three nodes together
  local i total=0 sets
  for i in 1 2 3; do
    sets=$(ask $((BASE_PORT + i)) stats | awk '$2 == "cmd_set" {print $3}')
    total=$((total + ${sets:-0}))
  done
  echo "$total"
}
ticks() { # pids: "<JIT compiler threads' ticks> <all threads' ticks>" so far, one pass over /proc
  local pid files=()
  for pid in "$@"; do files+=(/proc/"$pid"/task/*/stat); done
  # comm, in parentheses, may hold spaces: the fields after it are counted from the last ')'.
  awk '{ close_at = 0; for (i = length($0); i > 0; i--) if (substr($0, i, 1) == ")") { close_at = i; break }
         comm = substr($0, index($0, "(") + 1, close_at - index($0, "(") - 1)
         split(substr($0, close_at + 2), f, " "); t = f[12] + f[13]; all += t
         if (comm ~ /^C[12] CompilerThre/) jit += t }
       END { printf "%d %d\n", jit, all }' "${files[@]}" 2>/dev/null
}

start_cluster() { # repeat number: three fresh nodes, their pids in PIDS once a set is STORED
  local i dir=$OUT_DIR/cluster.$1 peers=
  for i in 1 2 3; do peers+="${peers:+,}$i@127.0.0.1:$((BASE_PORT + 100 + i))"; done
  for i in 1 2 3; do
    mkdir -p "$dir"
    (cd "$ROOT" && JAVA_OPTS="-Xmx$RAFTCACHED_HEAP -XX:ActiveProcessorCount=$JVM_CPUS $RAFTCACHED_JAVA_EXTRA" \
      exec bin/raftcached -p $((BASE_PORT + i)) -m 1024 -t 2 -U 0 -l 127.0.0.1 --node-id "$i" \
      --raft "127.0.0.1:$((BASE_PORT + 100 + i))" --peers "$peers" --data-dir "$dir/node-$i") >"$dir/node-$i.log" 2>&1 &
    PIDS+=($!)
  done
  local attempt reply
  for attempt in $(seq 1 300); do
    reply=$(timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$((BASE_PORT + 1)); printf 'set first-load 0 0 1\r\nx\r\n' >&3
      head -c 6 <&3" 2>/dev/null) || true
    [[ $reply == STORED ]] && return 0
    for i in "${PIDS[@]}"; do kill -0 "$i" 2>/dev/null || fail "a node exited at start; see $dir"; done
    sleep 0.2
  done
  fail "no leader took a set within 60 s; see $dir"
}

printf 'repeat\tfirst 10 s sets/s\tlast 10 s sets/s\tfirst / last\tJIT core-seconds\n' >"$OUT_DIR/summary.tsv"
for ((repeat = 1; repeat <= REPEATS; repeat++)); do
  log "repeat $repeat: a fresh cluster on ports $((BASE_PORT + 1))-$((BASE_PORT + 3))"
  start_cluster "$repeat"
  servers="127.0.0.1:$((BASE_PORT + 1)),127.0.0.1:$((BASE_PORT + 2)),127.0.0.1:$((BASE_PORT + 3))"
  timeout $((DURATION + 120)) java -Xms256m -Xmx256m "-XX:ActiveProcessorCount=$JVM_CPUS" -jar "$BENCH_JAR" \
    --protocol memcached --servers "$servers" --threads 2 --connections "$CONNECTIONS" --pipeline 1 --ratio 0:1 \
    --value-size 100 --key-space 100000 --seed "$repeat" --warmup 0 --duration "$DURATION" --json \
    >"$OUT_DIR/generator.$repeat.json" 2>"$OUT_DIR/generator.$repeat.err" &
  generator=$!
  timeline=$OUT_DIR/timeline.$repeat.tsv
  printf 'second\tsets/s\tJIT cores\tnode cores\n' >"$timeline"
  read -r jit_before all_before <<<"$(ticks "${PIDS[@]}")"
  sets_before=$(cluster_sets)
  before_nanos=$(date +%s%N)
  start_nanos=$before_nanos
  # One row a second, on the clock (a sample takes a few hundred ms here), while the generator runs.
  for ((second = 1; second <= DURATION; second++)); do
    sleep "$(awk -v t="$((start_nanos + second * 1000000000))" -v n="$(date +%s%N)" 'BEGIN {s = (t - n) / 1e9; print (s > 0 ? s : 0)}')"
    kill -0 "$generator" 2>/dev/null || break
    read -r jit all <<<"$(ticks "${PIDS[@]}")"
    sets=$(cluster_sets)
    now_nanos=$(date +%s%N)
    awk -v s="$second" -v d="$(((now_nanos - before_nanos) / 1000))" -v n=$((sets - sets_before)) \
      -v j=$((jit - jit_before)) -v a=$((all - all_before)) -v hz="$CLOCK_TICKS" \
      'BEGIN {printf "%d\t%.0f\t%.2f\t%.2f\n", s, n / (d / 1e6), j / hz / (d / 1e6), a / hz / (d / 1e6)}' >>"$timeline"
    jit_before=$jit all_before=$all sets_before=$sets before_nanos=$now_nanos
  done
  wait "$generator" || fail "the generator failed: $(tail -n 3 "$OUT_DIR/generator.$repeat.err")"
  stop_nodes
  column -t -s $'\t' "$timeline"
  awk -F'\t' -v r="$repeat" 'NR > 1 {n = NR - 1; sets[n] = $2; jit += $3}
    END {for (i = 1; i <= 10; i++) {f += sets[i]; l += sets[n - 10 + i]}
         printf "%d\t%.0f\t%.0f\t%.2f\t%.1f\n", r, f / 10, l / 10, (l > 0 ? f / l : 0), jit}' "$timeline" >>"$OUT_DIR/summary.tsv"
done
echo
column -t -s $'\t' "$OUT_DIR/summary.tsv"
echo "raw: $OUT_DIR"
