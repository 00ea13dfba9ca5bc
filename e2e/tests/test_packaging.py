"""Packaging checks: the Helm chart, the kustomize bases, the Argo CD health
check and the Dockerfiles.

Independent of the session-wide `stack` fixture: nothing here starts the full
stack. Only test_helm_install_into_real_api_server starts a control plane of
its own (e2e/controlplane/start.sh in a temp directory) and stops it.

    ~/.cache/tfc-mcp/venv/bin/python -m pytest -c e2e/pytest.ini e2e/tests/test_packaging.py
"""

from __future__ import annotations

import base64
import functools
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

E2E = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(E2E / "packaging"))

import render_config  # noqa: E402
from tools import ROOT, binaries, run  # noqa: E402

CHART = ROOT / "charts" / "tfc-mcp"
PACKAGING = E2E / "packaging"
HEALTH_LUA = ROOT / "config/argocd/resource_customizations/tfcmcp.dev/TfcMcpServer/health.lua"
K8S_VERSION = "1.34.0"
NAMESPACE = "tfc-mcp-system"
OPERATOR_SA = f"system:serviceaccount:{NAMESPACE}:tfc-mcp-operator"
GATEWAY_SA = f"system:serviceaccount:{NAMESPACE}:tfc-mcp-gateway"
KUSTOMIZE_BASES = ["crd", "rbac", "manager", "samples", "default"]
# Every value toggle on, to render (and validate) every template.
ALL_ON = ["-f", str(PACKAGING / "values-all-on.yaml")]


def docs_of(text: str) -> list[dict]:
    return [d for d in yaml.safe_load_all(text) if d]


@functools.cache
def _helm_template(*args: str) -> str:
    return run("helm", "template", "tfc-mcp", str(CHART), "--namespace", NAMESPACE, *args).stdout


def helm_template(*args: str) -> list[dict]:
    """Rendered manifests (fresh objects each call; the rendering is cached)."""
    return docs_of(_helm_template(*args))


def find(docs: list[dict], kind: str, name: str) -> dict:
    matches = [d for d in docs if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def gateway_config(docs: list[dict]) -> dict:
    return yaml.safe_load(find(docs, "ConfigMap", "tfc-mcp-gateway-config")["data"]["gateway.yaml"])


# ---- offline validation -------------------------------------------------------



def _strict(schema: dict) -> dict:
    """The CRD's structural schema with unknown fields refused, as `kubectl
    apply` (field validation Strict) does."""
    if "properties" in schema:
        schema.setdefault("additionalProperties", False)
        for sub in schema["properties"].values():
            _strict(sub)
    if isinstance(schema.get("items"), dict):
        _strict(schema["items"])
    return schema


CRD_SCHEMA = _strict(yaml.safe_load((ROOT / "crds" / "tfcmcp.dev_tfcmcpservers.yaml").read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"])
CRD_SCHEMA["properties"].update(apiVersion={"const": "tfcmcp.dev/v1alpha1"}, kind={"const": "TfcMcpServer"}, metadata={"type": "object"})

# monitoring.coreos.com is not in kubernetes-validate: check the parts the chart sets.
SERVICE_MONITOR_SCHEMA = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "required": ["selector", "endpoints"],
            "properties": {
                "selector": {"type": "object", "required": ["matchLabels"],
                             "properties": {"matchLabels": {"type": "object", "additionalProperties": {"type": "string"}}}},
                "namespaceSelector": {"type": "object", "properties": {"matchNames": {"type": "array", "items": {"type": "string"}}}},
                "endpoints": {"type": "array", "minItems": 1, "items": {
                    "type": "object", "additionalProperties": False, "required": ["port"],
                    "properties": {"port": {"type": "string"}, "path": {"type": "string"},
                                   "interval": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"},
                                   "scrapeTimeout": {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"}}}},
            },
        },
    },
}


def validate(doc: dict) -> None:
    """Strict schema check (unknown fields refused) against Kubernetes 1.34."""
    kind = doc["kind"]
    if kind == "ServiceMonitor":
        jsonschema.validate(doc, SERVICE_MONITOR_SCHEMA)
    elif kind == "TfcMcpServer":
        jsonschema.validate(doc, CRD_SCHEMA)
    else:
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            path = ".".join(str(p) for p in error.path)
            pytest.fail(f"{kind}/{doc['metadata']['name']}: {path}: {error.message}")


# ---- generated copies -----------------------------------------------------------


def test_chart_and_config_crds_are_identical_to_crds():
    source = (ROOT / "crds" / "tfcmcp.dev_tfcmcpservers.yaml").read_bytes()
    for copy in (CHART / "crds" / "tfcmcp.dev_tfcmcpservers.yaml", ROOT / "config" / "crd" / "tfcmcp.dev_tfcmcpservers.yaml"):
        assert copy.read_bytes() == source, f"{copy.relative_to(ROOT)} differs from crds/: run `cargo run -p tfc-mcp-operator -- generate`"


def test_config_derived_from_the_chart_is_fresh():
    stale = [rel for rel, text in render_config.render().items() if (ROOT / rel).read_text() != text]
    assert not stale, f"stale: {stale}; run `~/.cache/tfc-mcp/venv/bin/python e2e/packaging/render_config.py`"


# ---- Helm chart -------------------------------------------------------------------


@pytest.mark.parametrize("values", [[], ALL_ON], ids=["defaults", "all-on"])
def test_helm_lint_strict(values):
    out = run("helm", "lint", "--strict", str(CHART), *values).stdout
    print(out)
    assert "0 chart(s) failed" in out
    assert "[WARNING]" not in out and "[ERROR]" not in out


@pytest.mark.parametrize("values", [[], ALL_ON], ids=["defaults", "all-on"])
def test_helm_template_passes_the_kubernetes_schemas(values):
    docs = helm_template("--include-crds", *values)
    kinds = sorted({d["kind"] for d in docs})
    print(f"{len(docs)} manifests: {', '.join(kinds)}")
    for doc in docs:
        validate(doc)
    if values:
        assert {"HorizontalPodAutoscaler", "NetworkPolicy", "ServiceMonitor", "PodDisruptionBudget"} <= set(kinds)


def test_the_chart_never_renders_the_gateway_workload():
    for values in ([], ALL_ON):
        for doc in helm_template(*values):
            assert not (doc["kind"] in ("Deployment", "Ingress") and doc["metadata"]["name"] == "tfc-mcp-gateway")
            assert not (doc["kind"] == "Service" and doc["metadata"]["name"] == "tfc-mcp-gateway")


@pytest.mark.parametrize(
    "values, message",
    [
        (["--set", "gateway.replica=3"], "additional properties 'replica' not allowed"),
        (["--set", "operator.image.pullPolicy=Sometimes"], "value must be one of"),
        (["--set", "gateway.publicBaseUrl=mcp.example.com"], "does not match pattern"),
        (["--set", "gateway.publicBaseUrl=https://mcp.example.com/"], "does not match pattern"),
        (["--set", "publicBaseUrl=https://mcp.example.com"], "additional properties 'publicBaseUrl' not allowed"),
        (["--set", "gateway.podDisruptionBudget.minAvailable=1"], "'not' failed"),
        (["--set", "gateway.ingress.enable=true"], "additional properties 'enable' not allowed"),
        (["--set", "gateway.service.type=ExternalName"], "value must be one of"),
        (["--set", "gateway.workerThreads=0"], "minimum"),
        (["--set-string", "metrics.serviceMonitor.interval=30"], "does not match pattern"),
    ],
)
def test_values_schema_rejects_typos_and_bad_values(values, message):
    result = subprocess.run([binaries()["helm"], "template", "t", str(CHART), *values], capture_output=True, text=True)
    assert result.returncode != 0
    assert message in result.stderr, result.stderr


def test_gateway_config_follows_the_operator_contract():
    docs = helm_template("--set", "gateway.publicBaseUrl=https://mcp.acme.io:8443/tfc")
    config = gateway_config(docs)
    contract = {"name", "image", "imagePullPolicy", "replicas", "serviceAccountName", "publicBaseUrl", "listenPort",
                "adminPort", "allowedHosts", "allowedOrigins", "legacySse", "limits", "resources", "service", "ingress",
                "podLabels", "podAnnotations", "nodeSelector", "tolerations", "affinity",
                "allowedTfcAddresses", "allowInsecureTfcAddresses", "deniedEgressCidrs", "allowedEgressAddresses",
                "allowedDownloadHosts", "adminBindPodIp", "registry", "oidc", "serviceAccountAuth", "approvalKeySecret",
                "peerPacing", "approvalClaims", "workerThreads"}
    assert set(config) == contract
    assert config["workerThreads"] is None, "unset: one thread per CPU the container may use"
    assert gateway_config(helm_template("--set", "gateway.workerThreads=2"))["workerThreads"] == 2
    assert config["peerPacing"] is True
    assert config["approvalClaims"] == {"enabled": True, "perSecond": 2, "perSecondTotal": 50}
    assert config["serviceAccountAuth"] == {"audience": "tfc-mcp-gateway", "cacheSeconds": 30, "negativeCacheSeconds": 10,
                                            "reviewsPerSecond": 20, "reviewsPerSecondPerServer": 5}
    assert config["approvalKeySecret"] == "tfc-mcp-gateway-approval-key"
    key = find(docs, "Secret", "tfc-mcp-gateway-approval-key")
    assert len(base64.b64decode(key["data"]["current"])) == 48
    mine = helm_template("--set", "gateway.approvalKey.existingSecret=my-key")
    assert gateway_config(mine)["approvalKeySecret"] == "my-key"
    assert not [d for d in mine if d["kind"] == "Secret"], "an existing Secret is used, not created"
    assert config["registry"] == {"address": "https://registry.terraform.io", "forEnterpriseRoutes": False}
    assert set(config["limits"]) == {"maxInflight", "maxInflightPerServer", "maxInflightPerNamespace", "memoryBudgetMib",
                                     "bodyReadTimeoutSecs", "headerReadTimeoutSecs", "idleTimeoutSecs",
                                     "writeStallTimeoutSecs", "routeSyncStaleSecs", "maxResultBytes"}
    assert set(config["ingress"]) == {"enabled", "className", "host", "tlsSecretName", "annotations"}
    assert set(config["service"]) == {"type", "port"}
    assert config["name"] == config["serviceAccountName"] == "tfc-mcp-gateway"
    assert config["image"] == "ghcr.io/tfc-mcp/tfc-mcp-gateway:0.1.0"
    assert config["publicBaseUrl"] == "https://mcp.acme.io:8443/tfc"
    assert config["allowedHosts"] == ["mcp.acme.io"]  # host without port: any port matches
    assert config["replicas"] == 2 and config["legacySse"] is True
    # The operator's selector (name + component) is among the Pods' labels.
    assert {"app.kubernetes.io/name": "tfc-mcp-gateway", "app.kubernetes.io/component": "gateway"}.items() <= config["podLabels"].items()

    operator = find(docs, "Deployment", "tfc-mcp-operator")
    args = operator["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "run"
    assert f"--gateway-namespace={NAMESPACE}" in args
    assert "--public-base-url=https://mcp.acme.io:8443/tfc" in args
    assert "--admin-listen=0.0.0.0:9091" in args and "--log-format=json" in args
    assert "--gateway-config=/etc/tfc-mcp/gateway.yaml" in args
    # One value set feeds the operator's and the gateway's address allow-list.
    assert "--allowed-tfc-addresses=https://app.terraform.io" in args and "--allow-insecure-tfc-addresses=false" in args
    assert config["allowedTfcAddresses"] == ["https://app.terraform.io"] and config["allowInsecureTfcAddresses"] is False
    assert config["adminBindPodIp"] is True

    hpa = gateway_config(helm_template(*ALL_ON))
    assert "replicas" not in hpa, "with the HPA on, the operator must leave spec.replicas alone"
    assert hpa["ingress"]["host"] == "mcp.acme.io" and hpa["ingress"]["enabled"] is True


def test_a_gateway_value_change_rolls_the_operator():
    def checksum(*values: str) -> str:
        deployment = find(helm_template(*values), "Deployment", "tfc-mcp-operator")
        return deployment["spec"]["template"]["metadata"]["annotations"]["checksum/gateway-config"]

    base = checksum()
    assert checksum("--set", "gateway.replicas=3") != base
    assert checksum("--set", "gateway.image.tag=0.2.0") != base
    assert checksum("--set", "operator.logLevel=debug") == base


def test_pods_are_restricted():
    docs = helm_template(*ALL_ON)
    spec = find(docs, "Deployment", "tfc-mcp-operator")["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 65532
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = spec["containers"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["readOnlyRootFilesystem"] is True
    assert sc["capabilities"] == {"drop": ["ALL"]}
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def _rules(doc: dict) -> set[tuple[str, str, str]]:
    return {(group, resource, verb) for rule in doc["rules"] for group in rule["apiGroups"]
            for resource in rule["resources"] for verb in rule["verbs"]}


def test_rbac_is_least_privilege():
    docs = helm_template(*ALL_ON)
    crud = ("get", "list", "watch", "create", "patch", "update", "delete")
    cluster = _rules(find(docs, "ClusterRole", "tfc-mcp-operator"))
    assert cluster == {
        *{("tfcmcp.dev", "tfcmcpservers", v) for v in ("get", "list", "watch", "patch", "update", "delete")},
        *{("tfcmcp.dev", "tfcmcpservers/status", v) for v in ("get", "patch", "update")},
        ("tfcmcp.dev", "tfcmcpservers/finalizers", "update"),
        *{("", "secrets", v) for v in crud},
        ("", "events", "create"), ("", "events", "patch"),
        ("events.k8s.io", "events", "create"), ("events.k8s.io", "events", "patch"),
    }
    namespaced = _rules(find(docs, "Role", "tfc-mcp-operator"))
    # ... and the gateway's approval claims, which it deletes once their time is over (the gateway only creates them).
    assert namespaced == {(g, r, v) for g, r in (("apps", "deployments"), ("", "services"), ("networking.k8s.io", "ingresses"))
                          for v in crud} | {("", "serviceaccounts", "get")} | {("coordination.k8s.io", "leases", v) for v in ("list", "delete")}
    # The gateway workload's owner, and only that ServiceAccount.
    (account_rule,) = [r for r in find(docs, "Role", "tfc-mcp-operator")["rules"] if "serviceaccounts" in r["resources"]]
    assert account_rule["resourceNames"] == ["tfc-mcp-gateway"]
    leases = _rules(find(docs, "Role", "tfc-mcp-operator-leader-election"))
    assert leases == {("coordination.k8s.io", "leases", v) for v in ("get", "list", "watch", "create", "update", "patch")}
    # Its route Secrets, its own replicas (EndpointSlices, for the shared rate budgets; off with peerPacing)
    # and the claims of confirmations (Leases, single use across replicas; off with approvalClaims).
    claim_rules = {("coordination.k8s.io", "leases", "create")}
    assert _rules(find(docs, "Role", "tfc-mcp-gateway")) == ({("", "secrets", v) for v in ("get", "list", "watch")}
                                                             | {("discovery.k8s.io", "endpointslices", v) for v in ("list", "watch")}
                                                             | claim_rules)
    assert gateway_config(docs)["approvalClaims"] == {"enabled": True, "perSecond": 2, "perSecondTotal": 50}
    alone = helm_template("--set", "gateway.peerPacing.enabled=false", "--set", "gateway.approvalClaims.enabled=false")
    assert _rules(find(alone, "Role", "tfc-mcp-gateway")) == {("", "secrets", v) for v in ("get", "list", "watch")}
    assert gateway_config(alone)["peerPacing"] is False
    assert gateway_config(alone)["approvalClaims"]["enabled"] is False
    assert not [r for r in find(alone, "Role", "tfc-mcp-operator")["rules"] if "leases" in r["resources"]]
    operator_args = find(docs, "Deployment", "tfc-mcp-operator")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--approval-claims-sweep-secs=60" in operator_args
    alone_args = find(alone, "Deployment", "tfc-mcp-operator")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert not [a for a in alone_args if a.startswith("--approval-claims")]
    # Cluster-wide, the gateway may only create TokenReviews (spec.auth.serviceAccounts).
    assert _rules(find(docs, "ClusterRole", "tfc-mcp-gateway-tokenreview")) == {("authentication.k8s.io", "tokenreviews", "create")}
    # Only the operator and that role are bound cluster-wide; every binding names its own ServiceAccount.
    cluster_bindings = {d["roleRef"]["name"]: d["subjects"] for d in docs if d["kind"] == "ClusterRoleBinding"}
    assert cluster_bindings == {
        "tfc-mcp-operator": [{"kind": "ServiceAccount", "name": "tfc-mcp-operator", "namespace": NAMESPACE}],
        "tfc-mcp-gateway-tokenreview": [{"kind": "ServiceAccount", "name": "tfc-mcp-gateway", "namespace": NAMESPACE}],
    }
    for binding in (d for d in docs if d["kind"] == "RoleBinding"):
        assert binding["metadata"]["namespace"] == NAMESPACE
        assert binding["roleRef"]["name"].startswith(binding["subjects"][0]["name"])
    assert not [d for d in docs if d["kind"] in ("ClusterRole", "Role") and any("*" in str(r) for r in d["rules"])]


def test_optional_gateway_objects_select_the_operator_managed_pods():
    docs = helm_template(*ALL_ON)
    pod_labels = gateway_config(docs)["podLabels"]
    selectors = [
        find(docs, "PodDisruptionBudget", "tfc-mcp-gateway")["spec"]["selector"]["matchLabels"],
        find(docs, "NetworkPolicy", "tfc-mcp-gateway")["spec"]["podSelector"]["matchLabels"],
        find(docs, "Service", "tfc-mcp-gateway-metrics")["spec"]["selector"],
    ]
    for selector in selectors:
        assert selector.items() <= pod_labels.items()
    hpa = find(docs, "HorizontalPodAutoscaler", "tfc-mcp-gateway")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "tfc-mcp-gateway"}
    for name in ("tfc-mcp-operator", "tfc-mcp-gateway"):
        monitor = find(docs, "ServiceMonitor", name)
        service = find(docs, "Service", f"{name}-metrics")
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert monitor["spec"]["endpoints"][0]["port"] == service["spec"]["ports"][0]["name"]
    policy = find(docs, "NetworkPolicy", "tfc-mcp-gateway")["spec"]["ingress"]
    assert [rule["ports"][0]["port"] for rule in policy] == [8080, 9090]
    assert "from" in policy[1], "the admin port is only open to the monitoring peers"


def test_gateway_egress_network_policy():
    spec = find(helm_template(*ALL_ON), "NetworkPolicy", "tfc-mcp-gateway")["spec"]
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    dns, api, upstream, extra = spec["egress"]
    assert {(p["port"], p["protocol"]) for p in dns["ports"]} == {(53, "UDP"), (53, "TCP")}
    assert api["to"] == [{"ipBlock": {"cidr": "10.0.0.2/32"}}] and [p["port"] for p in api["ports"]] == [443, 6443]
    v4, v6 = (rule["ipBlock"] for rule in upstream["to"])
    assert v4["cidr"] == "0.0.0.0/0" and "169.254.0.0/16" in v4["except"] and "10.0.0.0/8" in v4["except"]
    assert all(":" not in c for c in v4["except"]) and all(":" in c for c in v6["except"]) and "fe80::/10" in v6["except"]
    assert [p["port"] for p in upstream["ports"]] == [443]
    assert extra["ports"] == [{"port": 8443, "protocol": "TCP"}]
    # Egress on without the API server's addresses would cut the route watch: refused at render time.
    result = subprocess.run([binaries()["helm"], "template", "t", str(CHART), "--set", "gateway.networkPolicy.enabled=true",
                             "--set", "gateway.networkPolicy.egress.enabled=true"], capture_output=True, text=True)
    assert result.returncode != 0 and "apiServerCidrs" in result.stderr
    # The default policy stays ingress-only.
    spec = find(helm_template("--set", "gateway.networkPolicy.enabled=true"), "NetworkPolicy", "tfc-mcp-gateway")["spec"]
    assert spec["policyTypes"] == ["Ingress"] and "egress" not in spec


# ---- kustomize ---------------------------------------------------------------------


@pytest.mark.parametrize("base", KUSTOMIZE_BASES)
def test_kustomize_base_builds_and_validates(base):
    docs = docs_of(run("kubectl", "kustomize", str(ROOT / "config" / base)).stdout)
    assert docs
    for doc in docs:
        validate(doc)
    names = ", ".join(f"{d['kind']}/{d['metadata']['name']}" for d in docs)
    print(f"config/{base}: {names}")


def test_kustomize_default_matches_the_chart():
    kustomized = docs_of(run("kubectl", "kustomize", str(ROOT / "config" / "default")).stdout)
    charted = helm_template("--include-crds")

    def objects(docs: list[dict]) -> dict[tuple[str, str], dict]:
        return {(d["kind"], re.sub(r"-[a-z0-9]{10}$", "", d["metadata"]["name"]) if d["kind"] == "ConfigMap" else d["metadata"]["name"]): d
                for d in docs}

    k, h = objects(kustomized), objects(charted)
    # The approval key is random: kustomize has no Secret for it, the operator mints it.
    assert set(k) - {("Namespace", NAMESPACE)} == set(h) - {("Secret", "tfc-mcp-gateway-approval-key")}
    for key in h:
        if key[0] in ("ClusterRole", "Role"):
            assert k[key]["rules"] == h[key]["rules"], key
    assert yaml.safe_load(k[("ConfigMap", "tfc-mcp-gateway-config")]["data"]["gateway.yaml"]) == gateway_config(charted)


def test_samples_cover_audit_break_glass_and_ci():
    samples = {d["metadata"]["name"]: d for d in docs_of(run("kubectl", "kustomize", str(ROOT / "config" / "samples")).stdout)}
    assert set(samples) == {"audit-readonly", "incident-break-glass", "ci-runner"}
    audit = samples["audit-readonly"]["spec"]
    assert audit["methods"] == ["read"]
    glass = samples["incident-break-glass"]["spec"]
    assert glass["methods"] == ["read", "custom"]
    assert "hashicorp_terraform_cloud_workspaces_force_unlock" in glass["tools"]["include"]
    assert glass["expiryPolicy"] == "Delete" and glass["auth"]["requireApiToken"] is True
    ci = samples["ci-runner"]["spec"]["tools"]["include"]
    for tool in ("create_a_hashicorp_terraform_cloud_run", "hashicorp_terraform_cloud_runs_apply", "hashicorp_terraform_cloud_runs_wait"):
        assert tool in ci
    for sample in samples.values():
        assert "namespace" not in sample["metadata"], "samples go to the namespace given to kubectl"


# ---- Argo CD health check ---------------------------------------------------------

HEALTH_CASES = yaml.safe_load((PACKAGING / "health_test.yaml").read_text())["tests"]


def argocd_health(obj: dict) -> dict:
    """Runs health.lua the way Argo CD does: Lua 5.1 (gopher-lua), `obj` global, no os/io."""
    from lupa import lua51

    lua = lua51.LuaRuntime(unpack_returned_tuples=True)
    for unsafe in ("os", "io", "debug", "package", "require", "dofile", "loadfile", "load", "loadstring"):
        lua.globals()[unsafe] = None
    lua.globals().obj = lua.table_from(obj, recursive=True)
    result = lua.execute(HEALTH_LUA.read_text())
    return {"status": result["status"], "message": result["message"]}


def test_health_check_runs_on_lua_51():
    from lupa import lua51

    assert lua51.LuaRuntime().eval("_VERSION") == "Lua 5.1"


@pytest.mark.parametrize("case", HEALTH_CASES, ids=[Path(c["inputPath"]).stem for c in HEALTH_CASES])
def test_health_check_on_real_objects(case):
    obj = json.loads((PACKAGING / case["inputPath"]).read_text())
    assert argocd_health(obj) == case["healthStatus"]


def test_health_check_fixtures_are_all_covered():
    covered = {Path(c["inputPath"]).name for c in HEALTH_CASES}
    assert covered == {p.name for p in (PACKAGING / "fixtures").glob("*.json")}


def _server(status: dict | None, generation: int = 2, **metadata) -> dict:
    obj = {"apiVersion": "tfcmcp.dev/v1alpha1", "kind": "TfcMcpServer",
           "metadata": {"name": "s", "namespace": "n", "generation": generation, **metadata}, "spec": {}}
    if status is not None:
        obj["status"] = status
    return obj


def _cond(type_: str, status: str, reason: str = "R", message: str = "m", generation: int | None = None) -> dict:
    c = {"type": type_, "status": status, "reason": reason, "message": message, "lastTransitionTime": "2026-01-01T00:00:00Z"}
    if generation is not None:
        c["observedGeneration"] = generation
    return c


@pytest.mark.parametrize(
    "obj, expected",
    [
        (_server({"observedGeneration": 2}), ("Progressing", "Waiting for the tfc-mcp operator")),
        (_server({"observedGeneration": 2, "conditions": [_cond("Ready", "Unknown")]}), ("Progressing", "Waiting for the tfc-mcp operator")),
        (_server({"observedGeneration": 2, "conditions": [_cond("Ready", "True", generation=1)]}), ("Progressing", "Reconciling generation 2")),
        (_server({"observedGeneration": 2, "conditions": [_cond("Ready", "False", "Boom", "")]}), ("Degraded", "Boom")),
        (_server({"observedGeneration": 2, "conditions": [_cond("Ready", "True", "Ready", "")]}), ("Healthy", "Ready")),
        (_server({"observedGeneration": 2, "expiresAt": "2026-01-01T00:00:00Z",
                  "conditions": [_cond("Ready", "False", "Expired", "x"), _cond("Expired", "True", "Expired", "")]}),
         ("Degraded", "Expired at 2026-01-01T00:00:00Z")),
        (_server({"observedGeneration": 2, "conditions": [_cond("Ready", "True")]}, deletionTimestamp="2026-01-01T00:00:00Z"),
         ("Progressing", "Being deleted (the operator removes its Secrets first)")),
    ],
    ids=["no-conditions", "ready-unknown", "ready-condition-stale", "reason-only", "ready-no-message", "expired-no-message", "deleting"],
)
def test_health_check_edge_cases(obj, expected):
    assert tuple(argocd_health(obj).values()) == expected


def test_argocd_examples_are_well_formed():
    applications = sorted((ROOT / "config" / "argocd").glob("application*.yaml"))
    assert [p.name for p in applications] == ["application-servers.yaml", "application-tfc-mcp.yaml"]
    for path in applications:
        for app in docs_of(path.read_text()):
            assert app["apiVersion"] == "argoproj.io/v1alpha1" and app["kind"] == "Application", path
            spec = app["spec"]
            assert {"project", "source", "destination", "syncPolicy"} <= set(spec), path
            assert spec["source"]["repoURL"].startswith("https://") and spec["source"]["path"], path
    cm = docs_of((ROOT / "config" / "argocd" / "argocd-cm.yaml").read_text())[0]
    assert cm["data"]["resource.customizations.health.tfcmcp.dev_TfcMcpServer"] == HEALTH_LUA.read_text()


# ---- Dockerfiles (no Docker engine here: a structural lint only) --------------------


@pytest.mark.parametrize("crate", ["operator", "gateway"])
def test_dockerfile_is_multistage_static_and_non_root(crate):
    text = (ROOT / crate / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)(?:\s+AS\s+(\S+))?", text, re.M | re.I)
    assert len(stages) >= 2, "multi-stage"
    assert stages[0][0].startswith("docker.io/library/rust:1.95")
    assert stages[-1][0].startswith("gcr.io/distroless/static-debian12:nonroot")
    assert re.search(rf"cargo build --release --locked .*-p tfc-mcp-{crate}\b", text.replace("\\\n", " "))
    assert re.search(r"^USER 65532:65532$", text, re.M)
    assert re.search(rf'^ENTRYPOINT \["/usr/local/bin/tfc-mcp-{crate}"', text, re.M)
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "target" in ignored or "/target" in ignored


def test_operator_builds_without_the_http_and_mcp_stack():
    """The operator shares only the contract crate with the gateway: the MCP
    SDK, the web framework and the gateway crate stay out of its build."""
    tree = subprocess.run(["cargo", "tree", "--locked", "-p", "tfc-mcp-operator", "-e", "normal", "--prefix", "none"],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    crates = {line.split()[0] for line in tree.splitlines() if line.strip()}
    assert "tfc-mcp-contract" in crates
    assert not crates & {"axum", "rmcp", "tfc-mcp-gateway"}, sorted(crates & {"axum", "rmcp", "tfc-mcp-gateway"})


# ---- the real API server -----------------------------------------------------------


def test_helm_install_into_real_api_server(tmp_path):
    """helm install into a fresh control plane; RBAC checked with `kubectl auth
    can-i` as the ServiceAccount users; the samples pass server-side dry-run
    (schema + CEL); the restricted PodSecurity admission admits the operator Pods;
    and the operator, run as its ServiceAccount's user with the chart's
    gateway.yaml, takes the Lease and applies the gateway workload."""
    cp = tmp_path / "cp"
    operator = None
    try:
        subprocess.run(["bash", str(E2E / "controlplane" / "start.sh"), str(cp)], check=True, stdout=subprocess.DEVNULL)
        env = json.loads((cp / "env.json").read_text())
        admin = ["--kubeconfig", env["KUBECONFIG"]]

        def kubectl(*args: str, check: bool = True, **kwargs) -> subprocess.CompletedProcess:
            result = subprocess.run([binaries()["kubectl"], *admin, *args], capture_output=True, text=True, **kwargs)
            if check and result.returncode != 0:
                raise AssertionError(f"kubectl {' '.join(args)}: {result.stderr}")
            return result

        kubectl("create", "namespace", NAMESPACE)
        kubectl("label", "namespace", NAMESPACE, "pod-security.kubernetes.io/enforce=restricted")
        started = time.monotonic()
        install = run("helm", *admin, "install", "tfc-mcp", str(CHART), "--namespace", NAMESPACE,
                      "--set", "gateway.publicBaseUrl=http://127.0.0.1:18080", "--wait=false")
        print(f"helm install took {time.monotonic() - started:.1f}s\n{install.stdout}")
        assert "STATUS: deployed" in install.stdout

        for kind, name in [("serviceaccount", "tfc-mcp-operator"), ("serviceaccount", "tfc-mcp-gateway"),
                           ("role", "tfc-mcp-operator"), ("role", "tfc-mcp-operator-leader-election"), ("role", "tfc-mcp-gateway"),
                           ("rolebinding", "tfc-mcp-gateway"), ("configmap", "tfc-mcp-gateway-config"),
                           ("deployment", "tfc-mcp-operator"), ("poddisruptionbudget", "tfc-mcp-gateway")]:
            kubectl("get", kind, name, "-n", NAMESPACE)
        kubectl("get", "clusterrole", "tfc-mcp-operator")
        kubectl("get", "clusterrolebinding", "tfc-mcp-operator")
        kubectl("wait", "--for=condition=Established", "crd/tfcmcpservers.tfcmcp.dev", "--timeout=60s")

        def can_i(user: str, *args: str) -> str:
            return kubectl("auth", "can-i", "--as", user, *args, check=False).stdout.strip()

        assert can_i(GATEWAY_SA, "get", "secrets", "-n", "default") == "no"
        assert can_i(GATEWAY_SA, "list", "secrets", "--all-namespaces") == "no"
        assert can_i(GATEWAY_SA, "get", "secrets", "-n", NAMESPACE) == "yes"
        assert can_i(GATEWAY_SA, "watch", "secrets", "-n", NAMESPACE) == "yes"
        assert can_i(GATEWAY_SA, "create", "secrets", "-n", NAMESPACE) == "no"
        assert can_i(GATEWAY_SA, "list", "tfcmcpservers.tfcmcp.dev", "-n", NAMESPACE) == "no"
        assert can_i(OPERATOR_SA, "create", "secrets", "-n", "default") == "yes"
        assert can_i(OPERATOR_SA, "patch", "tfcmcpservers.tfcmcp.dev", "--subresource=status", "-n", "default") == "yes"
        assert can_i(OPERATOR_SA, "patch", "deployments.apps", "-n", NAMESPACE) == "yes"
        assert can_i(OPERATOR_SA, "patch", "deployments.apps", "-n", "default") == "no"
        assert can_i(OPERATOR_SA, "update", "leases.coordination.k8s.io", "-n", NAMESPACE) == "yes"
        assert can_i(OPERATOR_SA, "create", "pods", "-n", NAMESPACE) == "no"
        # The same, authenticated as the token users the API server knows.
        denied = subprocess.run([binaries()["kubectl"], "--kubeconfig", env["GATEWAY_KUBECONFIG"], "get", "secrets", "-n", "default"],
                                capture_output=True, text=True)
        assert denied.returncode != 0 and "forbidden" in denied.stderr.lower()

        # The samples pass the CRD schema and its CEL rules.
        kubectl("create", "namespace", "samples")
        dry_run = kubectl("apply", "--dry-run=server", "-n", "samples", "-k", str(ROOT / "config" / "samples"))
        assert dry_run.stdout.count("(server dry run)") == 3, dry_run.stdout

        # The restricted PodSecurity admission admits the operator's Pods (no kubelet runs them).
        def pods(selector: str) -> list[dict]:
            return json.loads(kubectl("get", "pods", "-n", NAMESPACE, "-l", selector, "-o", "json").stdout)["items"]

        wait(lambda: len(pods("app.kubernetes.io/name=tfc-mcp-operator")) == 2, "the operator Pods to be admitted")
        refused = kubectl("run", "unrestricted", "--image=example.com/x", "--dry-run=server", "-n", NAMESPACE, check=False)
        assert refused.returncode != 0 and "violates PodSecurity" in refused.stderr, "the namespace must enforce restricted"

        # The approval key is generated once and kept by `helm upgrade` (lookup).
        def approval_key() -> str:
            return kubectl("get", "secret", "tfc-mcp-gateway-approval-key", "-n", NAMESPACE, "-o", "jsonpath={.data.current}").stdout

        key = approval_key()
        assert len(base64.b64decode(key)) == 48
        run("helm", *admin, "upgrade", "tfc-mcp", str(CHART), "--namespace", NAMESPACE,
            "--set", "gateway.publicBaseUrl=http://127.0.0.1:18080", "--wait=false")
        assert approval_key() == key, "helm upgrade must keep the approval key"
        # Without it (kustomize, or deleted), the operator mints one before applying the gateway.
        kubectl("delete", "secret", "tfc-mcp-gateway-approval-key", "-n", NAMESPACE)

        # The operator itself, as the chart's ServiceAccount, with the chart's gateway.yaml.
        config = tmp_path / "gateway.yaml"
        config.write_text(kubectl("get", "configmap", "tfc-mcp-gateway-config", "-n", NAMESPACE,
                                  "-o", "jsonpath={.data.gateway\\.yaml}").stdout)
        subprocess.run(["cargo", "build", "--bin", "tfc-mcp-operator"], cwd=ROOT, check=True)
        target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
        log = open(tmp_path / "operator.log", "wb")
        operator = subprocess.Popen(
            [str(target / "debug" / "tfc-mcp-operator"), "run", f"--gateway-namespace={NAMESPACE}",
             "--public-base-url=http://127.0.0.1:18080", "--admin-listen=127.0.0.1:0", f"--gateway-config={config}"],
            env={**os.environ, "KUBECONFIG": env["OPERATOR_KUBECONFIG"], "POD_NAME": "operator-under-test", "RUST_LOG": "info"},
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait(lambda: kubectl("get", "deployment", "tfc-mcp-gateway", "-n", NAMESPACE, check=False).returncode == 0,
                 "the operator to apply the gateway Deployment", timeout=60)
        except AssertionError:
            raise AssertionError((tmp_path / "operator.log").read_text()[-4000:])
        lease = json.loads(kubectl("get", "lease", "tfc-mcp-operator", "-n", NAMESPACE, "-o", "json").stdout)
        assert lease["spec"]["holderIdentity"] == "operator-under-test"
        service = json.loads(kubectl("get", "service", "tfc-mcp-gateway", "-n", NAMESPACE, "-o", "json").stdout)
        assert service["spec"]["sessionAffinity"] == "ClientIP"
        deployment = json.loads(kubectl("get", "deployment", "tfc-mcp-gateway", "-n", NAMESPACE, "-o", "json").stdout)
        assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == "tfc-mcp-gateway"
        assert deployment["spec"]["template"]["spec"]["volumes"][0]["secret"]["secretName"] == "tfc-mcp-gateway-approval-key"
        minted = json.loads(kubectl("get", "secret", "tfc-mcp-gateway-approval-key", "-n", NAMESPACE, "-o", "json").stdout)
        assert len(base64.b64decode(minted["data"]["current"])) >= 32 and minted["data"]["current"] != key
        assert minted["metadata"]["ownerReferences"][0]["name"] == "tfc-mcp-gateway"
        pdb = json.loads(kubectl("get", "pdb", "tfc-mcp-gateway", "-n", NAMESPACE, "-o", "json").stdout)
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert pdb["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
        # The gateway Pods the operator asks for are admitted under `restricted` too.
        wait(lambda: len(pods("app.kubernetes.io/name=tfc-mcp-gateway")) == 2, "the gateway Pods to be admitted")

        uninstall = run("helm", *admin, "uninstall", "tfc-mcp", "--namespace", NAMESPACE)
        assert "uninstalled" in uninstall.stdout
    finally:
        if operator is not None and operator.poll() is None:
            operator.send_signal(signal.SIGTERM)
            try:
                operator.wait(timeout=15)
            except subprocess.TimeoutExpired:
                operator.kill()
                operator.wait()
        subprocess.run(["bash", str(E2E / "controlplane" / "stop.sh"), str(cp)], check=False)


def wait(check, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.5)
