#!/usr/bin/env bash
# A local 3-node raftcached cluster on 127.0.0.1, for trying raftcached out and for failover by hand.
#
#   deploy/local-cluster.sh start        build if needed, start nodes 1-3, print how to connect
#   deploy/local-cluster.sh start --tls  the same with TLS: certificates from deploy/tls/make-test-certs.sh
#                                        in <dir>/tls, clients over TLS (-Z), peers over mutual TLS; the
#                                        cluster directory keeps TLS on for every later command
#   deploy/local-cluster.sh start --groups G  keys split into G Raft groups, each node a replica of every
#                                        group and leader of some (-m split between them); kept like --tls
#   deploy/local-cluster.sh stop         stop all three (SIGTERM; the leader hands over first)
#   deploy/local-cluster.sh status       one line per node: pid, role, term, applied index, leader
#   deploy/local-cluster.sh watch [S] [N] status every S seconds (default 1), N times (default 3600),
#                                        until Ctrl-C
#   deploy/local-cluster.sh restart N    restart node N
#   deploy/local-cluster.sh kill N       kill -9 node N (try failover: the others elect a leader)
#   deploy/local-cluster.sh start N      start only node N again (after kill or stop)
#
# start returns once every node serves reads (raft_ready 1) and a write through each node has
# been stored, so the first command after it is served at once.
#
# Client ports 11211-11213, Raft ports 7001-7003, Prometheus metrics on http://127.0.0.1:9101-9103/metrics,
# data and logs in ./local-cluster (override with RAFTCACHED_CLUSTER_DIR, RAFTCACHED_CLIENT_PORT_BASE=11210,
# RAFTCACHED_RAFT_PORT_BASE=7000, RAFTCACHED_METRICS_PORT_BASE=9100).
# Extra flags for every node: RAFTCACHED_FLAGS (e.g. "-m 256 -vv").
set -euo pipefail
usage_lines=24   # the header above, which the usage message prints

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
top="$(cd "$here/.." && pwd)"
dir="$(readlink -f "${RAFTCACHED_CLUSTER_DIR:-$PWD/local-cluster}")"
nodes=(1 2 3)
client_base="${RAFTCACHED_CLIENT_PORT_BASE:-11210}"
raft_base="${RAFTCACHED_RAFT_PORT_BASE:-7000}"
metrics_base="${RAFTCACHED_METRICS_PORT_BASE:-9100}"
peers="1@127.0.0.1:$((raft_base + 1)),2@127.0.0.1:$((raft_base + 2)),3@127.0.0.1:$((raft_base + 3))"
tls_dir="$dir/tls"
groups_file="$dir/groups"
groups_flags() { if [[ -f "$groups_file" ]]; then echo "--groups $(cat "$groups_file")"; fi; }
tls_on() { [[ -f "$tls_dir/ca.crt" ]]; }
# The nodes' TLS flags: memcached's for clients, the peer trio for Raft, forwarding and admin RPCs.
tls_flags() {
  echo "-Z -o ssl_chain_cert=$tls_dir/server.crt,ssl_key=$tls_dir/server.key,ssl_ca_cert=$tls_dir/ca.crt" \
    "--peer-cert $tls_dir/peer.crt --peer-key $tls_dir/peer.key --peer-ca $tls_dir/ca.crt"
}

client_port() { echo $((client_base + $1)); }
pid_file() { echo "$dir/node-$1.pid"; }
running_pid() {
  local file; file="$(pid_file "$1")"
  if [[ -f "$file" ]] && kill -0 "$(cat "$file")" 2>/dev/null; then cat "$file"; fi
}

build_if_needed() {
  if [[ ! -f "$top/node/target/raftcached.jar" ]]; then
    echo "building raftcached (mvn -q -DskipTests package)..."
    (cd "$top" && mvn -q -B -DskipTests package)
  fi
}

ask() {   # ask <port> <command>: one memcached text command, reply on stdout
  if tls_on; then
    # -quiet keeps the connection until the node closes it after quit.
    printf '%s\r\nquit\r\n' "$2" | timeout 2 openssl s_client -quiet -verify_return_error -CAfile "$tls_dir/ca.crt" \
      -connect "127.0.0.1:$1" 2>/dev/null | tr -d '\r'
    return
  fi
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf '%s\r\nquit\r\n' "$2" >&3
  timeout 2 cat <&3 | tr -d '\r'
  exec 3<&- 3>&-
}

start_node() {
  local id="$1"
  if [[ -n "$(running_pid "$id")" ]]; then
    echo "node $id is already running (pid $(running_pid "$id"))"; return
  fi
  mkdir -p "$dir"
  # In a session of its own, with INT and QUIT restored, as bin/raftcached -d starts a node (it says why);
  # the pid stays the JVM's through the execs.
  # shellcheck disable=SC2086
  ( trap - INT QUIT; export JAVA_OPTS="${JAVA_OPTS:--Xmx256m}"
    exec setsid "$top/bin/raftcached" -p "$(client_port "$id")" -l 127.0.0.1 \
    --node-id "$id" --raft "127.0.0.1:$((raft_base + id))" --peers "$peers" --data-dir "$dir/node-$id" \
    --metrics-port "$((metrics_base + id))" $(if tls_on; then tls_flags; fi) $(groups_flags) ${RAFTCACHED_FLAGS:-} \
    ) >>"$dir/node-$id.log" 2>&1 </dev/null &
  echo $! >"$(pid_file "$id")"
}

wait_serving() {
  local id="$1"
  for _ in $(seq 1 300); do
    if ask "$(client_port "$id")" version 2>/dev/null | grep -q VERSION; then return 0; fi
    if [[ -z "$(running_pid "$id")" ]]; then
      echo "node $id exited; its log ends with:"; tail -n 20 "$dir/node-$id.log"; return 1
    fi
    sleep 0.2
  done
  echo "node $id did not start listening within 60 s; see $dir/node-$id.log"; return 1
}

# Ready: the node has caught up and serves reads, and a write through it is stored (it reaches a
# leader and comes back applied). A restarted cluster replays its log first; allow two minutes.
wait_ready() {
  local id="$1" port; port="$(client_port "$1")"
  for _ in $(seq 1 600); do
    if ask "$port" "stats raft" 2>/dev/null | grep -q "^STAT raft_ready 1"; then
      if ask "$port" $'set __local_cluster_ready 0 0 2\r\nok' 2>/dev/null | grep -q "^STORED"; then
        return 0
      fi
    fi
    if [[ -z "$(running_pid "$id")" ]]; then
      echo "node $id exited; its log ends with:"; tail -n 20 "$dir/node-$id.log"; return 1
    fi
    sleep 0.2
  done
  echo "node $id was not ready (serving reads, taking writes) within 120 s; see $dir/node-$id.log"; return 1
}

stop_node() {
  local id="$1" pid; pid="$(running_pid "$id")"
  [[ -z "$pid" ]] && { echo "node $id is not running"; return; }
  kill "$pid"
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  kill -0 "$pid" 2>/dev/null && { echo "node $id did not stop in 30 s; killing it"; kill -9 "$pid"; }
  rm -f "$(pid_file "$id")"
  echo "node $id stopped"
}

# One "stats raft" per node, every field of a line from that one reply. A node that has not yet
# seen a term (an election is settling) is shown as electing, never with a leader at term 0.
status() {
  for id in "${nodes[@]}"; do
    local pid; pid="$(running_pid "$id")"
    if [[ -z "$pid" ]]; then echo "node $id: down"; continue; fi
    local stats; stats="$(ask "$(client_port "$id")" "stats raft" 2>/dev/null || true)"
    if [[ -z "$stats" ]]; then echo "node $id: pid $pid, port $(client_port "$id"), not answering"; continue; fi
    local role term applied leader led
    read -r role term applied leader < <(echo "$stats" | awk '
      $1 == "STAT" { v[$2] = $3 }
      END { print v["raft_role"], v["raft_term"], v["raft_applied_index"], v["raft_leader"] }')
    # With several groups the line is the first group's view, then which groups this node leads.
    led="$(echo "$stats" | awk '$1 == "STAT" && $2 ~ /^raft_group_g/ && $3 == "role=leader" {
      sub("raft_group_", "", $2); printf " %s", $2 }')"
    if [[ "$term" == 0 || -z "$term" ]]; then
      echo "node $id: pid $pid, port $(client_port "$id"), electing (no term yet), applied $applied, leader none yet"
    else
      echo "node $id: pid $pid, port $(client_port "$id"), $role, term $term, applied $applied," \
        "leader $([[ "$leader" == - ]] && echo "none yet" || echo "$leader")$(if [[ -f "$groups_file" ]]; then
          echo ", leads groups:${led:- none}"; fi)"
    fi
  done
}

# Live status: a bounded number of refreshes, ended early by Ctrl-C (SIGINT) or SIGTERM.
watch_status() {
  local interval="${1:-1}" rounds="${2:-3600}"
  [[ "$interval" =~ ^[0-9]+([.][0-9]+)?$ ]] || { echo "watch: the interval is in seconds, e.g. 1 or 0.5" >&2; exit 64; }
  [[ "$rounds" =~ ^[1-9][0-9]*$ ]] || { echo "watch: the number of refreshes is a positive integer" >&2; exit 64; }
  trap 'echo; exit 0' INT TERM
  local round
  for ((round = 1; round <= rounds; round++)); do
    if [[ -t 1 ]]; then printf '\033[H\033[2J'; fi
    echo "$(date '+%H:%M:%S') raftcached local cluster, every ${interval}s (Ctrl-C to stop)"
    status
    if ((round < rounds)); then sleep "$interval"; fi
  done
}

case "${1:-}" in
  start)
    build_if_needed
    if [[ "${2:-}" =~ ^[0-9]+$ ]]; then
      start_node "$2"; wait_serving "$2"; wait_ready "$2"; exit
    fi
    shift
    while (($#)); do
      case "$1" in
        --tls) if ! tls_on; then "$here/tls/make-test-certs.sh" "$tls_dir" >/dev/null; fi ;;
        --groups)
          [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "start --groups takes a number of groups, e.g. --groups 4" >&2; exit 64; }
          mkdir -p "$dir"; echo "$2" >"$groups_file"; shift ;;
        *) echo "start: unknown option $1" >&2; exit 64 ;;
      esac
      shift
    done
    for id in "${nodes[@]}"; do start_node "$id"; done
    for id in "${nodes[@]}"; do wait_serving "$id"; done
    for id in "${nodes[@]}"; do wait_ready "$id"; done
    echo
    echo "raftcached: 3 nodes on 127.0.0.1$(if tls_on; then echo ", TLS (certificates in $tls_dir)"; fi)$(
      if [[ -f "$groups_file" ]]; then echo ", $(cat "$groups_file") Raft groups"; fi), data and logs in $dir"
    status
    echo
    if tls_on; then
      echo "connect:    openssl s_client -quiet -CAfile $tls_dir/ca.crt -connect 127.0.0.1:$(client_port 1)"
    else
      echo "connect:    telnet 127.0.0.1 $(client_port 1)        (any node takes reads and writes)"
    fi
    echo "clients:    127.0.0.1:$(client_port 1),127.0.0.1:$(client_port 2),127.0.0.1:$(client_port 3)"
    echo "metrics:    http://127.0.0.1:$((metrics_base + 1))/metrics (nodes 1-3: ports $((metrics_base + 1))-$((metrics_base + 3)))"
    echo "inspect:    $top/bin/raftcached cluster status --node 127.0.0.1:$((raft_base + 1))$(if tls_on; then
      echo " --peer-cert $tls_dir/peer.crt --peer-key $tls_dir/peer.key --peer-ca $tls_dir/ca.crt"; fi)"
    echo "failover:   $0 kill <N>   then   $0 start <N>"
    echo "stop:       $0 stop"
    ;;
  stop) for id in "${nodes[@]}"; do stop_node "$id"; done ;;
  status) status ;;
  watch) watch_status "${2:-1}" "${3:-3600}" ;;
  restart) stop_node "${2:?restart needs a node number}"; start_node "$2"; wait_serving "$2"; wait_ready "$2"; status ;;
  kill)
    pid="$(running_pid "${2:?kill needs a node number}")"
    [[ -z "$pid" ]] && { echo "node $2 is not running"; exit 1; }
    kill -9 "$pid"; rm -f "$(pid_file "$2")"; echo "node $2 (pid $pid) killed" ;;
  *) sed -n "2,${usage_lines}p" "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
esac
