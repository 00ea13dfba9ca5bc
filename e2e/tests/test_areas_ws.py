"""Missing API areas (issue 8), end to end through the real gateway and
operator against the HCP Terraform simulator: a workspace's managed
resources (500 of them, within the result budget with a cursor), remote
state consumers, README, assessment drift and logs; the Explorer's
organization-wide questions; the private registry and no-code workspaces;
stacks. And a server restricted to acme-corp reaching none of globex's
data in these areas."""

from __future__ import annotations

import json
import time

import mcpclient as mcp
from conftest import MINTED_TOKENS

ORG = "acme-corp"
WS_CORE_NETWORK = "ws-Cn6wB2pKx9Ls3TdE"
WS_PAYMENT_GATEWAY = "ws-pQ4mZ8rT2vXy6NbK"
WS_FRONTEND_CDN = "ws-Fc8tJ5yNm1Qe4RuG"
WS_INTERNAL_VPN = "ws-Vn3kR7sLq2Wd9HxA"
WS_GLOBEX_APP = "ws-Gx2aN6dRk4Uw8JmC"
NOCODE_BUCKET = "nocode-AcmeBucket0001"
NOCODE_GLOBEX = "nocode-GlobexApp00001"
STACK_PLATFORM = "st-AcmePlatform0001"
STACK_GLOBEX = "st-GlobexStack00001"
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")

RESOURCES = "list_all_hashicorp_terraform_cloud_workspace_resources"
CONSUMERS = "list_all_hashicorp_terraform_cloud_remote_state_consumers"
ADD = "hashicorp_terraform_cloud_workspaces_add_state_consumers"
REMOVE = "hashicorp_terraform_cloud_workspaces_remove_state_consumers"
REPLACE = "hashicorp_terraform_cloud_workspaces_replace_state_consumers"
README = "get_single_hashicorp_terraform_cloud_workspace_readme_by_id"
DRIFT = "hashicorp_terraform_cloud_assessments_drift"
ASMT_LOGS = "hashicorp_terraform_cloud_assessments_logs"
EXPLORER = "list_all_hashicorp_terraform_cloud_explorer_results"
GET_WS = "get_single_hashicorp_terraform_cloud_workspace_by_id"


def serve(stack, namespace, name="srv", **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def ok(url, tool, args):
    result = mcp.call(url, tool, args)
    assert result.ok, (tool, result)
    return result.data


def consumer_ids(url, ws):
    return sorted(w["id"] for w in ok(url, CONSUMERS, {"workspace_id": ws})["results"])


def test_500_managed_resources_fit_the_budget_and_the_cursor_walks_them(stack, namespace):
    url = serve(stack, namespace, methods=["read"], results={"maxBytes": 8192})
    data = ok(url, RESOURCES, {"workspace_id": WS_CORE_NETWORK, "page_size": 100})
    assert size(data) <= 8192, size(data)
    assert data["truncated"] is True and data["next_cursor"], {k: v for k, v in data.items() if k != "results"}
    assert data["results"][0]["type"] == "resources" and data["results"][0]["provider"] == "hashicorp/aws", data["results"][0]
    seen = [r["address"] for r in data["results"]]
    for _ in range(600):
        if not data.get("next_cursor"):
            break
        time.sleep(0.3)  # under the gateway's per-server request rate
        data = ok(url, RESOURCES, {"workspace_id": WS_CORE_NETWORK, "next_cursor": data["next_cursor"]})
        assert size(data) <= 8192, size(data)
        seen += [r["address"] for r in data["results"]]
    assert len(seen) == 500 and len(set(seen)) == 500, (len(seen), len(set(seen)))


def test_readme_drift_logs_and_remote_state_consumers(stack, namespace):
    url = serve(stack, namespace)
    readme = ok(url, README, {"workspace_id": WS_CORE_NETWORK})
    assert readme["has_readme"] is True and readme["readme_markdown"].startswith("# core-network"), readme
    assert ok(url, README, {"workspace_id": WS_FRONTEND_CDN})["has_readme"] is False

    ws = ok(url, GET_WS, {"workspace_id": WS_CORE_NETWORK})
    asmt = ws["current_assessment_result_id"]
    assert asmt and asmt.startswith("asmtres-"), ws
    drift = ok(url, DRIFT, {"assessment_result_id": asmt})
    assert drift["drifted"] is True and drift["summary"]["drifted_resources"] == 3, drift
    by_address = {d["address"]: d for d in drift["resource_drift"]}
    assert by_address["aws_security_group_rule.sgr_002"]["changed_attributes"] == ["cidr_blocks", "description"], drift
    assert by_address["module.vpc.aws_subnet.subnet_000"]["actions"] == ["delete"], drift
    assert "0.0.0.0/0" not in json.dumps(drift), "attribute values never appear"
    assert drift["checks"]["failing"][0]["problems"] == ["VPN endpoint answered 503 Service Unavailable"], drift
    logs = ok(url, ASMT_LOGS, {"assessment_result_id": asmt})
    assert "[warn] Objects have changed outside of Terraform" in logs["log"], logs
    assert "\x1b" not in logs["log"] and "@message" not in logs["log"], logs

    vpn = ok(url, GET_WS, {"workspace_id": WS_INTERNAL_VPN})["current_assessment_result_id"]
    quiet = ok(url, DRIFT, {"assessment_result_id": vpn})
    assert quiet["drifted"] is False and quiet["resource_drift"] == [], quiet

    assert consumer_ids(url, WS_PAYMENT_GATEWAY) == [WS_FRONTEND_CDN]
    try:
        added = ok(url, ADD, {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_ids": [WS_INTERNAL_VPN]})
        assert added["accepted"] is True, added
        assert consumer_ids(url, WS_PAYMENT_GATEWAY) == sorted([WS_FRONTEND_CDN, WS_INTERNAL_VPN])
        ok(url, REMOVE, {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_ids": [WS_FRONTEND_CDN]})
        assert consumer_ids(url, WS_PAYMENT_GATEWAY) == [WS_INTERNAL_VPN]
        # HCP Terraform itself refuses a consumer of another organization.
        refused = mcp.call(url, ADD, {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_ids": [WS_GLOBEX_APP]})
        assert not refused.ok and "422" in refused.text, refused
        bad = mcp.call(url, ADD, {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_ids": ["../../organizations/globex"]})
        assert not bad.ok and "invalid arguments" in bad.text, bad
    finally:
        ok(url, REPLACE, {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_ids": [WS_FRONTEND_CDN]})
    assert consumer_ids(url, WS_PAYMENT_GATEWAY) == [WS_FRONTEND_CDN]


def test_explorer_answers_organization_wide_questions(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    old = ok(url, EXPLORER, {"organization_name": ORG, "view_type": "workspaces",
                             "filters": [{"field": "workspace_terraform_version", "operator": "is_not", "value": "1.9.8"}],
                             "fields": ["workspace_name", "workspace_terraform_version"], "sort": "workspace_name"})
    assert [(r["workspace_name"], r["workspace_terraform_version"]) for r in old["results"]] == [
        ("ci-runners", "1.5.7"), ("ml-training", "1.3.9"), ("search-cluster", "1.5.7")], old
    assert set(old["results"][0]) <= {"id", "type", "workspace_name", "workspace_terraform_version", "web_url"}, old["results"][0]

    drifted = ok(url, EXPLORER, {"organization_name": ORG, "view_type": "workspaces",
                                 "filters": [{"field": "drifted", "operator": "is", "value": True}]})
    assert [r["workspace_name"] for r in drifted["results"]] == ["core-network"], drifted
    assert drifted["results"][0]["resources_drifted"] == 3

    modules = ok(url, EXPLORER, {"organization_name": ORG, "view_type": "modules",
                                 "filters": [{"field": "name", "operator": "contains", "value": "s3"}]})
    assert modules["results"][0]["workspaces"] == "data-lake,storage-buckets", modules

    versions = ok(url, EXPLORER, {"organization_name": ORG, "view_type": "tf_versions", "sort": "-workspace_count"})
    assert versions["results"][0]["version"] == "1.9.8" and versions["pagination"]["total_count"] == 3, versions

    # A field of another view: a clear error naming the view's fields, before any upstream call.
    before = len(stack.sim_requests())
    wrong = mcp.call(url, EXPLORER, {"organization_name": ORG, "view_type": "tf_versions",
                                     "filters": [{"field": "drifted", "operator": "is", "value": "true"}]})
    assert not wrong.ok and "workspace_count" in wrong.text, wrong
    injected = mcp.call(url, EXPLORER, {"organization_name": ORG, "view_type": "workspaces",
                                        "filters": [{"field": "drifted][is][0]=1&type=modules&x[", "operator": "is", "value": "1"}]})
    assert not injected.ok and "invalid arguments" in injected.text, injected
    assert not [r for r in stack.sim_requests()[before:] if "/explorer" in r["path"]]


def test_private_registry_and_a_workspace_from_a_no_code_module(stack, namespace):
    url = serve(stack, namespace)
    mods = ok(url, "list_all_hashicorp_terraform_cloud_registry_modules", {"organization_name": ORG, "filter_registry_name": "private"})
    assert sorted(m["name"] for m in mods["results"]) == ["s3-bucket", "vpc"], mods
    vpc = ok(url, "get_single_hashicorp_terraform_cloud_registry_module_by_id",
             {"organization_name": ORG, "registry_name": "private", "namespace": ORG, "module_name": "vpc", "module_provider": "aws"})
    assert [v["version"] for v in vpc["version_statuses"]] == ["3.2.0", "3.1.0", "2.0.1"], vpc
    versions = ok(url, "list_all_hashicorp_terraform_cloud_registry_provider_versions",
                  {"organization_name": ORG, "namespace": ORG, "provider_name": "internal"})
    assert sorted(v["version"] for v in versions["results"]) == ["1.0.0", "1.1.0", "1.2.0"], versions

    before = len(stack.sim_requests())
    for bad in ["../../workspaces", "acme-corp?x=1", "a/b", ".."]:
        r = mcp.call(url, "get_single_hashicorp_terraform_cloud_registry_module_by_id",
                     {"organization_name": ORG, "registry_name": "private", "namespace": bad, "module_name": "vpc", "module_provider": "aws"})
        assert not r.ok and "invalid arguments" in r.text, r
    assert not [r for r in stack.sim_requests()[before:] if "registry-modules" in r["path"]]

    nocode = ok(url, "list_all_hashicorp_terraform_cloud_no_code_modules", {"organization_name": ORG})
    assert [m["id"] for m in nocode["results"]] == [NOCODE_BUCKET], nocode
    shown = ok(url, "get_single_hashicorp_terraform_cloud_no_code_module_by_id",
               {"no_code_module_id": NOCODE_BUCKET, "include": ["variable_options"]})
    assert shown["registry_module_id"].startswith("mod-"), shown
    assert shown["included"][0]["variable_name"] == "region" and "eu-west-1" in shown["included"][0]["options"], shown
    created = ok(url, "create_a_hashicorp_terraform_cloud_no_code_workspace",
                 {"no_code_module_id": NOCODE_BUCKET, "name": "team-b-bucket", "description": "Team B's bucket",
                  "variables": [{"key": "bucket_name", "value": "team-b-artifacts"}]})
    ws_id = created["id"]
    assert created["name"] == "team-b-bucket" and created["organization_name"] == ORG, created
    try:
        variables = ok(url, "list_all_hashicorp_terraform_cloud_workspace_variables", {"workspace_id": ws_id})
        assert [(v["key"], v["value"]) for v in variables["results"]] == [("bucket_name", "team-b-artifacts")], variables
    finally:
        ok(url, "delete_a_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": ws_id})


def test_stacks_and_their_deployments(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    stacks = ok(url, "list_all_hashicorp_terraform_cloud_stacks", {"organization_name": ORG})
    assert [s["id"] for s in stacks["results"]] == [STACK_PLATFORM], stacks
    one = ok(url, "get_single_hashicorp_terraform_cloud_stack_by_id", {"stack_id": STACK_PLATFORM})
    assert one["name"] == "platform-stack" and one["project_id"].startswith("prj-"), one
    deployments = ok(url, "list_all_hashicorp_terraform_cloud_stack_deployments", {"stack_id": STACK_PLATFORM})
    assert sorted(d["name"] for d in deployments["results"]) == ["production", "staging"], deployments
    runs = ok(url, "list_all_hashicorp_terraform_cloud_stack_deployment_runs", {"stack_id": STACK_PLATFORM, "deployment_name": "production"})
    assert runs["results"][0]["status"] == "pending_approval", runs


def test_acme_only_server_reaches_no_globex_data_in_these_areas(stack, namespace):
    spec = {"tfc": {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"},
                    "organizations": [ORG]}}
    url = serve(stack, namespace, "acme-only", **spec)
    before = len(stack.sim_requests())
    refused = [
        (EXPLORER, {"organization_name": "globex", "view_type": "workspaces"}),
        (EXPLORER, {"organization_name": "GLOBEX ", "view_type": "tf_versions"}),
        ("list_all_hashicorp_terraform_cloud_registry_modules", {"organization_name": "globex"}),
        ("list_all_hashicorp_terraform_cloud_no_code_modules", {"organization_name": "globex"}),
        ("list_all_hashicorp_terraform_cloud_stacks", {"organization_name": "globex"}),
        (ADD, {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_ids": [WS_GLOBEX_APP]}),
        (ADD, {"workspace_id": WS_GLOBEX_APP, "workspace_ids": [WS_PAYMENT_GATEWAY]}),
        (REPLACE, {"workspace_id": WS_PAYMENT_GATEWAY, "workspace_ids": [WS_FRONTEND_CDN, WS_GLOBEX_APP]}),
        (CONSUMERS, {"workspace_id": WS_GLOBEX_APP}),
        (RESOURCES, {"workspace_id": WS_GLOBEX_APP}),
        (README, {"workspace_id": WS_GLOBEX_APP}),
        ("get_single_hashicorp_terraform_cloud_no_code_module_by_id", {"no_code_module_id": NOCODE_GLOBEX}),
        ("create_a_hashicorp_terraform_cloud_no_code_workspace", {"no_code_module_id": NOCODE_GLOBEX, "name": "sneaky"}),
        ("get_single_hashicorp_terraform_cloud_stack_by_id", {"stack_id": STACK_GLOBEX}),
        ("list_all_hashicorp_terraform_cloud_stack_deployments", {"stack_id": STACK_GLOBEX}),
        ("list_all_hashicorp_terraform_cloud_stack_deployment_runs", {"stack_id": STACK_GLOBEX, "deployment_name": "default"}),
    ]
    for tool, args in refused:
        r = mcp.call(url, tool, args)
        assert not r.ok and "HTTP 404 Not Found" in r.text, (tool, args, r)
        assert "globex-app" not in r.text and "globex-stack" not in r.text, r.text
    seen = stack.sim_requests()[before:]
    assert not [r for r in seen if r["method"] in WRITE_METHODS], seen
    assert not [r for r in seen if "/organizations/globex" in r["path"].lower()], seen
    assert not [r for r in seen if r["path"].endswith(("/stack-deployments", "/stack-deployment-runs", "/resources", "/explorer"))
                and "Globex" in r["path"]], seen
    status, doc = stack.sim_call("GET", f"/api/v2/workspaces/{WS_PAYMENT_GATEWAY}/relationships/remote-state-consumers")
    assert [w["id"] for w in doc["data"]] == [WS_FRONTEND_CDN], doc
    status, doc = stack.sim_call("GET", "/api/v2/organizations/globex/workspaces?search%5Bname%5D=sneaky")
    assert status == 200 and doc["data"] == [], doc

    # The server's own organization works: a stack through its project, drift once its workspace was read.
    assert ok(url, "get_single_hashicorp_terraform_cloud_stack_by_id", {"stack_id": STACK_PLATFORM})["id"] == STACK_PLATFORM
    rows = ok(url, EXPLORER, {"organization_name": ORG, "view_type": "workspaces"})["results"]
    assert rows and all(r["organization_name"] == ORG for r in rows), rows
    asmt = ok(url, GET_WS, {"workspace_id": WS_CORE_NETWORK})["current_assessment_result_id"]
    assert ok(url, DRIFT, {"assessment_result_id": asmt})["drifted"] is True
