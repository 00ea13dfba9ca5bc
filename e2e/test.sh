#!/usr/bin/env bash
# Runs every test of the project, as CI does:
#   1. Rust unit and integration tests (including the stale-CRD check),
#   2. the simulator's fidelity check with HashiCorp's go-tfe client,
#   3. the end-to-end scenarios against a real kube-apiserver.
# First run on a machine builds etcd and Kubernetes from Go modules (cached
# under ~/.cache/tfc-mcp), which takes a while; progress is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${TFCMCP_CACHE:-$HOME/.cache/tfc-mcp}
VENV="$CACHE/venv"

step() { printf '\n==> %s\n' "$*" >&2; }

step "control-plane binaries (etcd, kube-apiserver, kube-controller-manager, kubectl)"
bash e2e/controlplane/build.sh etcd kubernetes >/dev/null

step "Python test environment ($VENV)"
if [[ ! -x $VENV/bin/python ]]; then python3 -m venv "$VENV"; fi
"$VENV/bin/pip" install --disable-pip-version-check -q -r e2e/requirements.txt

step "Rust tests (cargo test --workspace)"
cargo test --workspace --color never 2>&1

step "simulator fidelity check with go-tfe"
bash e2e/gotfe-check/run.sh

step "end-to-end scenarios (real kube-apiserver, operator, gateway, simulator, Python MCP SDK)"
"$VENV/bin/python" -m pytest -c e2e/pytest.ini e2e/tests -v -p no:cacheprovider "$@"
