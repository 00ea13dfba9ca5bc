#!/usr/bin/env bash
# Runs every test of the project, as CI does:
#   1. Rust unit and integration tests (including the stale-CRD check),
#   2. the simulator's fidelity check with HashiCorp's go-tfe client,
#   3. the end-to-end scenarios against a real kube-apiserver, through real
#      MCP clients (Python and TypeScript SDKs 1.x and 2.x, Inspector,
#      mcp-remote) and the official conformance suite (both requirement sets).
# The first run on a machine builds etcd, Kubernetes and helm from Go modules
# (cached under ~/.cache/tfc-mcp); it overlaps with the Rust build and prints
# progress.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${TFCMCP_CACHE:-$HOME/.cache/tfc-mcp}
export TFCMCP_CACHE="$CACHE"  # e2e/sdk2/install.sh and test_sdk2.py find venv-mcp2 there
VENV="$CACHE/venv"
mkdir -p "$CACHE"

step() { printf '\n==> %s\n' "$*" >&2; }

# A full run writes about 6 GB (Rust targets, Go build cache, Node modules); a
# linker that runs out of disk dies with SIGBUS, not a clear message.
free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
printf 'disk: %s GB free here\n' "$((free_kb / 1024 / 1024))" >&2
if (( free_kb < 8 * 1024 * 1024 )); then
  printf 'warning: less than 8 GB free; the build may fail with a linker crash (SIGBUS)\n' >&2
fi
# CI builds once from a clean clone: incremental caches only cost disk there.
if [[ ${CI:-} == true ]]; then export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}; fi

step "control-plane binaries (etcd, kube-apiserver, kube-controller-manager, kubectl, helm), in the background"
bash e2e/controlplane/build.sh etcd kubernetes helm > "$CACHE/build-controlplane.log" 2>&1 &
build_pid=$!
trap 'kill $build_pid 2>/dev/null || true' EXIT

step "Python test environment ($VENV)"
if [[ ! -x $VENV/bin/python ]]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install --disable-pip-version-check -q -r e2e/requirements.txt

step "Rust tests (cargo test --workspace)"
cargo test --workspace --color never 2>&1

step "benchmarks compile (not run: python3 e2e/bench/instructions.py and the README's table run them)"
# --workspace: the same features as the test build above, so nothing is built twice.
cargo build --workspace --benches --color never 2>&1

step "simulator fidelity check with go-tfe"
bash e2e/gotfe-check/run.sh

step "waiting for the control-plane binaries (log: $CACHE/build-controlplane.log)"
while kill -0 "$build_pid" 2>/dev/null; do
  sleep 20
  kill -0 "$build_pid" 2>/dev/null && printf '  ... %s\n' "$(tail -n 1 "$CACHE/build-controlplane.log")" >&2
done
if ! wait "$build_pid"; then cat "$CACHE/build-controlplane.log" >&2; exit 1; fi
trap - EXIT

step "Node MCP clients (npm ci in e2e/clients, once per lock change: TypeScript SDK 1.x, client 2.x + ext-tasks, Inspector, mcp-remote, conformance suite 0.2.x, Node 22)"
bash e2e/clients/install.sh

step "Python MCP SDK 2.x ($CACHE/venv-mcp2, beside the 1.x test venv)"
bash e2e/sdk2/install.sh

step "end-to-end scenarios (real kube-apiserver, operator, gateway, simulator, MCP clients)"
"$VENV/bin/python" -m pytest -c e2e/pytest.ini e2e/tests -v -p no:cacheprovider "$@"
