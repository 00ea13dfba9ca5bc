"""In-cluster agents by ServiceAccount (`spec.auth.serviceAccounts`), on the
real control plane: tokens minted by the API server's TokenRequest
(`kubectl create token --audience`), checked by the gateway with TokenReview
under the chart's RBAC (the gateway runs as the chart's ServiceAccount).

Two ServiceAccounts, one listed and one not: the listed one works, the other
gets 401 with no upstream call; a token for another audience is refused; a
deleted ServiceAccount's token stops working after the cache time; a flood
of random tokens causes a bounded number of TokenReviews."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import time

import pytest

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, free_port, http_get, terminate, wait_for

AUDIENCE = "tfc-mcp-gateway"
LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
REVIEWED = ("authenticated", "refused", "error")
# kube-apiserver caches a successful token authentication for 10 s (TokenSuccessCacheTTL).
APISERVER_TOKEN_CACHE_SECS = 10


def serve(stack, namespace, name="srv", **spec) -> dict[str, str]:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access


def service_account(stack, namespace: str, name: str) -> None:
    stack.apply({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "namespace": namespace}})


def sa_token(stack, namespace: str, name: str, audience: str = AUDIENCE) -> str:
    """A bound token from the API server's TokenRequest, as a projected volume would hold."""
    token = stack.kubectl("create", "token", name, "-n", namespace, f"--audience={audience}", "--duration=10m").stdout.strip()
    MINTED_TOKENS.append(token)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def metric(admin_port: int, name: str, **labels: str) -> float:
    """Sum of a gateway metric's samples whose labels include `labels`."""
    _, body = http_get(f"http://127.0.0.1:{admin_port}/metrics")
    total = 0.0
    for line in body.decode().splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def reviews(admin_port: int) -> float:
    return sum(metric(admin_port, "tfcmcp_gateway_service_account_tokens_total", result=r) for r in REVIEWED)


def random_jwt() -> str:
    def part(n: int) -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(n)).decode().rstrip("=")

    return f"{part(24)}.{part(96)}.{part(128)}"


class TightGateway:
    """A gateway process with a short ServiceAccount cache and a small
    TokenReview budget, fed by the same route Secrets."""

    CACHE_SECS = 3
    REVIEWS_PER_SECOND = 2.0
    REVIEWS_PER_SECOND_PER_SERVER = 1.0

    def __init__(self, stack):
        self.port = free_port()
        self.admin_port = free_port()
        env = {**os.environ, "KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig"),
               "RUST_LOG": os.environ.get("RUST_LOG", "info,kube=warn,rmcp=warn")}
        self.proc = subprocess.Popen(
            [str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
             "--listen", f"127.0.0.1:{self.port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
             f"--service-account-cache-secs={self.CACHE_SECS}", "--service-account-negative-cache-secs=3",
             f"--token-reviews-per-second={self.REVIEWS_PER_SECOND}",
             f"--token-reviews-per-second-per-server={self.REVIEWS_PER_SECOND_PER_SERVER}",
             # A high request rate, so the TokenReview limit is the one under test.
             "--rate-limit-per-second=1000", "--rate-limit-burst=1000",
             *stack.gateway_network_args(public_base_url=f"http://127.0.0.1:{self.port}")],
            stdout=open(stack.work / "gateway-sa-auth.log", "ab"), stderr=subprocess.STDOUT, env=env, start_new_session=True)
        wait_for("the ServiceAccount test gateway", lambda: http_get(f"http://127.0.0.1:{self.admin_port}/readyz")[0] == 200)

    def url(self, url: str) -> str:
        return f"http://127.0.0.1:{self.port}/mcp/{url.split('/mcp/', 1)[1]}"

    def stop(self) -> None:
        terminate(self.proc)


@pytest.fixture
def tight_gateway(stack):
    gateway = TightGateway(stack)
    try:
        yield gateway
    finally:
        gateway.stop()


def test_listed_service_account_works_and_others_get_401_without_upstream_call(stack, namespace):
    other_namespace = f"{namespace}-b"[:60]
    stack.create_namespace(other_namespace)
    for name in ("agent", "intruder"):
        service_account(stack, namespace, name)
    service_account(stack, other_namespace, "agent")  # same name, other namespace: not listed
    service_account(stack, other_namespace, "bot")  # listed by namespace

    access = serve(stack, namespace, auth={"serviceAccounts": [{"name": "agent"}, {"namespace": other_namespace, "name": "bot"}]})
    url = access["url"]

    # The URL alone is not enough.
    status, headers, _ = mcp.raw_post(url)
    assert status == 401
    assert headers.get("WWW-Authenticate", headers.get("www-authenticate", "")).startswith("Bearer")

    agent = sa_token(stack, namespace, "agent")
    assert mcp.raw_post(url, headers=bearer(agent))[0] == 200
    result = mcp.call(url, LIST_WS, {"organization_name": "acme-corp"}, headers=bearer(agent))
    assert result.ok, result
    # A listed ServiceAccount of another namespace works too.
    assert LIST_WS in mcp.tool_names(url, headers=bearer(sa_token(stack, other_namespace, "bot")))

    before = len(stack.sim_requests())
    refused = {
        "unlisted ServiceAccount": sa_token(stack, namespace, "intruder"),
        "same name, other namespace": sa_token(stack, other_namespace, "agent"),
        "listed ServiceAccount, Kubernetes API audience": sa_token(stack, namespace, "agent",
                                                                  audience="https://kubernetes.default.svc.cluster.local"),
        "listed ServiceAccount, another audience": sa_token(stack, namespace, "agent", audience="someone-else"),
        "a forged JWT": random_jwt(),
        "an API-token-like value": "tfcmcp_" + secrets.token_urlsafe(32),
    }
    call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": LIST_WS, "arguments": {"organization_name": "acme-corp"}}}
    for what, token in refused.items():
        status, headers, body = mcp.raw_post(url, body=call, headers=bearer(token))
        assert status == 401, (what, status, body)
        assert "invalid_token" in {k.lower(): v for k, v in headers.items()}["www-authenticate"], what
        assert token not in body.decode()
    assert len(stack.sim_requests()) == before, "a refused caller reached HCP Terraform"

    # The audit line names the caller, never its token.
    log = (stack.work / "gateway.log").read_text()
    audit = [json.loads(line) for line in log.splitlines()
             if line.startswith("{") and '"tool call"' in line and f"{namespace}/srv" in line]
    assert any(a.get("caller") == f"system:serviceaccount:{namespace}:agent" and a.get("tool") == LIST_WS for a in audit), audit
    for token in (agent, *refused.values()):
        assert token not in log


def test_operator_and_schema_refuse_bad_service_account_specs(stack, namespace):
    def apply_fails(auth: dict) -> str:
        manifest = stack.server_manifest("bad", namespace, auth=auth)
        result = stack.kubectl("apply", "-f", "-", input=json.dumps(manifest), check=False)
        assert result.returncode != 0, auth
        return result.stderr

    stack.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "keys", "namespace": namespace},
                 "stringData": {"k": "v" * 32}})
    assert "exclusive" in apply_fails({"requireApiToken": True, "apiTokenSecretRef": {"name": "keys"},
                                       "serviceAccounts": [{"name": "agent"}]})
    # Names that would spell another identity never reach the operator.
    for entry in ({"name": "a:b"}, {"name": "*"}, {"namespace": "x:y", "name": "a"}, {"name": ""}):
        apply_fails({"serviceAccounts": [entry]})
    assert "repeat" in apply_fails({"serviceAccounts": [{"name": "a"}, {"name": "a"}]})
    assert stack.get("tfcmcpserver", "bad", namespace) is None


def test_deleted_service_account_is_refused_after_the_cache_time(stack, namespace, tight_gateway):
    service_account(stack, namespace, "agent")
    access = serve(stack, namespace, auth={"serviceAccounts": [{"name": "agent"}]})
    url = tight_gateway.url(access["url"])
    wait_for("the route on the test gateway", lambda: mcp.raw_post(url)[0] == 401)
    token = sa_token(stack, namespace, "agent")
    assert mcp.raw_post(url, headers=bearer(token))[0] == 200

    stack.kubectl("delete", "serviceaccount", "agent", "-n", namespace)
    deleted_at = time.monotonic()
    wait_for("the deleted ServiceAccount's token to be refused", lambda: mcp.raw_post(url, headers=bearer(token))[0] == 401,
             timeout=30, interval=0.5)
    # Within the gateway's cache time plus the API server's own cache of
    # successful token authentications (10 s in kube-apiserver), not later.
    assert time.monotonic() - deleted_at <= TightGateway.CACHE_SECS + APISERVER_TOKEN_CACHE_SECS + 5
    # And it stays refused.
    assert mcp.raw_post(url, headers=bearer(token))[0] == 401


def test_a_flood_of_random_tokens_causes_a_bounded_number_of_token_reviews(stack, namespace, tight_gateway):
    service_account(stack, namespace, "agent")
    access = serve(stack, namespace, auth={"serviceAccounts": [{"name": "agent"}]})
    url = tight_gateway.url(access["url"])
    wait_for("the route on the test gateway", lambda: mcp.raw_post(url)[0] == 401)
    before_sim = len(stack.sim_requests())
    before = reviews(tight_gateway.admin_port)

    started = time.monotonic()
    statuses: dict[int, int] = {}
    for _ in range(300):
        status, headers, _ = mcp.raw_post(url, headers=bearer(random_jwt()))
        statuses[status] = statuses.get(status, 0) + 1
        if status == 503:
            assert int({k.lower(): v for k, v in headers.items()}["retry-after"]) >= 1
    elapsed = time.monotonic() - started

    sent = reviews(tight_gateway.admin_port) - before
    per_server = TightGateway.REVIEWS_PER_SECOND_PER_SERVER
    bound = 2 * per_server + per_server * elapsed + 1  # the bucket's burst, its refill, rounding
    print(f"300 random tokens in {elapsed:.1f}s: {statuses}, {sent:.0f} TokenReviews (bound {bound:.1f})")
    assert set(statuses) <= {401, 503}, statuses
    assert statuses.get(503, 0) > 0, "the TokenReview budget never ran out"
    assert sent <= bound
    assert len(stack.sim_requests()) == before_sim
    assert metric(tight_gateway.admin_port, "tfcmcp_gateway_service_account_tokens_total", result="rate_limited") > 0

    # A listed agent whose token is cached is not held up by the flood; a new
    # one gets in once the budget refills.
    time.sleep(2 * 2 / per_server)
    token = sa_token(stack, namespace, "agent")
    assert mcp.raw_post(url, headers=bearer(token))[0] == 200
    for _ in range(20):
        mcp.raw_post(url, headers=bearer(random_jwt()))
    assert mcp.raw_post(url, headers=bearer(token))[0] == 200
