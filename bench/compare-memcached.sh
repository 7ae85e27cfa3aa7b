#!/usr/bin/env bash
# Runs the same memcached-protocol load profiles against Debian's memcached and against raftcached,
# alternating between them, and prints medians side by side with the ratio raftcached/memcached.
#
# Everything runs on this machine, on 127.0.0.1 only. Generator and servers share the CPUs, so the
# table also shows each side's CPU time per op: a result where the generator ate the cores is
# visible as such instead of passing for a server limit.
#
# Usage: bench/compare-memcached.sh [--duration S] [--warmup S] [--repeats N] [--profiles "a b"] [--out DIR]
#        bench/compare-memcached.sh --report DIR   (only print the table again from DIR/runs.tsv)
# Settings (environment; flags above override the matching ones):
#   DURATION=10 WARMUP=2 REPEATS=3          measured seconds, warm-up seconds, runs per profile and server
#   PROFILES="get-p1 get-p16 set-p1 set-p16 mix-p1"   also available: mix-p16
#   THREADS=2 CONNECTIONS=50 VALUE_SIZE=100 KEY_SPACE=100000 SEED=1
#   MEMCACHED_PORT=22122 RAFTCACHED_PORT=22123   must be free; checked before anything starts
#   MEMCACHED_BIN=memcached
#   RAFTCACHED_CMD='bin/raftcached -p {port} -m 1024 -t 2 -U 0 -l 127.0.0.1'
#       how to start raftcached, relative to the repository root; {port} is replaced. It runs with
#       JAVA_OPTS="-Xmx$RAFTCACHED_HEAP -XX:ActiveProcessorCount=$JVM_CPUS $RAFTCACHED_JAVA_EXTRA",
#       which the launcher is expected to pass to java. Sanity check: point it at memcached itself,
#       RAFTCACHED_CMD='memcached -t 2 -m 1024 -U 0 -l 127.0.0.1 -p {port}' gives ratios near 1.0.
#   RAFTCACHED_HEAP=2g BENCH_HEAP=256m JVM_CPUS=2   heap and visible CPUs of every JVM started here
#   BENCH_JAR=node/target/raftcached.jar   built by: mvn -q -DskipTests install
#   SERVER_CPUS= BENCH_CPUS=               optional taskset CPU lists (e.g. 0 and 1) to pin the sides apart
#   READY_TIMEOUT=60                       seconds to wait for each server to answer "version"
#   OTHER_CORES_MAX=0.15 DISTURBED_RETRIES=2 RETRY_PAUSE=5   a run during which other processes used
#                                          more CPU than this is repeated after a pause, at most this many
#                                          times (then kept, and flagged in the table)
#   OUT_DIR=$(mktemp -d)                   keeps every run's JSON report and the per-run table runs.tsv
# Exit status: 0 all runs succeeded, 1 a run or a server failed, 2 bad setup (checked before starting).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
REPEATS=${REPEATS:-3}
PROFILES=${PROFILES:-"get-p1 get-p16 set-p1 set-p16 mix-p1"}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-50}
VALUE_SIZE=${VALUE_SIZE:-100}
KEY_SPACE=${KEY_SPACE:-100000}
SEED=${SEED:-1}
MEMCACHED_PORT=${MEMCACHED_PORT:-22122}
RAFTCACHED_PORT=${RAFTCACHED_PORT:-22123}
MEMCACHED_BIN=${MEMCACHED_BIN:-memcached}
RAFTCACHED_CMD=${RAFTCACHED_CMD:-"bin/raftcached -p {port} -m 1024 -t 2 -U 0 -l 127.0.0.1"}
RAFTCACHED_HEAP=${RAFTCACHED_HEAP:-2g}
RAFTCACHED_JAVA_EXTRA=${RAFTCACHED_JAVA_EXTRA:-}
BENCH_HEAP=${BENCH_HEAP:-256m}
JVM_CPUS=${JVM_CPUS:-2}
BENCH_JAR=${BENCH_JAR:-$ROOT/node/target/raftcached.jar}
SERVER_CPUS=${SERVER_CPUS:-}
BENCH_CPUS=${BENCH_CPUS:-}
READY_TIMEOUT=${READY_TIMEOUT:-60}
OTHER_CORES_MAX=${OTHER_CORES_MAX:-0.15}
DISTURBED_RETRIES=${DISTURBED_RETRIES:-2}
RETRY_PAUSE=${RETRY_PAUSE:-5}
OUT_DIR=${OUT_DIR:-}
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
    --out) OUT_DIR=$2; shift 2 ;;
    --report) REPORT_ONLY=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

# --- table -------------------------------------------------------------------------------------
clean_count() { # profile server: how many kept runs had other processes under OTHER_CORES_MAX
  awk -F'\t' -v p="$1" -v s="$2" -v m="$OTHER_CORES_MAX" \
    'NR > 1 && $1 == p && $2 == s && ($14 == "-" || $14 + 0 <= m) {n++} END {print n + 0}' "$TSV"
}
median() { # column-number profile server: median over the undisturbed repeats (all, if none was), "-" if no numbers
  local only_clean=0
  (($(clean_count "$2" "$3") > 0)) && only_clean=1
  awk -F'\t' -v c="$1" -v p="$2" -v s="$3" -v m="$OTHER_CORES_MAX" -v clean="$only_clean" \
    'NR > 1 && $1 == p && $2 == s && $c != "-" && $c != "" && (!clean || $14 == "-" || $14 + 0 <= m) {print $c}' "$TSV" \
    | sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
                                        else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
max_of() { # column-number profile server: largest value over the runs the medians use
  local only_clean=0
  (($(clean_count "$2" "$3") > 0)) && only_clean=1
  awk -F'\t' -v c="$1" -v p="$2" -v s="$3" -v m="$OTHER_CORES_MAX" -v clean="$only_clean" \
    'NR > 1 && $1 == p && $2 == s && $c != "-" && $c != "" && (!clean || $14 == "-" || $14 + 0 <= m) {v = $c + 0;
    if (n == 0 || v > best) best = v; n++} END {print n ? best : "-"}' "$TSV"
}
column_sum() {
  awk -F'\t' -v c="$1" -v p="$2" -v s="$3" 'NR > 1 && $1 == p && $2 == s {t += $c; n++} END {print n ? t : "-"}' "$TSV"
}
spread() { # (max - min) / mid of ops/s over the runs the median used, in percent: how noisy they were
  local only_clean=0
  (($(clean_count "$1" "$2") > 0)) && only_clean=1
  awk -F'\t' -v p="$1" -v s="$2" -v m="$OTHER_CORES_MAX" -v clean="$only_clean" \
    'NR > 1 && $1 == p && $2 == s && (!clean || $14 == "-" || $14 + 0 <= m) {v = $4 + 0; if (n == 0 || v < lo) lo = v;
    if (n == 0 || v > hi) hi = v; n++} END {if (n < 2) print "-"; else printf "%.0f%%", 100 * (hi - lo) / ((hi + lo) / 2)}' "$TSV"
}
fmt() { # printf-format value: leaves "-" alone
  if [[ $2 == "-" ]]; then echo "-"; else awk -v f="$1" -v v="$2" 'BEGIN {printf f, v}'; fi
}
align() { # tab-separated rows -> left-aligned columns (keeps empty cells, unlike some column(1) builds)
  awk -F'\t' '{for (i = 1; i <= NF; i++) {cell[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i)}
    if (NF > nf) nf = NF; rows = NR}
    END {for (r = 1; r <= rows; r++) {line = ""; for (i = 1; i <= nf; i++) line = line sprintf("%-*s  ", w[i], cell[r, i]);
      sub(/ +$/, "", line); print line}}'
}
ratio() {
  if [[ $1 == "-" || $2 == "-" ]]; then echo "-"; else awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "-"; else printf "%.2f", a / b}'; fi
}

print_table() {
echo
echo "raftcached vs memcached on $(nproc) CPUs ($(uname -r)); $("$MEMCACHED_BIN" -V 2>/dev/null || true)"
echo "bench: $THREADS threads, $CONNECTIONS connections, $VALUE_SIZE B values, $KEY_SPACE keys, ${DURATION} s measured after ${WARMUP} s warm-up, median of $REPEATS"
[[ -n $REPORT_ONLY ]] || echo "raftcached: ${RAFTCACHED_CMD//\{port\}/$RAFTCACHED_PORT}"
[[ -n $SERVER_CPUS$BENCH_CPUS ]] && echo "pinned: servers on CPUs ${SERVER_CPUS:-any}, bench on CPUs ${BENCH_CPUS:-any}"
echo "latencies in µs; CPU in µs per op over the measured window; genCores = CPUs the generator used;"
echo "medians over the repeats during which other processes used <= $OTHER_CORES_MAX cores (clean = how many; '!' = none, all used)"
echo "spread = (max-min)/mid of ops/s over those repeats; other = most CPUs other processes used during one of them"
echo
{
  printf 'profile\tserver\tclean\tops/s\tspread\tp50\tp99\tp99.9\thit%%\terrors\tsrvCPU/op\tgenCPU/op\tgenCores\tRSS MB\tother\n'
  for profile in $PROFILES; do
    declare -A m=()
    for name in memcached raftcached; do
      ops=$(median 4 "$profile" "$name"); p50=$(median 5 "$profile" "$name"); p99=$(median 6 "$profile" "$name")
      p999=$(median 7 "$profile" "$name"); hit=$(median 8 "$profile" "$name"); srv=$(median 10 "$profile" "$name")
      gen=$(median 11 "$profile" "$name"); cores=$(median 12 "$profile" "$name"); rss=$(median 13 "$profile" "$name")
      other=$(max_of 14 "$profile" "$name")
      runs=$(awk -F'\t' -v p="$profile" -v s="$name" 'NR > 1 && $1 == p && $2 == s {n++} END {print n + 0}' "$TSV")
      clean=$(clean_count "$profile" "$name")
      # "!" marks medians taken over disturbed runs only: no undisturbed run was available.
      clean_label="$clean/$runs$( ((clean > 0 || runs == 0)) || echo '!')"
      m[$name.ops]=$ops m[$name.p50]=$p50 m[$name.p99]=$p99 m[$name.p999]=$p999 m[$name.srv]=$srv m[$name.rss]=$rss
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$profile" "$name" "$clean_label" "$(fmt %.0f "$ops")" \
        "$(spread "$profile" "$name")" "$(fmt %.0f "$p50")" "$(fmt %.0f "$p99")" "$(fmt %.0f "$p999")" \
        "$(fmt %.2f "$(if [[ $hit == "-" ]]; then echo -; else awk -v h="$hit" 'BEGIN {print 100 * h}'; fi)")" \
        "$(column_sum 9 "$profile" "$name")" "$(fmt %.2f "$srv")" "$(fmt %.2f "$gen")" "$(fmt %.2f "$cores")" \
        "$(fmt %.0f "$(if [[ $rss == "-" ]]; then echo -; else awk -v r="$rss" 'BEGIN {print r / 1024}'; fi)")" \
        "$(fmt %.2f "$other")"
    done
    printf '%s\t%s\t\t%s\t\t%s\t%s\t%s\t\t\t%s\t\t\t%s\n' "$profile" "rc/mc" \
      "$(ratio "${m[raftcached.ops]}" "${m[memcached.ops]}")" "$(ratio "${m[raftcached.p50]}" "${m[memcached.p50]}")" \
      "$(ratio "${m[raftcached.p99]}" "${m[memcached.p99]}")" "$(ratio "${m[raftcached.p999]}" "${m[memcached.p999]}")" \
      "$(ratio "${m[raftcached.srv]}" "${m[memcached.srv]}")" "$(ratio "${m[raftcached.rss]}" "${m[memcached.rss]}")"
    unset m
  done
} | align
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
[[ $READY_TIMEOUT =~ ^[1-9][0-9]*$ ]] || die "READY_TIMEOUT must be whole seconds"
[[ $OTHER_CORES_MAX =~ ^[0-9]+([.][0-9]+)?$ ]] || die "OTHER_CORES_MAX must be a number of cores"
[[ $DISTURBED_RETRIES =~ ^[0-9]$ ]] || die "DISTURBED_RETRIES must be 0..9"
[[ $RETRY_PAUSE =~ ^[0-9]{1,3}$ ]] || die "RETRY_PAUSE must be 0..999 seconds"
for tool in java jq ss getconf timeout; do
  command -v "$tool" >/dev/null || die "$tool not found"
done
command -v "$MEMCACHED_BIN" >/dev/null || die "memcached not found ($MEMCACHED_BIN); apt-get install memcached"
[[ -n $SERVER_CPUS$BENCH_CPUS ]] && { command -v taskset >/dev/null || die "taskset not found"; }
[[ -f $BENCH_JAR ]] || die "$BENCH_JAR missing; build it: (cd $ROOT && mvn -q -DskipTests install)"

profile_args() {
  case $1 in
    get-p1) echo "--ratio 1:0 --pipeline 1" ;;
    get-p16) echo "--ratio 1:0 --pipeline 16" ;;
    set-p1) echo "--ratio 0:1 --pipeline 1" ;;
    set-p16) echo "--ratio 0:1 --pipeline 16" ;;
    mix-p1) echo "--ratio 9:1 --pipeline 1" ;;
    mix-p16) echo "--ratio 9:1 --pipeline 16" ;;
    *) return 1 ;;
  esac
}
for p in $PROFILES; do profile_args "$p" >/dev/null || die "unknown profile $p"; done

port_in_use() {
  [[ -n $(ss -Hltn "sport = :$1") ]] && return 0
  # A listener in another network namespace view would not show; a connect attempt catches it.
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}
[[ $MEMCACHED_PORT != "$RAFTCACHED_PORT" ]] || die "MEMCACHED_PORT and RAFTCACHED_PORT must differ"
for port in "$MEMCACHED_PORT" "$RAFTCACHED_PORT"; do
  [[ $port =~ ^[0-9]+$ ]] && ((port >= 1024 && port <= 65535)) || die "bad port $port"
  ! port_in_use "$port" || die "port $port is already in use on 127.0.0.1; set MEMCACHED_PORT/RAFTCACHED_PORT"
done

if [[ -z $OUT_DIR ]]; then
  OUT_DIR=$(mktemp -d "${TMPDIR:-/tmp}/raftcached-compare.XXXXXX")
else
  mkdir -p "$OUT_DIR"
fi
CLOCK_TICKS=$(getconf CLK_TCK)
# Run the generator from a private copy: a rebuild or `mvn clean` elsewhere must not swap or remove it mid-run.
cp "$BENCH_JAR" "$OUT_DIR/bench.jar"
BENCH_JAR=$OUT_DIR/bench.jar

# --- server processes: each in its own process group, stopped by that group id on exit --------
declare -A GROUP=()    # name -> pid we started (= its process group id)
declare -A PID=()      # name -> pid of the process listening on the port (measured for CPU and RSS)
declare -A PORT=([memcached]=$MEMCACHED_PORT [raftcached]=$RAFTCACHED_PORT)

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
  for name in "${!GROUP[@]}"; do stop_group "$name"; done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pin() { # pin CPULIST command...: prefix with taskset when a CPU list is given
  local cpus=$1; shift
  if [[ -n $cpus ]]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

start_server() { # name command-line
  local name=$1 cmd=$2
  log "starting $name: $cmd"
  # Monitor mode only for this fork: the server gets its own process group (stopped as a whole by
  # its id on exit) but stays in this session. Not setsid: a new session is a new scheduler
  # autogroup, CPU is then shared between groups instead of threads, and on 2 CPUs that cost
  # memcached ~23% of its pipeline-1 throughput (p99 x3-6 when other load was present).
  # exec all the way down, so the pid we get is the server (or its launcher) itself.
  set -m
  (cd "$ROOT" && JAVA_OPTS="-Xmx$RAFTCACHED_HEAP -XX:ActiveProcessorCount=$JVM_CPUS $RAFTCACHED_JAVA_EXTRA" \
    exec bash -c "exec $(if [[ -n $SERVER_CPUS ]]; then echo "taskset -c $SERVER_CPUS "; fi)$cmd") \
    >"$OUT_DIR/$name.log" 2>&1 </dev/null &
  GROUP[$name]=$!
  set +m
}

answers_version() {
  timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1 && printf 'version\r\n' >&3 && IFS= read -r line <&3 && [[ \$line == VERSION* ]]" \
    2>/dev/null
}

await_ready() { # name: bounded wait for a VERSION reply, then find the listening pid
  local name=$1 port=${PORT[$1]} group=${GROUP[$1]}
  local deadline=$((SECONDS + READY_TIMEOUT))
  until answers_version "$port"; do
    if ! alive "$group"; then
      echo "--- $OUT_DIR/$name.log:" >&2; tail -n 20 "$OUT_DIR/$name.log" >&2 || true
      fail "$name exited before answering on port $port"
    fi
    ((SECONDS < deadline)) || fail "$name did not answer 'version' on port $port within $READY_TIMEOUT s"
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

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

bench() { # name, then bench options; prints the JSON report to stdout
  local name=$1; shift
  local bound
  bound=$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN {printf "%d", d + w + 180}')
  pin "$BENCH_CPUS" timeout "$bound" java "-Xms$BENCH_HEAP" "-Xmx$BENCH_HEAP" "-XX:ActiveProcessorCount=$JVM_CPUS" \
    -cp "$BENCH_JAR" io.raftcached.node.bench.BenchMain \
    --servers "127.0.0.1:${PORT[$name]}" --threads "$THREADS" --connections "$CONNECTIONS" \
    --value-size "$VALUE_SIZE" --key-space "$KEY_SPACE" --seed "$SEED" --json "$@"
}

memcached_cmd="$MEMCACHED_BIN -t 2 -m 1024 -U 0 -l 127.0.0.1 -p {port}"
# memcached refuses to run as root without -u; drop to nobody rather than run the cache as root.
((EUID != 0)) || memcached_cmd+=" -u nobody"
read -r raftcached_program _ <<<"$RAFTCACHED_CMD"
if [[ $(basename "$raftcached_program") == memcached && $EUID == 0 && $RAFTCACHED_CMD != *" -u "* ]]; then
  RAFTCACHED_CMD+=" -u nobody" # the memcached-vs-itself sanity check, run as root
fi
start_server memcached "${memcached_cmd//\{port\}/$MEMCACHED_PORT}"
start_server raftcached "${RAFTCACHED_CMD//\{port\}/$RAFTCACHED_PORT}"
await_ready memcached
await_ready raftcached

# Every key once, so get profiles measure hits; set profiles only overwrite the same keys.
for name in memcached raftcached; do
  log "prefill $name: $KEY_SPACE keys of $VALUE_SIZE bytes"
  bench "$name" --key-pattern sequential --ratio 0:1 --requests "$KEY_SPACE" --pipeline 16 \
    --warmup 0 --duration 300 >"$OUT_DIR/prefill.$name.json" 2>"$OUT_DIR/prefill.$name.err" \
    || { cat "$OUT_DIR/prefill.$name.err" >&2; fail "prefill of $name failed"; }
  declare "RSS_AFTER_PREFILL_$name=$(rss_kb "${PID[$name]}")"
done

TSV=$OUT_DIR/runs.tsv
printf 'profile\tserver\trepeat\topsPerSec\tp50\tp99\tp999\thitRatio\terrors\tserverCpuMicrosPerOp\tgeneratorCpuMicrosPerOp\tgeneratorCores\trssKB\totherCores\tattempts\n' >"$TSV"
failures=0
for ((repeat = 1; repeat <= REPEATS; repeat++)); do
  # Alternate which server goes first, so drift (thermal, page cache, noisy neighbours) hits both alike.
  if ((repeat % 2)); then order="memcached raftcached"; else order="raftcached memcached"; fi
  for profile in $PROFILES; do
    for name in $order; do
      json=$OUT_DIR/$profile.$name.$repeat.json
      for ((attempt = 1; attempt <= DISTURBED_RETRIES + 1; attempt++)); do
        log "repeat $repeat/$REPEATS  $profile  $name$( ((attempt == 1)) || echo "  (attempt $attempt)")"
        # shellcheck disable=SC2046 # profile_args is a fixed word list
        if ! bench "$name" $(profile_args "$profile") --duration "$DURATION" --warmup "$WARMUP" \
          --server-pid "${PID[$name]}" --clock-ticks "$CLOCK_TICKS" >"$json" 2>"$json.err"; then
          failures=$((failures + 1))
          echo "  run failed:" >&2; sed 's/^/  /' "$json.err" >&2
          break
        fi
        other=$(jq -r '.machine.otherProcessesCores // 0' "$json")
        if awk -v o="$other" -v m="$OTHER_CORES_MAX" 'BEGIN {exit !(o > m)}' && ((attempt <= DISTURBED_RETRIES)); then
          log "  other processes used $other cores during that run (> $OTHER_CORES_MAX); again in $RETRY_PAUSE s"
          mv "$json" "$json.disturbed$attempt"
          sleep "$RETRY_PAUSE"
          continue
        fi
        jq -r --arg p "$profile" --arg s "$name" --arg r "$repeat" --arg rss "$(rss_kb "${PID[$name]}")" \
          --arg a "$attempt" \
          '[$p, $s, $r, .opsPerSec, .latencyMicros.all.p50, .latencyMicros.all.p99, .latencyMicros.all.p999,
            (.hitRatio // "-"), (.errors + .errorsOutsideWindow), (.server.cpuMicrosPerOp // "-"),
            (.generator.cpuMicrosPerOp // "-"), (.generator.cpuCores // "-"), $rss,
            (.machine.otherProcessesCores // "-"), $a] | @tsv' "$json" >>"$TSV"
        jq -r '.warnings[] | "  warning: " + .' "$json" >&2
        if [[ -s $json.err ]]; then sed 's/^/  /' "$json.err" >&2; fi
        break
      done
      alive "${PID[$name]}" || fail "$name (pid ${PID[$name]}) died; see $OUT_DIR/$name.log"
    done
  done
done

print_table
echo
for name in memcached raftcached; do
  var=RSS_AFTER_PREFILL_$name
  echo "$name: RSS $(( ${!var} / 1024 )) MB after prefill, $(( $(rss_kb "${PID[$name]}") / 1024 )) MB at the end (pid ${PID[$name]})"
done
disturbed=$(awk -F'\t' -v m="$OTHER_CORES_MAX" 'NR > 1 && $14 != "-" && $14 + 0 > m {n++} END {print n + 0}' "$TSV")
if ((disturbed > 0)); then
  echo "note: $disturbed kept runs had other processes using more than $OTHER_CORES_MAX cores; medians skip them where a clean run exists"
fi
echo "raw reports: $OUT_DIR (runs.tsv, <profile>.<server>.<repeat>.json)"
if ((failures > 0)); then
  echo "compare-memcached: $failures bench runs failed (see above)" >&2
  exit 1
fi
