"""Variable sets and their variables, run tasks, a run's task stages with
their override, policy evaluations, and state rollback (issue 8, "Missing
API areas"), end to end through a real MCP client, the gateway and the
operator against the HCP Terraform simulator. Attacker's view: secrets
(run task HMAC keys, sensitive set variables) never come back, and a
server of acme-corp cannot reach globex's sets, tasks and stages."""

from __future__ import annotations

import mcpclient as mcp
from conftest import MINTED_TOKENS

ORG = "acme-corp"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
# The simulator's seed.
VARSET_AWS = "varset-AcmeAws000000001"
VARSET_GLOBEX = "varset-GlobexShared0001"
VAR_GLOBEX_TOKEN = "var-GlobexToken000001"
TASK_GLOBEX = "task-GlobexScanner0001"
ACME_PROJECT = "prj-AcmeDefault0001"
WS_PAYMENT_GATEWAY = "ws-pQ4mZ8rT2vXy6NbK"
SECRETS = ["varset-secret-7c1e5a9b3d2f4068", "varset-secret-globex-52d8e0a1", "hmac-key-3e8b1f6a0c9d2754",
           "hmac-key-globex-91c4d7e2"]
NEW_SECRETS = ["e2e-varset-secret-value-1", "e2e-varset-secret-value-2", "e2e-run-task-hmac-1", "e2e-run-task-hmac-2"]

T = {  # tool names
    "list_sets": "list_all_hashicorp_terraform_cloud_variable_sets",
    "create_set": "create_a_hashicorp_terraform_cloud_variable_set",
    "delete_set": "delete_a_hashicorp_terraform_cloud_variable_set_by_id",
    "get_set": "get_single_hashicorp_terraform_cloud_variable_set_by_id",
    "apply_ws": "hashicorp_terraform_cloud_variable_sets_apply_to_workspaces",
    "remove_ws": "hashicorp_terraform_cloud_variable_sets_remove_from_workspaces",
    "apply_prj": "hashicorp_terraform_cloud_variable_sets_apply_to_projects",
    "remove_prj": "hashicorp_terraform_cloud_variable_sets_remove_from_projects",
    "update_set": "update_a_hashicorp_terraform_cloud_variable_set_by_id",
    "set_vars": "list_all_hashicorp_terraform_cloud_variable_set_variables",
    "create_var": "create_a_hashicorp_terraform_cloud_variable_set_variable",
    "update_var": "update_a_hashicorp_terraform_cloud_variable_set_variable_by_id",
    "delete_var": "delete_a_hashicorp_terraform_cloud_variable_set_variable_by_id",
    "ws_sets": "list_all_hashicorp_terraform_cloud_workspace_variable_sets",
    "prj_sets": "list_all_hashicorp_terraform_cloud_project_variable_sets",
    "tasks": "list_all_hashicorp_terraform_cloud_run_tasks",
    "get_task": "get_single_hashicorp_terraform_cloud_run_task_by_id",
    "create_task": "create_a_hashicorp_terraform_cloud_run_task",
    "update_task": "update_a_hashicorp_terraform_cloud_run_task_by_id",
    "delete_task": "delete_a_hashicorp_terraform_cloud_run_task_by_id",
    "ws_tasks": "list_all_hashicorp_terraform_cloud_workspace_run_tasks",
    "get_ws_task": "get_single_hashicorp_terraform_cloud_workspace_run_task_by_id",
    "create_ws_task": "create_a_hashicorp_terraform_cloud_workspace_run_task",
    "update_ws_task": "update_a_hashicorp_terraform_cloud_workspace_run_task_by_id",
    "delete_ws_task": "delete_a_hashicorp_terraform_cloud_workspace_run_task_by_id",
    "stages": "list_all_hashicorp_terraform_cloud_run_task_stages",
    "get_stage": "get_single_hashicorp_terraform_cloud_run_task_stage_by_id",
    "get_result": "get_single_hashicorp_terraform_cloud_run_task_result_by_id",
    "override": "hashicorp_terraform_cloud_task_stages_override",
    "evaluations": "list_all_hashicorp_terraform_cloud_policy_evaluations",
    "outcomes": "list_all_hashicorp_terraform_cloud_policy_set_outcomes",
    "get_outcome": "get_single_hashicorp_terraform_cloud_policy_set_outcome_by_id",
    "wait": "hashicorp_terraform_cloud_runs_wait",
    "get_run": "get_single_hashicorp_terraform_cloud_run_by_id",
    "apply": "hashicorp_terraform_cloud_runs_apply",
    "rollback": "hashicorp_terraform_cloud_state_versions_rollback",
    "lock": "hashicorp_terraform_cloud_workspaces_lock",
    "unlock": "hashicorp_terraform_cloud_workspaces_unlock",
    "state_versions": "list_all_hashicorp_terraform_cloud_state_versions",
    "current_state": "get_single_hashicorp_terraform_cloud_current_state_version_by_id",
    "list_ws": "list_all_hashicorp_terraform_cloud_workspaces",
}


def serve(stack, namespace, name="srv", **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


class Calls:
    """Calls tools and keeps every answer, to check none carries a secret."""

    def __init__(self, url: str):
        self.url = url
        self.texts: list[str] = []

    def __call__(self, tool: str, args: dict, ok: bool = True) -> mcp.ToolCall:
        result = mcp.call(self.url, tool, args)
        self.texts.append(result.text + repr(result.data))
        assert result.ok is ok, (tool, args, result)
        return result

    def assert_no_secrets(self, secrets=SECRETS + NEW_SECRETS):
        for text in self.texts:
            for s in secrets:
                assert s not in text, (s, text[:500])


def awaiting_run_of(stack, org: str) -> str:
    """The seeded run that waited on a task stage, whatever its status now."""
    status, doc = stack.sim_call("GET", f"/api/v2/organizations/{org}/runs?search%5Bbasic%5D=marketing")
    assert status == 200 and doc["data"], doc
    return doc["data"][0]["id"]


def awaiting_run(stack, org: str) -> str:
    status, doc = stack.sim_call("GET", f"/api/v2/organizations/{org}/runs?filter%5Bstatus%5D=post_plan_awaiting_decision")
    assert status == 200 and doc["data"], doc
    return doc["data"][0]["id"]


def test_variables_in_a_variable_set_round_trip(stack, namespace):
    call = Calls(serve(stack, namespace))
    sets = call(T["list_sets"], {"organization_name": ORG}).data["results"]
    assert VARSET_AWS in [s["id"] for s in sets]

    listed = call(T["set_vars"], {"varset_id": VARSET_AWS}).data["results"]
    secret = next(v for v in listed if v["key"] == "AWS_SECRET_ACCESS_KEY")
    assert secret["sensitive"] is True and secret["value"] is None

    created = call(T["create_var"], {"varset_id": VARSET_AWS, "key": "DEPLOY_TOKEN", "value": NEW_SECRETS[0],
                                     "category": "env", "sensitive": True}).data
    assert created["id"].startswith("var-") and created["value"] is None and created["varset_id"] == VARSET_AWS
    plain = call(T["create_var"], {"varset_id": VARSET_AWS, "key": "region", "value": "eu-west-1",
                                   "category": "terraform"}).data
    assert plain["value"] == "eu-west-1"
    updated = call(T["update_var"], {"varset_id": VARSET_AWS, "varset_variable_id": created["id"],
                                     "value": NEW_SECRETS[1], "description": "rotated"}).data
    assert updated["description"] == "rotated" and updated["value"] is None
    # A variable of this set is not reachable through another set.
    call(T["update_var"], {"varset_id": "varset-AcmeProject00001", "varset_variable_id": created["id"], "value": "x"}, ok=False)
    assert call(T["delete_var"], {"varset_id": VARSET_AWS, "varset_variable_id": created["id"]}).data["deleted"] is True
    keys = [v["key"] for v in call(T["set_vars"], {"varset_id": VARSET_AWS}).data["results"]]
    assert "DEPLOY_TOKEN" not in keys and "region" in keys

    # Sets by scope: applied to the workspace, and through its project.
    ws_sets = [s["id"] for s in call(T["ws_sets"], {"workspace_id": WS_PAYMENT_GATEWAY}).data["results"]]
    assert ws_sets == [VARSET_AWS, "varset-AcmeProject00001"], ws_sets

    # A project-owned set, applied to a workspace and removed again.
    owned = call(T["create_set"], {"organization_name": ORG, "name": "e2e-owned", "parent_project_id": ACME_PROJECT}).data
    assert owned["parent_id"] == ACME_PROJECT, owned
    assert owned["id"] in [s["id"] for s in call(T["prj_sets"], {"project_id": ACME_PROJECT}).data["results"]]
    ws = call(T["list_ws"], {"organization_name": ORG, "search_name": "feature-flags"}).data["results"][0]["id"]
    call(T["apply_ws"], {"varset_id": owned["id"], "workspace_ids": [ws]})
    assert owned["id"] in [s["id"] for s in call(T["ws_sets"], {"workspace_id": ws}).data["results"]]
    call(T["remove_ws"], {"varset_id": owned["id"], "workspace_ids": [ws]})
    assert owned["id"] not in [s["id"] for s in call(T["ws_sets"], {"workspace_id": ws}).data["results"]]
    call(T["apply_prj"], {"varset_id": owned["id"], "project_ids": [ACME_PROJECT]})
    assert owned["id"] in [s["id"] for s in call(T["ws_sets"], {"workspace_id": ws}).data["results"]]
    call(T["remove_prj"], {"varset_id": owned["id"], "project_ids": [ACME_PROJECT]})
    renamed = call(T["update_set"], {"varset_id": owned["id"], "name": "e2e-owned-2", "priority": True}).data
    assert renamed["name"] == "e2e-owned-2" and renamed["priority"] is True
    call(T["delete_set"], {"varset_id": owned["id"]})
    call(T["get_set"], {"varset_id": owned["id"]}, ok=False)
    call.assert_no_secrets()


def test_run_tasks_and_workspace_associations_round_trip(stack, namespace):
    call = Calls(serve(stack, namespace))
    tasks = call(T["tasks"], {"organization_name": ORG}).data["results"]
    assert [t["name"] for t in tasks] == ["security-scanner"] and "hmac_key" not in tasks[0]
    task = call(T["create_task"], {"organization_name": ORG, "name": "e2e-cost-check", "url": "https://cost.example/hook",
                                   "category": "task", "hmac_key": NEW_SECRETS[2],
                                   "global_configuration": {"enabled": False}}).data
    assert task["id"].startswith("task-") and task["enabled"] is True and "hmac_key" not in task
    updated = call(T["update_task"], {"run_task_id": task["id"], "hmac_key": NEW_SECRETS[3], "enabled": False}).data
    assert updated["enabled"] is False
    assert call(T["get_task"], {"run_task_id": task["id"]}).data["name"] == "e2e-cost-check"
    # A missing category is refused before any call.
    call(T["create_task"], {"organization_name": ORG, "name": "x", "url": "https://x.example"}, ok=False)

    ws = call(T["list_ws"], {"organization_name": ORG, "search_name": "feature-flags"}).data["results"][0]["id"]
    assoc = call(T["create_ws_task"], {"workspace_id": ws, "run_task_id": task["id"], "enforcement_level": "advisory",
                                       "stages": ["pre_plan"]}).data
    assert assoc["id"].startswith("wstask-") and assoc["task_id"] == task["id"] and assoc["workspace_id"] == ws
    assert [a["id"] for a in call(T["ws_tasks"], {"workspace_id": ws}).data["results"]] == [assoc["id"]]
    changed = call(T["update_ws_task"], {"workspace_id": ws, "workspace_task_id": assoc["id"],
                                         "enforcement_level": "mandatory"}).data
    assert changed["enforcement_level"] == "mandatory"
    # The association is only reachable below its own workspace.
    call(T["get_ws_task"], {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_task_id": assoc["id"]}, ok=False)
    call(T["delete_ws_task"], {"workspace_id": ws, "workspace_task_id": assoc["id"]})
    call(T["delete_task"], {"run_task_id": task["id"]})
    call(T["get_task"], {"run_task_id": task["id"]}, ok=False)
    call.assert_no_secrets()
    status, doc = stack.sim_call("GET", f"/api/v2/organizations/{ORG}/tasks")
    assert status == 200 and "e2e-cost-check" not in repr(doc)


def test_a_run_waiting_on_a_task_stage_is_overridden_and_applied(stack, namespace):
    call = Calls(serve(stack, namespace))
    run_id = awaiting_run(stack, ORG)
    waited = call(T["wait"], {"run_id": run_id, "timeout_seconds": 5}).data
    assert waited["status"] == "post_plan_awaiting_decision" and waited["wait"]["needs_action"] is True, waited
    assert {T["stages"], T["override"]} <= set(waited["next_tools"]), waited
    # Every tool the wait names exists on this server.
    names = mcp.tool_names(call.url)
    assert set(waited["next_tools"]) <= names

    stages = call(T["stages"], {"run_id": run_id}).data["results"]
    stage = stages[0]
    assert stage["status"] == "awaiting_override" and stage["stage"] == "post_plan", stage
    result = call(T["get_result"], {"task_result_id": stage["task_result_ids"][0]}).data
    assert result["status"] == "failed" and result["workspace_task_enforcement_level"] == "mandatory"
    evaluation = call(T["evaluations"], {"task_stage_id": stage["id"]}).data["results"][0]
    assert evaluation["status"] == "failed" and evaluation["policy_kind"] == "opa"
    outcome = call(T["outcomes"], {"policy_evaluation_id": evaluation["id"]}).data["results"][0]
    assert any(o["status"] == "failed" and o["enforcement_level"] == "mandatory" for o in outcome["outcomes"]), outcome
    assert call(T["get_outcome"], {"policy_set_outcome_id": outcome["id"]}).data["policy_set_name"] == "security-baseline"

    overridden = call(T["override"], {"task_stage_id": stage["id"], "comment": "accepted for the e2e test"}).data
    assert overridden["status"] == "passed", overridden
    assert call(T["evaluations"], {"task_stage_id": stage["id"]}).data["results"][0]["status"] == "overridden"
    # Overriding again: a clear error, and nothing changes.
    again = call(T["override"], {"task_stage_id": stage["id"]}, ok=False)
    assert "409" in again.text and "awaiting_override" in again.text, again.text
    waited = call(T["wait"], {"run_id": run_id, "timeout_seconds": 5}).data
    assert waited["status"] == "post_plan_completed" and T["apply"] in waited["next_tools"], waited
    call(T["apply"], {"run_id": run_id, "comment": "e2e"})
    done = call(T["wait"], {"run_id": run_id, "timeout_seconds": 60, "poll_interval_seconds": 1}).data
    assert done["status"] == "applied", done


def test_state_rollback_needs_the_lock(stack, namespace):
    call = Calls(serve(stack, namespace))
    ws = call(T["list_ws"], {"organization_name": ORG, "search_name": "k8s-platform"}).data["results"][0]["id"]
    versions = call(T["state_versions"], {"organization_name": ORG, "workspace_name": "k8s-platform"}).data["results"]
    assert [v["serial"] for v in versions] == [2, 1], versions
    older = versions[1]["id"]
    before = len(stack.sim_requests())
    refused = call(T["rollback"], {"workspace_id": ws, "state_version_id": older}, ok=False)
    assert "409" in refused.text and T["lock"] in refused.text, refused.text
    assert call(T["current_state"], {"workspace_id": ws}).data["serial"] == 2

    call(T["lock"], {"workspace_id": ws, "reason": "roll back state"})
    rolled = call(T["rollback"], {"workspace_id": ws, "state_version_id": older}).data
    assert rolled["serial"] == 3 and rolled["rollback_state_version_id"] == older, rolled
    call(T["unlock"], {"workspace_id": ws})
    current = call(T["current_state"], {"workspace_id": ws}).data
    assert current["serial"] == 3, current
    patches = [r["path"] for r in stack.sim_requests()[before:] if r["method"] == "PATCH"]
    assert patches == [f"/api/v2/workspaces/{ws}/state-versions"] * 2, patches


def test_a_server_of_acme_cannot_reach_globex_sets_tasks_or_stages(stack, namespace):
    url = serve(stack, namespace, name="acme-only",
                tfc={"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"},
                     "organizations": ["acme-corp"]})
    call = Calls(url)
    globex_run = awaiting_run(stack, "globex")
    status, doc = stack.sim_call("GET", f"/api/v2/runs/{globex_run}/task-stages")
    assert status == 200
    globex_stage = doc["data"][0]["id"]
    globex_result = doc["data"][0]["relationships"]["task-results"]["data"][0]["id"]
    globex_evaluation = doc["data"][0]["relationships"]["policy-evaluations"]["data"][0]["id"]
    status, doc = stack.sim_call("GET", f"/api/v2/policy-evaluations/{globex_evaluation}/policy-set-outcomes")
    globex_outcome = doc["data"][0]["id"]
    before = len(stack.sim_requests())
    for tool, args in [
        (T["get_set"], {"varset_id": VARSET_GLOBEX}),
        (T["set_vars"], {"varset_id": VARSET_GLOBEX}),
        (T["update_var"], {"varset_id": VARSET_GLOBEX, "varset_variable_id": VAR_GLOBEX_TOKEN, "value": "pwned"}),
        (T["create_var"], {"varset_id": VARSET_GLOBEX, "key": "X", "value": "pwned", "category": "env"}),
        (T["get_task"], {"run_task_id": TASK_GLOBEX}),
        (T["update_task"], {"run_task_id": TASK_GLOBEX, "url": "https://evil.example"}),
        (T["tasks"], {"organization_name": "globex"}),
        (T["stages"], {"run_id": globex_run}),
        (T["get_stage"], {"task_stage_id": globex_stage}),
        (T["evaluations"], {"task_stage_id": globex_stage}),
        (T["get_result"], {"task_result_id": globex_result}),
        (T["outcomes"], {"policy_evaluation_id": globex_evaluation}),
        (T["get_outcome"], {"policy_set_outcome_id": globex_outcome}),
        (T["override"], {"task_stage_id": globex_stage, "comment": "cross-tenant"}),
        (T["rollback"], {"workspace_id": "ws-Gx2aN6dRk4Uw8JmC", "state_version_id": "sv-AnyVersion000001"}),
        # An acme workspace cannot be given a globex run task either.
        (T["create_ws_task"], {"workspace_id": WS_PAYMENT_GATEWAY, "run_task_id": TASK_GLOBEX, "enforcement_level": "advisory"}),
    ]:
        result = call(tool, args, ok=False)
        assert "HTTP 404 Not Found" in result.text and "not found" in result.text, (tool, result.text)
    seen = stack.sim_requests()[before:]
    assert not [r for r in seen if r["method"] in WRITE_METHODS], seen
    status, doc = stack.sim_call("GET", f"/api/v2/task-stages/{globex_stage}")
    assert status == 200 and doc["data"]["attributes"]["status"] == "awaiting_override"
    # The same tools work for acme: a stage's policy evaluations, whose
    # owner the gateway learns from the stage, down to their outcomes.
    assert call(T["tasks"], {"organization_name": ORG}).data["results"]
    assert call(T["set_vars"], {"varset_id": VARSET_AWS}).data["results"]
    stage = call(T["stages"], {"run_id": awaiting_run_of(stack, ORG)}).data["results"][0]
    evaluation = call(T["evaluations"], {"task_stage_id": stage["id"]}).data["results"][0]
    assert call(T["outcomes"], {"policy_evaluation_id": evaluation["id"]}).data["results"]
    call.assert_no_secrets()


def test_zz_secrets_sent_through_these_tools_are_in_no_log(stack):
    """Runs after the tests above: the HMAC keys and sensitive values they
    sent (and the seeded ones) appear in no process log."""
    for name, text in stack.logs().items():
        for secret in SECRETS + NEW_SECRETS:
            assert secret not in text, f"{secret} leaked into {name}"
