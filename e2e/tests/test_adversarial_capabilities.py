"""Capabilities that must not escape a server's filters (issue 7), through
the real gateway and operator against the simulator: temporary URLs in read
results, credential-minting tools, read-only `observe` tools apart from
destructive actions, and id arguments outside the path."""

from __future__ import annotations

import mcpclient as mcp
from conftest import MINTED_TOKENS

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
LIST_RUNS = "list_all_hashicorp_terraform_cloud_runs"
GET_PLAN = "get_single_hashicorp_terraform_cloud_plan_by_id"
GET_APPLY = "get_single_hashicorp_terraform_cloud_apply_by_id"
CURRENT_STATE = "get_single_hashicorp_terraform_cloud_current_state_version_by_id"
GET_STATE_VERSION = "get_single_hashicorp_terraform_cloud_state_version_by_id"
PLAN_LOGS = "hashicorp_terraform_cloud_plans_logs"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
ORG_TOKEN = "create_a_hashicorp_terraform_cloud_organization_token"
DESTRUCTIVE = {
    "hashicorp_terraform_cloud_runs_apply",
    "hashicorp_terraform_cloud_runs_discard",
    "hashicorp_terraform_cloud_runs_cancel",
    "hashicorp_terraform_cloud_workspaces_force_unlock",
    "hashicorp_terraform_cloud_workspaces_force_delete",
}
URL_KEYS = ("upload_url", "log_read_url", "state_download_url")
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


def serve(stack, namespace, name, **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def url_keys(value, path="") -> list[str]:
    """Every key (at any depth) that names a temporary URL."""
    found = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.replace("-", "_").endswith(URL_KEYS):
                found.append(f"{path}/{key}")
            found += url_keys(inner, f"{path}/{key}")
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            found += url_keys(inner, f"{path}/{i}")
    return found


def seeded_run(url, workspace_name="internal-vpn") -> dict:
    listed = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "search_name": workspace_name})
    assert listed.ok, listed
    ws = next(w for w in listed.data["results"] if w["name"] == workspace_name)
    runs = mcp.call(url, LIST_RUNS, {"workspace_id": ws["id"]})
    assert runs.ok, runs
    run = next(r for r in runs.data["results"] if r.get("plan_id"))
    return {"workspace": ws, "run": run}


def test_read_server_results_carry_no_temporary_urls(stack, namespace):
    # Raw state downloads allowed: even so, no upload URL reaches the model.
    url = serve(stack, namespace, "reader", methods=["read"], state={"allowRawStateDownload": True})
    seen = seeded_run(url)
    # The simulator does hand out a log URL for the plan.
    status, raw_plan = stack.sim_call("GET", f"/api/v2/plans/{seen['run']['plan_id']}")
    assert status == 200 and raw_plan["data"]["attributes"]["log-read-url"]

    plan = mcp.call(url, GET_PLAN, {"plan_id": seen["run"]["plan_id"]})
    assert plan.ok, plan
    assert plan.data["id"] == seen["run"]["plan_id"] and plan.data["status"]
    assert "log_read_url" not in plan.data, plan.data
    apply = mcp.call(url, GET_APPLY, {"apply_id": seen["run"]["apply_id"]})
    assert apply.ok, apply
    assert "log_read_url" not in apply.data, apply.data

    state = mcp.call(url, CURRENT_STATE, {"workspace_id": seen["workspace"]["id"]})
    assert state.ok, state
    assert not [k for k in url_keys(state.data) if "upload" in k], state.data
    version = mcp.call(url, GET_STATE_VERSION, {"state_version_id": state.data["id"]})
    assert version.ok, version
    assert not [k for k in url_keys(version.data) if "upload" in k], version.data
    # What raw state allows stays (the state download URLs).
    assert version.data.get("hosted_state_download_url"), version.data

    # Without raw state and without the log tools: no temporary URL at all,
    # in any result, list or get.
    plain = serve(stack, namespace, "plain-reader", methods=["read"])
    for tool, args in [(GET_PLAN, {"plan_id": seen["run"]["plan_id"]}),
                       (GET_APPLY, {"apply_id": seen["run"]["apply_id"]}),
                       (CURRENT_STATE, {"workspace_id": seen["workspace"]["id"]}),
                       (GET_STATE_VERSION, {"state_version_id": state.data["id"]}),
                       (LIST_RUNS, {"workspace_id": seen["workspace"]["id"]})]:
        result = mcp.call(plain, tool, args)
        assert result.ok, (tool, result)
        assert url_keys(result.data) == [], (tool, result.data)


def test_read_and_observe_watches_runs_without_destruction(stack, namespace):
    url = serve(stack, namespace, "observer", methods=["read", "observe"])
    tools = mcp.list_tools(url)
    names = {t.name for t in tools}
    assert {RUN_WAIT, PLAN_LOGS, GET_PLAN, LIST_RUNS} <= names, names
    assert not names & DESTRUCTIVE and CREATE_RUN not in names, names
    assert all(t.annotations and t.annotations.readOnlyHint for t in tools), [
        t.name for t in tools if not (t.annotations and t.annotations.readOnlyHint)]

    seen = seeded_run(url)
    before = len(stack.sim_requests())
    logs = mcp.call(url, PLAN_LOGS, {"plan_id": seen["run"]["plan_id"]})
    assert logs.ok, logs
    assert isinstance(logs.data["log"], str)
    waited = mcp.call(url, RUN_WAIT, {"run_id": seen["run"]["id"], "timeout_seconds": 5})
    assert waited.ok, waited
    # With the log tool allowed, the plan's log URL is no secret any more.
    plan = mcp.call(url, GET_PLAN, {"plan_id": seen["run"]["plan_id"]})
    assert plan.ok and plan.data.get("log_read_url"), plan
    # Destructive actions are refused like unknown tools; nothing was written.
    hidden = mcp.call_error(url, "hashicorp_terraform_cloud_runs_discard", {"run_id": seen["run"]["id"]})
    unknown = mcp.call_error(url, "no_such_tool", {"run_id": seen["run"]["id"]})
    assert hidden.error.code == unknown.error.code
    writes = [r for r in stack.sim_requests()[before:] if r["method"] in WRITE_METHODS]
    assert writes == [], writes

    # `read` alone stays list + get.
    reader = serve(stack, namespace, "reader-only", methods=["read"])
    assert not mcp.tool_names(reader) & {RUN_WAIT, PLAN_LOGS}


def test_credential_minting_needs_an_explicit_include(stack, namespace):
    url = serve(stack, namespace, "everything", methods=["read", "write", "custom"])
    assert ORG_TOKEN not in mcp.tool_names(url)
    before = len(stack.sim_requests())
    hidden = mcp.call_error(url, ORG_TOKEN, {"organization_name": "acme-corp"})
    unknown = mcp.call_error(url, "no_such_tool", {"organization_name": "acme-corp"})
    assert hidden.error.code == unknown.error.code
    assert hidden.error.message.replace(ORG_TOKEN, "X") == unknown.error.message.replace("no_such_tool", "X")
    assert not [r for r in stack.sim_requests()[before:] if "authentication-token" in r["path"]]
    status = stack.get("tfcmcpserver", "everything", namespace)["status"]
    assert status["toolCount"] == len(mcp.tool_names(url)), status

    included = serve(stack, namespace, "minter", methods=["read", "write", "custom"], tools={"include": [ORG_TOKEN, LIST_WS]})
    tools = {t.name: t for t in mcp.list_tools(included)}
    assert set(tools) == {ORG_TOKEN, LIST_WS}, set(tools)
    assert tools[ORG_TOKEN].annotations.destructiveHint is True
    assert tools[ORG_TOKEN].annotations.readOnlyHint is False


def test_ids_outside_the_path_are_checked_before_any_call(stack, namespace):
    url = serve(stack, namespace, "runner", methods=["read", "create"])
    seen = seeded_run(url)
    ws_id = seen["workspace"]["id"]
    before = len(stack.sim_requests())
    long_value = "run-" + "A" * 5000
    cases = [
        ({"workspace_id": ws_id, "configuration_version_id": seen["run"]["id"]}, "configuration_version_id"),
        ({"workspace_id": ws_id, "configuration_version_id": long_value}, "configuration_version_id"),
        ({"workspace_id": seen["run"]["id"]}, "workspace_id"),
        ({"workspace_id": f"{ws_id}/../../organizations/globex"}, "workspace_id"),
    ]
    for args, named in cases:
        result = mcp.call(url, CREATE_RUN, args)
        assert not result.ok, (args, result)
        assert f"`{named}`" in result.text, result.text
        assert "A" * 100 not in result.text, "the whole value was echoed"
    reached = [r for r in stack.sim_requests()[before:] if r["method"] in WRITE_METHODS or "/runs" in r["path"]]
    assert reached == [], reached

    # A well-formed id still works.
    created = mcp.call(url, CREATE_RUN, {"workspace_id": ws_id, "message": "ids checked"})
    assert created.ok, created
