"""The README's first command, `bash e2e/run-local.sh` (`e2e/stack.py`): it
prints a sample server's URL that answers, and Ctrl-C stops everything it
started, even pressed again while it stops."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from stack import ROOT, free_port


def started_under(work: Path) -> list[str]:
    """The command lines of the processes whose command line names `work`
    (the control plane's data and certificates, the gateway's keys...)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(work) in cmdline:
            found.append(f"{proc.name}: {cmdline[:160]}")
    return found


def test_the_local_stack_prints_a_working_url_and_a_double_ctrl_c_leaves_nothing_running(tmp_path):
    work = tmp_path / "local"
    port = free_port()
    log = tmp_path / "stack.log"
    env = dict(os.environ, TFCMCP_WORK=str(work), TFCMCP_PORT=str(port))
    with open(log, "w") as out:
        # Its own process group: a terminal's Ctrl-C reaches the whole group.
        proc = subprocess.Popen([sys.executable, str(ROOT / "e2e" / "stack.py")], stdout=out, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while "Press Ctrl-C to stop." not in log.read_text():
            assert proc.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(1)
        url = re.search(r"MCP URL \(Streamable HTTP\): (\S+)", log.read_text()).group(1)
        assert url.startswith(f"http://127.0.0.1:{port}/mcp/tfcmcp_")
        request = urllib.request.Request(url, data=json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode(),
                                         headers={"Content-Type": "application/json", "Accept": "application/json, text/event-stream",
                                                  "MCP-Protocol-Version": "2025-11-25"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert len(json.loads(response.read())["result"]["tools"]) > 100
        assert started_under(work), "the control plane runs from the work directory"

        # Ctrl-C, and again while it stops.
        os.killpg(proc.pid, signal.SIGINT)
        time.sleep(1)
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=120)
        assert "stopping" in log.read_text()
        assert not started_under(work), started_under(work)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for line in started_under(work):
            os.kill(int(line.split(":")[0]), signal.SIGKILL)
