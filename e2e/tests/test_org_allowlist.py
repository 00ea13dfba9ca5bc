"""The organization allow-list (`tfc.organizations`) end to end: a server of
acme-corp refuses tools addressed by the id of a globex workspace before any
write reaches HCP Terraform (the simulator), and still works on its own
organization's workspaces."""

from __future__ import annotations

import mcpclient as mcp
from conftest import MINTED_TOKENS

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
GET_WS = "get_single_hashicorp_terraform_cloud_workspace_by_id"
LOCK = "hashicorp_terraform_cloud_workspaces_lock"
FORCE_UNLOCK = "hashicorp_terraform_cloud_workspaces_force_unlock"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
GLOBEX_APP = "ws-Gx2aN6dRk4Uw8JmC"


def serve_acme_only(stack, namespace, name="acme-only") -> str:
    spec = {"tfc": {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"},
                    "organizations": ["acme-corp"]}}
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def writes_since(stack, before: int) -> list[dict]:
    return [r for r in stack.sim_requests()[before:] if r["method"] in WRITE_METHODS]


def assert_refused_like_not_found(result, named: str):
    """Refused with the wording of a missing resource, saying nothing beyond
    what the caller named."""
    assert not result.ok, result
    assert "HTTP 404 Not Found" in result.text and "not found" in result.text, result.text
    assert "globex" not in result.text.replace(named, ""), result.text


def test_foreign_workspace_id_is_refused_before_any_write(stack, namespace):
    url = serve_acme_only(stack, namespace)
    # The simulator knows the workspace, in organization globex.
    status, doc = stack.sim_call("GET", f"/api/v2/workspaces/{GLOBEX_APP}")
    assert status == 200 and doc["data"]["relationships"]["organization"]["data"]["id"] == "globex"

    locked_before = doc["data"]["attributes"]["locked"]

    before = len(stack.sim_requests())
    for tool, args in [(FORCE_UNLOCK, {"workspace_id": GLOBEX_APP}),
                       (LOCK, {"workspace_id": GLOBEX_APP, "reason": "must not happen"}),
                       (GET_WS, {"workspace_id": GLOBEX_APP})]:
        assert_refused_like_not_found(mcp.call(url, tool, args), GLOBEX_APP)
    seen = stack.sim_requests()[before:]
    assert not [r for r in seen if r["method"] in WRITE_METHODS], seen
    assert not [r for r in seen if GLOBEX_APP in r["path"] and r["path"] != f"/api/v2/workspaces/{GLOBEX_APP}"], seen
    # The owner was looked up once, then remembered.
    assert len([r for r in seen if r["path"] == f"/api/v2/workspaces/{GLOBEX_APP}"]) <= 1, seen

    # The simulator's workspace is untouched.
    status, doc = stack.sim_call("GET", f"/api/v2/workspaces/{GLOBEX_APP}")
    assert status == 200 and doc["data"]["attributes"]["locked"] is locked_before


def test_own_workspace_id_works(stack, namespace):
    url = serve_acme_only(stack, namespace)
    listed = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "search_name": "feature-flags"})
    assert listed.ok, listed
    ws = next(w for w in listed.data["results"] if w["name"] == "feature-flags")

    before = len(stack.sim_requests())
    steps = [(FORCE_UNLOCK, {"workspace_id": ws["id"]})] if ws["locked"] else []
    steps += [(LOCK, {"workspace_id": ws["id"], "reason": "org allow-list e2e"}), (FORCE_UNLOCK, {"workspace_id": ws["id"]})]
    if ws["locked"]:
        steps.append((LOCK, {"workspace_id": ws["id"], "reason": "restore"}))
    for tool, args in steps:
        result = mcp.call(url, tool, args)
        assert result.ok, (tool, result)
        assert result.data["id"] == ws["id"]
    posts = [r["path"] for r in writes_since(stack, before)]
    assert posts == [f"/api/v2/workspaces/{ws['id']}/actions/{'lock' if t == LOCK else 'force-unlock'}" for t, _ in steps], posts


def test_foreign_organization_name_is_refused(stack, namespace):
    url = serve_acme_only(stack, namespace)
    before = len(stack.sim_requests())
    assert_refused_like_not_found(mcp.call(url, LIST_WS, {"organization_name": "globex"}), "/organizations/globex/workspaces")
    seen = stack.sim_requests()[before:]
    assert not [r for r in seen if "/organizations/globex" in r["path"]], seen
    # The same tool works for the allowed organization.
    assert mcp.call(url, LIST_WS, {"organization_name": "acme-corp"}).ok
