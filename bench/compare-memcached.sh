#!/usr/bin/env bash
# Runs the same load profiles against Debian's memcached and against raftcached (one node, and a
# 3-node cluster if asked), plus a 3-member etcd cluster if asked, alternating between them, and
# prints medians side by side with the ratios to memcached and the issue's targets (pass/fail).
#
# Everything runs on this machine, on 127.0.0.1 only. Generator and servers share the CPUs, so the
# table also shows each side's CPU time per op: a result where the generator ate the cores is
# visible as such instead of passing for a server limit. bench/load-benchmark.sh runs the full
# matrix (all four servers); this script's default is memcached against one raftcached node.
#
# Usage: bench/compare-memcached.sh [--duration S] [--warmup S] [--repeats N] [--profiles "a b"] [--plan "..."] [--out DIR]
#        bench/compare-memcached.sh --report DIR   (only print the table again from DIR/runs.tsv)
# Settings (environment; flags above override the matching ones):
#   DURATION=10 WARMUP=2 REPEATS=3          measured seconds, warm-up seconds, runs per profile and server
#   PROFILES="get-p1 get-p16 set-p1 set-p16 mix-p1"   also available: mix-p16; any profile may end in
#                                          -c<N> for N connections instead of CONNECTIONS (e.g. set-p1-c64)
#                                          and start with tls- to run over TLS (e.g. tls-get-p1);
#                                          tls-handshake: every get on a new TLS connection (a full
#                                          handshake each, --reconnect-interval 1), THREADS connections
#   PLAN="profile:server,server ..."       which servers run which profile; default: every PROFILES
#                                          entry on memcached,raftcached. Servers: memcached,
#                                          raftcached (one node: a one-member Raft group), raftcached-3
#                                          (3 nodes; connections spread over them), raftcached-6 (6
#                                          nodes, for --groups in RAFTCACHED_CMD), etcd-3 (3 members,
#                                          driven with --protocol=etcd-http; skipped if etcd is missing)
#   THREADS=2 CONNECTIONS=50 VALUE_SIZE=100 KEY_SPACE=100000 SEED=1
#   MEMCACHED_PORT=22122 RAFTCACHED_PORT=22123 RAFTCACHED3_PORT=22124 ETCD_PORT=22127 RAFTCACHED6_PORT=22130
#                                          client ports; a cluster uses this one and the next ones. Raft
#                                          and etcd peer ports are client port + PEER_PORT_OFFSET (1000).
#                                          All must be free; checked before anything starts
#   MEMCACHED_BIN=memcached ETCD_BIN=etcd ETCDCTL_BIN=etcdctl ETCD_EXTRA=   (extra etcd flags)
#   RAFTCACHED_CMD='bin/raftcached -p {port} -m 1024 -t 2 -U 0 {listen} --node-id {node-id}
#                   --raft 127.0.0.1:{raft-port} --peers {peers} --data-dir {data-dir}'
#       how to start each raftcached node, relative to the repository root; the placeholders are
#       replaced ({peers} is the node itself for the one-node server, fsync on unless the command says
#       --no-fsync; {listen} is -l 127.0.0.1, or with tls- profiles the same TLS flags memcached gets,
#       see TLS_PORT_OFFSET); data dirs are under OUT_DIR. It runs with JAVA_OPTS="-Xmx$RAFTCACHED_HEAP
#       -XX:ActiveProcessorCount=$JVM_CPUS -Xlog:gc:file=OUT_DIR/gc.<node>.log:timemillis
#       $RAFTCACHED_JAVA_EXTRA", which the launcher is expected to pass to java. Sanity check: point it
#       at memcached itself, RAFTCACHED_CMD='memcached -t 2 -m 1024 -U 0 {listen} -p {port}' gives
#       ratios near 1.0.
#   TLS_PORT_OFFSET=100                    with tls- profiles in the plan: certificates from
#                                          deploy/tls/make-test-certs.sh go to OUT_DIR/tls; memcached and
#                                          raftcached ({listen}) get -Z -o ssl_chain_cert=server.crt,ssl_key=
#                                          server.key -l notls:127.0.0.1:<port> -l 127.0.0.1:<port + offset>,
#                                          so the TLS profiles use port + offset and the rest (readiness
#                                          checks, prefill, plain profiles) stay plaintext
#   RAFTCACHED_HEAP=2g BENCH_HEAP=256m JVM_CPUS=2   heap and visible CPUs of every JVM started here
#   BENCH_JAR=bench/target/raftcached-bench.jar   the generator; built if missing (mvn -q -DskipTests -pl bench package)
#   SERVER_CPUS= BENCH_CPUS=               optional taskset CPU lists (e.g. 0 and 1) to pin the sides apart
#   READY_TIMEOUT=60                       seconds to wait for each server to answer (and elect a leader)
#   OTHER_CORES_MAX=0.15 DISTURBED_RETRIES=2 RETRY_PAUSE=5   a run during which other processes used
#                                          more CPU than this is repeated after a pause, at most this many
#                                          times (then kept, and flagged in the table)
#   TARGETS="profile:server:metric:op:limit:baseline ..."   the ratios checked at the end (metric: ops,
#                                          p50, p99 or p999; op: >= or <=); default: the issue's targets
#   FSYNC_COUNT=1                          count fsync/fdatasync/sync_file_range calls (0: don't)
#   FIRST_SECONDS=10                       the first load a server gets after it starts (before the prefill):
#                                          this many seconds of its first set or mix profile (else its first
#                                          profile), reported against that profile's steady median, with the
#                                          cores the server's JIT compilers used meanwhile (0: skip)
#   SETTLE_SLICE=5 SETTLE_JIT_CORES=0.05 SETTLE_ROUNDS_MAX=20   after the prefill, each server runs rounds of
#                                          its profiles, SETTLE_SLICE s each, unmeasured, until its JIT
#                                          compiler threads used less than SETTLE_JIT_CORES over a round (at
#                                          most SETTLE_ROUNDS_MAX rounds): a JVM compiles for a minute or more
#                                          after it starts, and on 2 cores that cost half the CPU of a fresh
#                                          3-node cluster; memcached has no compiler and settles in one round
#   OUT_DIR=$(mktemp -d)                   keeps every run's JSON report, runs.tsv, table.md, logs, data
#
# At the end, latency-histograms.png (with gnuplot, Debian's gnuplot-nox) draws each profile's latency
# distribution per server from the first repeat's reports: the share of requests in doubling latency
# buckets, raftcached against memcached (data in hist.<profile>.<server>.tsv, script latency-histograms.gp).
#
# Per run, besides the generator's report: elections = Raft term increase over the whole bench
# invocation (warm-up included; max term over the members before and after), GC pauses = the
# raftcached JVMs' GC log lines "Pause ..." stamped inside the measured window (longest and sum, over
# all members of the server), fsyncs = fsync + fdatasync calls by the server processes inside the
# measured window, counted in the kernel by perf's syscall tracepoints (perf stat -p, attached for the
# bench invocation only, in 100 ms intervals, matched to the window's wall-clock edges the generator
# reports: +-1 interval, about 1% of a 10 s window; no ptrace stops, so the servers are not slowed),
# RSS = VmRSS summed over the server's processes, after the run; wake-ups = voluntary context switches of
# every thread of the server processes in the window (the generator's --server-pid; JSON wakeupsPerOpByThread
# splits them by thread pool), the measure of thread hand-offs per op that works for every server.
# Exit status: 0 all runs succeeded, 1 a run or a server failed, 2 bad setup (checked before starting).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
REPEATS=${REPEATS:-3}
PROFILES=${PROFILES:-"get-p1 get-p16 set-p1 set-p16 mix-p1"}
PLAN=${PLAN:-}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
VALUE_SIZE=${VALUE_SIZE:-100}
KEY_SPACE=${KEY_SPACE:-100000}
SEED=${SEED:-1}
MEMCACHED_PORT=${MEMCACHED_PORT:-22122}
RAFTCACHED_PORT=${RAFTCACHED_PORT:-22123}
RAFTCACHED3_PORT=${RAFTCACHED3_PORT:-22124}
ETCD_PORT=${ETCD_PORT:-22127}
RAFTCACHED6_PORT=${RAFTCACHED6_PORT:-22130}
PEER_PORT_OFFSET=${PEER_PORT_OFFSET:-1000}
TLS_PORT_OFFSET=${TLS_PORT_OFFSET:-100}
MEMCACHED_BIN=${MEMCACHED_BIN:-memcached}
ETCD_BIN=${ETCD_BIN:-etcd}
ETCDCTL_BIN=${ETCDCTL_BIN:-etcdctl}
ETCD_EXTRA=${ETCD_EXTRA:-}
RAFTCACHED_CMD=${RAFTCACHED_CMD:-"bin/raftcached -p {port} -m 1024 -t 2 -U 0 {listen} --node-id {node-id} --raft 127.0.0.1:{raft-port} --peers {peers} --data-dir {data-dir}"}
RAFTCACHED_HEAP=${RAFTCACHED_HEAP:-2g}
RAFTCACHED_JAVA_EXTRA=${RAFTCACHED_JAVA_EXTRA:-}
BENCH_HEAP=${BENCH_HEAP:-256m}
JVM_CPUS=${JVM_CPUS:-2}
BENCH_JAR=${BENCH_JAR:-$ROOT/bench/target/raftcached-bench.jar}
SERVER_CPUS=${SERVER_CPUS:-}
BENCH_CPUS=${BENCH_CPUS:-}
READY_TIMEOUT=${READY_TIMEOUT:-60}
OTHER_CORES_MAX=${OTHER_CORES_MAX:-0.15}
DISTURBED_RETRIES=${DISTURBED_RETRIES:-2}
RETRY_PAUSE=${RETRY_PAUSE:-5}
TARGETS=${TARGETS:-"get-p1:raftcached:ops:>=:0.9:memcached get-p1:raftcached:p99:<=:1.5:memcached
  get-p16:raftcached:ops:>=:0.9:memcached get-p16:raftcached:p99:<=:1.5:memcached
  set-p1:raftcached:ops:>=:0.5:memcached
  set-p1-c64:raftcached-3:ops:>=:10:etcd-3 set-p1-c64:raftcached-3:ops:>=:0.3:memcached
  mix-p1:raftcached-3:ops:>=:0.5:memcached"}
FSYNC_COUNT=${FSYNC_COUNT:-1}
FIRST_SECONDS=${FIRST_SECONDS:-10}
SETTLE_SLICE=${SETTLE_SLICE:-5}
SETTLE_JIT_CORES=${SETTLE_JIT_CORES:-0.05}
SETTLE_ROUNDS_MAX=${SETTLE_ROUNDS_MAX:-20}
OUT_DIR=${OUT_DIR:-}
TLS_DIR= # OUT_DIR/tls once OUT_DIR is known
REPORT_ONLY=

die() { echo "compare-memcached: $*" >&2; exit 2; }
fail() { echo "compare-memcached: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

while [[ $# -gt 0 ]]; do
  case $1 in
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --repeats) REPEATS=$2; shift 2 ;;
    --profiles) PROFILES=$2; shift 2 ;;
    --plan) PLAN=$2; shift 2 ;;
    --out) OUT_DIR=$2; shift 2 ;;
    --report) REPORT_ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done
[[ -n $PLAN ]] || for p in $PROFILES; do PLAN+="$p:memcached,raftcached "; done

# runs.tsv columns (1-based), also read by --report
C_OPS=4 C_P50=5 C_P99=6 C_P999=7 C_HIT=8 C_ERRORS=9 C_SRV=10 C_GEN=11 C_GEN_CORES=12 C_RSS=13 C_OTHER=14
C_ELECTIONS=16 C_FSYNCS=17 C_FSYNC_PER_OP=18 C_GC_MAX=20 C_GC_TOTAL=21 C_SNAPSHOTS=22 C_WAKE=23 C_WAKE_LEADER=24 C_WAKE_FOLLOWER=25
TSV_HEADER='profile\tserver\trepeat\topsPerSec\tp50\tp99\tp999\thitRatio\terrors\tserverCpuMicrosPerOp'
TSV_HEADER+='\tgeneratorCpuMicrosPerOp\tgeneratorCores\trssKB\totherCores\tattempts\telections\tfsyncs\tfsyncsPerOp'
TSV_HEADER+='\tsyncFileRanges\tgcPauseMaxMs\tgcPauseTotalMs\tsnapshots\twakeupsPerOp\twakeupsPerOpLeader\twakeupsPerOpFollower\n'

short_name() {
  case $1 in memcached) echo mc ;; raftcached) echo rc ;; raftcached-3) echo rc3 ;; raftcached-6) echo rc6 ;; etcd-3) echo etcd3 ;; *) echo "$1" ;; esac
}

# --- table -------------------------------------------------------------------------------------
# The runs a median uses: a profile/server's undisturbed runs (other processes <= OTHER_CORES_MAX),
# or all of them if none was undisturbed. Every statistic below reads only those rows.
used_runs() { # column profile server: that column of the used runs, one per line, "-" and empty cells left out
  awk -F'\t' -v c="$1" -v p="$2" -v s="$3" -v m="$OTHER_CORES_MAX" -v o="$C_OTHER" '
    NR > 1 && $1 == p && $2 == s {n++; keep = ($o == "-" || $o + 0 <= m); clean += keep; row[n] = $c; ok[n] = keep}
    END {for (i = 1; i <= n; i++) if ((!clean || ok[i]) && row[i] != "-" && row[i] != "") print row[i]}' "$TSV"
}
clean_count() { # profile server: how many kept runs had other processes under OTHER_CORES_MAX
  awk -F'\t' -v p="$1" -v s="$2" -v m="$OTHER_CORES_MAX" -v o="$C_OTHER" \
    'NR > 1 && $1 == p && $2 == s && ($o == "-" || $o + 0 <= m) {n++} END {print n + 0}' "$TSV"
}
median() { # column profile server: median over the used runs, "-" if no numbers
  used_runs "$@" | sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
                                                  else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
max_of() { # column profile server: largest value over the used runs
  used_runs "$@" | awk '{v = $1 + 0; if (NR == 1 || v > best) best = v} END {print NR ? best : "-"}'
}
column_sum() { # column profile server: sum over all kept runs (errors, elections: none may hide in a disturbed run)
  awk -F'\t' -v c="$1" -v p="$2" -v s="$3" \
    'NR > 1 && $1 == p && $2 == s && $c != "-" && $c != "" {t += $c; n++} END {print n ? t : "-"}' "$TSV"
}
spread() { # (max - min) / mid of ops/s over the used runs, in percent: how noisy they were
  used_runs "$C_OPS" "$1" "$2" | awk '{v = $1 + 0; if (NR == 1 || v < lo) lo = v; if (NR == 1 || v > hi) hi = v}
    END {if (NR < 2) print "-"; else printf "%.0f%%", 100 * (hi - lo) / ((hi + lo) / 2)}'
}
fmt() { # printf-format value [scale]: leaves "-" alone
  if [[ $2 == "-" ]]; then echo "-"; else awk -v f="$1" -v v="$2" -v k="${3:-1}" 'BEGIN {printf f, v * k}'; fi
}
align() { # tab-separated rows -> left-aligned columns (keeps empty cells, unlike some column(1) builds)
  awk -F'\t' '{for (i = 1; i <= NF; i++) {cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i)}
    if (NF > nf) nf = NF; rows = NR}
    END {for (r = 1; r <= rows; r++) {line = ""; for (i = 1; i <= nf; i++) line = line sprintf("%-*s  ", w[i], cell[r, i]);
      sub(/ +$/, "", line); print line}}'
}
markdown() { # tab-separated rows, the first a header -> a Markdown table
  awk -F'\t' '{line = "|"; for (i = 1; i <= NF; i++) {c = $i; gsub(/\|/, "\\|", c); line = line " " c " |"}; print line
    if (NR == 1) {line = "|"; for (i = 1; i <= NF; i++) line = line " --- |"; print line}}'
}
product() { # a b: a * b rounded (fsyncs per second from ops/s and fsyncs per op), "-" if either is missing
  if [[ $1 == "-" || $2 == "-" ]]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN {printf "%.0f", a * b}'; fi
}
inverse() { # value: 1 / value to one decimal (ops per fsync from fsyncs per op), "-" for none or zero
  if [[ $1 == "-" ]]; then echo "-"; else awk -v v="$1" 'BEGIN {if (v == 0) print "-"; else printf "%.1f", 1 / v}'; fi
}
ratio() {
  if [[ $1 == "-" || $2 == "-" ]]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "-"; else printf "%.2f", a / b}'; fi
}
pairs() { # the profile<TAB>server pairs of runs.tsv, in order of first appearance
  awk -F'\t' 'NR > 1 && !seen[$1 "\t" $2]++ {print $1 "\t" $2}' "$TSV"
}
servers_of() { # profile: its servers in runs.tsv, memcached first
  pairs | awk -F'\t' -v p="$1" '$1 == p {if ($2 == "memcached") first = $2; else rest = rest $2 "\n"}
    END {if (first != "") print first; printf "%s", rest}'
}

results_rows() { # the main table as tab-separated rows, header first
  printf 'profile\tserver\tclean\tops/s\tspread\tp50\tp99\tp99.9\thit%%\terrors\tsrvCPU/op\twake/op\tgenCPU/op\tgenCores'
  printf '\tRSS MB\tGC max ms\tGC total ms\tfsyncs/s\tfsync/op\tops/fsync\telections\tother\n'
  local profile name
  for profile in $(pairs | cut -f1 | awk '!seen[$0]++'); do
    declare -A m=()
    for name in $(servers_of "$profile"); do
      local runs clean
      runs=$(awk -F'\t' -v p="$profile" -v s="$name" 'NR > 1 && $1 == p && $2 == s {n++} END {print n + 0}' "$TSV")
      clean=$(clean_count "$profile" "$name")
      for metric in ops:$C_OPS p50:$C_P50 p99:$C_P99 p999:$C_P999 srv:$C_SRV rss:$C_RSS wake:$C_WAKE fsync:$C_FSYNC_PER_OP; do
        m[$name.${metric%%:*}]=$(median "${metric#*:}" "$profile" "$name")
      done
      # "!" marks medians taken over disturbed runs only: no undisturbed run was available.
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$profile" "$name" \
        "$clean/$runs$( ((clean > 0 || runs == 0)) || echo '!')" "$(fmt %.0f "${m[$name.ops]}")" \
        "$(spread "$profile" "$name")" "$(fmt %.0f "${m[$name.p50]}")" "$(fmt %.0f "${m[$name.p99]}")" \
        "$(fmt %.0f "${m[$name.p999]}")" "$(fmt %.2f "$(median "$C_HIT" "$profile" "$name")" 100)" \
        "$(column_sum "$C_ERRORS" "$profile" "$name")" "$(fmt %.2f "${m[$name.srv]}")" "$(fmt %.2f "${m[$name.wake]}")" \
        "$(fmt %.2f "$(median "$C_GEN" "$profile" "$name")")" "$(fmt %.2f "$(median "$C_GEN_CORES" "$profile" "$name")")" \
        "$(fmt %.0f "${m[$name.rss]}" 0.0009765625)" "$(fmt %.1f "$(max_of "$C_GC_MAX" "$profile" "$name")")" \
        "$(fmt %.1f "$(median "$C_GC_TOTAL" "$profile" "$name")")" "$(product "${m[$name.ops]}" "${m[$name.fsync]}")" \
        "$(fmt %.3f "${m[$name.fsync]}")" "$(inverse "${m[$name.fsync]}")" "$(column_sum "$C_ELECTIONS" "$profile" "$name")" \
        "$(fmt %.2f "$(max_of "$C_OTHER" "$profile" "$name")")"
    done
    if [[ -n ${m[memcached.ops]:-} ]]; then
      for name in $(servers_of "$profile"); do
        [[ $name != memcached ]] || continue
        printf '%s\t%s\t\t%s\t\t%s\t%s\t%s\t\t\t%s\t%s\t\t\t%s\t\t\t\t\t\t\t\n' "$profile" "$(short_name "$name")/mc" \
          "$(ratio "${m[$name.ops]}" "${m[memcached.ops]}")" "$(ratio "${m[$name.p50]}" "${m[memcached.p50]}")" \
          "$(ratio "${m[$name.p99]}" "${m[memcached.p99]}")" "$(ratio "${m[$name.p999]}" "${m[memcached.p999]}")" \
          "$(ratio "${m[$name.srv]}" "${m[memcached.srv]}")" "$(ratio "${m[$name.wake]}" "${m[memcached.wake]}")" \
          "$(ratio "${m[$name.rss]}" "${m[memcached.rss]}")"
      done
    fi
    unset m
  done
}

role_rows() { # cluster rows: median wake-ups per op on the leader and on a follower, header first; nothing if none
  local profile server leader follower rows=""
  while IFS=$'\t' read -r profile server; do
    leader=$(median "$C_WAKE_LEADER" "$profile" "$server")
    [[ $leader != "-" ]] || continue
    follower=$(median "$C_WAKE_FOLLOWER" "$profile" "$server")
    rows+=$(printf '%s\t%s\t%s\t%s\t%s' "$profile" "$server" "$(fmt %.2f "$(median "$C_WAKE" "$profile" "$server")")" \
      "$(fmt %.2f "$leader")" "$(fmt %.2f "$follower")")$'\n'
  done < <(pairs)
  [[ -z $rows ]] || printf 'profile\tserver\twake/op, all nodes\ton the leader\ton a follower\n%s' "$rows"
}

first_rows() { # the first-load runs of first.tsv beside their profile's steady median, header first; nothing if none
  local first_tsv
  first_tsv=$(dirname "$TSV")/first.tsv
  [[ -s $first_tsv ]] || return 0
  printf 'server\tprofile\tfirst s\tfirst ops/s\tJIT cores\tsteady ops/s\tfirst / steady\n'
  local server profile seconds ops jit_cores steady
  while IFS=$'\t' read -r server profile seconds ops jit_cores; do
    steady=$(median "$C_OPS" "$profile" "$server")
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$profile" "$seconds" "$(fmt %.0f "$ops")" "$jit_cores" \
      "$(fmt %.0f "$steady")" "$(ratio "$ops" "$steady")"
  done <"$first_tsv"
}

target_rows() { # the TARGETS that have both rows in runs.tsv, as tab-separated rows, header first
  printf 'target\tprofile\tmeasured\tneed\tresult\n'
  local target profile server metric op limit base column value baseline measured verdict note
  for target in $TARGETS; do
    IFS=: read -r profile server metric op limit base <<<"$target"
    case $metric in ops) column=$C_OPS ;; p50) column=$C_P50 ;; p99) column=$C_P99 ;; p999) column=$C_P999 ;; *) continue ;; esac
    value=$(median "$column" "$profile" "$server")
    baseline=$(median "$column" "$profile" "$base")
    measured=$(ratio "$value" "$baseline")
    if [[ $measured == "-" ]]; then
      verdict="not run"
    elif awk -v v="$measured" -v l="$limit" -v o="$op" 'BEGIN {exit !(o == ">=" ? v >= l : v <= l)}'; then
      verdict=pass
    else
      verdict=FAIL
    fi
    note=""
    for name in "$server" "$base"; do
      if (($(clean_count "$profile" "$name") == 0)) && [[ $verdict != "not run" ]]; then note=" (disturbed runs only)"; fi
    done
    printf '%s %s / %s %s\t%s\t%s\t%s %s\t%s%s\n' "$(short_name "$server")" "$metric" "$(short_name "$base")" "$metric" \
      "$profile" "$measured" "$op" "$limit" "$verdict" "$note"
  done
}

plot_histograms() { # one panel per profile: each server's share of requests per doubling latency bucket
  local gp=$OUT_DIR/latency-histograms.gp profile name json data plots
  {
    echo "set terminal pngcairo size 1000,$((320 * ${#PLAN_PROFILES[@]})) font ',9' noenhanced"
    echo "set output '$OUT_DIR/latency-histograms.png'"
    echo "set datafile separator '\t'"
    echo "set multiplot layout ${#PLAN_PROFILES[@]},1"
    echo "set logscale x 2; set grid; set key top right; set yrange [0:*]"
    echo "set xlabel 'latency (microseconds, bucket upper bound)'; set ylabel 'share of requests'"
  } >"$gp"
  for profile in "${PLAN_PROFILES[@]}"; do
    plots=()
    for name in ${PLAN_SERVERS[$profile]}; do
      json=$OUT_DIR/$profile.$name.1.json
      [[ -s $json ]] || continue
      data=$OUT_DIR/hist.$profile.$name.tsv
      jq -r '.latencyMicros.all as $a | ($a.count) as $n | $a.histogram[] | [.[0], .[1] / $n] | @tsv' "$json" >"$data"
      plots+=("'$data' using 1:2 with fsteps lw 2 title '$name'")  # fsteps: each bucket spans (previous bound, its bound]
    done
    ((${#plots[@]} > 0)) || continue
    echo "set title '$profile: latency distribution (first repeat)'"
    (IFS=,; echo "plot ${plots[*]}")
  done >>"$gp"
  echo "unset multiplot" >>"$gp"
  if command -v gnuplot >/dev/null 2>&1; then
    if gnuplot "$gp" 2>"$OUT_DIR/latency-histograms.log"; then
      echo "latency histograms: $OUT_DIR/latency-histograms.png"
    else
      echo "note: gnuplot failed on $gp (see $OUT_DIR/latency-histograms.log)"
    fi
  else
    echo "note: latency histograms not drawn: gnuplot is not installed (apt-get install gnuplot-nox); script: $gp"
  fi
}

print_table() {
  local header
  header=$(
    echo "servers on $(nproc) CPUs ($(uname -r)); $("$MEMCACHED_BIN" -V 2>/dev/null || true)$(
      if command -v "$ETCD_BIN" >/dev/null; then echo "; etcd $("$ETCD_BIN" --version 2>/dev/null | awk 'NR == 1 {print $3}')"; fi)"
    echo "bench: $THREADS threads, $CONNECTIONS connections (-c<N> profiles: N), $VALUE_SIZE B values, $KEY_SPACE keys, ${DURATION} s measured after ${WARMUP} s warm-up, median of $REPEATS"
    [[ -n $REPORT_ONLY ]] || echo "raftcached: $RAFTCACHED_CMD"
    if [[ -n $SERVER_CPUS$BENCH_CPUS ]]; then echo "pinned: servers on CPUs ${SERVER_CPUS:-any}, bench on CPUs ${BENCH_CPUS:-any}"; fi
    echo "latencies in µs; CPU in µs per op over the measured window; genCores = CPUs the generator used;"
    echo "medians over the repeats during which other processes used <= $OTHER_CORES_MAX cores (clean = how many; '!' = none, all used)"
    echo "spread = (max-min)/mid of ops/s over those repeats; other = most CPUs other processes used during one of them"
    echo "cluster rows (raftcached-3, raftcached-6, etcd-3): RSS and CPU summed over the processes; GC = longest pause / median total"
    echo "pause time in the window (raftcached JVMs); fsyncs/s, fsync/op, ops/fsync: fsync+fdatasync calls in the window;"
    echo "wake/op = the server threads' voluntary context switches (each a sleep and a wake-up: hand-offs, I/O waits) per op;"
    echo "elections = Raft term increases during the runs (sum over all runs; 0 expected); errors summed over all runs"
  )
  local results targets
  results=$(results_rows)
  targets=$(target_rows)
  echo
  echo "$header"
  echo
  align <<<"$results"
  echo
  echo "targets (ratio of medians):"
  align <<<"$targets"
  local first roles
  roles=$(role_rows)
  if [[ -n $roles ]]; then
    echo
    echo "thread wake-ups (hand-offs and I/O waits) per op, by the node's role during the run (median):"
    align <<<"$roles"
  fi
  first=$(first_rows)
  if [[ -n $first ]]; then
    echo
    echo "first load after start (before the prefill and the JIT warm-up) against the steady median:"
    align <<<"$first"
  fi
  {
    sed 's/$/  /' <<<"$header"
    echo
    markdown <<<"$results"
    echo
    markdown <<<"$targets"
    if [[ -n $roles ]]; then echo; markdown <<<"$roles"; fi
    if [[ -n $first ]]; then echo; markdown <<<"$first"; fi
  } >"$(dirname "$TSV")/table.md"
}

if [[ -n $REPORT_ONLY ]]; then
  TSV=$REPORT_ONLY/runs.tsv
  [[ -f $TSV ]] || die "$TSV not found"
  print_table
  exit 0
fi

# --- checks before anything starts -------------------------------------------------------------
[[ $REPEATS =~ ^[1-9][0-9]?$ ]] || die "REPEATS must be 1..99"
[[ $DURATION =~ ^[0-9]+([.][0-9]+)?$ ]] || die "DURATION must be seconds"
[[ $WARMUP =~ ^[0-9]+([.][0-9]+)?$ ]] || die "WARMUP must be seconds"
[[ $FIRST_SECONDS =~ ^[0-9]+$ ]] || die "FIRST_SECONDS must be whole seconds (0: skip)"
[[ $SETTLE_SLICE =~ ^[1-9][0-9]*$ && $SETTLE_ROUNDS_MAX =~ ^[1-9][0-9]*$ ]] || die "SETTLE_SLICE and SETTLE_ROUNDS_MAX must be positive"
[[ $SETTLE_JIT_CORES =~ ^[0-9]+([.][0-9]+)?$ ]] || die "SETTLE_JIT_CORES must be a number of cores"
[[ $READY_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "READY_TIMEOUT must be whole seconds"
[[ $OTHER_CORES_MAX =~ ^[0-9]+([.][0-9]+)?$ ]] || die "OTHER_CORES_MAX must be a number of cores"
[[ $DISTURBED_RETRIES =~ ^[0-9]$ ]] || die "DISTURBED_RETRIES must be 0..9"
[[ $RETRY_PAUSE =~ ^[0-9]{1,3}$ ]] || die "RETRY_PAUSE must be 0..999 seconds"
[[ $PEER_PORT_OFFSET =~ ^[1-9][0-9]*$ ]] || die "PEER_PORT_OFFSET must be a positive number"
for tool in java jq ss getconf timeout; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
command -v "$MEMCACHED_BIN" >/dev/null || die "memcached not found ($MEMCACHED_BIN); apt-get install memcached"
if [[ -n $SERVER_CPUS$BENCH_CPUS ]]; then command -v taskset >/dev/null || die "taskset not found"; fi
if [[ ! -f $BENCH_JAR && $BENCH_JAR == "$ROOT/bench/target/raftcached-bench.jar" ]]; then
  log "building $BENCH_JAR (mvn -q -DskipTests -pl bench package)"
  (cd "$ROOT" && mvn -q -DskipTests -pl bench package >&2) || die "building $BENCH_JAR failed"
fi
[[ -f $BENCH_JAR ]] || die "$BENCH_JAR missing"

profile_args() {
  local ratio pipeline base=${1#tls-} tls= reconnect=
  [[ $base == "$1" ]] || tls=" --tls --cacert $TLS_DIR/ca.crt"
  local connections=$CONNECTIONS
  case ${base%-c[0-9]*} in
    get-p1) ratio=1:0 pipeline=1 ;;
    get-p16) ratio=1:0 pipeline=16 ;;
    set-p1) ratio=0:1 pipeline=1 ;;
    set-p16) ratio=0:1 pipeline=16 ;;
    mix-p1) ratio=9:1 pipeline=1 ;;
    mix-p16) ratio=9:1 pipeline=16 ;;
    # Each worker thread blocks in its connect and handshake: more connections than threads add nothing.
    handshake) [[ -n $tls ]] || return 1; ratio=1:0 pipeline=1 connections=$THREADS reconnect=" --reconnect-interval 1" ;;
    *) return 1 ;;
  esac
  [[ $1 =~ -c([0-9]+)$ ]] && connections=${BASH_REMATCH[1]}
  echo "--ratio $ratio --pipeline $pipeline --connections $connections$reconnect$tls"
}

# The plan: PLAN_PROFILES in order, PLAN_SERVERS[profile] = its servers, SERVERS = all of them.
declare -A PLAN_SERVERS=()
PLAN_PROFILES=() SERVERS=()
etcd_missing= TLS=
for entry in $PLAN; do
  profile=${entry%%:*}
  [[ $profile != tls-* ]] || TLS=1
  [[ $entry == *:* && -n ${entry#*:} ]] || die "plan entry $entry: want profile:server[,server...]"
  profile_args "$profile" >/dev/null || die "unknown profile $profile"
  list=${entry#*:}
  for server in ${list//,/ }; do
    case $server in
      memcached | raftcached | raftcached-3 | raftcached-6) ;;
      etcd-3)
        if ! command -v "$ETCD_BIN" >/dev/null || ! command -v "$ETCDCTL_BIN" >/dev/null; then
          etcd_missing=1
          continue
        fi
        [[ $(profile_args "$profile") == *"--pipeline 1 "* ]] || die "etcd-3 is driven one request per connection: $profile"
        [[ $profile != tls-* ]] || die "etcd-3 is not run with TLS here: $profile"
        ;;
      *) die "unknown server $server in plan entry $entry" ;;
    esac
    [[ " ${PLAN_SERVERS[$profile]:-} " == *" $server "* ]] || PLAN_SERVERS[$profile]+="$server "
    [[ " ${SERVERS[*]} " == *" $server "* ]] || SERVERS+=("$server")
  done
  [[ -n ${PLAN_SERVERS[$profile]:-} ]] || continue
  [[ " ${PLAN_PROFILES[*]} " == *" $profile "* ]] || PLAN_PROFILES+=("$profile")
done
if [[ -n $etcd_missing ]]; then
  echo "compare-memcached: $ETCD_BIN or $ETCDCTL_BIN not found: skipping the etcd-3 rows" \
    "(Debian: apt-get install etcd-server etcd-client)" >&2
fi
((${#PLAN_PROFILES[@]} > 0)) || die "nothing to run"
if [[ -n $TLS ]]; then
  [[ $RAFTCACHED_CMD == *"{listen}"* ]] || [[ " ${SERVERS[*]} " != *" raftcached"* ]] ||
    die "tls- profiles need {listen} in RAFTCACHED_CMD (where the TLS flags go)"
  command -v openssl >/dev/null || die "tls- profiles need openssl (deploy/tls/make-test-certs.sh)"
fi

# Members: every server process, named <server> or <server>.<n>.
declare -A MEMBERS=() ENDPOINTS=() TLS_ENDPOINTS=() PROTO=() PORT=() TLS_PORT=() PEER_PORT=() KIND=()
for server in "${SERVERS[@]}"; do
  case $server in
    memcached) base=$MEMCACHED_PORT count=1 ;;
    raftcached) base=$RAFTCACHED_PORT count=1 ;;
    raftcached-3) base=$RAFTCACHED3_PORT count=3 ;;
    raftcached-6) base=$RAFTCACHED6_PORT count=6 ;;
    etcd-3) base=$ETCD_PORT count=3 ;;
  esac
  PROTO[$server]=memcached
  [[ $server != etcd-3 ]] || PROTO[$server]=etcd-http
  for ((n = 1; n <= count; n++)); do
    member=$server
    ((count == 1)) || member=$server.$n
    MEMBERS[$server]+="$member "
    KIND[$member]=${server%-[36]}
    PORT[$member]=$((base + n - 1))
    [[ $server == memcached ]] || PEER_PORT[$member]=$((base + n - 1 + PEER_PORT_OFFSET))
    ENDPOINTS[$server]+="${ENDPOINTS[$server]:+,}127.0.0.1:${PORT[$member]}"
    if [[ -n $TLS && $server != etcd-3 ]]; then
      TLS_PORT[$member]=$((base + n - 1 + TLS_PORT_OFFSET))
      TLS_ENDPOINTS[$server]+="${TLS_ENDPOINTS[$server]:+,}127.0.0.1:${TLS_PORT[$member]}"
    fi
  done
done

port_in_use() {
  [[ -n $(ss -Hltn "sport = :$1") ]] && return 0
  # A listener in another network namespace view would not show; a connect attempt catches it.
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
declare -A port_owner=()
for member in "${!PORT[@]}"; do
  for port in "${PORT[$member]}" "${PEER_PORT[$member]:-}" "${TLS_PORT[$member]:-}"; do
    [[ -n $port ]] || continue
    [[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port <= 65535)) || die "bad port $port ($member)"
    [[ -z ${port_owner[$port]:-} ]] || die "$member and ${port_owner[$port]} would both use port $port; set the *_PORT settings apart"
    port_owner[$port]=$member
    ! port_in_use "$port" || die "port $port ($member) is already in use on 127.0.0.1; set MEMCACHED_PORT/RAFTCACHED_PORT/RAFTCACHED3_PORT/RAFTCACHED6_PORT/ETCD_PORT"
  done
done

FSYNC_EVENTS=syscalls:sys_enter_fsync,syscalls:sys_enter_fdatasync,syscalls:sys_enter_sync_file_range
if [[ $FSYNC_COUNT == 1 ]] && ! { command -v perf >/dev/null && perf stat -x, -e "$FSYNC_EVENTS" -- true >/dev/null 2>&1; }; then
  echo "compare-memcached: perf with syscall tracepoints is not usable here (apt-get install linux-perf; needs" \
    "root or perf_event_paranoid <= -1 and tracefs): fsyncs are not counted" >&2
  FSYNC_COUNT=0
fi

if [[ -z $OUT_DIR ]]; then
  OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/raftcached-compare.XXXXXX")
else
  mkdir -p "$OUT_DIR"
fi
OUT_DIR=$(cd "$OUT_DIR" && pwd)
[[ $OUT_DIR != *:* ]] || die "OUT_DIR must not contain ':' (it goes into -Xlog:gc:file=...)"
CLOCK_TICKS=$(getconf CLK_TCK)
# Run the generator from a private copy: a rebuild or `mvn clean` elsewhere must not swap or remove it mid-run.
cp "$BENCH_JAR" "$OUT_DIR/bench.jar"
BENCH_JAR=$OUT_DIR/bench.jar
TLS_DIR=$OUT_DIR/tls
if [[ -n $TLS ]]; then
  "$ROOT/deploy/tls/make-test-certs.sh" "$TLS_DIR" >"$OUT_DIR/make-test-certs.log" 2>&1 ||
    { cat "$OUT_DIR/make-test-certs.log" >&2; die "deploy/tls/make-test-certs.sh $TLS_DIR failed"; }
fi

# --- server processes: each in its own process group, stopped by that group id on exit --------
declare -A GROUP=()    # member -> pid we started (= its process group id)
declare -A PID=()      # member -> pid of the process listening on the port (measured for CPU and RSS)

alive() { # pid: running (a zombie child we have not reaped yet counts as gone)
  [[ -r /proc/$1/stat ]] && [[ $(awk '{sub(/.*\) /, ""); print $1}' "/proc/$1/stat" 2>/dev/null) != Z ]]
}

stop_group() {
  local name=$1 group=${GROUP[$1]:-}
  [[ -n $group ]] || return 0
  unset "GROUP[$name]"
  if alive "$group"; then
    kill -TERM -- "-$group" 2>/dev/null || true
    for _ in $(seq 1 100); do # up to 10 s for a clean shutdown
      alive "$group" || break
      sleep 0.1
    done
    if alive "$group"; then
      log "$name (pid $group) ignored SIGTERM for 10 s; sending SIGKILL"
      kill -KILL -- "-$group" 2>/dev/null || true
    fi
  fi
  wait "$group" 2>/dev/null || true
}
cleanup() {
  local status=$?
  if [[ -n ${PERF_PID:-} ]]; then kill -INT "$PERF_PID" 2>/dev/null || true; fi
  for name in "${!GROUP[@]}"; do stop_group "$name"; done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pin() { # pin CPULIST command...: prefix with taskset when a CPU list is given
  local cpus=$1; shift
  if [[ -n $cpus ]]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

start_server() { # member command-line
  local name=$1 cmd=$2
  log "starting $name: $cmd"
  # Monitor mode only for this fork: the server gets its own process group (stopped as a whole by
  # its id on exit) but stays in this session. Not setsid: a new session is a new scheduler
  # autogroup, CPU is then shared between groups instead of threads, and on 2 CPUs that cost
  # memcached ~23% of its pipeline-1 throughput (p99 x3-6 when other load was present).
  # exec all the way down, so the pid we get is the server (or its launcher) itself.
  set -m
  (cd "$ROOT" && JAVA_OPTS="-Xmx$RAFTCACHED_HEAP -XX:ActiveProcessorCount=$JVM_CPUS -Xlog:gc:file=$OUT_DIR/gc.$name.log:timemillis $RAFTCACHED_JAVA_EXTRA" \
    exec bash -c "exec $(if [[ -n $SERVER_CPUS ]]; then echo "taskset -c $SERVER_CPUS "; fi)$cmd") \
    >"$OUT_DIR/$name.log" 2>&1 </dev/null &
  GROUP[$name]=$!
  set +m
}

ask() { # port command: one memcached text command, its reply lines without CR
  timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf '%s\r\nquit\r\n' '$2' >&3 && tr -d '\r' <&3" 2>/dev/null || true
}
answers_version() { [[ $(ask "$1" version) == VERSION* ]]; }
etcd_healthy() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 && grep -q '\"health\":\"true\"' <&3" \
    2>/dev/null
}

await_ready() { # member: bounded wait until it answers (etcd: until it has a leader), then find the listening pid
  local name=$1 port=${PORT[$1]} group=${GROUP[$1]} check=answers_version
  [[ ${KIND[$name]} != etcd ]] || check=etcd_healthy
  local deadline=$((SECONDS + READY_TIMEOUT))
  until $check "$port"; do
    if ! alive "$group"; then
      echo "--- $OUT_DIR/$name.log:" >&2; tail -n 20 "$OUT_DIR/$name.log" >&2 || true
      fail "$name exited before answering on port $port"
    fi
    ((SECONDS < deadline)) || fail "$name did not answer on port $port within $READY_TIMEOUT s"
    sleep 0.2
  done
  # The launcher may fork rather than exec; measure the process that owns the socket, if it is ours.
  local listener
  listener=$(ss -Hltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -n 1 | cut -d= -f2 || true)
  if [[ -n $listener ]] && [[ $(awk '{sub(/.*\) /, ""); print $3}' "/proc/$listener/stat") == "$group" ]]; then
    PID[$name]=$listener
  else
    PID[$name]=$group
  fi
  log "$name ready on 127.0.0.1:$port (pid ${PID[$name]}, process group $group)"
}

server_pids() { # server: its processes' pids, comma-separated
  local member pids=
  for member in ${MEMBERS[$1]}; do pids+="${pids:+,}${PID[$member]}"; done
  echo "$pids"
}
rss_kb() { # server: VmRSS summed over its processes
  local member total=0
  for member in ${MEMBERS[$1]}; do
    total=$((total + $(awk '/^VmRSS:/ {print $2}' "/proc/${PID[$member]}/status" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
raft_state() { # server: "<highest term> <snapshots saved>" over its members, "- -" where it has none
  local member
  case $1 in
    raftcached | raftcached-3 | raftcached-6)
      for member in ${MEMBERS[$1]}; do ask "${PORT[$member]}" "stats raft"; done |
        awk '$2 == "raft_term" {n++; if ($3 + 0 > t) t = $3 + 0} $2 == "raft_snapshots_saved" {s += $3}
             END {if (n) print t, s + 0; else print "- -"}' ;;
    etcd-3)
      timeout 10 "$ETCDCTL_BIN" --endpoints="${ENDPOINTS[$1]}" endpoint status -w json 2>/dev/null |
        jq -r '[.[].Status.raftTerm] | max // "-" | "\(.) -"' 2>/dev/null || echo "- -" ;;
    *) echo "- -" ;;
  esac
}
raft_leader_known() { # server: every raftcached member names the same leader (etcd: /health said so already);
  # with --groups, each member's groups have leaders and are ready (members hold different groups)
  [[ $1 == raftcached* ]] || return 0
  local member stats leaders=() raft=0
  for member in ${MEMBERS[$1]}; do
    stats=$(ask "${PORT[$member]}" "stats raft")
    [[ $stats != *"STAT raft_"* ]] || raft=1
    if [[ $stats == *"STAT raft_groups_total "* ]]; then
      [[ $stats == *"STAT raft_ready 1"* && $stats != *"leader=- "* ]] || return 1
      continue
    fi
    leaders+=("$(awk '$2 == "raft_leader" && $3 != "-" {print $3}' <<<"$stats")")
  done
  ((${#leaders[@]})) || return 0
  ((raft)) || return 0 # not Raft: the RAFTCACHED_CMD=memcached sanity check
  [[ -n ${leaders[0]} ]] && (($(printf '%s\n' "${leaders[@]}" | sort -u | wc -l) == 1))
}

listen_flags() { # member: where it listens; with TLS, memcached's TLS flags (raftcached spells them the same)
  if [[ -z ${TLS_PORT[$1]:-} ]]; then
    echo "-l 127.0.0.1"
  else
    echo "-Z -o ssl_chain_cert=$TLS_DIR/server.crt,ssl_key=$TLS_DIR/server.key -l notls:127.0.0.1:${PORT[$1]} -l 127.0.0.1:${TLS_PORT[$1]}"
  fi
}

member_cmd() { # member: its command line
  local member=$1 server=${1%.*} port=${PORT[$1]} cmd peers=
  case ${KIND[$member]} in
    memcached)
      cmd="$MEMCACHED_BIN -t 2 -m 1024 -U 0 $(listen_flags "$member") -p $port"
      # memcached refuses to run as root without -u; drop to nobody rather than run the cache as root.
      ((EUID != 0)) || cmd+=" -u nobody" ;;
    raftcached)
      local m n=0 id
      for m in ${MEMBERS[$server]}; do
        n=$((n + 1))
        peers+="${peers:+,}$n@127.0.0.1:${PEER_PORT[$m]}"
        [[ $m != "$member" ]] || id=$n
      done
      cmd=${RAFTCACHED_CMD//\{port\}/$port}
      cmd=${cmd//\{raft-port\}/${PEER_PORT[$member]}}
      cmd=${cmd//\{node-id\}/$id}
      cmd=${cmd//\{peers\}/$peers}
      cmd=${cmd//\{data-dir\}/$OUT_DIR/data/$member}
      cmd=${cmd//\{listen\}/$(listen_flags "$member")}
      read -r program _ <<<"$cmd"
      if [[ $(basename "$program") == memcached && $EUID == 0 && $cmd != *" -u "* ]]; then
        cmd+=" -u nobody" # the memcached-vs-itself sanity check, run as root
      fi ;;
    etcd)
      local m
      for m in ${MEMBERS[$server]}; do peers+="${peers:+,}${m//./-}=http://127.0.0.1:${PEER_PORT[$m]}"; done
      # Defaults otherwise (fsync on, 100 ms heartbeat, 1 s election timeout); zap logs to the member's log file.
      cmd="$ETCD_BIN --name ${member//./-} --data-dir $OUT_DIR/data/$member --listen-client-urls http://127.0.0.1:$port"
      cmd+=" --advertise-client-urls http://127.0.0.1:$port --listen-peer-urls http://127.0.0.1:${PEER_PORT[$member]}"
      cmd+=" --initial-advertise-peer-urls http://127.0.0.1:${PEER_PORT[$member]} --initial-cluster $peers"
      cmd+=" --initial-cluster-token raftcached-bench --initial-cluster-state new --logger zap --log-outputs stderr $ETCD_EXTRA" ;;
  esac
  echo "$cmd"
}

bench() { # server, then bench options; prints the JSON report to stdout
  local server=$1; shift
  local bound endpoints=${ENDPOINTS[$server]}
  [[ " $* " != *" --tls "* ]] || endpoints=${TLS_ENDPOINTS[$server]}
  bound=$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN {printf "%d", d + w + 180}')
  pin "$BENCH_CPUS" timeout "$bound" java "-Xms$BENCH_HEAP" "-Xmx$BENCH_HEAP" "-XX:ActiveProcessorCount=$JVM_CPUS" \
    -jar "$BENCH_JAR" --protocol "${PROTO[$server]}" \
    --servers "$endpoints" --threads "$THREADS" \
    --value-size "$VALUE_SIZE" --key-space "$KEY_SPACE" --seed "$SEED" --json "$@"
}

# fsync counting: perf attached to the server's processes for one bench invocation, 100 ms intervals.
PERF_PID=
fsync_count_start() { # server file
  [[ $FSYNC_COUNT == 1 ]] || return 0
  PERF_T0=$(date +%s%N)
  perf stat -x, -I 100 -e "$FSYNC_EVENTS" -p "$(server_pids "$1")" -o "$2" 2>/dev/null &
  PERF_PID=$!
}
fsync_count_stop() { # file json: "<fsync+fdatasync> <per op> <sync_file_range>" in the json's window
  [[ -n $PERF_PID ]] || { echo "- - -"; return 0; }
  kill -INT "$PERF_PID" 2>/dev/null || true
  wait "$PERF_PID" 2>/dev/null || true
  PERF_PID=
  [[ -s $2 ]] || { echo "- - -"; return 0; }
  # An interval counts if its middle is inside the window (the edges are off by at most one interval).
  awk -F, -v t0="$PERF_T0" -v ws="$(jq -r .windowStartEpochMicros "$2")" -v we="$(jq -r .windowEndEpochMicros "$2")" \
    -v ops="$(jq -r .ops "$2")" '
    $1 ~ /^ *[0-9.]+$/ && $2 ~ /^[0-9]+$/ {mid = t0 / 1000 + ($1 - 0.05) * 1e6
      if (mid >= ws && mid < we) {if ($4 ~ /sync_file_range/) sfr += $2; else fs += $2}}
    END {printf "%d %s %d\n", fs, (ops > 0 ? sprintf("%.4f", fs / ops) : "-"), sfr}' "$1"
}
wakeups_by_role() { # json server: "<leader's wake-ups/op> <a follower's, mean>", "- -" for a server without followers
  local member role leader=- followers=() per_op
  [[ $2 == raftcached-[36] ]] || { echo "- -"; return 0; }
  for member in ${MEMBERS[$2]}; do
    role=$(ask "${PORT[$member]}" "stats raft" | awk '$2 == "raft_role" {print $3}')
    per_op=$(jq -r --arg pid "${PID[$member]}" '.server.wakeupsPerOpByProcess[$pid] // "-"' "$1")
    if [[ $role == leader ]]; then leader=$per_op; else followers+=("$per_op"); fi
  done
  echo "$leader $(printf '%s\n' "${followers[@]}" | awk '$1 != "-" {t += $1; n++} END {if (n) printf "%.3f", t / n; else print "-"}')"
}
gc_pauses() { # json server: "<longest> <total>" GC pause ms stamped inside the window, "- -" if not a JVM we log
  local logs=() member
  for member in ${MEMBERS[$2]}; do
    if [[ -f $OUT_DIR/gc.$member.log ]]; then logs+=("$OUT_DIR/gc.$member.log"); fi
  done
  ((${#logs[@]} > 0)) || { echo "- -"; return 0; }
  # -Xlog:gc with the timemillis decoration: "[1700000000123ms] GC(7) Pause Young (Normal) ... 2.345ms"
  awk -v ws="$(jq -r .windowStartEpochMicros "$1")" -v we="$(jq -r .windowEndEpochMicros "$1")" '
    / Pause / && $NF ~ /ms$/ {t = substr($1, 2) + 0; if (t * 1000 < ws || t * 1000 >= we) next
      v = $NF; sub(/ms$/, "", v); v += 0; total += v; if (v > max) max = v}
    END {printf "%.3f %.3f\n", max, total}' "${logs[@]}"
}

# --- start everything ----------------------------------------------------------------------------
for server in "${SERVERS[@]}"; do
  for member in ${MEMBERS[$server]}; do start_server "$member" "$(member_cmd "$member")"; done
done
for server in "${SERVERS[@]}"; do
  for member in ${MEMBERS[$server]}; do await_ready "$member"; done
  deadline=$((SECONDS + READY_TIMEOUT))
  until raft_leader_known "$server"; do
    ((SECONDS < deadline)) || fail "$server has no leader all members agree on after $READY_TIMEOUT s"
    sleep 0.2
  done
done

profiles_of() { # server: the plan's profiles that run on it, in plan order
  local profile
  for profile in "${PLAN_PROFILES[@]}"; do
    [[ " ${PLAN_SERVERS[$profile]} " != *" $1 "* ]] || echo "$profile"
  done
}
jit_ticks() { # server: CPU ticks its JIT compiler threads used so far (0 for a server that is not a JVM)
  local pid task total=0 comm
  for pid in ${1//,/ }; do
    for task in /proc/"$pid"/task/*; do
      comm=$(cat "$task/comm" 2>/dev/null) || continue
      [[ $comm == C[12]\ CompilerThre* ]] || continue
      total=$((total + $(awk '{print $14 + $15}' "$task/stat" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}
jit_cores_since() { # server, jit_ticks before, seconds: the cores its JIT compilers used since then
  awk -v t="$(($(jit_ticks "$(server_pids "$1")") - $2))" -v hz="$CLOCK_TICKS" -v s="$3" 'BEGIN {printf "%.3f", t / hz / s}'
}

# The first load after start, while the JVMs still compile: the server's first set or mix profile.
FIRST_TSV=$OUT_DIR/first.tsv
: >"$FIRST_TSV"
if [[ $FIRST_SECONDS != 0 ]]; then
  for server in "${SERVERS[@]}"; do
    profile=$(profiles_of "$server" | grep -m 1 -E '(^|-)(set|mix)-' || profiles_of "$server" | head -n 1)
    log "first $FIRST_SECONDS s of load on $server ($profile), before the prefill"
    ticks_before=$(jit_ticks "$(server_pids "$server")")
    # shellcheck disable=SC2046 # profile_args is a fixed word list
    bench "$server" $(profile_args "$profile") --duration "$FIRST_SECONDS" --warmup 0 \
      --server-pid "$(server_pids "$server")" --clock-ticks "$CLOCK_TICKS" >"$OUT_DIR/first.$server.json" \
      2>"$OUT_DIR/first.$server.err" || { cat "$OUT_DIR/first.$server.err" >&2; fail "first load on $server failed"; }
    # The server's JIT compiler threads, in cores over the load: what a fresh JVM spends compiling.
    jit_cores=$(jit_cores_since "$server" "$ticks_before" "$FIRST_SECONDS")
    printf '%s\t%s\t%s\t%s\t%s\n' "$server" "$profile" "$FIRST_SECONDS" "$(jq -r .opsPerSec "$OUT_DIR/first.$server.json")" \
      "$jit_cores" >>"$FIRST_TSV"
  done
fi

# Every key once, so get profiles measure hits; set profiles only overwrite the same keys.
declare -A RSS_AFTER_PREFILL=()
for server in "${SERVERS[@]}"; do
  log "prefill $server: $KEY_SPACE keys of $VALUE_SIZE bytes"
  depth=16
  [[ ${PROTO[$server]} == memcached ]] || depth=1
  bench "$server" --key-pattern sequential --ratio 0:1 --requests "$KEY_SPACE" --pipeline "$depth" \
    --connections "$CONNECTIONS" --warmup 0 --duration 300 >"$OUT_DIR/prefill.$server.json" 2>"$OUT_DIR/prefill.$server.err" \
    || { cat "$OUT_DIR/prefill.$server.err" >&2; fail "prefill of $server failed"; }
  RSS_AFTER_PREFILL[$server]=$(rss_kb "$server")
done
if [[ -n ${MEMBERS[etcd-3]:-} ]]; then
  # Read back what the generator put into etcd: every key is there, with the bytes memcached got for it.
  read -r etcd_keys etcd_value <<<"$(timeout 10 "$ETCDCTL_BIN" --endpoints="${ENDPOINTS[etcd-3]}" get --prefix key: \
    --limit 1 -w json | jq -r '"\(.count) \(.kvs[0].value)"')"
  if [[ " ${SERVERS[*]} " == *" memcached "* ]]; then
    first_key=$(timeout 10 "$ETCDCTL_BIN" --endpoints="${ENDPOINTS[etcd-3]}" get --prefix key: --limit 1 --keys-only | head -n 1)
    memcached_value=$(ask "$MEMCACHED_PORT" "get $first_key" | sed -n 2p)
    [[ $(base64 -d <<<"$etcd_value") == "$memcached_value" ]] ||
      fail "etcd holds a different value for $first_key than memcached: the etcd-http driver is broken"
  fi
  [[ $etcd_keys == "$KEY_SPACE" ]] || fail "etcd holds $etcd_keys keys after the prefill, not $KEY_SPACE"
  log "etcd read back with $ETCDCTL_BIN: $etcd_keys keys, values as memcached stores them"
fi

# Warm each server until its JIT has settled, so the repeats measure steady state.
for server in "${SERVERS[@]}"; do
  mapfile -t server_profiles < <(profiles_of "$server")
  for ((round = 1; round <= SETTLE_ROUNDS_MAX; round++)); do
    ticks_before=$(jit_ticks "$(server_pids "$server")")
    for profile in "${server_profiles[@]}"; do
      # shellcheck disable=SC2046 # profile_args is a fixed word list
      bench "$server" $(profile_args "$profile") --duration "$SETTLE_SLICE" --warmup 0 >/dev/null \
        2>"$OUT_DIR/settle.$server.err" || { cat "$OUT_DIR/settle.$server.err" >&2; fail "warm-up of $server failed"; }
    done
    jit_cores=$(jit_cores_since "$server" "$ticks_before" "$(awk -v n="${#server_profiles[@]}" -v d="$SETTLE_SLICE" 'BEGIN {print n * d}')")
    log "warm-up $server round $round: its JIT compilers used $jit_cores cores"
    if awk -v c="$jit_cores" -v m="$SETTLE_JIT_CORES" 'BEGIN {exit !(c < m)}'; then break; fi
    ((round < SETTLE_ROUNDS_MAX)) || log "  $server still compiling after $SETTLE_ROUNDS_MAX rounds; measuring anyway"
  done
done

TSV=$OUT_DIR/runs.tsv
printf "$TSV_HEADER" >"$TSV"
failures=0
for ((repeat = 1; repeat <= REPEATS; repeat++)); do
  for profile in "${PLAN_PROFILES[@]}"; do
    # Alternate which server goes first, so drift (thermal, page cache, noisy neighbours) hits all alike.
    order=${PLAN_SERVERS[$profile]}
    if ((repeat % 2 == 0)); then order=$(tr ' ' '\n' <<<"$order" | tac | tr '\n' ' '); fi
    for name in $order; do
      json=$OUT_DIR/$profile.$name.$repeat.json
      for ((attempt = 1; attempt <= DISTURBED_RETRIES + 1; attempt++)); do
        log "repeat $repeat/$REPEATS  $profile  $name$( ((attempt == 1)) || echo "  (attempt $attempt)")"
        read -r term_before snapshots_before <<<"$(raft_state "$name")"
        fsync_count_start "$name" "$json.perf"
        # shellcheck disable=SC2046 # profile_args is a fixed word list
        if ! bench "$name" $(profile_args "$profile") --duration "$DURATION" --warmup "$WARMUP" \
          --server-pid "$(server_pids "$name")" --clock-ticks "$CLOCK_TICKS" >"$json" 2>"$json.err"; then
          fsync_count_stop "$json.perf" "$json" >/dev/null
          failures=$((failures + 1))
          echo "  run failed:" >&2; sed 's/^/  /' "$json.err" >&2
          break
        fi
        read -r fsyncs fsyncs_per_op sync_file_ranges <<<"$(fsync_count_stop "$json.perf" "$json")"
        read -r term_after snapshots_after <<<"$(raft_state "$name")"
        other=$(jq -r '.machine.otherProcessesCores // 0' "$json")
        if awk -v o="$other" -v m="$OTHER_CORES_MAX" 'BEGIN {exit !(o > m)}' && ((attempt <= DISTURBED_RETRIES)); then
          log "  other processes used $other cores during that run (> $OTHER_CORES_MAX); again in $RETRY_PAUSE s"
          mv "$json" "$json.disturbed$attempt"
          sleep "$RETRY_PAUSE"
          continue
        fi
        elections=-
        [[ $term_before == "-" || $term_after == "-" ]] || elections=$((term_after - term_before))
        snapshots=-
        [[ $snapshots_before == "-" || $snapshots_after == "-" ]] || snapshots=$((snapshots_after - snapshots_before))
        read -r gc_max gc_total <<<"$(gc_pauses "$json" "$name")"
        wake_roles=$(wakeups_by_role "$json" "$name")
        jq -r --arg p "$profile" --arg s "$name" --arg r "$repeat" --arg rss "$(rss_kb "$name")" --arg a "$attempt" \
          --arg el "$elections" --arg fs "$fsyncs" --arg fo "$fsyncs_per_op" --arg sfr "$sync_file_ranges" \
          --arg gm "$gc_max" --arg gt "$gc_total" --arg sn "$snapshots" \
          --arg wl "${wake_roles% *}" --arg wf "${wake_roles#* }" \
          '[$p, $s, $r, .opsPerSec, .latencyMicros.all.p50, .latencyMicros.all.p99, .latencyMicros.all.p999,
            (.hitRatio // "-"), (.errors + .errorsOutsideWindow), (.server.cpuMicrosPerOp // "-"),
            (.generator.cpuMicrosPerOp // "-"), (.generator.cpuCores // "-"), $rss,
            (.machine.otherProcessesCores // "-"), $a, $el, $fs, $fo, $sfr, $gm, $gt, $sn,
            (.server.wakeupsPerOp // "-"), $wl, $wf] | @tsv' "$json" >>"$TSV"
        jq -r '.warnings[] | "  warning: " + .' "$json" >&2
        if [[ -s $json.err ]]; then sed 's/^/  /' "$json.err" >&2; fi
        if [[ $elections != "-" ]] && ((elections > 0)); then log "  $name: Raft term went up by $elections during that run"; fi
        break
      done
      for member in ${MEMBERS[$name]}; do
        alive "${PID[$member]}" || fail "$member (pid ${PID[$member]}) died; see $OUT_DIR/$member.log"
      done
    done
  done
done

print_table
plot_histograms
echo
for server in "${SERVERS[@]}"; do
  members=$(wc -w <<<"${MEMBERS[$server]}")
  echo "$server: RSS $((RSS_AFTER_PREFILL[$server] / 1024)) MB after prefill, $(($(rss_kb "$server") / 1024)) MB at the end" \
    "($( ((members == 1)) || echo "sum of $members processes, ")pids $(server_pids "$server"))"
done
disturbed=$(awk -F'\t' -v m="$OTHER_CORES_MAX" -v o="$C_OTHER" 'NR > 1 && $o != "-" && $o + 0 > m {n++} END {print n + 0}' "$TSV")
if ((disturbed > 0)); then
  echo "note: $disturbed kept runs had other processes using more than $OTHER_CORES_MAX cores; medians skip them where a clean run exists"
fi
snapshot_runs=$(awk -F'\t' -v c="$C_SNAPSHOTS" 'NR > 1 && $c != "-" && $c + 0 > 0 {n++} END {print n + 0}' "$TSV")
if ((snapshot_runs > 0)); then echo "note: a Raft snapshot was taken during $snapshot_runs runs (runs.tsv column snapshots)"; fi
if [[ $FSYNC_COUNT != 1 ]]; then echo "note: fsyncs were not counted (FSYNC_COUNT=0 or perf unusable)"; fi
if [[ -n $etcd_missing ]]; then echo "note: etcd-3 rows skipped: $ETCD_BIN/$ETCDCTL_BIN not installed"; fi
echo "raw reports: $OUT_DIR (runs.tsv, table.md, <profile>.<server>.<repeat>.json, <member>.log, gc.<member>.log)"
if ((failures > 0)); then
  echo "compare-memcached: $failures bench runs failed (see above)" >&2
  exit 1
fi
