#!/usr/bin/env bash
# How much does taking a snapshot of a full store hurt writes? Starts one raftcached node with
# -m $MEMORY_MB, fills it past its memory limit, then runs the same set load twice: once
# undisturbed, once with `raftcached cluster snapshot` fired a second into the measured window.
# Prints both runs' set latencies side by side and the node's own account of the snapshot (how
# long apply paused to begin it, how long the copy-on-write dump took, how many pages apply copied).
#
# Usage: bench/snapshot-stall.sh            (MEMORY_MB=1024 DURATION=10 VALUE_SIZE=1000 RAFTCACHED_JAR=... ...)
# Everything on 127.0.0.1; the node is stopped by pid on exit. Needs node/target/raftcached.jar;
# builds the generator's bench/target/raftcached-bench.jar if it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MEMORY_MB=${MEMORY_MB:-1024}
VALUE_SIZE=${VALUE_SIZE:-1000}
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-50}
PIPELINE=${PIPELINE:-1}
PORT=${PORT:-22411}
RAFT_PORT=${RAFT_PORT:-23411}
METRICS_PORT=${METRICS_PORT:-24411}
HEAP=${HEAP:-512m}
KEYS=$(( MEMORY_MB * 1024 * 1024 / (VALUE_SIZE + 80) * 11 / 10 ))   # enough to fill past -m
WORK=$(mktemp -d /tmp/raftcached-snapshot-stall.XXXXXX)
[[ -f $ROOT/bench/target/raftcached-bench.jar ]] || (cd "$ROOT" && mvn -q -DskipTests -pl bench package)
cp "${RAFTCACHED_JAR:-$ROOT/node/target/raftcached.jar}" "$WORK/raftcached.jar"   # others may rebuild target/ meanwhile
cp "$ROOT/bench/target/raftcached-bench.jar" "$WORK/raftcached-bench.jar"
JAR="$WORK/raftcached.jar"
BENCH_JAR="$WORK/raftcached-bench.jar"

java -Xmx"$HEAP" -XX:ActiveProcessorCount=2 -jar "$JAR" -p "$PORT" -l 127.0.0.1 -m "$MEMORY_MB" -t 2 \
  --raft "127.0.0.1:$RAFT_PORT" --data-dir "$WORK/data" --snapshot-log-mb 1000000 --metrics-port "$METRICS_PORT" >"$WORK/node.log" 2>&1 &
NODE=$!
trap 'kill "$NODE" 2>/dev/null; wait "$NODE" 2>/dev/null || true; rm -rf "$WORK/data" "$WORK"/*.jar' EXIT   # keep the reports, not 1 GB of data
for _ in $(seq 1 300); do
  java -jar "$JAR" probe ready -p "$PORT" 2>/dev/null && break
  sleep 0.2
done

bench() {
  java -Xmx256m -XX:ActiveProcessorCount=2 -jar "$BENCH_JAR" \
    --servers "127.0.0.1:$PORT" --threads 2 --connections "$CONNECTIONS" \
    --value-size "$VALUE_SIZE" --key-space "$KEYS" "$@"
}
stat() { printf 'stats raft\r\nquit\r\n' | timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT; cat >&3; cat <&3" \
  | tr -d '\r' | awk -v k="$1" '$2 == k {print $3}'; }

echo "filling $KEYS keys of $VALUE_SIZE B into -m $MEMORY_MB..."
bench --ratio 0:1 --key-pattern sequential --requests "$KEYS" --duration 600 --warmup 0 --pipeline 16 >"$WORK/fill.txt"
echo "baseline: ${DURATION}s of sets"
metrics() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" >"$WORK/metrics-$1.txt" || true; }
metrics start
bench --ratio 0:1 --duration "$DURATION" --warmup 2 --pipeline "$PIPELINE" >"$WORK/baseline.txt"
metrics baseline
echo "with a snapshot begun 1 s into the measured window"
( sleep 3; java -jar "$JAR" cluster snapshot --node "127.0.0.1:$RAFT_PORT" >"$WORK/snapshot.txt" 2>&1 ) &
SNAPSHOT=$!
bench --ratio 0:1 --duration "$DURATION" --warmup 2 --pipeline "$PIPELINE" >"$WORK/during.txt" || true
metrics during
wait "$SNAPSHOT" || true   # not a bare wait: the node is a background job too

echo
echo "set latency (µs)           p50      p90      p99    p99.9      max"
printf '%-20s' "without snapshot"; grep -E '^ +set ' "$WORK/baseline.txt" | awk '{printf "%9s%9s%9s%9s%9s\n",$2,$3,$4,$5,$6}'
printf '%-20s' "during snapshot"; grep -E '^ +set ' "$WORK/during.txt" | awk '{printf "%9s%9s%9s%9s%9s\n",$2,$3,$4,$5,$6}'
grep -h "throughput" "$WORK/baseline.txt" "$WORK/during.txt" | sed 's/^/  /'
echo "snapshot: $(cat "$WORK/snapshot.txt" | tr '\n' ' ')"
echo "node: apply paused $(stat raft_last_snapshot_begin_us) µs to begin it; dump took $(stat raft_last_snapshot_dump_ms) ms"
grep -h "snapshot saved" "$WORK/node.log" | tail -1 | sed 's/^.*snapshot saved/  snapshot saved/' || true
# Where a stall came from: log appends (fsync included) and applied entries above a bucket bound, per window.
slow() {   # slow <histogram> <bucket bound> <from> <to>: observations above the bound between two scrapes
  awk -v h="$1" -v le="$2" '
    { sign = FILENAME == ARGV[1] ? -1 : 1 }
    $1 == h "_bucket{le=\"+Inf\"}" { n += sign * $2 } $1 == h "_bucket{le=\"" le "\"}" { n -= sign * $2 }
    END { print n }' "$WORK/metrics-$3.txt" "$WORK/metrics-$4.txt"
}
if [[ -s $WORK/metrics-during.txt ]]; then
  echo "log appends > 12.8 ms: $(slow raft_log_append_duration_seconds 0.0128 start baseline) without," \
    "$(slow raft_log_append_duration_seconds 0.0128 baseline during) during;" \
    "applied entries > 10.24 ms: $(slow raft_apply_duration_seconds 0.01024 start baseline) without," \
    "$(slow raft_apply_duration_seconds 0.01024 baseline during) during"
fi
echo "raw output in $WORK"
