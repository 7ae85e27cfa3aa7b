#!/usr/bin/env bash
# A local raftcached cluster on 127.0.0.1 (3 nodes unless --nodes), for trying raftcached out and failover by hand.
#
#   deploy/local-cluster.sh start        build if needed, start nodes 1-3, print how to connect
#   deploy/local-cluster.sh start --nodes N  N nodes (3 to 9) instead of 3, ports as below; kept like --tls,
#                                        and fixed once the nodes have data
#   deploy/local-cluster.sh start --tls  the same with TLS: certificates from deploy/tls/make-test-certs.sh
#                                        in <dir>/tls, clients over TLS (-Z), peers over mutual TLS; the
#                                        cluster directory keeps TLS on for every later command
#   deploy/local-cluster.sh start --groups G  keys split into G Raft groups of min(N, 3) replicas each (with
#                                        3 nodes every node holds every group), leaders spread over the nodes;
#                                        G times the replicas must be at least N; kept like --tls
#   deploy/local-cluster.sh start --group-memory MB  each group's memory (default 64): a node gets
#                                        -m MB * ceil(G * replicas / N), unless RAFTCACHED_FLAGS has an -m
#   deploy/local-cluster.sh stop         stop every node (SIGTERM; the leader hands over first)
#   deploy/local-cluster.sh status       one line per node: pid, role, term, applied index, leader
#                                        (with --groups also the groups it leads and the groups it holds)
#   deploy/local-cluster.sh watch [S] [N] status every S seconds (default 1), N times (default 3600),
#                                        until Ctrl-C
#   deploy/local-cluster.sh restart N    restart node N
#   deploy/local-cluster.sh kill N       kill -9 node N (try failover: the others elect a leader)
#   deploy/local-cluster.sh start N      start only node N again (after kill or stop)
#
# start's options combine (start --nodes 6 --groups 4 --tls). It returns once every node serves reads
# (raft_ready 1) and a write through each node has been stored, so the first command after it is served at once.
#
# Client ports 11211-11213 (11210+N for node N), Raft ports 7001-7003 (7000+N), Prometheus metrics on
# http://127.0.0.1:9101-9103/metrics (9100+N), data and logs in ./local-cluster (override with
# RAFTCACHED_CLUSTER_DIR, RAFTCACHED_CLIENT_PORT_BASE=11210, RAFTCACHED_RAFT_PORT_BASE=7000,
# RAFTCACHED_METRICS_PORT_BASE=9100).
# Extra flags for every node: RAFTCACHED_FLAGS (e.g. "-m 256 -vv"; its -m overrides --group-memory's).
set -euo pipefail
usage_lines=31   # the header above, which the usage message prints

here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
top="$(cd "$here/.." && pwd)"
dir="$(readlink -f "${RAFTCACHED_CLUSTER_DIR:-$PWD/local-cluster}")"
client_base="${RAFTCACHED_CLIENT_PORT_BASE:-11210}"
raft_base="${RAFTCACHED_RAFT_PORT_BASE:-7000}"
metrics_base="${RAFTCACHED_METRICS_PORT_BASE:-9100}"
tls_dir="$dir/tls"
groups_file="$dir/groups"
nodes_file="$dir/nodes"                  # start --nodes N; without it 3 nodes
group_memory_file="$dir/group-memory"    # start --group-memory MB; without it 64
nodes_min=3 nodes_max=9
# use_nodes N: nodes 1..N, each with every one of them in --peers.
use_nodes() {
  nodes=(); peers=""
  local id
  for ((id = 1; id <= $1; id++)); do
    nodes+=("$id"); peers+="${peers:+,}$id@127.0.0.1:$((raft_base + id))"
  done
}
if [[ -f "$nodes_file" ]]; then
  node_count="$(cat "$nodes_file")"
  [[ "$node_count" =~ ^[1-9][0-9]*$ ]] && ((node_count >= nodes_min && node_count <= nodes_max)) \
    || { echo "$nodes_file should hold a node count from $nodes_min to $nodes_max, not '$node_count'" >&2; exit 1; }
else
  node_count=3
fi
use_nodes "$node_count"
groups_flags() { if [[ -f "$groups_file" ]]; then echo "--groups $(cat "$groups_file")"; fi; }
# With groups: each group has min(N, 3) replicas, so a node holds at most ceil(G * replicas / N) of them.
group_replicas() { echo $((node_count < 3 ? node_count : 3)); }
groups_per_node() { local g="$1" r; r="$(group_replicas)"; echo $(((g * r + node_count - 1) / node_count)); }
group_memory() { if [[ -f "$group_memory_file" ]]; then cat "$group_memory_file"; else echo 64; fi; }
# An -m (or --memory-limit) of the user's own in RAFTCACHED_FLAGS, which then stands.
flags_memory_pattern='[[:space:]](-v*m|--memory-limit)([[:space:]=]|[0-9])'
flags_set_memory() { [[ " ${RAFTCACHED_FLAGS:-} " =~ $flags_memory_pattern ]]; }
# The node's -m: with groups, --group-memory for each group it may hold (the node splits its -m evenly
# between them); without groups only an explicit --group-memory; nothing when RAFTCACHED_FLAGS has an -m.
memory_flags() {
  if flags_set_memory; then return 0; fi
  if [[ -f "$groups_file" ]]; then
    echo "-m $(($(group_memory) * $(groups_per_node "$(cat "$groups_file")")))"
  elif [[ -f "$group_memory_file" ]]; then
    echo "-m $(group_memory)"
  fi
}
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
    --metrics-port "$((metrics_base + id))" $(if tls_on; then tls_flags; fi) $(groups_flags) $(memory_flags) \
    ${RAFTCACHED_FLAGS:-} \
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

check_node() {   # a node of this cluster's, 1 to N
  if [[ ! "$1" =~ ^[1-9][0-9]*$ ]] || (($1 > node_count)); then
    echo "no node $1: the cluster in $dir has nodes 1-$node_count" >&2; exit 64
  fi
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
    local role term applied leader led held
    read -r role term applied leader < <(echo "$stats" | awk '
      $1 == "STAT" { v[$2] = $3 }
      END { print v["raft_role"], v["raft_term"], v["raft_applied_index"], v["raft_leader"] }')
    # With several groups the line is the first group's view, then which groups this node leads.
    led="$(echo "$stats" | awk '$1 == "STAT" && $2 ~ /^raft_group_g/ && $3 == "role=leader" {
      sub("raft_group_", "", $2); printf " %s", $2 }')"
    # A node lists only the groups it holds a replica of.
    held="$(echo "$stats" | awk '$1 == "STAT" && $2 ~ /^raft_group_g/ { sub("raft_group_", "", $2); printf " %s", $2 }')"
    if [[ "$term" == 0 || -z "$term" ]]; then
      echo "node $id: pid $pid, port $(client_port "$id"), electing (no term yet), applied $applied, leader none yet"
    else
      echo "node $id: pid $pid, port $(client_port "$id"), $role, term $term, applied $applied," \
        "leader $([[ "$leader" == - ]] && echo "none yet" || echo "$leader")$(if [[ -f "$groups_file" ]]; then
          echo ", leads groups:${led:- none}, holds groups:${held:- none}"; fi)"
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
    if [[ "${2:-}" =~ ^[0-9]+$ ]]; then
      check_node "$2"; build_if_needed; start_node "$2"; wait_serving "$2"; wait_ready "$2"; exit
    fi
    shift
    want_tls=false want_nodes="" want_groups="" want_group_memory=""
    while (($#)); do
      case "$1" in
        --tls) want_tls=true ;;
        --nodes)
          [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] && (($2 >= nodes_min && $2 <= nodes_max)) || {
            echo "start --nodes takes a number of nodes from $nodes_min to $nodes_max, e.g. --nodes 5" >&2; exit 64; }
          want_nodes="$2"; shift ;;
        --groups)
          [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || { echo "start --groups takes a number of groups, e.g. --groups 4" >&2; exit 64; }
          want_groups="$2"; shift ;;
        --group-memory)
          [[ "${2:-}" =~ ^[1-9][0-9]*$ ]] || {
            echo "start --group-memory takes each group's memory in megabytes, e.g. --group-memory 64" >&2; exit 64; }
          want_group_memory="$2"; shift ;;
        *) echo "start: unknown option $1" >&2; exit 64 ;;
      esac
      shift
    done
    # The members are fixed when the cluster is created: its nodes' data knows them.
    if [[ -n "$want_nodes" && "$want_nodes" != "$node_count" ]]; then
      for ((id = 1; id <= nodes_max; id++)); do
        if [[ -d "$dir/node-$id" ]]; then
          echo "start --nodes $want_nodes: $dir holds a cluster of $node_count nodes, fixed when it was created;" \
            "stop it and remove $dir (or set RAFTCACHED_CLUSTER_DIR) for a cluster of $want_nodes" >&2
          exit 64
        fi
      done
    fi
    use_nodes "${want_nodes:-$node_count}"; node_count="${#nodes[@]}"
    groups="${want_groups:-$(if [[ -f "$groups_file" ]]; then cat "$groups_file"; fi)}"
    if [[ -n "$groups" ]] && ((groups * $(group_replicas) < node_count)); then
      echo "start: with $node_count nodes, --groups $groups leaves some node without a group (each group has" \
        "$(group_replicas) replicas, $groups x $(group_replicas) < $node_count);" \
        "use --groups $(((node_count + $(group_replicas) - 1) / $(group_replicas))) or more" >&2
      exit 64
    fi
    build_if_needed
    mkdir -p "$dir"
    if [[ -n "$want_nodes" ]]; then echo "$want_nodes" >"$nodes_file"; fi
    if [[ -n "$want_groups" ]]; then echo "$want_groups" >"$groups_file"; fi
    if [[ -n "$want_group_memory" ]]; then echo "$want_group_memory" >"$group_memory_file"; fi
    if $want_tls && ! tls_on; then "$here/tls/make-test-certs.sh" "$tls_dir" >/dev/null; fi
    for id in "${nodes[@]}"; do start_node "$id"; done
    for id in "${nodes[@]}"; do wait_serving "$id"; done
    for id in "${nodes[@]}"; do wait_ready "$id"; done
    echo
    echo "raftcached: $node_count nodes on 127.0.0.1$(if tls_on; then echo ", TLS (certificates in $tls_dir)"; fi)$(
      if [[ -f "$groups_file" ]]; then
        echo ", $(cat "$groups_file") Raft groups of $(group_replicas) replicas ($(if flags_set_memory; then
          echo "-m from RAFTCACHED_FLAGS"; else echo "$(group_memory) MB each, $(memory_flags) per node"; fi))"
      fi), data and logs in $dir"
    status
    echo
    if tls_on; then
      echo "connect:    openssl s_client -quiet -CAfile $tls_dir/ca.crt -connect 127.0.0.1:$(client_port 1)"
    else
      echo "connect:    telnet 127.0.0.1 $(client_port 1)        (any node takes reads and writes)"
    fi
    clients=""; for id in "${nodes[@]}"; do clients+="${clients:+,}127.0.0.1:$(client_port "$id")"; done
    echo "clients:    $clients"
    echo "metrics:    http://127.0.0.1:$((metrics_base + 1))/metrics (nodes 1-$node_count: ports $((metrics_base + 1))-$((
      metrics_base + node_count)))"
    echo "inspect:    $top/bin/raftcached cluster status --node 127.0.0.1:$((raft_base + 1))$(if tls_on; then
      echo " --peer-cert $tls_dir/peer.crt --peer-key $tls_dir/peer.key --peer-ca $tls_dir/ca.crt"; fi)"
    echo "failover:   $0 kill <N>   then   $0 start <N>"
    echo "stop:       $0 stop"
    ;;
  stop) for id in "${nodes[@]}"; do stop_node "$id"; done ;;
  status) status ;;
  watch) watch_status "${2:-1}" "${3:-3600}" ;;
  restart)
    check_node "${2:?restart needs a node number}"
    stop_node "$2"; start_node "$2"; wait_serving "$2"; wait_ready "$2"; status ;;
  kill)
    pid="$(running_pid "${2:?kill needs a node number}")"
    [[ -z "$pid" ]] && { echo "node $2 is not running"; exit 1; }
    kill -9 "$pid"; rm -f "$(pid_file "$2")"; echo "node $2 (pid $pid) killed" ;;
  *) sed -n "2,${usage_lines}p" "$0" | sed 's/^# \{0,1\}//'; exit 64 ;;
esac
