"""Hostile tenants, network reach: the gateway must not be a proxy into the
cluster. A TfcMcpServer naming an address off the operator's allow-list is
Ready=False/AddressNotAllowed and gets no route; a hand-written route Secret
with such an address is not served by the gateway (the same 404 as an unknown
token); a gateway whose egress allow-list holds only the simulator's API
socket refuses its blob socket on the same loopback host; a browser Origin
other than the gateway's own is refused even with no Origin allow-list.

Against the code before these checks: every address below was served (the
operator minted a route for http://10.0.0.1 and the gateway's own admin port),
the hand-written route answered 200, any socket was reached (and the egress
flags did not exist), and any Origin passed. The egress guard's attack with a
hostile upstream (log URL and plan redirect to the admin port and to
169.254.169.254) is gateway/tests/egress_guard.rs."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets

import pytest

import mcpclient as mcp
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, free_port, http_get, wait_for

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
CURRENT_STATE = "get_single_hashicorp_terraform_cloud_current_state_version_by_id"
DOWNLOAD_STATE = "hashicorp_terraform_cloud_state_versions_download"


def route_secret_name(namespace: str, name: str) -> str:
    return f"tfcmcp.{namespace}.{name}"


def wait_not_ready(stack, name: str, namespace: str, reason: str, timeout: float = 30) -> dict:
    return wait_for(f"{namespace}/{name} to be Ready=False/{reason}",
                    lambda: (c := stack.condition(name, namespace)) and c.get("status") == "False"
                    and c.get("reason") == reason and c, timeout=timeout)


def gateway_url(stack, token: str) -> str:
    return f"{stack.public_base_url}/mcp/{token}"


def disallowed_addresses(stack) -> list[str]:
    return [
        "http://10.0.0.1",                                  # cluster-internal
        "http://169.254.169.254",                           # cloud metadata
        "https://evil.example",                             # a host of the tenant's choosing
        f"http://127.0.0.1:{stack.admin_port}",             # the gateway's own admin port
        stack.sim["api"].replace("127.0.0.1", "localhost"),  # the allowed socket under another name
        "https://app.terraform.io",                         # not on this stack's list either
    ]


@pytest.mark.parametrize("index", range(6), ids=["cluster-ip", "metadata", "foreign-host", "admin-port", "other-name", "hcp-not-listed"])
def test_server_with_a_disallowed_address_is_not_ready_and_gets_no_route(stack, namespace, index):
    address = disallowed_addresses(stack)[index]
    stack.apply(stack.server_manifest("srv", namespace,
                                      tfc={"address": address, "tokenSecretRef": {"name": "tfc-api-token"}}))
    condition = wait_not_ready(stack, "srv", namespace, "AddressNotAllowed")
    assert "spec.tfc.address" in condition["message"] and "allow-list" in condition["message"], condition
    assert stack.get("secret", route_secret_name(namespace, "srv"), GATEWAY_NAMESPACE) is None
    assert stack.get("secret", "srv-mcp", namespace) is None, "no URL is minted for a refused address"


def test_switching_a_served_server_to_a_disallowed_address_revokes_its_url(stack, namespace):
    stack.apply(stack.server_manifest("srv", namespace))
    access = stack.wait_ready("srv", namespace)
    MINTED_TOKENS.append(access["token"])
    assert mcp.raw_post(access["url"])[0] == 200

    stack.apply(stack.server_manifest("srv", namespace,
                                      tfc={"address": "http://10.0.0.1", "tokenSecretRef": {"name": "tfc-api-token"}}))
    wait_not_ready(stack, "srv", namespace, "AddressNotAllowed")
    wait_for("the route Secret to go",
             lambda: stack.get("secret", route_secret_name(namespace, "srv"), GATEWAY_NAMESPACE) is None, timeout=30)
    wait_for("the URL to answer 404", lambda: mcp.raw_post(access["url"])[0] == 404, timeout=10)


def hand_written_route(stack, name: str, address: str) -> str:
    """Writes a route Secret by hand (as a cluster admin could, or a bug), returns its URL token."""
    token = "tfcmcp_" + secrets.token_urlsafe(32)
    MINTED_TOKENS.append(token)
    route = {"version": 1, "tokenSha256": hashlib.sha256(token.encode()).hexdigest(), "server": f"hand/{name}",
             "tfcAddress": address, "methods": ["list", "get"]}
    stack.apply({"apiVersion": "v1", "kind": "Secret",
                 "metadata": {"name": name, "namespace": GATEWAY_NAMESPACE, "labels": {"tfcmcp.dev/route": "true"}},
                 "data": {"route.json": base64.b64encode(json.dumps(route).encode()).decode(),
                          "tfc-token": base64.b64encode(b"sim-token-e2e").decode()}})
    return token


def test_gateway_does_not_serve_a_route_with_a_disallowed_address(stack):
    names = []
    try:
        # Control: a hand-written route with the allowed address is served.
        names.append("hand-allowed")
        good = hand_written_route(stack, "hand-allowed", stack.sim["api"])
        wait_for("the hand-written route", lambda: mcp.raw_post(gateway_url(stack, good))[0] == 200, timeout=15)

        unknown = mcp.raw_post(gateway_url(stack, "tfcmcp_" + secrets.token_urlsafe(32)))
        for i, address in enumerate(["http://10.0.0.1", f"http://127.0.0.1:{stack.admin_port}", "https://evil.example"]):
            name = f"hand-denied-{i}"
            names.append(name)
            token = hand_written_route(stack, name, address)
            # Give the gateway time to load it, then check it is refused like an unknown token.
            wait_for("the gateway to log the refused route",
                     lambda: mcp.raw_post(gateway_url(stack, token))[0] == 404
                     and "address is not on the allow-list" in (stack.work / "gateway.log").read_text(errors="replace"),
                     timeout=15)
            status, headers, body = mcp.raw_post(gateway_url(stack, token))
            assert (status, body) == (unknown[0], unknown[2])
            assert {k.lower(): v for k, v in headers.items() if k.lower() != "date"} == \
                {k.lower(): v for k, v in unknown[1].items() if k.lower() != "date"}
        log = (stack.work / "gateway.log").read_text(errors="replace")
        refused = [line for line in log.splitlines() if "address is not on the allow-list" in line]
        assert refused and all("fingerprint" in line for line in refused)
        assert not any(t in log for t in [good]), "URL tokens never reach the log"
    finally:
        for name in names:
            stack.kubectl("delete", "secret", name, "-n", GATEWAY_NAMESPACE, "--ignore-not-found")


def test_origin_validation_fails_closed(stack, namespace):
    stack.apply(stack.server_manifest("srv", namespace))
    access = stack.wait_ready("srv", namespace)
    MINTED_TOKENS.append(access["token"])
    url = access["url"]
    # No --allowed-origins on this gateway: only its own public origin passes.
    for origin in ["https://evil.example", "null", "http://localhost:6274", stack.public_base_url.replace("127.0.0.1", "localhost")]:
        assert mcp.raw_post(url, headers={"Origin": origin})[0] == 403, origin
    assert mcp.raw_post(url, headers={"Origin": stack.public_base_url})[0] == 200
    # Server-side clients send no Origin at all.
    assert mcp.raw_post(url)[0] == 200
    assert LIST_WS in mcp.tool_names(url)


def test_gateway_refuses_a_socket_off_its_egress_allow_list(stack, namespace):
    """The egress allow-list is by exact ip:port: a gateway allowed to reach only
    the simulator's API socket refuses its blob socket on the same loopback
    host (as it would the admin port), with a clear tool error and a metric."""
    stack.apply(stack.server_manifest("srv", namespace, state={"allowRawStateDownload": True}))
    access = stack.wait_ready("srv", namespace)
    MINTED_TOKENS.append(access["token"])
    url = access["url"]
    listed = mcp.call(url, LIST_WS, {"organization_name": "acme-corp", "search_name": "internal-vpn"})
    ws_id = listed.data["results"][0]["id"]
    state = mcp.call(url, CURRENT_STATE, {"workspace_id": ws_id})
    assert state.ok, state
    # Control: the stack's gateway (both simulator sockets allowed) downloads the state.
    assert mcp.call(url, DOWNLOAD_STATE, {"state_version_id": state.data["id"]}).ok

    port, admin = free_port(), free_port()
    api_socket, blob_socket = stack.sim_sockets()
    proc = stack._spawn("gateway-egress", [
        str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
        "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
        *stack.tfc_address_args(), f"--allowed-egress-addresses={api_socket}",
        f"--public-base-url=http://127.0.0.1:{port}",
    ], env={"KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig")})
    try:
        wait_for("the restricted gateway", lambda: http_get(f"http://127.0.0.1:{admin}/readyz")[0] == 200)
        restricted = f"http://127.0.0.1:{port}/mcp/{access['token']}"
        wait_for("the route on the restricted gateway", lambda: mcp.raw_post(restricted)[0] == 200, timeout=15)
        # API calls to the allowed socket still work...
        assert mcp.call(restricted, CURRENT_STATE, {"workspace_id": ws_id}).ok
        # ...the blob socket is refused before any connection.
        refused = mcp.call(restricted, DOWNLOAD_STATE, {"state_version_id": state.data["id"]})
        assert not refused.ok
        assert f"{blob_socket} is loopback and not on the gateway's egress allow-list" in refused.text, refused
        assert "/v1/" not in refused.text, "the blob URL (a capability) is not echoed"
        metrics = http_get(f"http://127.0.0.1:{admin}/metrics")[1].decode()
        assert 'tfcmcp_gateway_egress_refused_total{reason="address"} 1' in metrics, metrics
    finally:
        stack.procs.pop("gateway-egress", None)
        proc.terminate()
        proc.wait(timeout=10)
