# Sourced by setup.sh and start.sh: runs one setup phase with its output in .kiln/logs/<name>.log and
# prints the phase, a line every 30 s while it runs, and its elapsed time, so a first start that takes
# minutes shows where it is instead of pages of apt and debootstrap output.

kiln_logs="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.kiln/logs"
mkdir -p "$kiln_logs"

# Telemetry and update checks of every tool Kiln runs are off: Kiln does not phone home.
export NEXT_TELEMETRY_DISABLED=1 TURBO_TELEMETRY_DISABLED=1 CHECKPOINT_DISABLE=1 PRISMA_HIDE_UPDATE_MESSAGE=1
export NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# phase <log name> <label> <command...>: runs the command with stdout and stderr in the log.
phase() {
  local name=$1 label=$2
  shift 2
  local log="$kiln_logs/$name.log" started=$SECONDS
  printf 'kiln: %s...\n' "$label"
  "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    kill -0 "$pid" 2>/dev/null && printf 'kiln:   %s: still running, %d s (log: .kiln/logs/%s.log)\n' "$label" $((SECONDS - started)) "$name"
  done
  local status=0
  wait "$pid" || status=$?
  if ((status != 0)); then
    printf 'kiln: %s failed after %d s; the end of .kiln/logs/%s.log:\n' "$label" $((SECONDS - started)) "$name" >&2
    tail -40 "$log" >&2
    return "$status"
  fi
  printf 'kiln: %s done in %d s\n' "$label" $((SECONDS - started))
}
