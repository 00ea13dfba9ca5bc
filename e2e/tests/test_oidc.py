"""OAuth 2.1 resource server (`spec.auth.oidc`) end to end: the operator
carries the spec to the gateway, the official MCP Python SDK connects with a
JWT access token minted by the simulator's test OIDC issuer (real ES256 /
RS256 keys, discovery, JWKS), and every bad token - wrong audience, expired,
not yet valid, unknown key, wrong issuer, `alg: none`, HS256 keyed with the
public key, a token in the query string, a caller not on the allow-list - is
refused before any call reaches HCP Terraform (the simulator's request log).
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import http_get, wait_for

LIST_ORGS = "list_all_hashicorp_terraform_cloud_organizations"


def sim_oidc(stack, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body or {}).encode() if method == "POST" else None
    request = urllib.request.Request(stack.oidc_issuer + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def mint(stack, claims: dict, **options) -> str:
    token = sim_oidc(stack, "POST", "/_control/mint", {"claims": claims, **options})["token"]
    MINTED_TOKENS.append(token)  # the final scan checks no access token was ever logged
    return token


def jwks_fetches(stack) -> int:
    return sim_oidc(stack, "GET", "/_control/stats")["jwks_fetches"]


def serve_oidc(stack, namespace, name="oidc", **oidc) -> dict:
    spec = {"methods": ["read"], "auth": {"oidc": {"issuer": stack.oidc_issuer, **oidc}}}
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rpc_call(url: str, headers: dict[str, str] | None = None):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": LIST_ORGS, "arguments": {}}}
    return mcp.raw_post(url, body, headers)


def metadata_url(stack, url_token: str) -> str:
    return f"{stack.public_base_url}/.well-known/oauth-protected-resource/mcp/{url_token}"


def test_a_valid_access_token_works_through_the_mcp_sdk_and_is_audited(stack, namespace):
    access = serve_oidc(stack, namespace, allowedSubjects=["alice@example.com"])
    token = mint(stack, {"sub": "alice@example.com", "aud": access["url"]})
    assert LIST_ORGS in mcp.tool_names(access["url"], bearer(token))
    result = mcp.call(access["url"], LIST_ORGS, {}, bearer(token))
    assert result.ok, result
    # An RS256 token of the same issuer works as well.
    rs = mint(stack, {"sub": "alice@example.com", "aud": access["url"]}, alg="RS256")
    assert mcp.call(access["url"], LIST_ORGS, {}, bearer(rs)).ok
    # The audit line names the caller, never the token.
    wait_for("the audit line with the caller",
             lambda: any('"caller":"alice@example.com"' in line and LIST_ORGS in line
                         for line in stack.logs().get("gateway.log", "").splitlines()), timeout=10)
    # The client snippets carry no API-token placeholder: the client signs in by OAuth.
    assert "Authorization" not in access["mcp.json"]


def test_protected_resource_metadata_and_the_401_challenge(stack, namespace):
    access = serve_oidc(stack, namespace)
    url_token = access["token"]
    status, headers, _ = rpc_call(access["url"])
    assert status == 401
    challenge = {k.lower(): v for k, v in headers.items()}["www-authenticate"]
    assert challenge == f'Bearer resource_metadata="{metadata_url(stack, url_token)}"', challenge
    with urllib.request.urlopen(metadata_url(stack, url_token), timeout=10) as response:
        document = json.loads(response.read())
    assert document["resource"] == access["url"]
    assert document["authorization_servers"] == [stack.oidc_issuer]
    assert document["bearer_methods_supported"] == ["header"]


def test_bad_tokens_are_refused_with_401_and_no_upstream_call(stack, namespace):
    access = serve_oidc(stack, namespace, allowedSubjects=["alice"], allowedGroups=["platform"])
    url = access["url"]
    now = int(time.time())
    good = {"sub": "alice", "aud": url}
    # Keys in hand first, so each case is judged on its own merits.
    assert rpc_call(url, bearer(mint(stack, good)))[0] == 200
    cases = {
        "wrong audience": mint(stack, {**good, "aud": url + "x"}),
        "expired": mint(stack, {**good, "exp": now - 600}),
        "not yet valid": mint(stack, {**good, "nbf": now + 600}),
        "unknown key": mint(stack, good, key="unpublished"),
        "wrong issuer": mint(stack, {**good, "iss": "https://issuer.example"}),
        "alg none": mint(stack, good, alg="none"),
        "HS256 keyed with the public key": mint(stack, good, alg="HS256"),
    }
    before = len(stack.sim_requests())
    for name, token in cases.items():
        status, headers, body = rpc_call(url, bearer(token))
        assert status == 401, (name, status, body)
        challenge = {k.lower(): v for k, v in headers.items()}["www-authenticate"]
        assert 'error="invalid_token"' in challenge and "resource_metadata=" in challenge, (name, challenge)
    # A valid token in the query string is refused too.
    status, headers, _ = rpc_call(f"{url}?access_token={mint(stack, good)}")
    assert status == 401
    # A valid token of a subject not allow-listed: 403 insufficient_scope (RFC 6750).
    status, headers, _ = rpc_call(url, bearer(mint(stack, {**good, "sub": "mallory"})))
    assert status == 403
    assert 'error="insufficient_scope"' in {k.lower(): v for k, v in headers.items()}["www-authenticate"]
    # ... unless one of its groups is.
    assert rpc_call(url, bearer(mint(stack, {**good, "sub": "bob", "groups": ["platform"]})))[0] == 200
    seen = stack.sim_requests()[before:]
    assert len(seen) == 1, f"only the admitted group member reached HCP Terraform: {seen}"
    metrics = http_get(f"http://127.0.0.1:{stack.admin_port}/metrics")[1].decode()
    for reason in ("oidc_invalid_token", "oidc_not_allowed", "token_in_query"):
        assert f'reason="{reason}"' in metrics, reason
    assert 'tfcmcp_gateway_oidc_key_fetches_total{outcome="ok"}' in metrics

    # The MCP SDK itself gets nowhere with a refused token.
    try:
        mcp.list_tools(url, bearer(cases["alg none"]))
    except BaseException:  # noqa: BLE001 - the SDK raises its transport error for the 401
        pass
    else:
        raise AssertionError("the MCP client listed tools with an alg:none token")


def test_key_rotation_is_picked_up(stack, namespace):
    access = serve_oidc(stack, namespace)
    old = mint(stack, {"sub": "alice", "aud": access["url"]})
    assert mcp.call(access["url"], LIST_ORGS, {}, bearer(old)).ok
    sim_oidc(stack, "POST", "/_control/rotate", {"retire": True})
    time.sleep(2.5)  # the stack's gateway refreshes keys at most every 2 s
    new = mint(stack, {"sub": "alice", "aud": access["url"]})
    assert mcp.call(access["url"], LIST_ORGS, {}, bearer(new)).ok
    assert rpc_call(access["url"], bearer(old))[0] == 401, "a retired key is refused once the JWKS is refetched"


def test_a_flood_of_random_kids_does_not_hammer_the_issuer(stack, namespace):
    access = serve_oidc(stack, namespace)
    url = access["url"]
    assert rpc_call(url, bearer(mint(stack, {"sub": "alice", "aud": url})))[0] == 200
    tokens = [mint(stack, {"sub": "alice", "aud": url}, kid=f"kid-{uuid.uuid4()}") for _ in range(40)]
    before = jwks_fetches(stack)
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda t: rpc_call(url, bearer(t))[0], tokens))
    elapsed = time.monotonic() - started
    assert set(statuses) <= {401, 429}, statuses
    # At most one fetch per 2 s refresh interval, however many unknown kids arrive.
    assert jwks_fetches(stack) - before <= 1 + int(elapsed // 2), (jwks_fetches(stack) - before, elapsed)


def test_operator_validation(stack, namespace):
    # A plain-http issuer off loopback is refused even with the test flag.
    stack.apply(stack.server_manifest("insecure", namespace, auth={"oidc": {"issuer": "http://issuer.example"}}))
    wait_for("InvalidOidc", lambda: (stack.condition("insecure", namespace) or {}).get("reason") == "InvalidOidc")
    message = stack.condition("insecure", namespace)["message"]
    assert "spec.auth.oidc.issuer" in message and "https" in message, message
    assert stack.secret_data("insecure-mcp", namespace) is None
    # requireApiToken with oidc: refused by the API server itself.
    manifest = stack.server_manifest("both", namespace, auth={
        "requireApiToken": True, "apiTokenSecretRef": {"name": "x"}, "oidc": {"issuer": stack.oidc_issuer}})
    result = stack.kubectl("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert result.returncode != 0 and "exclusive" in result.stderr, result.stderr
