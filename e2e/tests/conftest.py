"""Session fixtures: one local stack (control plane, simulator, operator,
gateway) shared by every scenario; each scenario uses its own namespace."""

from __future__ import annotations

import itertools
import re
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stack import ROOT, Stack  # noqa: E402

_counter = itertools.count()
MINTED_TOKENS: list[str] = []


@pytest.fixture(scope="session")
def stack():
    work = Path(os.environ.get("TFCMCP_WORK", ROOT / "e2e" / ".work" / "tests"))
    if work.exists():
        import shutil

        shutil.rmtree(work)
    s = Stack(work)
    try:
        s.start()
        yield s
    finally:
        s.stop()


@pytest.fixture
def namespace(stack, request):
    """A fresh namespace holding the simulator's token Secret."""
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.removeprefix("test_").lower())
    name = f"t{next(_counter)}-{slug}"[:50].strip("-")
    stack.create_namespace(name)
    stack.create_token_secret(name)
    return name


@pytest.fixture
def remember_token():
    """Records a minted URL token so the final log scan can look for it."""
    return MINTED_TOKENS.append
