"""Human approval for destructive calls (`spec.approval`, issue 9), end to
end on the real stack (operator, gateway with the chart's approval key,
HCP Terraform simulator):

- the Python MCP SDK 1.x over legacy SSE with an elicitation callback: a
  confirmed apply executes (the simulator sees the POST), a declined one does
  not; a client without elicitation is refused and nothing is sent upstream;
- raw 2026-07-28 HTTP: the input-required round trip, and tampered, expired,
  other-route, other-arguments and replayed request states refused with no
  upstream call. The expired state is signed with the real key (read from the
  chart's Secret), so only its expiry is wrong; the same code signing a state
  that has not expired is accepted (the control);
- two gateway replicas sharing the key: a confirmation redeemed on one is
  claimed with a Lease (the chart's Role allows it), and replaying it on the
  other is refused, both ways, with nothing sent upstream."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import struct
import time
import urllib.request

import mcpclient as mcp
from conftest import MINTED_TOKENS
from mcp import ClientSession, types
from mcp.client.sse import sse_client
from stack import GATEWAY_NAMESPACE, free_port, http_get, terminate, wait_for

ORG = "acme-corp"
WORKSPACE = "frontend-cdn"  # free for runs in the seed (payment-gateway has one queued)
CREATE_RUN = "create_a_hashicorp_terraform_cloud_run"
RUN_WAIT = "hashicorp_terraform_cloud_runs_wait"
APPLY = "hashicorp_terraform_cloud_runs_apply"
DISCARD = "hashicorp_terraform_cloud_runs_discard"
LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
MODERN = "2026-07-28"
APPROVAL = {"methods": ["delete", "custom"]}


def serve(stack, namespace, name, **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def planned_run(plain_url: str) -> str:
    """A run of payment-gateway waiting for confirmation, made through a server without approval."""
    ws = mcp.call(plain_url, LIST_WS, {"organization_name": ORG, "search_name": WORKSPACE})
    ws_id = next(w["id"] for w in ws.data["results"] if w["name"] == WORKSPACE)
    run = mcp.call(plain_url, CREATE_RUN, {"workspace_id": ws_id, "message": "approval e2e"})
    assert run.ok, run
    waited = mcp.call(plain_url, RUN_WAIT, {"run_id": run.data["id"], "poll_interval_seconds": 1, "timeout_seconds": 60})
    assert waited.ok and waited.data["status"] == "planned", waited
    return run.data["id"]


def discard(plain_url: str, run_id: str) -> None:
    """Leaves the workspace free for the next test."""
    mcp.call(plain_url, DISCARD, {"run_id": run_id})


def actions(stack, before: int, run_id: str) -> list[dict]:
    return [r for r in stack.sim_requests()[before:] if r["method"] == "POST" and r["path"].startswith(f"/api/v2/runs/{run_id}/actions")]


def writes(stack, before: int) -> list[dict]:
    return [r for r in stack.sim_requests()[before:] if r["method"] in ("POST", "PATCH", "PUT", "DELETE")]


# ---- Python SDK 1.x ---------------------------------------------------------------------------


def sdk_call_over_sse(url: str, name: str, arguments: dict, answer: str | None):
    """Calls a tool over legacy SSE; `answer` (accept / decline / None for a
    client without elicitation) answers the confirmation. Returns the result
    and the messages the user was shown."""
    shown: list[str] = []

    async def on_elicitation(context, params: types.ElicitRequestParams):
        shown.append(params.message)
        if answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action="decline")

    async def go():
        async with sse_client(url + "/sse") as (read, write):
            kwargs = {"elicitation_callback": on_elicitation} if answer else {}
            async with ClientSession(read, write, **kwargs) as session:
                await session.initialize()
                return await session.call_tool(name, arguments)

    return mcp.ToolCall(mcp._run(go())), shown


def test_sdk_confirmed_apply_executes(stack, namespace):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    before = len(stack.sim_requests())
    result, shown = sdk_call_over_sse(url, APPLY, {"run_id": run_id}, "accept")
    assert result.ok, result
    assert len(shown) == 1, shown
    assert run_id in shown[0] and f"in workspace {WORKSPACE} of {ORG}" in shown[0], shown
    assert len(actions(stack, before, run_id)) == 1
    done = mcp.call(plain, RUN_WAIT, {"run_id": run_id, "poll_interval_seconds": 1, "timeout_seconds": 60})
    assert done.data["status"] == "applied", done


def test_sdk_declined_apply_does_nothing(stack, namespace):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    before = len(stack.sim_requests())
    result, shown = sdk_call_over_sse(url, APPLY, {"run_id": run_id}, "decline")
    assert not result.ok and result.data["error"]["kind"] == "approval_declined", result
    assert "nothing was executed" in result.text
    assert len(shown) == 1
    assert actions(stack, before, run_id) == []
    discard(plain, run_id)


def test_sdk_client_without_elicitation_is_refused_and_nothing_is_sent(stack, namespace):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    before = len(stack.sim_requests())
    # Legacy SSE without the elicitation capability.
    result, shown = sdk_call_over_sse(url, APPLY, {"run_id": run_id}, None)
    assert not result.ok and result.data["error"]["kind"] == "approval_required", result
    assert "requires a person to confirm" in result.text and "Nothing was executed" in result.text
    assert shown == []
    # Streamable HTTP on the handshake revisions: stateless, so it cannot be asked.
    result = mcp.call(url, APPLY, {"run_id": run_id})
    assert not result.ok and result.data["error"]["kind"] == "approval_required", result
    # Nothing reached HCP Terraform: not the action, not even the GET for the names.
    assert stack.sim_requests()[before:] == []
    # Tools outside spec.approval work as before on the same server.
    assert mcp.call(url, LIST_WS, {"organization_name": ORG}).ok
    discard(plain, run_id)


def test_recommended_setting_also_guards_deletes(stack, namespace):
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    before = len(stack.sim_requests())
    result = mcp.call(url, "delete_a_hashicorp_terraform_cloud_workspace_by_id", {"workspace_id": "ws-pQ4mZ8rT2vXy6NbK"})
    assert not result.ok and result.data["error"]["kind"] == "approval_required", result
    assert writes(stack, before) == []


def test_unknown_approval_tool_is_refused_by_the_operator(stack, namespace):
    stack.apply(stack.server_manifest("typo", namespace, approval={"tools": ["hashicorp_terraform_cloud_runs_aply"]}))
    condition = wait_for("UnknownTool", lambda: (c := stack.condition("typo", namespace)) and c.get("reason") == "UnknownTool" and c)
    assert "spec.approval.tools" in condition["message"]


# ---- raw 2026-07-28 ------------------------------------------------------------------------------


def modern_call(url: str, name: str, arguments: dict, state: str | None = None, responses: dict | None = None,
                elicitation: bool = True) -> dict:
    params = {"name": name, "arguments": arguments, "_meta": {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}} if elicitation else {},
        "io.modelcontextprotocol/clientInfo": {"name": "approval-e2e", "version": "1"},
    }}
    if state is not None:
        params["requestState"] = state
        params["inputResponses"] = responses if responses is not None else {"confirm": {"action": "accept", "content": {"confirm": True}}}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call", "Mcp-Name": name,
    })
    with urllib.request.urlopen(request, timeout=30) as response:
        raw = response.read().decode()
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            raw = [line[5:].strip() for line in raw.splitlines() if line.startswith("data:") and line[5:].strip()][-1]
        return json.loads(raw)


def error_kind(answer: dict) -> str:
    assert answer["result"]["isError"] is True, answer
    return answer["result"]["structuredContent"]["error"]["kind"]


def ask(url: str, name: str, arguments: dict) -> tuple[str, str]:
    answer = modern_call(url, name, arguments)
    result = answer["result"]
    assert result["resultType"] == "input_required", answer
    request = result["inputRequests"]["confirm"]
    assert request["method"] == "elicitation/create"
    assert request["params"]["requestedSchema"]["properties"]["confirm"]["type"] == "boolean"
    return result["requestState"], request["params"]["message"]


def test_modern_input_required_round_trip(stack, namespace):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    before = len(stack.sim_requests())
    state, message = ask(url, APPLY, {"run_id": run_id})
    assert f"run {run_id}" in message and f"in workspace {WORKSPACE} of {ORG}" in message, message
    assert writes(stack, before) == [], "asking executes nothing"

    done = modern_call(url, APPLY, {"run_id": run_id}, state)
    assert done["result"]["isError"] is False, done
    assert len(actions(stack, before, run_id)) == 1

    # The same state and confirmation again: refused, nothing sent.
    mark = len(stack.sim_requests())
    again = modern_call(url, APPLY, {"run_id": run_id}, state)
    assert error_kind(again) == "approval_state_invalid"
    assert writes(stack, mark) == []
    # A client that did not declare elicitation is refused.
    assert error_kind(modern_call(url, APPLY, {"run_id": run_id}, elicitation=False)) == "approval_required"


def test_modern_declined_does_nothing(stack, namespace):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    before = len(stack.sim_requests())
    state, _ = ask(url, APPLY, {"run_id": run_id})
    declined = modern_call(url, APPLY, {"run_id": run_id}, state, {"confirm": {"action": "decline"}})
    assert error_kind(declined) == "approval_declined"
    assert writes(stack, before) == []
    discard(plain, run_id)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign_state(key: bytes, url: str, tool: str, arguments: dict, expires_ms: int, nonce: str) -> str:
    """The gateway's request state format (rmcp's rs2 with the gateway's
    binding), written independently, to sign states the gateway never issued."""
    token_sha256 = hashlib.sha256(url.rstrip("/").rsplit("/", 1)[1].encode()).hexdigest()
    canonical = json.dumps(arguments, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    parts = [b"tfc-mcp/approval/v1", token_sha256.encode(), tool.encode(), hashlib.sha256(canonical.encode()).hexdigest().encode()]
    binding = b"".join(struct.pack(">I", len(p)) + p for p in parts)
    kid = hashlib.sha256(key).hexdigest()[:8].encode()
    body = struct.pack(">q", expires_ms) + json.dumps({"n": nonce}).encode()
    mac = hmac.new(key, b"rmcp/mrtr/request-state/v2" + struct.pack(">Q", len(kid)) + kid + struct.pack(">Q", len(binding)) + binding + body,
                   hashlib.sha256).digest()
    return f"rs2.{_b64(kid)}.{_b64(body)}.{_b64(mac)}"


def test_modern_bad_states_are_refused_and_nothing_is_sent(stack, namespace):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    other = serve(stack, namespace, "guarded-too", approval=APPROVAL)
    run_id = planned_run(plain)
    other_run = "run-doesnotexist000000"
    args = {"run_id": run_id}
    state, _ = ask(url, APPLY, args)
    before = len(stack.sim_requests())

    version, kid, body, tag = state.split(".")
    flipped_body = bytearray(_b64d(body))
    flipped_body[-3] ^= 0x01
    key = (stack.approval_keys / "current").read_bytes().strip()
    expired = sign_state(key, url, APPLY, args, int(time.time() * 1000) - 1000, "e2e-expired-nonce")
    cases = {
        "tampered body": (url, APPLY, args, f"{version}.{kid}.{_b64(bytes(flipped_body))}.{tag}"),
        "tampered tag": (url, APPLY, args, f"{version}.{kid}.{body}.{_b64(bytes(reversed(_b64d(tag))))}"),
        "garbage": (url, APPLY, args, "rs2.x.y.z"),
        "expired": (url, APPLY, args, expired),
        "other route": (other, APPLY, args, state),
        "other tool": (url, DISCARD, args, state),
        "other run": (url, APPLY, {"run_id": other_run}, state),
        "extra argument": (url, APPLY, {"run_id": run_id, "comment": "sneaky"}, state),
    }
    for label, (target, tool, arguments, bad) in cases.items():
        answer = modern_call(target, tool, arguments, bad)
        assert error_kind(answer) == "approval_state_invalid", (label, answer)
        assert "nothing was executed" in answer["result"]["content"][0]["text"], label
    assert writes(stack, before) == [], "no refused state reached HCP Terraform"

    # The control: the same signing code, with an expiry ahead, is accepted,
    # so "expired" above was refused for its expiry alone.
    valid = sign_state(key, url, APPLY, args, int(time.time() * 1000) + 60_000, "e2e-control-nonce")
    done = modern_call(url, APPLY, args, valid)
    assert done["result"]["isError"] is False, done
    assert len(actions(stack, before, run_id)) == 1


def test_each_decision_is_audited_with_fingerprints_only(stack, namespace):
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    state, _ = ask(url, DISCARD, {"run_id": run_id})
    assert error_kind(modern_call(url, DISCARD, {"run_id": run_id}, state, {"confirm": {"action": "decline"}})) == "approval_declined"
    assert error_kind(modern_call(url, DISCARD, {"run_id": run_id}, state)) == "approval_state_invalid"
    assert error_kind(modern_call(url, DISCARD, {"run_id": run_id}, elicitation=False)) == "approval_required"
    server = f"{namespace}/guarded"

    def decisions():
        lines = [json.loads(line) for line in (stack.work / "gateway.log").read_text().splitlines() if '"approval"' in line]
        return [line for line in lines if line.get("message") == "approval" and line.get("server") == server]

    lines = wait_for("the approval audit lines", lambda: (d := decisions()) and len(d) >= 4 and d)
    assert [(d["decision"], d["reason"]) for d in lines] == [
        ("asked", "input_required"), ("declined", "user_declined"), ("refused", "replayed"), ("refused", "client_without_elicitation"),
    ], lines
    token = url.rstrip("/").rsplit("/", 1)[1]
    # The arguments' fingerprint is keyed with the approval key (HMAC under a
    # derived key), not a plain digest anyone could compute from a guessed run id.
    key = (stack.approval_keys / "current").read_bytes().strip()
    derived = hmac.new(key, b"tfc-mcp/approval/audit-fingerprint/v1", hashlib.sha256).digest()
    canonical = json.dumps({"run_id": run_id}, sort_keys=True, separators=(",", ":")).encode()
    keyed = hmac.new(derived, canonical, hashlib.sha256).hexdigest()[:16]
    for line in lines:
        text = json.dumps(line)
        # Fingerprints only: no argument values, no state, no token.
        assert run_id not in text and state not in text and token not in text, text
        assert line["arguments"] == keyed and not hashlib.sha256(canonical).hexdigest().startswith(line["arguments"]), line
        assert line["token"] == hashlib.sha256(token.encode()).hexdigest()[:8]
    discard(plain, run_id)


CLAIM_LABEL = "tfc-mcp.dev/approval-claim"


def claims(stack) -> dict[str, dict]:
    listed = stack.kubectl("get", "leases", "-n", GATEWAY_NAMESPACE, "-l", CLAIM_LABEL, "-o", "json").stdout
    return {lease["metadata"]["name"]: lease for lease in json.loads(listed)["items"]}


def claim_name(state: str) -> str:
    nonce = json.loads(_b64d(state.split(".")[2])[8:])["n"]
    return "tfc-mcp-approval-" + hashlib.sha256(nonce.encode()).hexdigest()[:32]


def start_replica(stack, name: str):
    """Another gateway process on the stack's routes, with the same approval key and claims on."""
    port, admin = free_port(), free_port()
    proc = stack._spawn(name, [
        str(stack.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
        "--listen", f"127.0.0.1:{port}", "--admin-listen", f"127.0.0.1:{admin}",
        f"--approval-keys-dir={stack.approval_keys}", "--approval-claims", f"--approval-claims-holder={name}",
        *stack.gateway_network_args()], env={"KUBECONFIG": str(stack.cp_dir / "gateway.kubeconfig")})
    wait_for(f"the {name} replica to be ready", lambda: http_get(f"http://127.0.0.1:{admin}/readyz")[0] == 200)
    return proc, port


def test_a_confirmation_is_used_once_across_replicas(stack, namespace):
    """A second replica (same approval key, claims on, the gateway's own
    ServiceAccount) refuses a confirmation the first one redeemed, and the
    first one refuses what the second redeemed: a captured retry cannot run
    twice by landing on another replica."""
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    second, port = start_replica(stack, "gateway-replica-b")
    try:
        url_b = f"http://127.0.0.1:{port}/mcp/{url.rstrip('/').rsplit('/mcp/', 1)[1]}"

        # Confirmed on A: runs once, and is claimed.
        before = len(stack.sim_requests())
        state, _ = ask(url, APPLY, {"run_id": run_id})
        done = modern_call(url, APPLY, {"run_id": run_id}, state)
        assert done["result"]["isError"] is False, done
        assert len(actions(stack, before, run_id)) == 1
        lease = claims(stack).get(claim_name(state))
        assert lease is not None, "the redemption was claimed"
        assert lease["spec"]["holderIdentity"] == "gateway-e2e" and lease["spec"]["leaseDurationSeconds"] == 300, lease
        text = json.dumps(lease)
        assert state not in text and url.rsplit("/", 1)[1] not in text and run_id not in text, "no state, token or argument in a claim"

        # Replayed on B: refused, nothing sent.
        mark = len(stack.sim_requests())
        again = modern_call(url_b, APPLY, {"run_id": run_id}, state)
        assert error_kind(again) == "approval_state_invalid", again
        assert writes(stack, mark) == []

        # The other way: asked on A, answered (declined) on B, replayed on A with a confirmation: refused.
        state2, _ = ask(url, DISCARD, {"run_id": run_id})
        declined = modern_call(url_b, DISCARD, {"run_id": run_id}, state2, {"confirm": {"action": "decline"}})
        assert error_kind(declined) == "approval_declined", declined
        assert claims(stack)[claim_name(state2)]["spec"]["holderIdentity"] == "gateway-replica-b"
        mark = len(stack.sim_requests())
        assert error_kind(modern_call(url, DISCARD, {"run_id": run_id}, state2)) == "approval_state_invalid"
        assert writes(stack, mark) == []

        def refused_on_b():
            lines = [json.loads(line) for line in (stack.work / "gateway-replica-b.log").read_text().splitlines() if '"approval"' in line]
            return [(d["decision"], d["reason"]) for d in lines if d.get("message") == "approval"]

        assert ("refused", "replayed") in wait_for("the second replica's audit line", refused_on_b)
    finally:
        terminate(second)
        stack.procs.pop("gateway-replica-b", None)


def test_a_claim_that_cannot_be_recorded_refuses_the_call(stack, namespace):
    """Fail closed: when the API server refuses the claim (here the gateway's
    Role loses its Lease rule), the confirmed call is refused and nothing is
    sent; with the rule back, asking again works."""
    plain = serve(stack, namespace, "plain")
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    run_id = planned_run(plain)
    gateway_sa = f"system:serviceaccount:{GATEWAY_NAMESPACE}:tfc-mcp-gateway"
    role = json.loads(stack.kubectl("get", "role", "tfc-mcp-gateway", "-n", GATEWAY_NAMESPACE, "-o", "json").stdout)
    original = [dict(rule) for rule in role["rules"]]

    def may_claim() -> str:
        return stack.kubectl("auth", "can-i", "--as", gateway_sa, "create", "leases.coordination.k8s.io", "-n", GATEWAY_NAMESPACE,
                             check=False).stdout.strip()

    def set_rules(rules: list[dict]) -> None:
        role["rules"] = rules
        role["metadata"].pop("resourceVersion", None)
        stack.kubectl("replace", "-f", "-", input=json.dumps(role))

    state, _ = ask(url, APPLY, {"run_id": run_id})
    set_rules([rule for rule in original if "leases" not in rule.get("resources", [])])
    try:
        wait_for("the gateway to lose its Lease rule", lambda: may_claim() == "no")
        before = len(stack.sim_requests())
        refused = modern_call(url, APPLY, {"run_id": run_id}, state)
        assert error_kind(refused) == "approval_unrecorded", refused
        assert "nothing was executed" in refused["result"]["content"][0]["text"]
        assert writes(stack, before) == [], "an unrecorded confirmation runs nothing"
    finally:
        set_rules(original)
    wait_for("the gateway to get its Lease rule back", lambda: may_claim() == "yes")
    state, _ = ask(url, APPLY, {"run_id": run_id})
    done = modern_call(url, APPLY, {"run_id": run_id}, state)
    assert done["result"]["isError"] is False, done


def test_the_operator_sweeps_claims_past_their_time_and_nothing_else(stack):
    """The gateway may only create Leases; the operator deletes claims once
    twice their lifetime has passed, and leaves live claims, other Leases
    and unlabelled ones alone (the stack's operator sweeps every second)."""
    def lease(name: str, seconds: int, labelled: bool = True) -> dict:
        return {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": {"name": name, "namespace": GATEWAY_NAMESPACE, "labels": {CLAIM_LABEL: "true"} if labelled else {}},
                "spec": {"holderIdentity": "e2e", "leaseDurationSeconds": seconds}}

    prefix = "tfc-mcp-approval-"
    done, live, foreign, unlabelled = (f"{prefix}{'a' * 32}", f"{prefix}{'b' * 32}", "someone-elses-lease", f"{prefix}{'c' * 32}")
    for manifest in (lease(done, 1), lease(live, 300), lease(foreign, 1), lease(unlabelled, 1, labelled=False)):
        stack.apply(manifest)
    try:
        wait_for("the claim past its time to be swept", lambda: done not in claims(stack), timeout=30)
        time.sleep(2)
        left = stack.kubectl("get", "leases", "-n", GATEWAY_NAMESPACE, "-o", "name").stdout
        for kept in (live, foreign, unlabelled):
            assert f"lease.coordination.k8s.io/{kept}" in left, (kept, left)
        # The gateway itself cannot delete a Lease (its own claims, or the operator's).
        gateway_sa = f"system:serviceaccount:{GATEWAY_NAMESPACE}:tfc-mcp-gateway"
        for verb in ("delete", "update", "patch", "list"):
            assert stack.kubectl("auth", "can-i", "--as", gateway_sa, verb, "leases.coordination.k8s.io", "-n", GATEWAY_NAMESPACE,
                                 check=False).stdout.strip() == "no", verb
    finally:
        for name in (live, foreign, unlabelled):
            stack.kubectl("delete", "lease", name, "-n", GATEWAY_NAMESPACE, "--ignore-not-found")


def test_an_older_revision_over_streamable_http_is_refused_at_once_even_claiming_elicitation(stack, namespace):
    """A 2025-11-25 client on stateless Streamable HTTP has no channel for
    `elicitation/create`: it is refused at once, not after the 5 minutes a
    confirmation lives."""
    url = serve(stack, namespace, "guarded", approval=APPROVAL)
    params = {"name": APPLY, "arguments": {"run_id": "run-doesnotexist000000"},
              "_meta": {"io.modelcontextprotocol/clientCapabilities": {"elicitation": {}}}}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-11-25",
    })
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.loads(response.read().decode())
    assert time.monotonic() - started < 10
    assert error_kind(answer) == "approval_required", answer
