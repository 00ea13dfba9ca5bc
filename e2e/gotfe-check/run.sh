#!/usr/bin/env bash
# Builds tfc-sim (debug profile), starts it on free ports, runs the go-tfe
# fidelity check against it and stops it again. Exit code = the check's.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/gotfe-check.XXXXXX")"
sim_pid=""

cleanup() {
  if [[ -n "$sim_pid" ]] && kill -0 "$sim_pid" 2>/dev/null; then
    echo "run.sh: stopping tfc-sim (pid $sim_pid)"
    kill "$sim_pid" 2>/dev/null || true
    wait "$sim_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The same build as the end-to-end stack's, so one build serves both.
echo "run.sh: building the workspace binaries (cargo build --workspace --bins)"
(cd "$root" && cargo build --workspace --bins)
sim_bin="${CARGO_TARGET_DIR:-$root/target}/debug/tfc-sim"

echo "run.sh: building gotfe-check"
(cd "$here" && GOTOOLCHAIN=local GOFLAGS=-mod=mod go build -o "$work/gotfe-check" .)

port_file="$work/ports.json"
echo "run.sh: starting tfc-sim"
"$sim_bin" --port-file "$port_file" --step-delay-ms 200 --run-locks --token sim-token 2>"$work/sim.log" &
sim_pid=$!

for _ in $(seq 1 100); do
  [[ -s "$port_file" ]] && break
  if ! kill -0 "$sim_pid" 2>/dev/null; then
    echo "run.sh: tfc-sim exited early:" >&2
    cat "$work/sim.log" >&2
    exit 1
  fi
  sleep 0.1
done
if [[ ! -s "$port_file" ]]; then
  echo "run.sh: tfc-sim did not write $port_file in time" >&2
  cat "$work/sim.log" >&2
  exit 1
fi
api="$(sed -E 's/.*"api":"([^"]+)".*/\1/' "$port_file")"
echo "run.sh: tfc-sim is up at $api (pid $sim_pid)"

set +e
"$work/gotfe-check" -address "$api" -token sim-token
status=$?
set -e
if [[ $status -ne 0 ]]; then
  echo "run.sh: gotfe-check failed (exit $status); last simulator log lines:" >&2
  tail -n 40 "$work/sim.log" >&2
fi
exit $status
