"""Synchronous wrappers around the official Python MCP SDK, for tests."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from typing import Any

import httpx
from mcp import ClientSession, types
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamablehttp_client
from mcp.shared.exceptions import McpError
from pydantic import AnyUrl


def _run(coro):
    """Runs a client coroutine; an SDK error raised inside the transport's
    task group comes out as itself, not wrapped in an ExceptionGroup."""
    try:
        return asyncio.run(coro)
    except BaseExceptionGroup as group:
        raise _innermost(group) from group


def _innermost(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup) and error.exceptions:
        error = error.exceptions[0]
    return error


# A well-behaved client waits out the gateway's per-server rate limit (429
# with Retry-After, answered before anything runs) instead of failing: tests
# that call many tools in a row on an idle machine go faster than 20/s.
RATE_LIMIT_RETRIES = 10


def _retry_after(error: BaseException) -> float | None:
    """Seconds to wait when `error` is the gateway's 429, else None."""
    inner = _innermost(error)
    if isinstance(inner, httpx.HTTPStatusError) and inner.response.status_code == 429:
        return _retry_after_header(inner.response.headers.get("retry-after"))
    return None


class _WaitOutRateLimit(httpx.AsyncBaseTransport):
    """Retries the gateway's 429 after its Retry-After, below the SDK: a 429
    on a POST the SDK sends from its writer task (notifications, the call
    itself) otherwise surfaces only as a closed stream, not as the 429."""

    def __init__(self):
        self._inner = httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # the body is sent again on a retry
        for attempt in range(RATE_LIMIT_RETRIES):
            response = await self._inner.handle_async_request(request)
            if response.status_code != 429 or attempt == RATE_LIMIT_RETRIES - 1:
                return response
            wait = _retry_after_header(response.headers.get("retry-after"))
            await response.aclose()
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        await self._inner.aclose()


def _retry_after_header(value: str | None) -> float:
    try:
        return max(0.1, min(float(value or "1"), 5.0))
    except ValueError:
        return 1.0


def _patient_client(headers=None, timeout=None, auth=None) -> httpx.AsyncClient:
    timeout = timeout or httpx.Timeout(30, read=300)
    return httpx.AsyncClient(headers=headers, timeout=timeout, auth=auth, transport=_WaitOutRateLimit())


async def _session(url: str, fn, headers: dict[str, str] | None = None):
    for attempt in range(RATE_LIMIT_RETRIES):
        try:
            async with streamablehttp_client(url, headers=headers, httpx_client_factory=_patient_client) as (read, write, _):
                async with ClientSession(read, write) as session:
                    await session.initialize()
                    return await fn(session)
        except Exception as error:  # noqa: BLE001 - only the gateway's 429 is retried
            wait = _retry_after(error)
            if wait is None or attempt == RATE_LIMIT_RETRIES - 1:
                raise
            await asyncio.sleep(wait)


def initialize(url: str, headers: dict[str, str] | None = None):
    async def go():
        async with streamablehttp_client(url, headers=headers) as (read, write, _):
            async with ClientSession(read, write) as session:
                return await session.initialize()

    return _run(go())


def list_tools(url: str, headers: dict[str, str] | None = None) -> list[Any]:
    async def go(session):
        return (await session.list_tools()).tools

    return _run(_session(url, go, headers))


def tool_names(url: str, headers: dict[str, str] | None = None) -> set[str]:
    return {t.name for t in list_tools(url, headers)}


class ToolCall:
    """A tool result: `ok`, `data` (structured content) and `text`."""

    def __init__(self, result):
        self.raw = result
        self.ok = not result.isError
        self.text = "\n".join(c.text for c in result.content if getattr(c, "type", "") == "text")
        self.data = result.structuredContent
        if self.data is None and self.text:
            try:
                self.data = json.loads(self.text)
            except ValueError:
                self.data = None

    def __repr__(self):
        return f"ToolCall(ok={self.ok}, text={self.text[:300]!r})"


def call(url: str, name: str, arguments: dict | None = None, headers: dict[str, str] | None = None) -> ToolCall:
    async def go(session):
        return ToolCall(await session.call_tool(name, arguments or {}))

    return _run(_session(url, go, headers))


def list_prompts(url: str, headers: dict[str, str] | None = None) -> list[Any]:
    async def go(session):
        return (await session.list_prompts()).prompts

    return _run(_session(url, go, headers))


def get_prompt(url: str, name: str, arguments: dict[str, str] | None = None, headers: dict[str, str] | None = None):
    async def go(session):
        return await session.get_prompt(name, arguments)

    return _run(_session(url, go, headers))


def complete(url: str, prompt: str, argument: str, value: str, context: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> list[str]:
    """Completion values for a prompt argument."""
    async def go(session):
        ref = types.PromptReference(type="ref/prompt", name=prompt)
        return (await session.complete(ref, {"name": argument, "value": value}, context)).completion.values

    return _run(_session(url, go, headers))


def list_resources(url: str, headers: dict[str, str] | None = None) -> list[Any]:
    async def go(session):
        return (await session.list_resources()).resources

    return _run(_session(url, go, headers))


def list_resource_templates(url: str, headers: dict[str, str] | None = None) -> list[Any]:
    async def go(session):
        return (await session.list_resource_templates()).resourceTemplates

    return _run(_session(url, go, headers))


def read_resource(url: str, uri: str, headers: dict[str, str] | None = None):
    """The resource's contents (a list); a protocol error raises McpError."""
    async def go(session):
        return (await session.read_resource(AnyUrl(uri))).contents

    return _run(_session(url, go, headers))


def call_error(url: str, name: str, arguments: dict | None = None) -> McpError:
    """Calls a tool that must fail at the protocol level; returns the error."""
    try:
        result = call(url, name, arguments)
    except McpError as error:
        return error
    raise AssertionError(f"expected a protocol error from {name}, got {result}")


def raw_post(url: str, body: dict | None = None, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One JSON-RPC POST without an SDK, to check HTTP-level answers."""
    data = json.dumps(body or {"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
        **(headers or {}),
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


__all__ = ["McpError", "call", "call_error", "complete", "get_prompt", "initialize", "list_prompts", "list_resource_templates",
           "list_resources", "list_tools", "raw_post", "read_resource", "sse_client", "tool_names"]
