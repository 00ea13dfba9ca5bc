"""Captures real TfcMcpServer objects from an end-to-end run, for the Argo CD
health check test (e2e/packaging/fixtures/*.json).

Starts the local stack (control plane, simulator, gateway, operator; see
e2e/stack.py), creates servers in the states the health check distinguishes,
and writes each as `kubectl get -o json` returns it (minus managedFields).
It also applies the three config/samples (pointed at the simulator, expiry
moved into the near future) and checks that they become Ready.

    ~/.cache/tfc-mcp/venv/bin/python e2e/packaging/capture_fixtures.py

Takes about a minute once binaries are built. Re-run when the status shape
changes; the test reads whatever fixtures exist, with the expected health
recorded in e2e/packaging/health_test.yaml.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from stack import ROOT, Stack, wait_for  # noqa: E402

FIXTURES = HERE / "fixtures"
NAMESPACE = "argocd-health"


def in_seconds(seconds: int) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def dump(stack: Stack, name: str, fixture: str) -> dict:
    obj = stack.get("tfcmcpserver", name, NAMESPACE)
    assert obj is not None, f"{name} vanished"
    obj["metadata"].pop("managedFields", None)
    (FIXTURES / f"{fixture}.json").write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    print(f"wrote fixtures/{fixture}.json", file=sys.stderr)
    return obj


def condition(obj: dict, type_: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c["type"] == type_), {})


def main() -> None:
    FIXTURES.mkdir(parents=True, exist_ok=True)
    stack = Stack(Path(os.environ.get("TFCMCP_WORK", ROOT / "e2e" / ".work" / "packaging-capture")))
    try:
        stack.start()
        stack.create_namespace(NAMESPACE)
        stack.create_token_secret(NAMESPACE)
        for secret in ("incident-responders", "ci-runner-clients"):
            stack.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": secret, "namespace": NAMESPACE},
                         "stringData": {"client": f"{secret}-bearer-token"}})
        tfc = {"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"}}

        # Ready=True
        stack.apply(stack.server_manifest("ready", NAMESPACE, methods=["read"], tags=["workspaces"]))
        stack.wait_ready("ready", NAMESPACE)
        dump(stack, "ready", "ready")

        # The three samples, against the simulator.
        for sample in ("read-only-audit", "incident-break-glass", "ci-runner"):
            manifest = yaml.safe_load((ROOT / "config" / "samples" / f"{sample}.yaml").read_text())
            manifest["metadata"]["namespace"] = NAMESPACE
            manifest["spec"]["tfc"]["address"] = stack.sim["api"]
            manifest["spec"]["expiresAt"] = in_seconds(3600)
            stack.apply(manifest)
            stack.wait_ready(manifest["metadata"]["name"], NAMESPACE)
            dump(stack, manifest["metadata"]["name"], f"sample-{sample}")

        # Ready=False: the token Secret does not exist.
        stack.apply(stack.server_manifest("secret-not-found", NAMESPACE,
                                          tfc={**tfc, "tokenSecretRef": {"name": "no-such-secret"}}))
        wait_for("SecretNotFound", lambda: (stack.condition("secret-not-found", NAMESPACE) or {}).get("reason") == "SecretNotFound")
        dump(stack, "secret-not-found", "secret-not-found")

        # Ready=False: a tag the catalog does not know.
        stack.apply(stack.server_manifest("unknown-tag", NAMESPACE, tags=["workspaces", "no-such-tag"]))
        wait_for("UnknownTag", lambda: (stack.condition("unknown-tag", NAMESPACE) or {}).get("reason") == "UnknownTag")
        dump(stack, "unknown-tag", "unknown-tag")

        # Expired=True, kept by expiryPolicy Retain.
        stack.apply(stack.server_manifest("expired-retain", NAMESPACE, expiresAt=in_seconds(6), expiryPolicy="Retain"))
        stack.wait_ready("expired-retain", NAMESPACE)
        wait_for("Expired=True", lambda: (stack.condition("expired-retain", NAMESPACE, "Expired") or {}).get("status") == "True",
                 timeout=60)
        dump(stack, "expired-retain", "expired-retain")

        # With the operator paused: a brand-new server (no status) and a
        # Ready server whose spec changed (observedGeneration behind).
        operator = stack.procs.pop("operator")
        operator.send_signal(signal.SIGTERM)
        operator.wait(timeout=30)
        stack.apply(stack.server_manifest("fresh", NAMESPACE))
        fresh = dump(stack, "fresh", "fresh")
        assert "status" not in fresh, "the operator is stopped: a new server has no status"
        stack.kubectl("patch", "tfcmcpserver", "ready", "-n", NAMESPACE, "--type=merge",
                      "-p", json.dumps({"spec": {"tags": ["workspaces", "runs"]}}))
        stale = dump(stack, "ready", "ready-stale-generation")
        assert stale["status"]["observedGeneration"] < stale["metadata"]["generation"]
        stack.start_operator()
        stack.wait_ready("fresh", NAMESPACE)
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
