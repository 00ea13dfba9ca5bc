"""Answers sized for a model (issue 8): `fields` projection and `include` of
related records on list and get tools, the plan drill-down (one resource's
before/after, drift, output changes, sensitive values masked), and logs read
by part or searched, ANSI codes stripped and JSON lines rendered. Through the
real gateway and operator, against the HCP Terraform simulator."""

from __future__ import annotations

import json

import mcpclient as mcp
from conftest import MINTED_TOKENS

ORG = "acme-corp"
LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
GET_WS = "get_single_hashicorp_terraform_cloud_workspace_by_id"
GET_RUN = "get_single_hashicorp_terraform_cloud_run_by_id"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
PLAN_CHANGES = "hashicorp_terraform_cloud_plans_resource_changes"
PLAN_LOGS = "hashicorp_terraform_cloud_plans_logs"
# Every sensitive value of a simulated plan starts with this.
SECRET = "SIMSECRET"


def serve(stack, namespace, name="srv", **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def workspace_id(url, name) -> str:
    result = mcp.call(url, LIST_WS, {"organization_name": ORG, "search_name": name})
    assert result.ok, result
    return next(w["id"] for w in result.data["results"] if w["name"] == name)


def planned_run(url, ws, message) -> dict:
    run = mcp.call(url, CREATE_RUN, {"workspace_id": ws, "message": message, "plan_only": True})
    assert run.ok, run
    waited = mcp.call(url, RUN_WAIT, {"run_id": run.data["id"], "poll_interval_seconds": 1, "timeout_seconds": 60})
    assert waited.ok and waited.data["status"] == "planned_and_finished", waited
    return waited.data


def assert_no_secret(*answers):
    for a in answers:
        text = a.text + json.dumps(a.data)
        assert SECRET not in text, text[:2000]


def test_fields_keep_only_what_is_asked_and_go_upstream(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    schema = next(t for t in mcp.list_tools(url) if t.name == LIST_WS).inputSchema
    assert "fields" in schema["properties"] and "include" in schema["properties"], schema
    assert schema["properties"]["fields"]["examples"], schema["properties"]["fields"]
    before = len(stack.sim_requests())
    page = mcp.call(url, LIST_WS, {"organization_name": ORG, "page_size": 5, "fields": ["name", "terraform_version", "nope"]})
    assert page.ok, page
    for w in page.data["results"]:
        assert set(w) == {"id", "type", "name", "terraform_version"}, w
    assert page.data["fields_missing"] == ["nope"], page.data
    sent = [r for r in stack.sim_requests()[before:] if r["path"] == f"/api/v2/organizations/{ORG}/workspaces"]
    assert any("fields%5Bworkspaces%5D=name%2Cterraform-version" in r["query"] or "fields[workspaces]=name,terraform-version" in r["query"]
               for r in sent), sent
    # The cursor continues with the whole records.
    more = mcp.call(url, LIST_WS, {"organization_name": ORG, "next_cursor": page.data["next_cursor"]})
    assert more.ok and "execution_mode" in more.data["results"][0], more

    # Names that are not attribute names never reach the simulator.
    before = len(stack.sim_requests())
    for bad in (["name&filter[x]="], ["../"], ["NAME"], ["a" * 100]):
        refused = mcp.call(url, LIST_WS, {"organization_name": ORG, "fields": bad})
        assert not refused.ok and "fields" in refused.text, refused
    assert len(stack.sim_requests()) == before


def test_include_brings_related_records_in_one_call(stack, namespace):
    tfc = {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"}, "organizations": [ORG]}
    url = serve(stack, namespace, methods=["read"], tfc=tfc)
    ws = workspace_id(url, "prod-database-cluster")
    got = mcp.call(url, GET_WS, {"workspace_id": ws, "include": ["current_run", "current_state_version", "project"]})
    assert got.ok, got
    types = sorted({i["type"] for i in got.data["included"]})
    assert types == ["projects", "runs", "state-versions"], types
    state = next(i for i in got.data["included"] if i["type"] == "state-versions")
    # Temporary download URLs stay out of included records too.
    assert not any(k.endswith("download_url") for k in state), state

    run = mcp.call(url, GET_RUN, {"run_id": got.data["current_run_id"], "include": ["plan", "apply", "cost_estimate"],
                                  "fields": ["status", "plan_id"]})
    assert run.ok, run
    assert set(run.data) >= {"id", "status", "plan_id", "included"} and "message" not in run.data, run.data
    assert {i["type"] for i in run.data["included"]} == {"plans", "applies"}, run.data["included"]
    assert run.data["included"][0]["id"] == run.data["plan_id"]

    before = len(stack.sim_requests())
    for bad in (["plan,apply"], ["workspace&include=organization"], ["plan"] * 1000, ["organization"]):
        refused = mcp.call(url, GET_RUN, {"run_id": got.data["current_run_id"], "include": bad})
        assert not refused.ok and "include" in refused.text, refused
    assert len(stack.sim_requests()) == before


def test_plan_drill_down_masks_every_sensitive_value(stack, namespace):
    url = serve(stack, namespace, methods=["read", "write", "observe"])
    ws = workspace_id(url, "frontend-cdn")
    run = planned_run(url, ws, "[sim-log:json] drill down")
    plan_id = run["plan_id"]

    summary = mcp.call(url, PLAN_CHANGES, {"plan_id": plan_id})
    assert summary.ok, summary
    assert summary.data["drift"]["count"] == 1 and summary.data["drift"]["resources"][0]["address"] == "null_resource.drifted"
    outputs = summary.data["output_changes"]
    assert outputs["admin_password"]["after"] == "<sensitive>" and outputs["admin_password"]["sensitive"] is True, outputs
    assert outputs["endpoint"]["after"].endswith(".example.com"), outputs

    one = mcp.call(url, PLAN_CHANGES, {"plan_id": plan_id, "address": "null_resource.this"})
    assert one.ok, one
    assert one.data["change"]["after"]["triggers"]["token"] == "<sensitive>", one.data
    assert one.data["change"]["after"]["triggers"]["run"] == run["id"]
    drifted = mcp.call(url, PLAN_CHANGES, {"plan_id": plan_id, "address": "null_resource.drifted"})
    assert drifted.ok and drifted.data["drift"]["before"]["triggers"]["owner"] == "platform-team", drifted
    missing = mcp.call(url, PLAN_CHANGES, {"plan_id": plan_id, "address": "null_resource.thsi"})
    assert not missing.ok and "null_resource.this" in missing.text, missing
    assert_no_secret(summary, one, drifted, missing)

    # The JSON-lines log reads as text.
    log = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id})
    assert log.ok, log
    assert log.data["format"] == "json-lines", log.data
    assert "[warn] Warning: Deprecated attribute" in log.data["log"] and "(main.tf:7)" in log.data["log"], log.data["log"]
    assert '"@message"' not in log.data["log"]


def test_logs_by_part_and_search_over_a_big_log(stack, namespace):
    url = serve(stack, namespace, methods=["read", "write", "observe"], results={"maxBytes": 16384})
    ws = workspace_id(url, "frontend-cdn")
    plan_id = planned_run(url, ws, "[sim-log:big] a long refresh")["plan_id"]

    tail = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, "max_bytes": 262144})
    assert tail.ok, tail
    text = tail.data["log"]
    assert "\x1b" not in text and "Plan: 1 to add" in text.splitlines()[-1], text[-200:]
    assert len(tail.text.encode()) <= 16384 and "truncation" not in tail.data, "the tool fits the budget itself"
    assert tail.data["total_bytes"] > 5_000_000 and tail.data["truncated"] is True

    head = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, "from": "start", "max_bytes": 2048})
    assert head.ok and head.data["log"].startswith("Terraform v"), head
    part = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, "offset": head.data["next_offset"], "max_bytes": 500})
    assert part.ok and part.data["range"]["start"] == head.data["next_offset"], part
    past = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, "offset": tail.data["total_bytes"] + 1})
    assert past.ok and past.data["log"] == "" and "past the end" in past.data["note"], past
    for bad in ({"offset": -5}, {"offset": 10**15}, {"max_bytes": 10**9}, {"from": "start", "search": "x"}):
        refused = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, **bad})
        assert not refused.ok, (bad, refused)

    found = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, "search": "needle-in-THE-middle"})
    assert found.ok, found
    assert found.data["match_count"] == 1 and found.data["matches"][0]["line"] > 50_000, found.data
    assert found.data["matches"][0]["text"].startswith("NEEDLE-IN-THE-MIDDLE")
    many = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, "search": "refreshing", "max_matches": 200})
    assert many.ok and many.data["matches_truncated"] is True and many.data["match_count"] >= 100_000, many.data.get("match_count")
    assert len(many.text.encode()) <= 16384
    bomb = mcp.call(url, PLAN_LOGS, {"plan_id": plan_id, "search": "(a+)+$" + "a" * 100})
    assert bomb.ok and bomb.data["match_count"] == 0, bomb
