#!/usr/bin/env python3
"""Instruction counts of the gateway's request path, against the checked-in baseline.

    python3 e2e/bench/instructions.py                    # run, print counts and deltas
    python3 e2e/bench/instructions.py --update-baseline  # ... and write them as the new baseline

Runs `cargo bench -p tfc-mcp-gateway --bench request_path` (gungraun, under
valgrind's callgrind): route lookup, argument validation, request building,
parsing and flattening a 20-workspace page, building the MCP answer; see the
bench's header. Instruction counts do not depend on the machine's load, so a
change can be compared with `gateway/benches/baseline/request_path.txt`
(committed) on any machine with the same toolchain; they do move a little with
the Rust and library versions, so refresh the baseline with
`--update-baseline` in the change that upgrades them.

Installs what it needs when missing: valgrind (apt-get, as root) and the
`gungraun-runner` binary of the exact version the gateway pins
(`cargo install --locked`). Not run by CI (`cargo bench --no-run` there only
compiles it).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BASELINE = ROOT / "gateway" / "benches" / "baseline" / "request_path.txt"


def log(message: str) -> None:
    print(f"[instructions] {message}", file=sys.stderr, flush=True)


def pinned_gungraun() -> str:
    text = (ROOT / "gateway" / "Cargo.toml").read_text()
    match = re.search(r'^gungraun\s*=\s*"=([^"]+)"', text, re.M)
    if not match:
        sys.exit("gateway/Cargo.toml pins no gungraun version")
    return match.group(1)


def ensure_tools() -> None:
    if not shutil.which("valgrind"):
        if not shutil.which("apt-get"):
            sys.exit("valgrind is needed (apt-get install valgrind)")
        log("installing valgrind (apt-get install -y valgrind)")
        if subprocess.run(["apt-get", "install", "-y", "-q", "valgrind"], stdout=subprocess.DEVNULL).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], stdout=subprocess.DEVNULL, check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "valgrind"], stdout=subprocess.DEVNULL, check=True)
    version = pinned_gungraun()
    runner = shutil.which("gungraun-runner")
    installed = subprocess.run([runner, "--version"], capture_output=True, text=True).stdout if runner else ""
    if version not in installed.split():
        log(f"installing gungraun-runner {version} (cargo install --locked)")
        subprocess.run(["cargo", "install", "--locked", f"gungraun-runner@{version}"], check=True)


def run_bench() -> dict[str, int]:
    """Benchmark name (`function.id`) -> instructions executed (callgrind's Ir)."""
    log("cargo bench -p tfc-mcp-gateway --bench request_path (release build, then callgrind)")
    run = subprocess.run(
        ["cargo", "bench", "-q", "-p", "tfc-mcp-gateway", "--bench", "request_path", "--", "--output-format=json"],
        cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        sys.exit(f"the bench failed:\n{run.stderr[-4000:]}\n{run.stdout[-4000:]}")
    counts: dict[str, int] = {}
    for line in run.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        summary = json.loads(line)
        name = summary["function_name"] + (f".{summary['id']}" if summary.get("id") else "")
        counts[name] = instructions(summary)
    if not counts:
        sys.exit(f"the bench printed no summary:\n{run.stdout[-4000:]}")
    return counts


def instructions(summary: dict) -> int:
    """The new Ir of a gungraun summary (the first callgrind metric set)."""
    found: list[int] = []

    def walk(node) -> None:
        if found:
            return
        if isinstance(node, dict):
            if "Ir" in node:
                found.append(metric_value(node["Ir"]))
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(summary.get("profiles", summary))
    if not found:
        raise ValueError(f"no Ir in the summary of {summary.get('function_name')}")
    return found[0]


def metric_value(ir) -> int:
    """Ir is {"metrics": {"Left"|"Both": ...}, "diffs": ...} or similar; the new value comes first."""
    if isinstance(ir, (int, float)):
        return int(ir)
    if isinstance(ir, dict):
        for key in ("metrics", "Left", "Both", "Int"):
            if key in ir:
                return metric_value(ir[key])
        for value in ir.values():
            try:
                return metric_value(value)
            except ValueError:
                continue
    if isinstance(ir, list) and ir:
        return metric_value(ir[0])
    raise ValueError(f"cannot read {ir!r}")


def read_baseline() -> dict[str, int]:
    if not BASELINE.exists():
        return {}
    counts = {}
    for line in BASELINE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, value = line.split()
            counts[name] = int(value)
    return counts


def write_baseline(counts: dict[str, int]) -> None:
    BASELINE.parent.mkdir(parents=True, exist_ok=True)
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    lines = [
        "# Instructions executed (callgrind Ir) per step of the request path: gateway/benches/request_path.rs.",
        f"# Written by `python3 e2e/bench/instructions.py --update-baseline` with {rustc}, gungraun {pinned_gungraun()}.",
        *(f"{name} {value}" for name, value in counts.items()),
    ]
    BASELINE.write_text("\n".join(lines) + "\n")
    log(f"baseline written: {BASELINE.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update-baseline", action="store_true", help=f"write the counts to {BASELINE.relative_to(ROOT)}")
    parser.add_argument("--no-install", action="store_true", help="do not install valgrind or gungraun-runner")
    args = parser.parse_args()
    if not args.no_install:
        ensure_tools()
    counts = run_bench()
    baseline = read_baseline()
    print()
    print(f"request path, instructions per step (callgrind Ir) against {BASELINE.relative_to(ROOT)}")
    head = f"{'step':<32} | {'instructions':>12} | {'baseline':>12} | {'delta':>8}"
    print(head)
    print("-" * len(head))
    for name, value in counts.items():
        base = baseline.get(name)
        base_text = f"{base:,}" if base else "-"
        delta = f"{100 * (value - base) / base:+.1f}%" if base else "new"
        print(f"{name:<32} | {value:>12,} | {base_text:>12} | {delta:>8}")
    total, base_total = sum(counts.values()), sum(baseline.get(n, 0) for n in counts)
    if base_total:
        print(f"{'total':<32} | {total:>12,} | {base_total:>12,} | {100 * (total - base_total) / base_total:>+7.1f}%")
    gone = sorted(set(baseline) - set(counts))
    if gone:
        print(f"in the baseline, no longer measured: {', '.join(gone)}")
    if args.update_baseline:
        write_baseline(counts)


if __name__ == "__main__":
    main()
