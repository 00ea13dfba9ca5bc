"""Answers sized for a model (issue 8): the result budget trims a listing to
fit, says so and names what to call for the rest; a server on the default
budget gets the whole page; the text block is compact JSON, never larger
than the structured content. Through the real gateway and operator, against
the HCP Terraform simulator."""

from __future__ import annotations

import json
import time

import mcpclient as mcp
from conftest import MINTED_TOKENS

LIST_WS = "list_all_hashicorp_terraform_cloud_workspaces"
ORG = "acme-corp"


def serve(stack, namespace, name="srv", **spec) -> str:
    stack.apply(stack.server_manifest(name, namespace, **spec))
    access = stack.wait_ready(name, namespace)
    MINTED_TOKENS.append(access["token"])
    return access["url"]


def size(value) -> int:
    return len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())


def every_workspace_id(stack) -> list[str]:
    status, doc = stack.sim_call("GET", f"/api/v2/organizations/{ORG}/workspaces?page%5Bsize%5D=100")
    assert status == 200
    return sorted(w["id"] for w in doc["data"])


def test_a_small_budget_trims_the_page_and_the_cursor_gets_the_rest(stack, namespace):
    url = serve(stack, namespace, methods=["read"], results={"maxBytes": 4096})
    expected = every_workspace_id(stack)

    page = mcp.call(url, LIST_WS, {"organization_name": ORG, "page_size": 100})
    assert page.ok, page
    data = page.data
    assert size(data) <= 4096, size(data)
    assert data["truncated"] is True, data
    kept = data["returned"]
    assert 1 <= kept < len(expected) and len(data["results"]) == kept, data
    assert data["omitted"] == len(expected) - kept, data
    assert data["truncation"]["max_bytes"] == 4096 and data["truncation"]["original_bytes"] > 4096, data
    assert "next_cursor" in data["truncation"]["hint"], data
    assert data["next_cursor"], data
    # The text block is the compact JSON (nulls left out), never bigger than the structured copy.
    assert len(page.text.encode()) <= size(data) and json.loads(page.text)["returned"] == kept, page.text[:300]

    # The cursors alone walk the rest of the listing: no duplicates, no gaps.
    seen = [w["id"] for w in data["results"]]
    for _ in range(len(expected) + 1):
        if not data["next_cursor"]:
            break
        time.sleep(0.3)  # under the gateway's per-server request rate (a call is a few HTTP requests)
        page = mcp.call(url, LIST_WS, {"organization_name": ORG, "next_cursor": data["next_cursor"]})
        assert page.ok, page
        data = page.data
        assert size(data) <= 4096, size(data)
        seen += [w["id"] for w in data["results"]]
    assert len(seen) == len(set(seen)), "no workspace twice"
    assert sorted(seen) == expected, "no workspace missing"


def test_the_default_budget_returns_the_whole_page(stack, namespace):
    url = serve(stack, namespace, methods=["read"])
    expected = every_workspace_id(stack)
    page = mcp.call(url, LIST_WS, {"organization_name": ORG, "page_size": 100})
    assert page.ok, page
    assert "truncated" not in page.data and "truncation" not in page.data, page.data.get("truncation")
    assert sorted(w["id"] for w in page.data["results"]) == expected
    assert page.data["next_cursor"] is None
    assert size(page.data) <= 64 * 1024


def test_a_budget_out_of_range_is_refused_by_the_api_server(stack, namespace):
    manifest = stack.server_manifest("tiny", namespace, methods=["read"], results={"maxBytes": 10})
    refused = stack.kubectl("apply", "-f", "-", input=json.dumps(manifest), check=False)
    assert refused.returncode != 0 and "maxBytes" in refused.stderr, refused.stderr


def test_a_summary_text_server_sends_the_data_once(stack, namespace):
    url = serve(stack, namespace, methods=["read"], results={"text": "Summary"})
    page = mcp.call(url, LIST_WS, {"organization_name": ORG, "page_size": 5})
    assert page.ok, page
    assert len(page.data["results"]) == 5 and page.data["next_cursor"], page.data
    assert page.text.startswith(f"{LIST_WS}: 5 results (page 1, ") and "more with next_cursor" in page.text, page.text
    assert page.text.endswith("The full result is in structuredContent.") and len(page.text) < 200, page.text
