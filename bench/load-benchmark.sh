#!/usr/bin/env bash
# The performance issue's full load benchmark in one run: Debian's memcached, a one-node
# raftcached, a 3-node raftcached cluster and a 3-member etcd cluster, on the same machine, with
# the table of ops/s, latencies, ratios against the targets, RSS, GC pauses, CPU per op (server and
# generator), fsync counts and elections. bench/compare-memcached.sh does the work; this only fixes
# the plan. Needs memcached, etcd-server and etcd-client (apt-get install -y memcached etcd-server
# etcd-client) and perf (linux-perf) for the fsync counts; a built node (mvn -q -DskipTests package).
#
# Usage: bench/load-benchmark.sh [compare-memcached.sh flags, e.g. --repeats 5 --out DIR]
# etcd is driven through its HTTP/JSON gateway (/v3/kv/put, /v3/kv/range) by the same generator
# (--protocol=etcd-http): one request in flight per connection, like one etcdctl client each.
# The tls- rows run memcached -Z and raftcached -Z with the same certificates (deploy/tls/make-test-certs.sh,
# into OUT_DIR/tls); tls-handshake opens a new TLS connection for every get. Needs openssl.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export PLAN=${PLAN:-"get-p1:memcached,raftcached get-p16:memcached,raftcached set-p1:memcached,raftcached
  set-p16:memcached,raftcached set-p1-c64:memcached,raftcached-3,etcd-3 set-p1-c16:etcd-3,raftcached-3
  mix-p1:memcached,raftcached-3 tls-get-p1:memcached,raftcached tls-get-p16:memcached,raftcached
  tls-handshake:memcached,raftcached"}
exec "$ROOT/bench/compare-memcached.sh" "$@"
