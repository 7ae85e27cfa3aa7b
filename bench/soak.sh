#!/usr/bin/env bash
# The fault suite's soak profile (not run in CI): back-to-back random mixes of every nemesis --
# kill -9, SIGSTOP zombies, wiped disks, skewed clocks with TTLs in flight, partitions (in network
# namespaces, so run as root), membership changes -- under more clients, alternating local and
# linearizable reads and 3- and 5-node clusters, each run judged by the checkers. A third of each
# client's rounds are pipelines (2-8 requests in one write), so per-connection order is judged too.
#
# Usage: bench/soak.sh [minutes]            (default 30; SEED=<n> repeats a soak, RUN_SECONDS=240
#                                            sets each run's schedule length, PIPELINE_PERCENT=33
#                                            the share of pipelined rounds, 0 for none)
# Reports: integration-tests/target/jepsen/soak-*/report.md (seed, faults, verdicts, history, logs).
# Builds the node jar and the checkers of this checkout in the same reactor run (nothing is taken
# from ~/.m2, where another checkout's older checkers may sit). Nodes run on 127.0.0.1 or in rcj-*
# namespaces on 198.18.77.0/24; everything the run started is stopped by pid, the namespaces are removed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MINUTES=${1:-30}
cd "$ROOT"
args=(-Dsoak=true "-Dsoak.minutes=$MINUTES" "-Dsoak.runSeconds=${RUN_SECONDS:-240}"
  "-Djepsen.pipelinePercent=${PIPELINE_PERCENT:-33}")
if [ -n "${SEED:-}" ]; then
  args+=("-Djepsen.seed=$SEED")
fi
exec mvn -B --no-transfer-progress -pl integration-tests -am verify -Dtest=FaultRunSoakTest \
  -Dsurefire.failIfNoSpecifiedTests=false "${args[@]}"
