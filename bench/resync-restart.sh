#!/usr/bin/env bash
# How long until a node holding a full store serves again? Starts a 3-node cluster on 127.0.0.1,
# fills it with ITEMS values of VALUE_SIZE bytes (about 1 GB by default), then times two recoveries:
#   resync:  node 3 is stopped, its data directory wiped, and started again: it rejoins as a learner
#            under a new incarnation, installs a snapshot and the log tail, and is promoted;
#   restart: node 2 is stopped (SIGTERM) and started again: it replays its snapshot and log.
# Each is timed from the start command until the node reports ready with the leader's item count,
# then a sequential get of every key on that node alone must hit 100 %.
#
# Usage: bench/resync-restart.sh       (ITEMS=1000000 VALUE_SIZE=1000 MEMORY_MB=1400 HEAP=512m)
# Everything on 127.0.0.1; the nodes are stopped by pid on exit and their data removed.
# Needs node/target/raftcached.jar and about 3.5 GB of memory and 4 GB of disk; builds the
# generator's bench/target/raftcached-bench.jar if it is missing.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ITEMS=${ITEMS:-1000000}
VALUE_SIZE=${VALUE_SIZE:-1000}
MEMORY_MB=${MEMORY_MB:-1400}
HEAP=${HEAP:-512m}
BASE_PORT=${BASE_PORT:-22511}
RAFT_BASE_PORT=${RAFT_BASE_PORT:-23511}
READY_TIMEOUT_S=${READY_TIMEOUT_S:-600}
WORK=$(mktemp -d /tmp/raftcached-resync.XXXXXX)
[[ -f $ROOT/bench/target/raftcached-bench.jar ]] || (cd "$ROOT" && mvn -q -DskipTests -pl bench package)
cp "$ROOT/node/target/raftcached.jar" "$WORK/raftcached.jar"   # others may rebuild target/ meanwhile
cp "$ROOT/bench/target/raftcached-bench.jar" "$WORK/raftcached-bench.jar"
JAR="$WORK/raftcached.jar"
BENCH_JAR="$WORK/raftcached-bench.jar"
PEERS="1@127.0.0.1:$RAFT_BASE_PORT,2@127.0.0.1:$((RAFT_BASE_PORT + 1)),3@127.0.0.1:$((RAFT_BASE_PORT + 2))"
declare -A PIDS=()

port() { echo $((BASE_PORT + $1 - 1)); }
start_node() { # id
  java -Xmx"$HEAP" -XX:ActiveProcessorCount=2 -jar "$JAR" -p "$(port "$1")" -l 127.0.0.1 -m "$MEMORY_MB" -t 2 \
    --node-id "$1" --raft "127.0.0.1:$((RAFT_BASE_PORT + $1 - 1))" --peers "$PEERS" \
    --data-dir "$WORK/data$1" >>"$WORK/node$1.log" 2>&1 &
  PIDS[$1]=$!
}
stop_node() { # id: SIGTERM, bounded wait
  kill "${PIDS[$1]}" 2>/dev/null || true
  for _ in $(seq 1 600); do kill -0 "${PIDS[$1]}" 2>/dev/null || break; sleep 0.1; done
  wait "${PIDS[$1]}" 2>/dev/null || true
}
cleanup() {
  for id in "${!PIDS[@]}"; do kill -9 "${PIDS[$id]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
stat() { # id section name: one stats value, empty if unreachable
  printf 'stats%s\r\nquit\r\n' "${2:+ $2}" | timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$(port "$1"); cat >&3; cat <&3" \
    2>/dev/null | tr -d '\r' | awk -v n="$3" '$1 == "STAT" && $2 == n {print $3}'
}
leader_items() {
  local id
  for id in 1 2 3; do
    [[ $(stat "$id" raft raft_role) == leader ]] && { stat "$id" "" curr_items; return; }
  done
}
await_caught_up() { # id: seconds (with ms) from now until ready and holding the leader's item count
  local t0 deadline
  t0=$(date +%s%N)
  deadline=$((SECONDS + READY_TIMEOUT_S))
  while ((SECONDS < deadline)); do
    if [[ $(stat "$1" raft raft_ready) == 1 && -n $(leader_items) && $(stat "$1" "" curr_items) == "$(leader_items)" ]]; then
      awk -v a="$t0" -v b="$(date +%s%N)" 'BEGIN {printf "%.1f", (b - a) / 1e9}'
      return 0
    fi
    sleep 0.2
  done
  echo "node $1 not caught up within $READY_TIMEOUT_S s" >&2
  return 1
}
bench() {
  java -Xmx256m -XX:ActiveProcessorCount=2 -jar "$BENCH_JAR" --threads 2 \
    --value-size "$VALUE_SIZE" --key-space "$ITEMS" "$@"
}
every_key_hits() { # id: a sequential get of every key on that node alone; prints the hit ratio
  bench --servers "127.0.0.1:$(port "$1")" --connections 8 --pipeline 64 --ratio 1:0 --key-pattern sequential \
    --requests "$ITEMS" --duration 300 --warmup 0 --json | sed -n 's/.*"hitRatio":\([0-9.]*\).*/\1/p'
}

for id in 1 2 3; do start_node "$id"; done
for id in 1 2 3; do await_caught_up "$id" >/dev/null; done
echo "filling: $ITEMS items of $VALUE_SIZE B through all three nodes"
bench --servers "127.0.0.1:$(port 1),127.0.0.1:$(port 2),127.0.0.1:$(port 3)" --connections 48 --prefill \
  --prefill-timeout 900 --ratio 1:0 --duration 1 --warmup 0 >/dev/null
for id in 1 2 3; do await_caught_up "$id" >/dev/null; done
echo "store: $(stat 1 "" curr_items) items, $(( $(stat 1 "" bytes) / 1048576 )) MB of item bytes per node"

stop_node 3
rm -rf "$WORK/data3"
start_node 3
resync_s=$(await_caught_up 3)
echo "resync of the wiped node 3: serving every item after $resync_s s (snapshots installed:" \
  "$(stat 3 raft raft_snapshots_installed)); hit ratio on node 3 alone: $(every_key_hits 3)"

stop_node 2
start_node 2
restart_s=$(await_caught_up 2)
echo "restart of node 2: serving every item after $restart_s s; hit ratio on node 2 alone: $(every_key_hits 2)"
