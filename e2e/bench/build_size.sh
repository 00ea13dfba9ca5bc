#!/usr/bin/env bash
# What the operator costs to build and ship: a clean build of the operator
# binary alone (wall time and crates compiled, in a fresh target directory so
# nothing is reused), then the stripped sizes of the operator and gateway
# binaries. The target directory is deleted afterwards.
#
#   bash e2e/bench/build_size.sh            # release profile (what images ship)
#   PROFILE=debug bash e2e/bench/build_size.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

profile=${PROFILE:-release}
case $profile in
release) flags=(--release) ;;
debug) flags=() ;;
*) echo "PROFILE must be release or debug, not ${profile@Q}" >&2 && exit 2 ;;
esac

target=$(mktemp -d "${TMPDIR:-/tmp}/tfc-mcp-build-size.XXXXXX")
trap 'rm -rf "$target"' EXIT
export CARGO_TARGET_DIR=$target CARGO_INCREMENTAL=0

# Fetch first so the timing is compiling only.
cargo fetch --locked -q

start=$(date +%s)
crates=$(cargo build --locked -p tfc-mcp-operator --bin tfc-mcp-operator "${flags[@]}" 2>&1 | tee "$target/operator.log" | grep -c '^ *Compiling ') ||
	{ cat "$target/operator.log" >&2 && exit 1; }
seconds=$(($(date +%s) - start))
cargo build --locked -q -p tfc-mcp-gateway --bin tfc-mcp-gateway "${flags[@]}"

size() { strip -o "$target/$1.stripped" "$target/$profile/$1" && stat -c %s "$target/$1.stripped"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
heavy=$(cargo tree --locked -p tfc-mcp-operator -e normal --prefix none | grep -oE '^(axum|rmcp|tfc-mcp-gateway) ' | sort -u | tr -d ' ' | paste -sd, -)

echo "profile:                       $profile"
echo "operator clean build:          ${seconds} s, ${crates} crates compiled ($(nproc) cores)"
echo "operator binary (stripped):    $(mib "$(size tfc-mcp-operator)")"
echo "gateway binary (stripped):     $(mib "$(size tfc-mcp-gateway)")"
echo "operator depends on:           ${heavy:-no axum, rmcp or gateway crate}"
