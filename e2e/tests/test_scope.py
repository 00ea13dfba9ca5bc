"""Project and workspace scope (`spec.scope`) end to end, through an MCP
client, on the real control plane against the simulator: a server pinned
to one workspace cannot read, run, lock or change another, by name or by
any id (runs, plans, applies, configuration versions, state versions and
their outputs, variables), and lists only its own; a server pinned to a
project sees only that project's workspaces and creates workspaces only
there; a tag selector works; no scope changes nothing; a scope without
exactly one organization is Ready=False."""

from __future__ import annotations

import json
import time
import uuid

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import wait_for

ORG = "acme-corp"
VPN = "ws-Vn3kR7sLq2Wd9HxA"  # internal-vpn: in scope
CORE = "ws-Cn6wB2pKx9Ls3TdE"  # core-network: outside
DATABASE = "ws-Db5hM1qVz7Yc8PfS"  # prod-database-cluster, tagged `database`
LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
GET_WS = "get_single_hashicorp_terraform_cloud_workspace_by_id"
CREATE_WS = "create_a_hashicorp_terraform_cloud_workspace"
LIST_RUNS = "list_all_hashicorp_terraform_cloud_runs"
LIST_PROJECTS = "list_all_hashicorp_terraform_cloud_projects"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")


# One MCP call is three or four HTTP requests (initialize, initialized, the
# call); pace them under the gateway's per-server rate (20/s, burst 40).
PACE_SECONDS = 0.25


def call(url, tool, args):
    time.sleep(PACE_SECONDS)
    return mcp.call(url, tool, args)


def call_error(url, tool, args):
    time.sleep(PACE_SECONDS)
    return mcp.call_error(url, tool, args)


def tool_names(url):
    time.sleep(PACE_SECONDS)
    return mcp.tool_names(url)


def serve(stack, namespace, name, scope, organizations=(ORG,)) -> str:
    spec = {"tfc": {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"},
                    "organizations": list(organizations)},
            "methods": ["read", "write", "custom"]}
    if scope is not None:
        spec["scope"] = scope
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def sim_get(stack, path):
    status, doc = stack.sim_call("GET", path)
    assert status == 200, (path, status, doc)
    return doc


def assert_not_found(result, what):
    assert not result.ok, (what, result)
    assert "HTTP 404 Not Found" in result.text and "not found" in result.text, (what, result.text)
    assert "scope" not in result.text, (what, result.text)


def ids(result) -> list[str]:
    assert result.ok, result
    return [r["id"] for r in result.data["results"]]


def foreign_ids(stack, ws_id) -> dict:
    """Ids of everything in a workspace, read straight from the simulator."""
    run = sim_get(stack, f"/api/v2/workspaces/{ws_id}/runs")["data"][0]
    rels = run["relationships"]
    sv = sim_get(stack, f"/api/v2/workspaces/{ws_id}/current-state-version")["data"]
    outputs = sv["relationships"].get("outputs", {}).get("data") or []
    variables = sim_get(stack, f"/api/v2/workspaces/{ws_id}/vars")["data"]
    return {
        "run": run["id"],
        "plan": (rels.get("plan") or {}).get("data", {}).get("id"),
        "apply": (rels.get("apply") or {}).get("data", {}).get("id"),
        "cv": ((rels.get("configuration-version") or {}).get("data") or {}).get("id"),
        "sv": sv["id"],
        "output": outputs[0]["id"] if outputs else None,
        "var": variables[0]["id"] if variables else None,
    }


def test_pinned_to_one_workspace(stack, namespace):
    url = serve(stack, namespace, "one-workspace", {"workspaces": ["internal-vpn"]})
    other = foreign_ids(stack, CORE)
    assert all(other[k] for k in ("run", "plan", "apply", "sv", "output")), other
    locked_before = sim_get(stack, f"/api/v2/workspaces/{CORE}")["data"]["attributes"]["locked"]

    before = len(stack.sim_requests())
    refused = [
        (GET_WS, {"workspace_id": CORE}),
        (GET_WS, {"organization_name": ORG, "workspace_name": "core-network"}),
        ("hashicorp_terraform_cloud_workspaces_lock", {"workspace_id": CORE, "reason": "must not happen"}),
        ("hashicorp_terraform_cloud_workspaces_force_unlock", {"workspace_id": CORE}),
        ("update_a_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": CORE, "description": "owned"}),
        ("create_a_hashicorp_terraform_cloud_run", {"workspace_id": CORE, "message": "must not happen"}),
        (LIST_RUNS, {"workspace_id": CORE}),
        ("list_all_hashicorp_terraform_cloud_workspace_variables", {"workspace_id": CORE}),
        ("create_a_hashicorp_terraform_cloud_workspace_variable", {"workspace_id": CORE, "key": "x", "value": "y", "category": "env"}),
        ("get_single_hashicorp_terraform_cloud_run_by_id", {"run_id": other["run"]}),
        ("hashicorp_terraform_cloud_runs_apply", {"run_id": other["run"]}),
        ("hashicorp_terraform_cloud_runs_discard", {"run_id": other["run"]}),
        ("get_single_hashicorp_terraform_cloud_plan_by_id", {"plan_id": other["plan"]}),
        ("get_single_hashicorp_terraform_cloud_apply_by_id", {"apply_id": other["apply"]}),
        ("get_single_hashicorp_terraform_cloud_state_version_by_id", {"state_version_id": other["sv"]}),
        ("get_single_hashicorp_terraform_cloud_state_version_output_by_id", {"state_version_output_id": other["output"]}),
        ("get_single_hashicorp_terraform_cloud_current_state_version_by_id", {"workspace_id": CORE}),
    ]
    if other["cv"]:
        refused.append(("get_single_hashicorp_terraform_cloud_configuration_version_by_id",
                        {"configuration_version_id": other["cv"]}))
    if other["var"]:
        refused.append(("update_a_hashicorp_terraform_cloud_workspace_variable_by_id",
                        {"workspace_id": CORE, "variable_id": other["var"], "value": "owned"}))
        refused.append(("delete_a_hashicorp_terraform_cloud_workspace_variable_by_id",
                        {"workspace_id": CORE, "variable_id": other["var"]}))
    for tool, args in refused:
        assert_not_found(call(url, tool, args), tool)
    # Organization-wide tools cannot be confined to a workspace: not listed, and refused.
    names = tool_names(url)
    assert LIST_WS in names and "hashicorp_terraform_cloud_runs_apply" in names
    for tool, args in [("list_all_hashicorp_terraform_cloud_organization_policies", {"organization_name": ORG}),
                       ("list_all_hashicorp_terraform_cloud_explorer_results", {"organization_name": ORG, "view_type": "workspaces"}),
                       ("list_all_hashicorp_terraform_cloud_teams", {"organization_name": ORG}),
                       ("get_single_hashicorp_terraform_cloud_organization_by_id", {"organization_name": ORG})]:
        assert tool not in names, tool
        assert "Unknown tool" in str(call_error(url, tool, args)), tool
    seen = stack.sim_requests()[before:]
    assert not [r for r in seen if r["method"] in WRITE_METHODS], seen
    assert not [r for r in seen if "/explorer" in r["path"] or "/policies" in r["path"] or "/teams" in r["path"]], seen
    assert sim_get(stack, f"/api/v2/workspaces/{CORE}")["data"]["attributes"]["locked"] is locked_before

    # No workspace can be created: a workspace-only scope has no project.
    default_project = sim_get(stack, f"/api/v2/workspaces/{CORE}")["data"]["relationships"]["project"]["data"]["id"]
    result = call(url, CREATE_WS, {"organization_name": ORG, "name": "escape", "project_id": default_project})
    assert_not_found(result, CREATE_WS)
    result = call(url, CREATE_WS, {"organization_name": ORG, "name": "escape"})
    assert not result.ok and "project_id" in result.text, result

    # Its own workspace: by id and name, lock and unlock, its runs and state.
    assert call(url, GET_WS, {"workspace_id": VPN}).data["name"] == "internal-vpn"
    assert call(url, GET_WS, {"organization_name": ORG, "workspace_name": "internal-vpn"}).data["id"] == VPN
    mine = foreign_ids(stack, VPN)
    assert call(url, "get_single_hashicorp_terraform_cloud_run_by_id", {"run_id": mine["run"]}).ok
    assert call(url, "get_single_hashicorp_terraform_cloud_state_version_by_id", {"state_version_id": mine["sv"]}).ok
    assert call(url, "get_single_hashicorp_terraform_cloud_plan_by_id", {"plan_id": mine["plan"]}).ok
    lock = call(url, "hashicorp_terraform_cloud_workspaces_lock", {"workspace_id": VPN, "reason": "scope e2e"})
    assert lock.ok, lock
    assert call(url, "hashicorp_terraform_cloud_workspaces_unlock", {"workspace_id": VPN}).ok

    # Lists hold only the scope.
    assert ids(call(url, LIST_WS, {"organization_name": ORG, "page_size": 100})) == [VPN]
    runs = call(url, LIST_RUNS, {"organization_name": ORG, "page_size": 100})
    assert runs.ok and runs.data["results"], runs
    assert {r["workspace_id"] for r in runs.data["results"]} == {VPN}, runs.data
    assert "total_count" not in runs.data["pagination"], runs.data["pagination"]
    assert ids(call(url, LIST_PROJECTS, {"organization_name": ORG})) == []


def test_pinned_to_a_project(stack, namespace):
    name = f"scope-{uuid.uuid4().hex[:8]}"
    status, doc = stack.sim_call("POST", f"/api/v2/organizations/{ORG}/projects",
                                 {"data": {"type": "projects", "attributes": {"name": name}}})
    assert status == 201, doc
    project = doc["data"]["id"]
    default_project = sim_get(stack, f"/api/v2/workspaces/{CORE}")["data"]["relationships"]["project"]["data"]["id"]
    url = serve(stack, namespace, "one-project", {"projects": [name]})

    assert ids(call(url, LIST_WS, {"organization_name": ORG, "page_size": 100})) == []
    before = len(stack.sim_requests())
    result = call(url, CREATE_WS, {"organization_name": ORG, "name": f"{name}-out", "project_id": default_project})
    assert_not_found(result, "create in the default project")
    assert not call(url, CREATE_WS, {"organization_name": ORG, "name": f"{name}-none"}).ok
    assert_not_found(call(url, GET_WS, {"workspace_id": CORE}), GET_WS)
    assert not [r for r in stack.sim_requests()[before:] if r["method"] in WRITE_METHODS]

    created = call(url, CREATE_WS, {"organization_name": ORG, "name": f"{name}-app", "project_id": project})
    assert created.ok, created
    ws = created.data["id"]
    assert created.data["project_id"] == project
    assert ids(call(url, LIST_WS, {"organization_name": ORG, "page_size": 100})) == [ws]
    assert ids(call(url, LIST_PROJECTS, {"organization_name": ORG})) == [project]
    assert call(url, "get_single_hashicorp_terraform_cloud_project_by_id", {"project_id": project}).ok
    assert_not_found(call(url, "get_single_hashicorp_terraform_cloud_project_by_id", {"project_id": default_project}), "project")
    # Moving its workspace out of the scope is refused too.
    moved = call(url, "update_a_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": ws, "project_id": default_project})
    assert_not_found(moved, "move")
    assert sim_get(stack, f"/api/v2/workspaces/{ws}")["data"]["relationships"]["project"]["data"]["id"] == project


def test_tag_selector(stack, namespace):
    url = serve(stack, namespace, "tagged", {"workspaceTags": ["database"]})
    assert ids(call(url, LIST_WS, {"organization_name": ORG, "page_size": 100})) == [DATABASE]
    assert call(url, GET_WS, {"workspace_id": DATABASE}).ok
    assert_not_found(call(url, GET_WS, {"workspace_id": VPN}), "untagged")


def test_no_scope_is_unchanged(stack, namespace):
    url = serve(stack, namespace, "unscoped", None)
    listed = ids(call(url, LIST_WS, {"organization_name": ORG, "page_size": 100}))
    assert VPN in listed and CORE in listed and DATABASE in listed
    assert call(url, GET_WS, {"workspace_id": CORE}).ok
    assert call(url, "list_all_hashicorp_terraform_cloud_organization_policies", {"organization_name": ORG}).ok


def test_scope_needs_one_organization(stack, namespace):
    spec = {"tfc": {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"}},
            "scope": {"workspaces": ["internal-vpn"]}}
    stack.apply(stack.server_manifest("no-org", namespace, **spec))
    wait_for("Ready=False/ScopeNeedsOneOrganization",
             lambda: (stack.condition("no-org", namespace) or {}).get("reason") == "ScopeNeedsOneOrganization", timeout=30)
    condition = stack.condition("no-org", namespace)
    assert condition["status"] == "False" and "exactly" in condition["message"], condition


def test_empty_or_malformed_scope_is_refused(stack, namespace):
    spec = {"tfc": {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"},
                    "organizations": [ORG]}, "scope": {}}
    result = stack.kubectl("apply", "-f", "-", input=json.dumps(stack.server_manifest("empty-scope", namespace, **spec)),
                           check=False)
    assert result.returncode != 0 and "scope must name at least one" in result.stderr, result.stderr
    spec["scope"] = {"workspaces": ["ws-../etc"]}
    stack.apply(stack.server_manifest("bad-scope", namespace, **spec))
    wait_for("Ready=False/InvalidScope",
             lambda: (stack.condition("bad-scope", namespace) or {}).get("reason") == "InvalidScope", timeout=30)
    # Nothing is served: no access Secret was written.
    assert stack.get("secret", "bad-scope-mcp", namespace) is None
