#!/usr/bin/env bash
# Runs the whole product on this machine: builds what it needs, starts a real
# control plane, the HCP Terraform simulator, the gateway and the operator,
# applies a sample TfcMcpServer and prints its MCP URL. Ctrl-C stops it all.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE=${TFCMCP_CACHE:-$HOME/.cache/tfc-mcp}
echo "==> control-plane binaries (first run builds them from Go modules: many minutes)" >&2
bash e2e/controlplane/build.sh etcd kubernetes >/dev/null
exec python3 e2e/stack.py
