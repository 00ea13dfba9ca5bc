#!/usr/bin/env bash
# Creates (once per requirements.txt change) the venv of the Python MCP SDK 2.x
# client (py_client.py): $TFCMCP_CACHE/venv-mcp2 (default ~/.cache/tfc-mcp).
# The pytest venv keeps the 1.x SDK; the two never share a venv.
set -euo pipefail
cd "$(dirname "$0")"
CACHE=${TFCMCP_CACHE:-$HOME/.cache/tfc-mcp}
VENV="$CACHE/venv-mcp2"
stamp="$VENV/.tfcmcp-requirements.sha256"
want=$(sha256sum requirements.txt | cut -d' ' -f1)
if [[ ! -x $VENV/bin/python || ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "[sdk2] pip install -r e2e/sdk2/requirements.txt into $VENV" >&2
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check -q -r requirements.txt >&2
  echo "$want" >"$stamp"
fi
echo "[sdk2] ready: mcp $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("mcp"))')" >&2
