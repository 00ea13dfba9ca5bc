"""Operator scale benchmark: apply N TfcMcpServers to a real kube-apiserver
and measure the time until all are Ready, the time until all their URLs
answer through the gateway, and the operator's and gateway's peak memory.
Apply time (kubectl server-side apply of all N, --apply-workers processes at
once) is measured on its own; the
Ready and URL times count from the first apply. From the operator's
/metrics: reconciles per second and Kubernetes API requests per reconcile
(and per server) until all are Ready.

    python3 e2e/bench/operator_scale.py                 # 100 then 1000 servers, release build
    python3 e2e/bench/operator_scale.py --sizes 100,1000 --debug

Prints figures (and the per-server cost relative to the smallest run); it
asserts nothing about timing.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack import ROOT, Stack, log  # noqa: E402


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def ping(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status == 200
    except Exception:  # noqa: BLE001
        return False


def ready_names(stack: Stack, namespace: str) -> set[str]:
    items = json.loads(stack.kubectl("get", "tfcmcpservers", "-n", namespace, "-o", "json").stdout)["items"]
    return {i["metadata"]["name"] for i in items
            if any(c["type"] == "Ready" and c["status"] == "True" for c in (i.get("status") or {}).get("conditions", []))}


def operator_counts(stack: Stack) -> tuple[float, float]:
    """Reconciles started and Kubernetes API requests sent, so far."""
    return (stack.operator_metric("tfcmcp_operator_reconciles_total"),
            stack.operator_metric("tfcmcp_operator_kube_requests_total"))


def run(stack: Stack, n: int, apply_workers: int) -> dict:
    namespace = f"scale-{n}"
    stack.create_namespace(namespace)
    stack.create_token_secret(namespace)
    servers = [stack.server_manifest(f"s{i:05d}", namespace, methods=["read"]) for i in range(n)]
    reconciles_before, requests_before = operator_counts(stack)
    started = time.monotonic()
    # Several kubectl processes at once, as a GitOps controller applies a
    # large change: the servers split into one chunk per worker (at most 250).
    size = max(1, min(250, -(-n // apply_workers)))
    chunks = [servers[i:i + size] for i in range(0, n, size)]

    def apply(items: list[dict]) -> None:
        stack.kubectl("apply", "--server-side", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))

    with concurrent.futures.ThreadPoolExecutor(apply_workers) as pool:
        list(pool.map(apply, chunks))
    applied = time.monotonic() - started
    log(f"{n} servers applied in {applied:.1f}s; waiting for Ready")
    last = 0
    while True:
        ready = len(ready_names(stack, namespace))
        if ready == n:
            break
        if ready != last:
            log(f"{ready}/{n} Ready ({time.monotonic() - started:.0f}s)")
            last = ready
        time.sleep(1)
    all_ready = time.monotonic() - started
    reconciles_after, requests_after = operator_counts(stack)
    reconciles = reconciles_after - reconciles_before
    requests = requests_after - requests_before

    secrets = json.loads(stack.kubectl("get", "secrets", "-n", namespace, "-l",
                                       "app.kubernetes.io/managed-by=tfc-mcp-operator", "-o", "json").stdout)["items"]
    import base64
    urls = [base64.b64decode(s["data"]["url"]).decode() for s in secrets]
    pending = set(urls)
    while pending:
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answered = {u for u, ok in zip(list(pending), pool.map(ping, list(pending))) if ok}
        pending -= answered
        if pending:
            time.sleep(0.2)
    all_answer = time.monotonic() - started
    return {
        "servers": n, "applied_s": applied, "ready_s": all_ready, "urls_answer_s": all_answer,
        "reconciles_per_s": reconciles / all_ready, "reconciles_per_server": reconciles / n,
        "requests_per_reconcile": requests / reconciles if reconciles else float("nan"), "requests_per_server": requests / n,
        "operator_peak_mib": peak_rss_mib(stack.procs["operator"].pid),
        "gateway_peak_mib": peak_rss_mib(stack.procs["gateway"].pid),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["100", "1000"], help="server counts: 100 1000 or 100,1000")
    parser.add_argument("--debug", action="store_true", help="use the debug build instead of release")
    parser.add_argument("--apply-workers", type=int, default=4, help="kubectl applies running at once (default 4; 1 applies in sequence)")
    parser.add_argument("--max-concurrent-reconciles", type=int, help="the operator's flag (default: the operator's own, 8)")
    args = parser.parse_args()
    sizes = [int(size) for arg in args.sizes for size in arg.split(",") if size.strip()]
    stack = Stack(ROOT / "e2e" / ".work" / "bench-operator", release=not args.debug)
    if args.max_concurrent_reconciles:
        start_operator = stack.start_operator
        flag = f"--max-concurrent-reconciles={args.max_concurrent_reconciles}"
        stack.start_operator = lambda *a, **kw: start_operator(*a, **{**kw, "extra_args": (*kw.get("extra_args", ()), flag)})
    results = []
    try:
        stack.start()
        for n in sizes:
            results.append(run(stack, n, args.apply_workers))
    finally:
        stack.stop_for_good()
    base = results[0]
    concurrency = args.max_concurrent_reconciles or 8
    print(f"\noperator scale ({'debug' if args.debug else 'release'} build, one operator (max {concurrency} concurrent reconciles), "
          f"one gateway, real kube-apiserver; {args.apply_workers} kubectl applies at once)")
    print(f"{'servers':>8} {'applied s':>10} {'all Ready s':>12} {'URLs answer s':>14} {'ms/server':>10} {'vs base':>8} {'operator MiB':>13} {'gateway MiB':>12}")
    for r in results:
        per = r["urls_answer_s"] / r["servers"] * 1000
        ratio = per / (base["urls_answer_s"] / base["servers"] * 1000)
        print(f"{r['servers']:>8} {r['applied_s']:>10.1f} {r['ready_s']:>12.1f} {r['urls_answer_s']:>14.1f} {per:>10.1f} {ratio:>7.2f}x "
              f"{r['operator_peak_mib']:>13.1f} {r['gateway_peak_mib']:>12.1f}")
    print(f"{'servers':>8} {'Ready after apply s':>20} {'reconciles/s':>13} {'reconciles/server':>18} {'API requests/reconcile':>23} "
          f"{'API requests/server':>20}")
    for r in results:
        print(f"{r['servers']:>8} {r['ready_s'] - r['applied_s']:>20.1f} {r['reconciles_per_s']:>13.1f} {r['reconciles_per_server']:>18.2f} "
              f"{r['requests_per_reconcile']:>23.2f} {r['requests_per_server']:>20.2f}")
    print("(peak memory is VmHWM, cumulative over the runs; 'vs base' is the per-server time relative to the first size;\n"
          " reconciles and API requests are counted from the first apply until all are Ready, watches included)")


if __name__ == "__main__":
    main()
