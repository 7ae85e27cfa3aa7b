#!/usr/bin/env bash
# What Raft groups cost on one machine (docs/scale-out.md, "What groups cost on one machine"): for each
# number of groups in GROUP_COUNTS and each connection count in CONNECTIONS, NODES nodes started with
# --groups G take sets at pipeline 1 through bench/compare-memcached.sh (CPU µs, wake-ups and fsyncs
# per write, summed over the processes; median of its repeats); then, per G, the cores an idle
# cluster of G groups uses and its threads (10 s measured IDLE_SETTLE seconds after start).
#
# Usage: bench/groups-scaling.sh [--out DIR]
# Settings (environment):
#   GROUP_COUNTS="1 4 16" CONNECTIONS="64 256" (empty: idle clusters only) DURATION=8 WARMUP=1 REPEATS=3
#   NODES=3                   3, or 6 (each group then on three of them; G times 3 must reach 6)
#   RAFTCACHED_HEAP=512m
#   IDLE_SETTLE=20            seconds between an idle cluster's start and its measurement
#   IDLE_PORT_BASE=31210      the idle clusters' client ports +1..NODES; Raft ports +5790, metrics +11890
# Output: one line per run on stdout (the table.md row of each run, then the idle lines); OUT_DIR keeps
# every run's compare-memcached output directory (g<G>-c<N>/) and the idle clusters' logs (idle-g<G>/).
# About 6 minutes per run on 2 cores (the JIT settles first) and 40 s per idle cluster.
# Exit status: 0 done, 1 a run failed, 2 bad setup.
set -euo pipefail

SCRIPT_NAME=groups-scaling.sh
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=bench/script-lib.sh
source "$ROOT/bench/script-lib.sh"
OUT_DIR=
parse_out_flag "$@"
GROUP_COUNTS=${GROUP_COUNTS:-"1 4 16"}
CONNECTIONS=${CONNECTIONS-"64 256"}
DURATION=${DURATION:-8}
WARMUP=${WARMUP:-1}
REPEATS=${REPEATS:-3}
RAFTCACHED_HEAP=${RAFTCACHED_HEAP:-512m}
IDLE_SETTLE=${IDLE_SETTLE:-20}
IDLE_PORT_BASE=${IDLE_PORT_BASE:-31210}
NODES=${NODES:-3}
[[ $NODES == 3 || $NODES == 6 ]] || die "NODES is 3 or 6, got $NODES"
for g in $GROUP_COUNTS; do [[ $g =~ ^[0-9]+$ && $g -ge 1 && $g -le 64 ]] || die "GROUP_COUNTS holds 1 to 64, got $g"; done
for c in $CONNECTIONS; do [[ $c =~ ^[0-9]+$ && $c -ge 3 && $c -le 4096 ]] || die "CONNECTIONS holds 3 to 4096, got $c"; done
[[ $IDLE_SETTLE =~ ^[0-9]+$ && $IDLE_SETTLE -le 600 ]] || die "IDLE_SETTLE must be 0 to 600 seconds"
[[ -f $ROOT/node/target/raftcached.jar ]] || die "build first: mvn -q -DskipTests package"
OUT_DIR=${OUT_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/groups-scaling.XXXXXX")}
mkdir -p "$OUT_DIR"
CLOCK_TICKS=$(getconf CLK_TCK)

for g in $GROUP_COUNTS; do
  for c in $CONNECTIONS; do
    run="g$g-c$c"
    log "$run: $g groups on $NODES nodes, set-p1 from $c connections"
    OUT_DIR=$OUT_DIR/$run DURATION=$DURATION WARMUP=$WARMUP REPEATS=$REPEATS DISTURBED_RETRIES=1 FIRST_SECONDS=0 TARGETS= \
      PLAN="set-p1-c$c:raftcached-$NODES" RAFTCACHED_HEAP=$RAFTCACHED_HEAP \
      RAFTCACHED_CMD="bin/raftcached -p {port} -m 1024 -t 2 -U 0 {listen} --node-id {node-id} --raft 127.0.0.1:{raft-port} --peers {peers} --data-dir {data-dir} --groups $g" \
      "$ROOT/bench/compare-memcached.sh" >"$OUT_DIR/$run.out" 2>&1 || fail "$run failed; see $OUT_DIR/$run.out"
    echo "groups $g: $(grep -m1 "^| set-p1-c$c | raftcached-$NODES | [0-9!]*/\{0,1\}[0-9]* | [0-9]" "$OUT_DIR/$run/table.md")"
  done
done

# Idle cost: the three nodes' CPU ticks over 10 s, through deploy/local-cluster.sh (its pid files name the nodes).
for g in $GROUP_COUNTS; do
  cluster=$OUT_DIR/idle-g$g
  export RAFTCACHED_CLUSTER_DIR=$cluster RAFTCACHED_CLIENT_PORT_BASE=$IDLE_PORT_BASE \
    RAFTCACHED_RAFT_PORT_BASE=$((IDLE_PORT_BASE + 5790)) RAFTCACHED_METRICS_PORT_BASE=$((IDLE_PORT_BASE + 11890))
  if ! "$ROOT/deploy/local-cluster.sh" start --nodes "$NODES" --groups "$g" >"$OUT_DIR/idle-g$g.out" 2>&1; then
    "$ROOT/deploy/local-cluster.sh" stop >>"$OUT_DIR/idle-g$g.out" 2>&1 || true   # the nodes that did start
    fail "idle cluster of $g groups did not start"
  fi
  sleep "$IDLE_SETTLE"
  pids=$(cat "$cluster"/node-*.pid)
  ticks() { local total=0 p; for p in $pids; do read -r -a stat <"/proc/$p/stat"; total=$((total + stat[13] + stat[14])); done; echo $total; }
  before=$(ticks); sleep 10; after=$(ticks)
  threads=0; for p in $pids; do threads=$((threads + $(ps -o nlwp= -p "$p"))); done
  "$ROOT/deploy/local-cluster.sh" stop >>"$OUT_DIR/idle-g$g.out" 2>&1
  echo "groups $g idle: $(awk -v t=$((after - before)) -v hz="$CLOCK_TICKS" 'BEGIN { printf "%.2f", t / hz / 10 }') cores," \
    "$threads threads ($NODES nodes)"
done
log "done; runs in $OUT_DIR"
