#!/usr/bin/env bash
# The fault suite's soak profile (not run in CI): back-to-back random mixes of every nemesis --
# kill -9, SIGSTOP zombies, wiped disks, skewed clocks with TTLs in flight, partitions (in network
# namespaces, so run as root), membership changes -- under more clients, alternating local and
# linearizable reads and 3- and 5-node clusters, each run judged by the checkers.
#
# Usage: bench/soak.sh [minutes]            (default 30; SEED=<n> repeats a soak, RUN_SECONDS=240
#                                            sets each run's schedule length)
# Reports: integration-tests/target/jepsen/soak-*/report.md (seed, faults, verdicts, history, logs).
# Builds the node jar first when it is missing. Nodes run on 127.0.0.1 or in rcj-* namespaces on
# 198.18.77.0/24; everything the run started is stopped by pid, the namespaces are removed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINUTES=${1:-30}
cd "$ROOT"
if [ ! -f node/target/raftcached.jar ]; then
  mvn -B -q --no-transfer-progress -DskipTests install
fi
args=(-Dsoak=true "-Dsoak.minutes=$MINUTES" "-Dsoak.runSeconds=${RUN_SECONDS:-240}")
if [ -n "${SEED:-}" ]; then
  args+=("-Djepsen.seed=$SEED")
fi
exec mvn -B --no-transfer-progress -pl integration-tests test -Dtest=FaultRunSoakTest \
  -Dsurefire.failIfNoSpecifiedTests=false "${args[@]}"
