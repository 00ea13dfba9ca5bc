"""Correct answers end to end (issue 8, "Correctness first"): cursors that
carry their query, runs_wait stops that say why and what to call next, and
sensitive state attributes masked in raw state downloads. Through the real
gateway and operator, against the HCP Terraform simulator."""

from __future__ import annotations

import mcpclient as mcp
from conftest import MINTED_TOKENS

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
APPLY_RUN = "hashicorp_terraform_cloud_runs_apply"
DISCARD_RUN = "hashicorp_terraform_cloud_runs_discard"
CURRENT_STATE = "get_single_hashicorp_terraform_cloud_current_state_version_by_id"
STATE_DOWNLOAD = "hashicorp_terraform_cloud_state_versions_download"
# The simulator's seed: the database cluster's master password is a
# provider-marked sensitive attribute (and a sensitive output).
DB_PASSWORD = "db-master-4b7e19c2a8d5f360"


def serve(stack, namespace, name="srv", **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def workspace_id(url, name, org="acme-corp") -> str:
    result = mcp.call(url, LIST_WS, {"organization_name": org, "search_name": name})
    assert result.ok, result
    return next(w["id"] for w in result.data["results"] if w["name"] == name)


def test_paging_with_cursors_alone_returns_every_workspace_once(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    status, doc = stack.sim_call("GET", "/api/v2/organizations/acme-corp/workspaces?page%5Bsize%5D=100")
    assert status == 200
    expected = sorted(w["id"] for w in doc["data"])
    assert len(expected) > 7 * 2, "the seed has several pages of 7"

    page = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "page_size": 7})
    assert page.ok, page
    seen = [w["id"] for w in page.data["results"]]
    pages = 1
    while page.data["next_cursor"]:
        page = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "next_cursor": page.data["next_cursor"]})
        assert page.ok, page
        assert len(page.data["results"]) <= 7
        seen += [w["id"] for w in page.data["results"]]
        pages += 1
        assert pages < 50
    assert len(seen) == len(set(seen)), "no workspace twice"
    assert sorted(seen) == expected, "no workspace missing"

    # A filtered listing keeps its filter through the cursor.
    page = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "page_size": 1, "search_name": "ing"})
    assert page.ok, page
    names = [w["name"] for w in page.data["results"]]
    while page.data["next_cursor"]:
        page = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "next_cursor": page.data["next_cursor"]})
        assert page.ok, page
        names += [w["name"] for w in page.data["results"]]
    assert len(names) > 2 and all("ing" in n for n in names), names


def test_cursor_with_another_filter_is_a_clear_error(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    page = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "page_size": 3})
    assert page.ok and page.data["next_cursor"], page
    before = len(stack.sim_requests())
    wrong = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "search_name": "prod",
                                    "next_cursor": page.data["next_cursor"]})
    assert not wrong.ok, wrong
    assert "next_cursor" in wrong.text and "search_name" in wrong.text, wrong
    garbage = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "next_cursor": "page-2"})
    assert not garbage.ok and "next_cursor" in garbage.text, garbage
    assert len(stack.sim_requests()) == before, "refused before any upstream call"


def test_runs_wait_stops_at_confirmation_and_names_the_next_tool(stack, namespace):
    url = serve(stack, namespace)
    ws = workspace_id(url, "frontend-cdn")
    run = mcp.call(url, CREATE_RUN, {"workspace_id": ws, "message": "waits for a human"})
    assert run.ok, run
    waited = mcp.call(url, RUN_WAIT, {"run_id": run.data["id"], "poll_interval_seconds": 1, "timeout_seconds": 60})
    assert waited.ok, waited
    assert waited.data["status"] == "planned", waited.data
    assert "confirmation" in waited.data["stopped_because"], waited.data
    assert waited.data["wait"]["needs_action"] is True and waited.data["wait"]["timed_out"] is False
    assert {APPLY_RUN, DISCARD_RUN} <= set(waited.data["next_tools"]), waited.data
    # The named tool does move the run on.
    discarded = mcp.call(url, DISCARD_RUN, {"run_id": run.data["id"]})
    assert discarded.ok, discarded


def test_raw_state_download_masks_sensitive_resource_attributes(stack, namespace):
    url = serve(stack, namespace, methods=["read", "observe"], state={"allowRawStateDownload": True})
    ws = workspace_id(url, "prod-database-cluster")
    current = mcp.call(url, CURRENT_STATE, {"workspace_id": ws})
    assert current.ok, current
    # The simulator's state does hold the password, marked sensitive.
    status, sv = stack.sim_call("GET", f"/api/v2/state-versions/{current.data['id']}")
    assert status == 200

    download = mcp.call(url, STATE_DOWNLOAD, {"state_version_id": current.data["id"]})
    assert download.ok, download
    assert DB_PASSWORD not in download.text and DB_PASSWORD not in str(download.data), "sensitive attribute leaked"
    assert download.data["sensitive_values_masked"] >= 2, download.data  # the attribute and the output
    state = download.data["state"]
    if download.data["format"] == "json":
        resources = state["values"]["root_module"]["resources"]
        cluster = next(r for r in resources if r["type"] == "aws_rds_cluster")
        assert cluster["values"]["master_password"] == "<sensitive>"
        assert cluster["values"]["master_username"] == "app", "other attributes stay"
    else:
        cluster = next(r for r in state["resources"] if r["type"] == "aws_rds_cluster")
        assert cluster["instances"][0]["attributes"]["master_password"] == "<sensitive>"
