"""An MCP client on the official Python SDK 2.x (`mcp` 2.x, its own venv:
~/.cache/tfc-mcp/venv-mcp2), driven by e2e/tests/test_sdk2.py. One command
per run; it prints one JSON object on stdout.

  python py_client.py URL connect  [--mode 2026-07-28|legacy|auto]
  python py_client.py URL call     --tool NAME [--args JSON] [--answer accept|decline] [--mode ...]
  python py_client.py URL prompt   --name NAME [--args JSON] [--mode ...]
  python py_client.py URL resource --uri URI [--mode ...]
  python py_client.py URL task     --tool NAME [--args JSON]

`call` answers a confirmation through the SDK's own elicitation callback (on
2026-07-28 the SDK drives the input-required round trip with it). `task`
declares the tasks extension (io.modelcontextprotocol/tasks, SEP-2663) with a
client extension whose result claim follows the task: a `tools/call` answered
with a task (`resultType: "task"`) is polled with `tasks/get` until it is
terminal, and its result read (inline on `tasks/get`; SEP-2663 has no `tasks/result`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, Literal

import anyio
from mcp import Client, types
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp_types import CallToolResult, Request, RequestParams, Result
from pydantic import ConfigDict

TASKS = "io.modelcontextprotocol/tasks"
TERMINAL = {"completed", "failed", "cancelled"}


# ---- tasks extension (SEP-2663) ----------------------------------------------------------


class CreatedTask(Result):
    """`tools/call` answered with a task: a flat `Result & Task`."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    poll_interval_ms: int | None = None


class TaskIdParams(RequestParams):
    task_id: str


class TasksGet(Request[TaskIdParams, Literal["tasks/get"]]):
    method: Literal["tasks/get"] = "tasks/get"
    params: TaskIdParams
    name_param = "taskId"


class DetailedTask(Result):
    model_config = ConfigDict(extra="allow")
    task_id: str
    status: str
    status_message: str | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class Tasks(ClientExtension):
    """Follows a task to its end; records every status it saw."""

    identifier = TASKS

    def __init__(self, timeout: float = 120.0) -> None:
        self.timeout = timeout
        self.seen: list[dict[str, Any]] = []

    def claims(self):
        return [ResultClaim(result_type="task", model=CreatedTask, resolve=self.follow)]

    async def follow(self, created: CreatedTask, ctx: ClaimContext) -> CallToolResult:
        self.seen.append({"taskId": created.task_id, "status": created.status, "on": "create"})
        interval = max(0.2, min((created.poll_interval_ms or 1000) / 1000, 5.0))
        with anyio.fail_after(self.timeout):
            while True:
                task = await ctx.session.send_request(TasksGet(params=TaskIdParams(task_id=created.task_id)), DetailedTask)
                self.seen.append({"taskId": task.task_id, "status": task.status, "on": "tasks/get"})
                if task.status in TERMINAL:
                    break
                await anyio.sleep(interval)
        if task.status == "failed":
            raise RuntimeError(f"task {task.task_id} failed: {task.error}")
        if task.status == "cancelled":
            raise RuntimeError(f"task {task.task_id} was cancelled")
        if task.result is None:
            # SEP-2663 inlines the result on tasks/get (tasks/result is gone).
            raise RuntimeError(f"task {task.task_id} completed without an inline result")
        return CallToolResult.model_validate(task.result)


# ---- commands -------------------------------------------------------------------------------


def dump(model: Any) -> Any:
    return model.model_dump(by_alias=True, mode="json", exclude_none=True)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    shown: list[str] = []

    async def on_elicitation(_context, params: types.ElicitRequestParams):
        shown.append(params.message)
        if args.answer == "accept":
            return types.ElicitResult(action="accept", content={"confirm": True})
        return types.ElicitResult(action="decline")

    tasks = Tasks()
    kwargs: dict[str, Any] = {"mode": args.mode, "client_info": types.Implementation(name="tfc-mcp-e2e-py-sdk2", version="1.0.0")}
    if args.answer:
        kwargs["elicitation_callback"] = on_elicitation
    if args.command == "task":
        kwargs["extensions"] = [tasks]
    arguments = json.loads(args.args)

    async with Client(args.url, **kwargs) as client:
        out: dict[str, Any] = {
            "protocolVersion": client.protocol_version,
            "server": dump(client.server_info) if client.server_info else None,
        }
        if args.command == "connect":
            out["tools"] = [t.name for t in (await client.list_tools()).tools]
        elif args.command == "call":
            out["result"] = dump(await client.call_tool(args.tool, arguments))
            out["shown"] = shown
        elif args.command == "prompt":
            out["result"] = dump(await client.get_prompt(args.name, arguments))
        elif args.command == "resource":
            out["result"] = dump(await client.read_resource(args.uri))
        elif args.command == "task":
            out["capabilities"] = dump(client.server_capabilities)
            out["result"] = dump(await client.call_tool(args.tool, arguments))
            out["task"] = tasks.seen
        return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("command", choices=["connect", "call", "prompt", "resource", "task"])
    parser.add_argument("--mode", default="2026-07-28")
    parser.add_argument("--tool")
    parser.add_argument("--name")
    parser.add_argument("--uri")
    parser.add_argument("--args", default="{}")
    parser.add_argument("--answer", choices=["accept", "decline"])
    out = asyncio.run(run(parser.parse_args()))
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
