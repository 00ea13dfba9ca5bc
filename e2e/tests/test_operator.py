"""The TfcMcpServer lifecycle against the real API server: schema validation,
status, rotation, Secret-change propagation, Retain expiry, and Lease-based
failover between two operator replicas."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
import subprocess
import time

import mcpclient as mcp
import pytest
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, SIM_TOKEN, http_get, log, wait_for

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"


def serve(stack, namespace, name="srv", **spec) -> dict:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access


def in_seconds(seconds: int) -> str:
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=seconds)
    return at.isoformat().replace("+00:00", "Z")


# ---- schema validation at `kubectl apply` time ---------------------------------

INVALID_SPECS = [
    ("unknown method", {"methods": ["admin"]}, "spec.methods"),
    ("no methods", {"methods": []}, "spec.methods"),
    ("repeated method", {"methods": ["read", "read"]}, "spec.methods"),
    ("expiresAt not a timestamp", {"expiresAt": "tomorrow"}, "spec.expiresAt"),
    ("expiresAt impossible date", {"expiresAt": "2026-13-45T00:00:00Z"}, "spec.expiresAt"),
    ("empty token Secret name", {"tfc": {"tokenSecretRef": {"name": ""}}}, "spec.tfc.tokenSecretRef.name"),
    ("missing token Secret reference", {"tfc": {"address": "https://app.terraform.io"}}, "spec.tfc.tokenSecretRef"),
    ("address not a base URL", {"tfc": {"address": "app.terraform.io/api", "tokenSecretRef": {"name": "t"}}}, "spec.tfc.address"),
    ("include and exclude overlap", {"tools": {"include": ["a_tool"], "exclude": ["a_tool"]}}, "spec.tools"),
    ("API token required without Secret", {"auth": {"requireApiToken": True}}, "spec.auth"),
    ("unknown tool exposure", {"toolExposure": "Everything"}, "spec.toolExposure"),
    ("unknown expiry policy", {"expiryPolicy": "Archive"}, "spec.expiryPolicy"),
    ("zero request rate", {"upstream": {"maxRequestsPerSecond": 0}}, "spec.upstream.maxRequestsPerSecond"),
    ("display name too long", {"displayName": "x" * 200}, "spec.displayName"),
    ("misspelt field", {"method": ["read"]}, "spec.method"),
]


@pytest.mark.parametrize("case,spec,field", INVALID_SPECS, ids=[c[0] for c in INVALID_SPECS])
def test_invalid_manifest_is_refused_naming_the_field(stack, case, spec, field):
    manifest = {"apiVersion": "tfcmcp.dev/v1alpha1", "kind": "TfcMcpServer",
                "metadata": {"name": "invalid", "namespace": "default"},
                "spec": {"tfc": {"tokenSecretRef": {"name": "tfc-api-token"}}, "methods": ["read"], **spec}}
    result = stack.kubectl("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode != 0, f"{case}: accepted"
    assert field in result.stderr, f"{case}: {result.stderr}"
    assert stack.get("tfcmcpserver", "invalid", "default") is None


# ---- status -----------------------------------------------------------------------

def test_status_printer_columns_and_kubectl_wait(stack, namespace):
    stack.apply(stack.server_manifest("shown", namespace, methods=["read"], expiresAt=in_seconds(3600)))
    stack.kubectl("wait", "--for=condition=Ready", "tfcmcpserver/shown", "-n", namespace, "--timeout=30s")
    server = stack.get("tfcmcpserver", "shown", namespace)
    status = server["status"]
    access = stack.secret_data("shown-mcp", namespace)
    MINTED_TOKENS.append(access["token"])
    assert status["accessSecretName"] == "shown-mcp"
    assert re.fullmatch(r"[0-9a-f]{8}", status["tokenFingerprint"])
    assert status["toolCount"] == len(mcp.list_tools(access["url"]))
    assert status["expiresAt"] == server["spec"]["expiresAt"]
    assert status["observedGeneration"] == server["metadata"]["generation"]
    table = stack.kubectl("get", "tfcmcp", "shown", "-n", namespace).stdout
    header = table.splitlines()[0].split()
    assert header == ["NAME", "READY", "METHODS", "EXPIRES", "TOOLS", "AGE"], table
    assert "True" in table and str(status["toolCount"]) in table
    # The client configurations are ready to paste.
    assert json.loads(access["mcp.json"])["mcpServers"]["shown"]["url"] == access["url"]
    assert access["claude-code.txt"].startswith("claude mcp add --transport http shown ")
    assert json.loads(access["claude-desktop.json"])["mcpServers"]["shown"]["args"] == ["mcp-remote", access["url"]]


@pytest.mark.parametrize("spec,reason", [
    ({"tags": ["workspaces", "no-such-tag"]}, "UnknownTag"),
    ({"tools": {"exclude": ["no_such_tool"]}}, "UnknownTool"),
])
def test_what_the_schema_cannot_know_is_a_condition_not_a_loop(stack, namespace, spec, reason):
    stack.apply(stack.server_manifest("odd", namespace, **spec))
    wait_for(f"Ready=False/{reason}", lambda: (stack.condition("odd", namespace) or {}).get("reason") == reason, timeout=20)
    assert stack.condition("odd", namespace)["status"] == "False"
    assert stack.get("secret", f"tfcmcp.{namespace}.odd", GATEWAY_NAMESPACE) is None
    events = json.loads(stack.kubectl("get", "events", "-n", namespace, "-o", "json").stdout)["items"]
    assert any(e.get("reason") == reason and e.get("type") == "Warning" for e in events)
    # No hot requeue: the operator does not keep reconciling a blocked server.
    before = stack.operator_metric("tfcmcp_operator_reconciles_total")
    time.sleep(3)
    assert stack.operator_metric("tfcmcp_operator_reconciles_total") - before <= 3


# ---- rotation and Secret changes --------------------------------------------------

def test_rotation_mints_a_new_token_and_refuses_the_old_one(stack, namespace):
    old = serve(stack, namespace, name="rot")
    old_fingerprint = stack.get("tfcmcpserver", "rot", namespace)["status"]["tokenFingerprint"]
    stack.kubectl("annotate", "tfcmcpserver", "rot", "-n", namespace, "tfcmcp.dev/rotate-token=2026-11-28T10:00", "--overwrite")
    new = wait_for("a new token", lambda: (lambda a: a if a and a["token"] != old["token"] else None)(
        stack.secret_data("rot-mcp", namespace)), timeout=20)
    MINTED_TOKENS.append(new["token"])
    wait_for("the old URL to be refused", lambda: mcp.raw_post(old["url"])[0] == 404, timeout=10)
    assert LIST_WS in mcp.tool_names(new["url"])
    fingerprint = stack.get("tfcmcpserver", "rot", namespace)["status"]["tokenFingerprint"]
    assert fingerprint != old_fingerprint
    # Reconciling again keeps the new token stable.
    time.sleep(1)
    assert stack.secret_data("rot-mcp", namespace)["token"] == new["token"]


def test_upstream_token_change_reaches_the_gateway_without_restart(stack, namespace):
    access = serve(stack, namespace, name="tok")
    assert mcp.call(access["url"], LIST_WS, {"organization_name": "acme-corp"}).ok
    stack.create_token_secret(namespace, token="revoked-upstream-token")
    route = f"tfcmcp.{namespace}.tok"
    wait_for("the route Secret to carry the new token",
             lambda: stack.secret_data(route, GATEWAY_NAMESPACE)["tfc-token"] == "revoked-upstream-token", timeout=10)

    def refused():
        result = mcp.call(access["url"], LIST_WS, {"organization_name": "acme-corp"})
        return not result.ok and "401" in result.text

    wait_for("the gateway to use the new upstream token", refused, timeout=10)
    stack.create_token_secret(namespace)
    wait_for("the gateway to use the restored token",
             lambda: mcp.call(access["url"], LIST_WS, {"organization_name": "acme-corp"}).ok, timeout=10)


def test_api_token_secret_change_reaches_the_gateway(stack, namespace):
    stack.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "clients", "namespace": namespace},
                 "stringData": {"alice": "alice-api-token"}})
    access = serve(stack, namespace, name="authd", auth={"requireApiToken": True, "apiTokenSecretRef": {"name": "clients"}})
    url = access["url"]
    status, headers, _ = mcp.raw_post(url)
    assert status == 401 and headers.get("WWW-Authenticate", headers.get("www-authenticate", "")).startswith("Bearer")
    assert mcp.raw_post(url, headers={"Authorization": "Bearer alice-api-token"})[0] == 200
    assert mcp.raw_post(url, headers={"Authorization": "Bearer bob-api-token"})[0] == 401
    stack.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "clients", "namespace": namespace},
                 "stringData": {"alice": "alice-api-token", "bob": "bob-api-token"}})
    wait_for("bob's token to be accepted",
             lambda: mcp.raw_post(url, headers={"Authorization": "Bearer bob-api-token"})[0] == 200, timeout=10)
    assert LIST_WS in mcp.tool_names(url, headers={"Authorization": "Bearer bob-api-token"})
    assert "Bearer <your API token>" in access["mcp.json"]


# ---- expiry with Retain ---------------------------------------------------------------

def test_retain_expiry_keeps_the_resource_and_never_mints_again(stack, namespace):
    access = serve(stack, namespace, name="kept", expiresAt=in_seconds(5), expiryPolicy="Retain")
    wait_for("Expired=True", lambda: (stack.condition("kept", namespace, "Expired") or {}).get("status") == "True", timeout=20)
    assert mcp.raw_post(access["url"])[0] == 404
    ready = stack.condition("kept", namespace)
    assert ready["status"] == "False" and ready["reason"] == "Expired"
    assert stack.get("secret", "kept-mcp", namespace) is None
    assert stack.get("secret", f"tfcmcp.{namespace}.kept", GATEWAY_NAMESPACE) is None
    # A later reconcile (triggered by an annotation) must not mint again.
    stack.kubectl("annotate", "tfcmcpserver", "kept", "-n", namespace, "poke=1", "--overwrite")
    time.sleep(2)
    assert stack.get("tfcmcpserver", "kept", namespace) is not None
    assert stack.get("secret", "kept-mcp", namespace) is None
    assert "tokenFingerprint" not in stack.get("tfcmcpserver", "kept", namespace)["status"]


# ---- the gateway workload --------------------------------------------------------------

def test_operator_applies_the_gateway_workload_from_its_configuration(stack):
    import yaml

    def deployment():
        return stack.get("deployment", "tfc-mcp-gateway", GATEWAY_NAMESPACE)

    wait_for("the gateway Deployment", deployment, timeout=30)
    original = stack.gateway_config.read_text()
    config = yaml.safe_load(original)
    container = deployment()["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == config["image"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert f"--namespace={GATEWAY_NAMESPACE}" in container["args"]
    assert not [a for a in container["args"] if a.startswith("--worker-threads")], "unset: one thread per CPU"
    service = stack.get("service", "tfc-mcp-gateway", GATEWAY_NAMESPACE)
    assert service["spec"]["sessionAffinity"] == "ClientIP"
    assert stack.get("ingress", "tfc-mcp-gateway", GATEWAY_NAMESPACE) is None
    generation = deployment()["metadata"]["generation"]

    try:
        # A configuration change (a new image, an Ingress) rolls the Deployment,
        # picked up from the (mounted) file without restarting the operator.
        changed = {**config, "image": "example.com/tfc-mcp-gateway:rolled", "workerThreads": 2,
                   "ingress": {"enabled": True, "host": "mcp.example.com", "className": "nginx"}}
        stack.gateway_config.write_text(yaml.safe_dump(changed))
        wait_for("the Deployment to roll to the new image",
                 lambda: deployment()["spec"]["template"]["spec"]["containers"][0]["image"] == changed["image"], timeout=30)
        assert deployment()["metadata"]["generation"] > generation
        assert "--worker-threads=2" in deployment()["spec"]["template"]["spec"]["containers"][0]["args"]
        wait_for("the Ingress", lambda: stack.get("ingress", "tfc-mcp-gateway", GATEWAY_NAMESPACE), timeout=30)
    finally:
        # What the configuration no longer wants is removed.
        stack.gateway_config.write_text(original)
    wait_for("the Ingress to be removed", lambda: stack.get("ingress", "tfc-mcp-gateway", GATEWAY_NAMESPACE) is None, timeout=30)
    assert deployment()["spec"]["template"]["spec"]["containers"][0]["image"] == config["image"]


# ---- leader election -------------------------------------------------------------------

def test_failover_to_a_second_replica(stack, namespace):
    """Two replicas: only the Lease holder acts; when it dies (SIGKILL, no
    release) the other takes over. Prints how long the takeover took."""
    follower = stack.start_operator(name="operator-b")
    time.sleep(2)
    lease = json.loads(stack.kubectl("get", "lease", "tfc-mcp-operator", "-n", GATEWAY_NAMESPACE, "-o", "json").stdout)
    holder = lease["spec"]["holderIdentity"]
    assert holder == stack.operator_identity("operator"), lease["spec"]
    assert stack.operator_metric("tfcmcp_operator_leader", name="operator-b") == 0

    leader = stack.procs.pop("operator")
    killed_at = time.monotonic()
    leader.kill()
    leader.wait()
    stack.procs["operator-a-killed"] = leader
    wait_for("the second replica to take the Lease",
             lambda: stack.operator_metric("tfcmcp_operator_leader", name="operator-b") == 1, timeout=60)
    took_lease = time.monotonic() - killed_at
    stack.apply(stack.server_manifest("after-failover", namespace, methods=["read"]))
    access = stack.wait_ready("after-failover", namespace, timeout=30)
    MINTED_TOKENS.append(access["token"])
    took_ready = time.monotonic() - killed_at
    stack.procs["operator"] = stack.procs.pop("operator-b")
    stack.operator_names["operator"] = stack.operator_names.pop("operator-b")
    print(f"\nfailover: Lease taken {took_lease:.1f}s after SIGKILL of the leader "
          f"(lease duration {stack.lease_duration_secs}s); a new server Ready {took_ready:.1f}s after it")
    log(f"failover took {took_lease:.1f}s")
    assert LIST_WS in mcp.tool_names(access["url"])
