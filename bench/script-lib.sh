# Shared by the bench scripts that take only --out and --help (memory-parity.sh, memory-floor.sh, first-load.sh):
# their messages and that argument parsing. Source it after setting SCRIPT_NAME.
die() { echo "$SCRIPT_NAME: $*" >&2; exit 2; }
fail() { echo "$SCRIPT_NAME: $*" >&2; exit 1; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
parse_out_flag() { # the script's arguments: --out DIR sets OUT_DIR; --help prints the script's header comment
  while [[ $# -gt 0 ]]; do
    case $1 in
      --out) OUT_DIR=$2; shift 2 ;;
      -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown argument: $1 (see --help)" ;;
    esac
  done
}
