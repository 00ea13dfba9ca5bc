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

# Wall time depends on what else the machine runs; CPU time (user + system of
# cargo and every compiler it waited for) hardly does.
TIMEFORMAT='%R %U %S'
times=$({ time cargo build --locked -p tfc-mcp-operator --bin tfc-mcp-operator "${flags[@]}" >"$target/operator.log" 2>&1; } 2>&1) ||
	{ cat "$target/operator.log" >&2 && exit 1; }
read -r wall user sys <<<"$times"
crates=$(grep -c '^ *Compiling ' "$target/operator.log")
cargo build --locked -q -p tfc-mcp-gateway --bin tfc-mcp-gateway "${flags[@]}"

size() { strip -o "$target/$1.stripped" "$target/$profile/$1" && stat -c %s "$target/$1.stripped"; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
heavy=$(cargo tree --locked -p tfc-mcp-operator -e normal --prefix none | { grep -oE '^(axum|rmcp|tfc-mcp-gateway) ' || true; } | sort -u | tr -d ' ' | paste -sd, -)

echo "profile:                       $profile"
echo "operator clean build:          $(printf '%.0f' "$wall") s wall, $(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }') s CPU, ${crates} crates compiled ($(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
echo "operator binary (stripped):    $(mib "$(size tfc-mcp-operator)")"
echo "gateway binary (stripped):     $(mib "$(size tfc-mcp-gateway)")"
echo "operator depends on:           ${heavy:-no axum, rmcp or gateway crate}"
