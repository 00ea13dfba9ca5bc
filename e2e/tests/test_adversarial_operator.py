"""Hostile tenants against the operator (issue 7, "revocation must never fail
open"), on the real control plane:

- a route Secret whose TfcMcpServer vanished while the operator was down is
  swept at start-up (and periodically);
- a URL token copied into a tenant's own access Secret is never adopted;
- expiry deletes only the Secrets the resource owns;
- Secrets are watched as metadata only, so large Secrets cost the operator nothing;
- a leader cut off from the API server stops before a follower can take over;
- the gateway workload is owned by the chart's gateway ServiceAccount, so
  uninstalling garbage-collects it.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import secrets
import socket
import threading
import time
from pathlib import Path

import mcpclient as mcp
import yaml
from conftest import MINTED_TOKENS
from stack import GATEWAY_NAMESPACE, log, wait_for

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
CREATE_WS = "create_a_hashicorp_terraform_cloud_workspace"
SWEEP_SECS = 3


def serve(stack, namespace, name, **spec) -> dict:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access


def in_seconds(seconds: int) -> str:
    at = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=seconds)
    return at.isoformat().replace("+00:00", "Z")


def stop_operator(stack, name: str = "operator") -> None:
    """SIGTERM: the operator releases its Lease on the way out."""
    proc = stack.procs.pop(name)
    proc.terminate()
    proc.wait(timeout=20)


def restart_operator(stack, *extra_args: str, kubeconfig: str | None = None) -> None:
    if "operator" in stack.procs:
        stop_operator(stack)
    stack.start_operator(extra_args=extra_args, kubeconfig=kubeconfig)


def route_name(namespace: str, name: str) -> str:
    return f"tfcmcp.{namespace}.{name}"


def route_document(stack, namespace: str, name: str) -> dict:
    return json.loads(stack.secret_data(route_name(namespace, name), GATEWAY_NAMESPACE)["route.json"])


def sha256_hex(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def url_token() -> str:
    return "tfcmcp_" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


# ---- 1. orphaned route Secrets -------------------------------------------------------

def test_route_of_a_server_deleted_while_the_operator_was_down_is_swept(stack, namespace):
    orphan = serve(stack, namespace, "orphan", methods=["read"])
    keeper = serve(stack, namespace, "keeper", methods=["read"])
    keeper_route = stack.get("secret", route_name(namespace, "keeper"), GATEWAY_NAMESPACE)
    try:
        stop_operator(stack)
        # The finalizer would have removed the route; strip it and delete the resource.
        stack.kubectl("patch", "tfcmcpserver", "orphan", "-n", namespace, "--type=merge",
                      "-p", json.dumps({"metadata": {"finalizers": None}}))
        stack.kubectl("delete", "tfcmcpserver", "orphan", "-n", namespace, "--wait=true")
        # A server created while the operator is down exists but is not reconciled yet.
        stack.apply(stack.server_manifest("late", namespace, methods=["read"]))
        assert stack.get("tfcmcpserver", "orphan", namespace) is None
        assert mcp.raw_post(orphan["url"])[0] == 200, "the attack: the URL outlives its resource"

        started = time.monotonic()
        restart_operator(stack)  # default flags: the start-up sweep does it
        wait_for("the orphaned URL to answer 404", lambda: mcp.raw_post(orphan["url"])[0] == 404, timeout=10)
        log(f"orphaned route swept {time.monotonic() - started:.1f}s after the operator was started")
        assert stack.get("secret", route_name(namespace, "orphan"), GATEWAY_NAMESPACE) is None
        # Servers that exist keep their routes: untouched, not deleted and re-created.
        assert mcp.raw_post(keeper["url"])[0] == 200
        kept = stack.get("secret", route_name(namespace, "keeper"), GATEWAY_NAMESPACE)
        assert kept["metadata"]["uid"] == keeper_route["metadata"]["uid"]
        late = stack.wait_ready("late", namespace)
        MINTED_TOKENS.append(late["token"])
        assert LIST_WS in mcp.tool_names(late["url"])

        # Periodically too: a route Secret naming an owner that does not exist,
        # appearing while the operator runs, stops being served within a sweep.
        restart_operator(stack, "--orphan-sweep-interval-secs", str(SWEEP_SECS))
        ghost_token = url_token()
        MINTED_TOKENS.append(ghost_token)
        document = route_document(stack, namespace, "keeper")
        document.update(tokenSha256=sha256_hex(ghost_token), server=f"{namespace}/ghost")
        stack.kubectl("create", "-f", "-", input=json.dumps({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": route_name(namespace, "ghost"), "namespace": GATEWAY_NAMESPACE,
                         "labels": {"tfcmcp.dev/route": "true", "app.kubernetes.io/managed-by": "tfc-mcp-operator"},
                         "annotations": {"tfcmcp.dev/owner-namespace": namespace, "tfcmcp.dev/owner-name": "ghost",
                                         "tfcmcp.dev/owner-uid": "00000000-0000-0000-0000-000000000000"}},
            "data": {"route.json": base64.b64encode(json.dumps(document).encode()).decode(),
                     "tfc-token": keeper_route["data"]["tfc-token"]},
        }))
        ghost_url = keeper["url"].replace(keeper["token"], ghost_token)
        created = time.monotonic()
        wait_for("the gateway to serve the ghost route", lambda: mcp.raw_post(ghost_url)[0] == 200, timeout=10)
        wait_for("the ghost route to be swept", lambda: mcp.raw_post(ghost_url)[0] == 404, timeout=2 * SWEEP_SECS + 5)
        log(f"ghost route swept {time.monotonic() - created:.1f}s after it appeared (sweep every {SWEEP_SECS}s)")
        assert mcp.raw_post(keeper["url"])[0] == 200
    finally:
        restart_operator(stack)


# ---- 2. a copied URL token is never adopted ----------------------------------------------

def test_a_url_token_copied_into_an_access_secret_is_not_adopted(stack, namespace):
    attacker_ns = f"{namespace}-b"[:63]
    stack.create_namespace(attacker_ns)
    stack.create_token_secret(attacker_ns)
    victim = serve(stack, namespace, "victim", methods=["read"])
    attacker = serve(stack, attacker_ns, "attacker", methods=["read", "write", "custom"])
    victim_tools = mcp.tool_names(victim["url"])
    assert CREATE_WS not in victim_tools

    # The attacker can write its own access Secret: it pastes the victim's token.
    stack.kubectl("patch", "secret", "attacker-mcp", "-n", attacker_ns, "--type=merge",
                  "-p", json.dumps({"stringData": {"token": victim["token"]}}))

    def reminted():
        data = stack.secret_data("attacker-mcp", attacker_ns)
        return data if data and data["token"] not in (victim["token"], attacker["token"]) else None

    fresh = wait_for("the operator to mint a fresh token for the attacker", reminted, timeout=20)
    MINTED_TOKENS.append(fresh["token"])
    time.sleep(1)  # one more reconcile round: the fresh token is stable
    assert stack.secret_data("attacker-mcp", attacker_ns)["token"] == fresh["token"]
    assert route_document(stack, attacker_ns, "attacker")["tokenSha256"] == sha256_hex(fresh["token"])
    assert route_document(stack, namespace, "victim")["tokenSha256"] == sha256_hex(victim["token"])
    statuses = [stack.get("tfcmcpserver", n, ns)["status"]["tokenFingerprint"] for n, ns in
                (("victim", namespace), ("attacker", attacker_ns))]
    assert statuses[0] != statuses[1]
    # The victim's URL keeps serving the victim's route (read only), the attacker's the attacker's.
    assert mcp.tool_names(victim["url"]) == victim_tools
    assert CREATE_WS in mcp.tool_names(fresh["url"])
    events = json.loads(stack.kubectl("get", "events", "-n", attacker_ns, "-o", "json").stdout)["items"]
    assert any(e.get("reason") == "TokenMinted" for e in events)


# ---- 3. expiry deletes only owned Secrets ---------------------------------------------

def test_expiry_leaves_a_secret_the_server_does_not_own(stack, namespace):
    stack.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "exp-mcp", "namespace": namespace},
                 "stringData": {"note": "someone else's Secret"}})
    stack.apply(stack.server_manifest("exp", namespace, methods=["read"], expiresAt=in_seconds(-60)))
    wait_for("the expired server to be deleted", lambda: stack.get("tfcmcpserver", "exp", namespace) is None, timeout=30)
    survivor = stack.secret_data("exp-mcp", namespace)
    assert survivor == {"note": "someone else's Secret"}
    # The same with Retain: the resource stays Expired, the foreign Secret stays too.
    stack.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "kept-mcp", "namespace": namespace},
                 "stringData": {"note": "not the operator's"}})
    stack.apply(stack.server_manifest("kept", namespace, methods=["read"], expiresAt=in_seconds(-60), expiryPolicy="Retain"))
    wait_for("Expired=True", lambda: (stack.condition("kept", namespace, "Expired") or {}).get("status") == "True", timeout=30)
    assert stack.secret_data("kept-mcp", namespace) == {"note": "not the operator's"}


# ---- 4. Secrets are watched as metadata only ---------------------------------------------

def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def test_large_secrets_elsewhere_do_not_inflate_the_operator(stack, namespace):
    """Forty Secrets of 700 KiB (28 MiB of data) in a tenant namespace: an
    operator that lists Secrets with their data holds them all (one list
    page) at start-up; a metadata-only watch never sees the data. Compares
    the peak RSS of a freshly started operator without and with them."""

    def fresh_operator_peak(name: str) -> float:
        restart_operator(stack)
        access = serve(stack, namespace, name, methods=["read"])
        assert LIST_WS in mcp.tool_names(access["url"])
        time.sleep(2)
        return _peak_rss_mib(stack.procs["operator"].pid)

    baseline = fresh_operator_peak("before")
    blob = base64.b64encode(os.urandom(700 * 1024)).decode()
    items = [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"bulk-{i}", "namespace": namespace},
              "data": {"blob": blob}} for i in range(40)]
    for i in range(0, len(items), 10):
        stack.kubectl("create", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items[i:i + 10]}))
    try:
        peak = fresh_operator_peak("after")
        log(f"operator peak RSS: {baseline:.1f} MiB, with 28 MiB of Secrets in the cluster {peak:.1f} MiB")
        assert peak - baseline < 12, f"the operator's peak RSS grew by {peak - baseline:.1f} MiB: it read the Secrets' data"
    finally:
        stack.kubectl("delete", "secret", "-n", namespace, *(item["metadata"]["name"] for item in items), check=False)


# ---- 5. a partitioned leader stops before a follower takes over ----------------------

class TcpProxy:
    """Forwards 127.0.0.1:<port> to the API server until `cut()`, after which
    every byte is swallowed (a partition, not a refusal: requests hang)."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.partitioned = threading.Event()
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = [self.listener]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.sockets.append(client)
            if self.partitioned.is_set():
                continue  # accepted, never answered
            upstream = socket.create_connection(self.target)
            self.sockets.append(upstream)
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                if self.partitioned.is_set():
                    continue  # swallow
                sink.sendall(chunk)
        except OSError:
            pass

    def cut(self) -> None:
        self.partitioned.set()

    def close(self) -> None:
        self.closed.set()
        for s in self.sockets:
            try:
                s.close()
            except OSError:
                pass


def test_a_partitioned_leader_stops_before_a_follower_takes_over(stack, namespace):
    kubeconfig = yaml.safe_load((stack.cp_dir / "operator.kubeconfig").read_text())
    server = kubeconfig["clusters"][0]["cluster"]["server"]
    host, port = server.removeprefix("https://").rsplit(":", 1)
    proxy = TcpProxy((host, int(port)))
    kubeconfig["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{proxy.port}"
    proxied = stack.work / "operator-proxied.kubeconfig"
    proxied.write_text(yaml.safe_dump(kubeconfig))
    proxied.chmod(0o600)
    duration = stack.lease_duration_secs
    try:
        restart_operator(stack, kubeconfig=str(proxied))
        leader = stack.procs["operator"]
        stack.start_operator(name="operator-b")
        time.sleep(2)
        assert stack.operator_metric("tfcmcp_operator_leader", name="operator-b") == 0

        proxy.cut()
        cut_at = time.monotonic()
        stopped_at = took_over_at = None
        while time.monotonic() - cut_at < 4 * duration + 10 and took_over_at is None:
            if stopped_at is None and leader.poll() is not None:
                stopped_at = time.monotonic()
            if stack.operator_metric("tfcmcp_operator_leader", name="operator-b") == 1:
                took_over_at = time.monotonic()
            time.sleep(0.1)
        if stopped_at is None and leader.poll() is not None:
            stopped_at = time.monotonic()
        log(f"partition: old leader stopped after {stopped_at and stopped_at - cut_at}s, "
            f"follower took over after {took_over_at and took_over_at - cut_at}s (lease {duration}s)")
        assert stopped_at is not None, "the partitioned leader kept acting"
        assert took_over_at is not None, "the follower never took over"
        assert stopped_at < took_over_at, "two leaders at once"
        assert stopped_at - cut_at < duration, "the old leader outlived its lease"
        operator_log = (stack.work / "operator.log").read_text(errors="replace")
        assert "renew deadline" in operator_log
        # The new leader acts.
        access = serve(stack, namespace, "after-partition", methods=["read"])
        assert LIST_WS in mcp.tool_names(access["url"])
    finally:
        proxy.close()
        partitioned = stack.procs.pop("operator", None)
        if partitioned is not None and partitioned.poll() is None:
            partitioned.kill()  # it did not stop on its own (the failure this test is about)
            partitioned.wait()
        if "operator-b" in stack.procs:
            stop_operator(stack, "operator-b")
        stack.start_operator()


# ---- 6. the gateway workload is garbage-collected with its ServiceAccount -----------

def test_gateway_workload_is_garbage_collected_with_the_chart(stack):
    def get(kind):
        return stack.get(kind, "tfc-mcp-gateway", GATEWAY_NAMESPACE)

    account = get("serviceaccount")

    def owned(kind, uid):
        obj = get(kind)
        refs = (obj or {}).get("metadata", {}).get("ownerReferences") or []
        return obj if [(r["kind"], r["name"], r["uid"]) for r in refs] == [("ServiceAccount", "tfc-mcp-gateway", uid)] else None

    wait_for("the gateway Deployment owned by the gateway ServiceAccount",
             lambda: owned("deployment", account["metadata"]["uid"]) and owned("service", account["metadata"]["uid"]),
             timeout=30)
    restore = {"apiVersion": "v1", "kind": "ServiceAccount",
               "metadata": {k: v for k, v in account["metadata"].items()
                            if k in ("name", "namespace", "labels", "annotations")}}
    # `helm uninstall` deletes the ServiceAccount; the garbage collector does the rest.
    stack.kubectl("delete", "serviceaccount", "tfc-mcp-gateway", "-n", GATEWAY_NAMESPACE)
    try:
        wait_for("the garbage collector to delete the gateway Deployment and Service",
                 lambda: get("deployment") is None and get("service") is None, timeout=60)
        # The operator does not bring the workload back while its owner is gone.
        time.sleep(12)
        assert get("deployment") is None
    finally:
        stack.apply(restore)
    uid = get("serviceaccount")["metadata"]["uid"]
    wait_for("the operator to re-apply the workload, owned by the new ServiceAccount",
             lambda: owned("deployment", uid) and owned("service", uid), timeout=40)
