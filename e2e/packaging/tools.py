"""Locating helm and kubectl for the packaging checks (built from Go modules
by e2e/controlplane/build.sh and cached under ~/.cache/tfc-mcp)."""

from __future__ import annotations

import functools
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "e2e" / "controlplane" / "build.sh"


@functools.cache
def binaries() -> dict[str, str]:
    """{"helm": path, "kubectl": path}; builds helm/kubectl once per machine if missing."""
    subprocess.run(["bash", str(BUILD), "kubernetes", "helm"], check=True, stdout=subprocess.DEVNULL)
    paths = subprocess.run(["bash", str(BUILD), "paths"], check=True, capture_output=True, text=True).stdout
    dirs = dict(line.split("=", 1) for line in paths.splitlines() if "=" in line)
    return {"helm": str(Path(dirs["helm"]) / "helm"), "kubectl": str(Path(dirs["kubernetes"]) / "kubectl")}


def run(tool: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
    """Runs helm or kubectl from the cache; raises with stderr on failure."""
    result = subprocess.run([binaries()[tool], *args], capture_output=True, text=True, cwd=ROOT, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{tool} {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result
