#!/usr/bin/env python3
"""Result-size benchmark: prints, for a fixed set of realistic calls, the
size of the tool result in bytes and an estimate in tokens (bytes / 4)
before and after the result budget. Asserts nothing.

    python3 e2e/bench/result_sizes.py

The calls, through the real gateway against the HCP Terraform simulator:
- a 100-workspace page (the simulator's 25 seed workspaces plus 75 created
  for the run);
- a 500-resource state (the payment-gateway workspace's current state,
  padded with synthetic resources through the simulator's `/_sim/state-resources`
  control), raw download and the current state version with its outputs;
- the plan resource changes of the largest seed plan.

"Before" is a server whose budget is the maximum (`spec.results.maxBytes:
4194304`), "after" a server on the gateway default (64 KiB). Sizes are the
compact JSON of `structuredContent`; `text` is the size of the text block a
client that ignores `structuredContent` hands to the model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "e2e"))
sys.path.insert(0, str(ROOT / "e2e" / "tests"))

import mcpclient as mcp  # noqa: E402
from stack import Stack  # noqa: E402

ORG = "acme-corp"
PAYMENT_GATEWAY = "ws-pQ4mZ8rT2vXy6NbK"
NAMESPACE = "bench-results"
MAX = 4 * 1024 * 1024


def size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def serve(stack: Stack, name: str, **spec) -> str:
    stack.apply(stack.server_manifest(name, NAMESPACE, methods=["read", "observe"],
                                      state={"allowRawStateDownload": True}, **spec))
    return stack.wait_ready(name, NAMESPACE)["url"]


def prepare(stack: Stack, workspaces: int, resources: int) -> dict[str, str]:
    status, doc = stack.sim_call("GET", f"/api/v2/organizations/{ORG}/workspaces?page%5Bsize%5D=100")
    assert status == 200, status
    for i in range(len(doc["data"]), workspaces):
        status, _ = stack.sim_call("POST", f"/api/v2/organizations/{ORG}/workspaces", {
            "data": {"type": "workspaces", "attributes": {
                "name": f"bench-service-{i:03}", "description": "Service workspace created by the result-size benchmark.",
                "terraform-version": "1.9.5", "working-directory": "infra/prod"}}})
        assert status in (200, 201), status
    status, sv = stack.sim_call("GET", f"/api/v2/workspaces/{PAYMENT_GATEWAY}/current-state-version")
    assert status == 200, status
    sv_id = sv["data"]["id"]
    status, padded = stack.sim_call("PUT", "/_sim/state-resources", {"state_version_id": sv_id, "count": 0})
    missing = max(0, resources - padded["resources"])
    stack.sim_call("PUT", "/_sim/state-resources", {"state_version_id": sv_id, "count": missing})
    plan_id = None
    status, runs = stack.sim_call("GET", f"/api/v2/workspaces/{PAYMENT_GATEWAY}/runs")
    for run in (runs or {}).get("data", []):
        plan = ((run.get("relationships") or {}).get("plan") or {}).get("data") or {}
        if plan.get("id"):
            plan_id = plan["id"]
            break
    return {"state_version_id": sv_id, "plan_id": plan_id}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path(os.environ.get("TFCMCP_WORK", ROOT / "e2e" / ".work" / "bench-results")))
    parser.add_argument("--workspaces", type=int, default=100)
    parser.add_argument("--resources", type=int, default=500)
    args = parser.parse_args()

    if args.work.exists():
        shutil.rmtree(args.work)  # a previous run's port files would be read as this run's
    stack = Stack(args.work)
    try:
        stack.start()
        stack.create_namespace(NAMESPACE)
        stack.create_token_secret(NAMESPACE)
        ids = prepare(stack, args.workspaces, args.resources)
        before = serve(stack, "unbounded", results={"maxBytes": MAX})
        after = serve(stack, "default")
        calls = [
            (f"{args.workspaces}-workspace page", "list_all_hashicorp_terraform_cloud_workspaces",
             {"organization_name": ORG, "page_size": 100}),
            (f"{args.workspaces}-workspace page, fields name+terraform_version", "list_all_hashicorp_terraform_cloud_workspaces",
             {"organization_name": ORG, "page_size": 100, "fields": ["name", "terraform_version"]}),
            (f"{args.resources}-resource state, raw download", "hashicorp_terraform_cloud_state_versions_download",
             {"state_version_id": ids["state_version_id"]}),
            ("current state version", "get_single_hashicorp_terraform_cloud_current_state_version_by_id",
             {"workspace_id": PAYMENT_GATEWAY}),
        ]
        if ids["plan_id"]:
            calls.append(("plan resource changes", "hashicorp_terraform_cloud_plans_resource_changes", {"plan_id": ids["plan_id"]}))
        rows = []
        for label, tool, arguments in calls:
            full = mcp.call(before, tool, arguments)
            cut = mcp.call(after, tool, arguments)
            if not (full.ok and cut.ok):
                rows.append((label, f"error: {(full.text if not full.ok else cut.text)[:120]}"))
                continue
            b, a, t = size(full.data), size(cut.data), len(cut.text.encode())
            note = "whole"
            if cut.data.get("truncation"):
                cuts = cut.data["truncation"].get("summarised") or []
                if "returned" in cut.data:
                    note = f"{cut.data['returned']} of {cut.data['returned'] + cut.data['omitted']} items, next_cursor"
                elif cuts:
                    note = f"{cuts[0]['path']}: {cuts[0]['returned']} of {cuts[0]['total']}"
                else:
                    note = "truncated"
            rows.append((label, b, b // 4, a, a // 4, t, t // 4, note))
    finally:
        stack.stop_for_good()

    print()
    print("| call | before bytes | before ~tokens | after bytes | after ~tokens | text bytes | text ~tokens | after |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for row in rows:
        if len(row) == 2:
            print(f"| {row[0]} | {row[1]} |")
        else:
            print("| " + " | ".join(f"{c:,}" if isinstance(c, int) else c for c in row) + " |")
    print("\nbefore: budget 4 MiB; after: the default budget (64 KiB); tokens estimated as bytes / 4.")


if __name__ == "__main__":
    main()
