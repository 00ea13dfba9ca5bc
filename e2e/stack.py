"""The local stack: a real control plane, the HCP Terraform simulator, the
operator and the gateway, each a local process. Used by the end-to-end tests
and by `e2e/run-local.sh`.

Every process writes its log under the stack's work directory; `Stack.stop()`
ends exactly the processes it started.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
E2E = ROOT / "e2e"
GATEWAY_NAMESPACE = "tfc-mcp-system"
SIM_TOKEN = "sim-token-e2e"


def log(message: str) -> None:
    print(f"[stack] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what: str, check, timeout: float = 60.0, interval: float = 0.2):
    """Polls `check` until it returns a truthy value, printing progress."""
    start = time.monotonic()
    last_note = start
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception:  # noqa: BLE001 - any failure means "not yet"
            pass
        now = time.monotonic()
        if now - start > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        if now - last_note > 5:
            log(f"still waiting for {what} ({now - start:.0f}s)")
            last_note = now
        time.sleep(interval)


def terminate(proc: subprocess.Popen, timeout: float = 30.0) -> int:
    """Stops `proc` as its supervisor would (TERM, then KILL after `timeout`); its exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


def http_get(url: str, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def cargo_build(release: bool = False) -> Path:
    """Builds the three binaries and returns the directory holding them."""
    profile = ["--release"] if release else []
    log(f"building operator, gateway and simulator (cargo build {' '.join(profile)})")
    subprocess.run(
        ["cargo", "build", *profile, "--workspace", "--bins"],
        cwd=ROOT,
        check=True,
    )
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    return target / ("release" if release else "debug")


class Stack:
    def __init__(self, work: Path | None = None, public_port: int | None = None, release: bool = False):
        self.release = release
        self.work = Path(work or tempfile.mkdtemp(prefix="tfcmcp-e2e-", dir=os.environ.get("TFCMCP_WORK")))
        self.work.mkdir(parents=True, exist_ok=True)
        self.cp_dir = self.work / "cp"
        self.procs: dict[str, subprocess.Popen] = {}
        self.public_port = public_port or free_port()
        self.admin_port = free_port()
        self.operator_names: dict[str, dict] = {}
        self.lease_duration_secs = 6
        self.bin: Path | None = None
        self.sim: dict[str, str] = {}
        self.kubectl_bin = "kubectl"
        self.cp_env: dict[str, str] = {}
        # The gateway configuration from the chart's ConfigMap, as a mounted file would hold it.
        self.gateway_config = self.work / "gateway.yaml"
        self.approval_keys = self.work / "approval-keys"

    # ---- lifecycle -------------------------------------------------------

    def start(self) -> "Stack":
        self.bin = cargo_build(self.release)
        self.start_control_plane()
        self.install_cluster_resources()
        self.start_simulator()
        self.start_gateway()
        self.start_operator()
        return self

    def stop_for_good(self) -> None:
        """`stop`, for a script's last step: a second Ctrl-C or TERM (often
        sent while waiting) no longer cuts the stop short, which would leave
        the control plane running. Main thread only; not for pytest."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        self.stop()

    def stop(self) -> None:
        for proc in reversed(list(self.procs.values())):
            terminate(proc, timeout=10)
        self.procs.clear()
        if self.cp_dir.exists():
            subprocess.run(["bash", str(E2E / "controlplane" / "stop.sh"), str(self.cp_dir)], check=False)

    def start_control_plane(self) -> None:
        log(f"starting the control plane in {self.cp_dir}")
        start = ["bash", str(E2E / "controlplane" / "start.sh"), str(self.cp_dir)]
        if subprocess.run(start).returncode != 0:
            # Free ports are picked before the processes bind them; another
            # process can take one in between. One more try with new ports.
            log("control plane did not start; retrying once with fresh ports")
            subprocess.run(["bash", str(E2E / "controlplane" / "stop.sh"), str(self.cp_dir)], check=False)
            subprocess.run(start, check=True)
        env = self.cp_env = json.loads((self.cp_dir / "env.json").read_text())
        cp_bin = env.get("CP_BIN")
        if cp_bin:
            self.kubectl_bin = str(Path(cp_bin) / "kubectl")

    def install_cluster_resources(self) -> None:
        """Installs the Helm chart: CRD, ServiceAccounts, RBAC, gateway
        configuration. Its operator Deployment is scaled to zero (no kubelet
        runs Pods here); the operator and gateway run as local processes that
        authenticate as the chart's ServiceAccounts, so they get exactly the
        chart's RBAC."""
        helm = self.cp_env.get("CP_HELM") or str(Path(self.kubectl_bin).parent.parent / "helm-v3.19.0" / "helm")
        subprocess.run(["bash", str(E2E / "controlplane" / "build.sh"), "helm"], check=True, stdout=subprocess.DEVNULL)
        log("installing the Helm chart (CRD, ServiceAccounts, RBAC, gateway configuration)")
        self.kubectl("apply", "-f", str(ROOT / "config" / "rbac" / "namespace.yaml"))
        subprocess.run(
            [helm, "--kubeconfig", self.admin_kubeconfig, "install", "tfc-mcp", str(ROOT / "charts" / "tfc-mcp"),
             "--namespace", GATEWAY_NAMESPACE, "--set", f"gateway.publicBaseUrl={self.public_base_url}",
             "--set", "operator.replicas=0", "--wait=false"],
            check=True, stdout=subprocess.DEVNULL,
        )
        self.kubectl("wait", "--for=condition=Established", "crd/tfcmcpservers.tfcmcp.dev", "--timeout=60s")
        config = self.kubectl("get", "configmap", "tfc-mcp-gateway-config", "-n", GATEWAY_NAMESPACE,
                              "-o", "jsonpath={.data.gateway\\.yaml}").stdout
        self.gateway_config.write_text(config)
        # The approval key the chart generated, as the gateway Pod would mount it.
        key = self.kubectl("get", "secret", "tfc-mcp-gateway-approval-key", "-n", GATEWAY_NAMESPACE,
                           "-o", "jsonpath={.data.current}").stdout
        self.approval_keys.mkdir(parents=True, exist_ok=True)
        (self.approval_keys / "current").write_bytes(base64.b64decode(key))

    def start_simulator(self, rate_limit: int = 0) -> None:
        port_file = self.work / "sim-ports.json"
        # A restart keeps the simulator's sockets: they are allow-listed by ip:port.
        listen = []
        if self.sim:
            listen = ["--listen", urllib.parse.urlsplit(self.sim["api"]).netloc,
                      "--blob-listen", urllib.parse.urlsplit(self.sim["blob"]).netloc,
                      "--registry-listen", urllib.parse.urlsplit(self.sim["registry"]).netloc]
            port_file.unlink(missing_ok=True)
        self._spawn(
            "simulator",
            [str(self.bin / "tfc-sim"), "--port-file", str(port_file), "--token", SIM_TOKEN, "--step-delay-ms", "200",
             "--rate-limit", str(rate_limit), *listen],
        )
        self.sim = wait_for("the simulator", lambda: json.loads(port_file.read_text()), timeout=30)
        log(f"simulator: api={self.sim['api']} blob={self.sim['blob']} registry={self.sim['registry']}")

    # ---- network policy flags -------------------------------------------------
    # The simulator listens on http://127.0.0.1:<port>: plain http on loopback,
    # which production refuses. The tests allow exactly the simulator's
    # sockets (API, blob and public registry origins), nothing else on loopback.

    def sim_sockets(self) -> list[str]:
        return [urllib.parse.urlsplit(self.sim[k]).netloc for k in ("api", "blob")]

    def registry_socket(self) -> str:
        return urllib.parse.urlsplit(self.sim["registry"]).netloc

    def tfc_address_args(self) -> list[str]:
        """Flags shared by operator and gateway: the simulator's API address is the only allowed one."""
        return [f"--allowed-tfc-addresses={self.sim['api']}", "--allow-insecure-tfc-addresses=true"]

    @property
    def oidc_issuer(self) -> str:
        """The simulator's test OIDC issuer (plain http on loopback)."""
        return self.sim["api"] + "/oidc"

    def oidc_test_args(self) -> list[str]:
        """Flags shared by operator and gateway: the loopback test issuer is allowed over http."""
        return ["--allow-insecure-oidc-issuers=true"]

    def gateway_network_args(self, public_base_url: str | None = None) -> list[str]:
        """Every network flag a gateway process of this stack needs; `public_base_url`
        is where clients reach that process (its origin is the accepted browser Origin)."""
        sockets = [*self.sim_sockets(), self.registry_socket()]
        return [*self.tfc_address_args(), f"--allowed-egress-addresses={','.join(sockets)}",
                f"--registry-address={self.sim['registry']}",
                f"--public-base-url={public_base_url or self.public_base_url}"]

    def start_gateway(self) -> None:
        self._spawn(
            "gateway",
            [str(self.bin / "tfc-mcp-gateway"), "--namespace", GATEWAY_NAMESPACE,
             "--listen", f"127.0.0.1:{self.public_port}", "--admin-listen", f"127.0.0.1:{self.admin_port}",
             f"--approval-keys-dir={self.approval_keys}", "--approval-claims", "--approval-claims-holder=gateway-e2e",
             *self.gateway_network_args(), *self.oidc_test_args(), "--oidc-jwks-min-refresh-secs=2",
             "--worker-threads=2"],
            env={"KUBECONFIG": str(self.cp_dir / "gateway.kubeconfig")},
        )
        wait_for("the gateway to be ready", lambda: http_get(f"http://127.0.0.1:{self.admin_port}/readyz")[0] == 200)
        log(f"gateway: http://127.0.0.1:{self.public_port} (admin {self.admin_port})")

    def start_operator(self, name: str = "operator", wait_leader: bool = True, extra_args: tuple[str, ...] = (),
                       kubeconfig: str | None = None) -> subprocess.Popen:
        """Starts one operator replica; replicas compete for the Lease."""
        port = free_port()
        identity = f"{name}-{port}"
        # Tests write route Secrets by hand (no owner); the periodic orphan sweep
        # would remove them mid-test. Sweep tests pass their own interval.
        if not any(a.startswith("--orphan-sweep-interval-secs") for a in extra_args):
            extra_args = (*extra_args, "--orphan-sweep-interval-secs=3600")
        # Approval claims (the gateway's Leases) are swept every second here, not every minute.
        if not any(a.startswith("--approval-claims-sweep-secs") for a in extra_args):
            extra_args = (*extra_args, "--approval-claims-sweep-secs=1")
        proc = self._spawn(
            name,
            [str(self.bin / "tfc-mcp-operator"), "run", "--gateway-namespace", GATEWAY_NAMESPACE,
             "--public-base-url", self.public_base_url, "--admin-listen", f"127.0.0.1:{port}",
             "--identity", identity, "--lease-duration-secs", str(self.lease_duration_secs),
             "--gateway-config", str(self.gateway_config), *self.tfc_address_args(), *self.oidc_test_args(),
             *extra_args],
            env={"KUBECONFIG": kubeconfig or str(self.cp_dir / "operator.kubeconfig")},
        )
        self.operator_names[name] = {"port": port, "identity": identity}
        wait_for(f"the {name}", lambda: http_get(f"http://127.0.0.1:{port}/healthz")[0] == 200)
        if wait_leader and name == "operator":
            wait_for("the operator to lead", lambda: self.operator_metric("tfcmcp_operator_leader", name) == 1,
                     timeout=3 * self.lease_duration_secs + 10)
        return proc

    def operator_identity(self, name: str = "operator") -> str:
        return self.operator_names[name]["identity"]

    def operator_metric(self, metric: str, name: str = "operator") -> float:
        """Sum of a metric's samples on one operator replica's /metrics."""
        _, body = http_get(f"http://127.0.0.1:{self.operator_names[name]['port']}/metrics")
        total = 0.0
        for line in body.decode().splitlines():
            if line.startswith(metric) and (len(line) == len(metric) or line[len(metric)] in " {"):
                total += float(line.rsplit(" ", 1)[1])
        return total

    def _spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log_path = self.work / f"{name}.log"
        full_env = {**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "info,kube=warn,rmcp=warn"), **(env or {})}
        proc = subprocess.Popen(argv, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT, env=full_env,
                                start_new_session=True)
        self.procs[name] = proc
        return proc

    def restart_simulator(self, rate_limit: int = 0) -> None:
        proc = self.procs.pop("simulator")
        proc.terminate()
        proc.wait(timeout=10)
        self.start_simulator(rate_limit)

    # ---- accessors ---------------------------------------------------------

    @property
    def public_base_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def admin_kubeconfig(self) -> str:
        return str(self.cp_dir / "admin.kubeconfig")

    def logs(self) -> dict[str, str]:
        return {str(p.relative_to(self.work)): p.read_text(errors="replace") for p in self.work.glob("**/*.log")}

    # ---- kubectl -----------------------------------------------------------

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, kubeconfig: str | None = None) -> subprocess.CompletedProcess:
        argv = [self.kubectl_bin, "--kubeconfig", kubeconfig or self.admin_kubeconfig, *args]
        result = subprocess.run(argv, input=input, capture_output=True, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"kubectl {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def apply(self, manifest: dict | str) -> None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        self.kubectl("apply", "-f", "-", input=text)

    def get(self, kind: str, name: str, namespace: str) -> dict | None:
        result = self.kubectl("get", kind, name, "-n", namespace, "-o", "json", check=False)
        if result.returncode != 0:
            if "NotFound" in result.stderr:
                return None
            raise RuntimeError(result.stderr)
        return json.loads(result.stdout)

    def secret_data(self, name: str, namespace: str) -> dict[str, str] | None:
        secret = self.get("secret", name, namespace)
        if secret is None:
            return None
        return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}

    def create_namespace(self, name: str) -> None:
        self.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})

    def create_token_secret(self, namespace: str, name: str = "tfc-api-token", token: str = SIM_TOKEN) -> None:
        self.apply({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": namespace},
                    "stringData": {"token": token}})

    def server_manifest(self, name: str, namespace: str, **spec) -> dict:
        body = {"tfc": {"address": self.sim["api"], "tokenSecretRef": {"name": "tfc-api-token", "key": "token"}},
                "methods": ["read", "write", "custom"]}
        body.update(spec)
        return {"apiVersion": "tfcmcp.dev/v1alpha1", "kind": "TfcMcpServer",
                "metadata": {"name": name, "namespace": namespace}, "spec": body}

    def condition(self, name: str, namespace: str, type_: str = "Ready") -> dict | None:
        server = self.get("tfcmcpserver", name, namespace)
        for c in ((server or {}).get("status") or {}).get("conditions") or []:
            if c.get("type") == type_:
                return c
        return None

    def wait_ready(self, name: str, namespace: str, timeout: float = 30) -> dict:
        wait_for(f"{namespace}/{name} to be Ready",
                 lambda: (self.condition(name, namespace) or {}).get("status") == "True", timeout=timeout)
        return self.secret_data(f"{name}-mcp", namespace)

    # ---- simulator -------------------------------------------------------------

    def sim_requests(self) -> list[dict]:
        return json.loads(http_get(self.sim["api"] + "/_sim/requests")[1])

    def sim_put_rate_limit(self, limit: int) -> tuple[int, dict | None]:
        request = urllib.request.Request(self.sim["api"] + "/_sim/rate-limit", data=json.dumps({"limit": limit}).encode(),
                                         method="PUT", headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None

    def sim_call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict | None]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.sim["api"] + path, data=data, method=method,
                                         headers={"Authorization": f"Bearer {SIM_TOKEN}",
                                                  "Content-Type": "application/vnd.api+json"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None


def main() -> None:
    """`python3 e2e/stack.py`: start the stack with a sample server and wait."""
    work = Path(os.environ.get("TFCMCP_WORK", ROOT / "e2e" / ".work" / "local"))
    if work.exists():
        shutil.rmtree(work)
    port = int(os.environ.get("TFCMCP_PORT", "8080"))
    stack = Stack(work, public_port=port)
    try:
        stack.start()
        stack.create_namespace("platform")
        stack.create_token_secret("platform")
        stack.apply(stack.server_manifest("chatgpt-prod-admin", "platform", displayName="ChatGPT TFC Prod Admin",
                                          tfc={"address": stack.sim["api"], "tokenSecretRef": {"name": "tfc-api-token"},
                                               "organizations": ["acme-corp"]}))
        access = stack.wait_ready("chatgpt-prod-admin", "platform")
        print("\n" + "=" * 72)
        print("tfc-mcp local stack is running.")
        print(f"  MCP URL (Streamable HTTP): {access['url']}")
        print(f"  kubeconfig:                {stack.admin_kubeconfig}")
        print(f"  HCP Terraform simulator:   {stack.sim['api']} (token {SIM_TOKEN})")
        print(f"  logs:                      {stack.work}/*.log")
        print("  Client configuration (Cursor ~/.cursor/mcp.json, or any mcpServers file):")
        print("    " + access["mcp.json"].replace("\n", "\n    "))
        print(f"  Try: npx @modelcontextprotocol/inspector --cli {access['url']} --transport http --method tools/list")
        print("Press Ctrl-C to stop.")
        print("=" * 72, flush=True)
        signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
        while all(p.poll() is None for p in stack.procs.values()):
            time.sleep(1)
        dead = [n for n, p in stack.procs.items() if p.poll() is not None]
        log(f"process(es) exited: {', '.join(dead)}; see {stack.work}")
    except KeyboardInterrupt:
        log("stopping (Ctrl-C again is ignored: the stop finishes, nothing is left running)")
    finally:
        stack.stop_for_good()


if __name__ == "__main__":
    main()
