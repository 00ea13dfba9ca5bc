// An MCP client on the official TypeScript client 2.x (@modelcontextprotocol/client),
// driven by e2e/tests/test_sdk2.py. One command per run; it prints one JSON object.
//
//   node sdk2-client.mjs URL connect  [--era modern|legacy|auto]
//   node sdk2-client.mjs URL call     --tool NAME [--args JSON] [--answer accept|decline] [--era ...]
//   node sdk2-client.mjs URL prompt   --name NAME [--args JSON] [--era ...]
//   node sdk2-client.mjs URL resource --uri URI [--era ...]
//   node sdk2-client.mjs URL task     --tool NAME [--args JSON]
//
// modern pins 2026-07-28 (server/discover, no session); legacy is the 2025
// initialize handshake. `call` answers a confirmation with the SDK's own
// elicitation/create handler (on 2026-07-28 the SDK drives the input-required
// round trip through it). `task` follows a task with the tasks extension's
// client (@modelcontextprotocol/ext-tasks): tools/call answered with a task,
// tasks/get until terminal, then the result.
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { createTaskSessionFromClient, resultFromTaskOutcome } from "@modelcontextprotocol/ext-tasks/client";

const MODERN = "2026-07-28";
const TASKS = "io.modelcontextprotocol/tasks";

function parse(argv) {
  const opts = { era: "modern", args: {}, answer: null };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--era") opts.era = argv[++i];
    else if (a === "--tool" || a === "--name") opts.name = argv[++i];
    else if (a === "--uri") opts.uri = argv[++i];
    else if (a === "--args") opts.args = JSON.parse(argv[++i]);
    else if (a === "--answer") opts.answer = argv[++i];
    else rest.push(a);
  }
  if (rest.length !== 2) throw new Error("usage: sdk2-client.mjs URL connect|call|prompt|resource|task [options]");
  [opts.url, opts.command] = [new URL(rest[0]), rest[1]];
  return opts;
}

const negotiation = { modern: { mode: { pin: MODERN } }, legacy: { mode: "legacy" }, auto: { mode: "auto" } };

/** The host-owned raw request path the tasks extension's client needs for
 * 2026-07-28 task traffic (its `rawDispatch`): it hands over `{method, params}`
 * (already framed with the request `_meta`) and expects `{kind: "result", result}`
 * or `{kind: "error", error}`. One JSON-RPC request per POST with the standard
 * headers; the answer is JSON, or an SSE stream whose message with the
 * request's id is the response. */
function rawDispatch(url) {
  let next = 0;
  return async (request, options = {}) => {
    const id = `ext-tasks-${++next}`;
    const name = request.params?.name ?? request.params?.taskId ?? request.params?.uri;
    const response = await fetch(url, {
      method: "POST",
      signal: options.signal,
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": MODERN,
        "mcp-method": request.method,
        ...(name ? { "mcp-name": String(name) } : {}),
        ...(options.headers ?? {}),
      },
      body: JSON.stringify({ jsonrpc: "2.0", id, ...request }),
    });
    const text = await response.text();
    const messages = (response.headers.get("content-type") ?? "").startsWith("text/event-stream")
      ? text.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trim()).filter(Boolean).map((d) => JSON.parse(d))
      : text ? [JSON.parse(text)] : [];
    const answer = messages.find((m) => m.id === id && ("result" in m || "error" in m));
    if (!answer) throw new Error(`no JSON-RPC response to ${request.method} (HTTP ${response.status})`);
    return "error" in answer ? { kind: "error", error: answer.error } : { kind: "result", result: answer.result };
  };
}

async function main() {
  const opts = parse(process.argv.slice(2));
  const shown = [];
  const capabilities = { elicitation: { form: {} } };
  if (opts.command === "task") capabilities.extensions = { [TASKS]: {} };
  const clientInfo = { name: "tfc-mcp-e2e-ts-sdk2", version: "1.0.0" };
  const client = new Client(clientInfo, { capabilities, versionNegotiation: negotiation[opts.era] });
  client.setRequestHandler("elicitation/create", async (request) => {
    shown.push(request.params.message);
    return opts.answer === "accept" ? { action: "accept", content: { confirm: true } } : { action: "decline" };
  });
  const transport = new StreamableHTTPClientTransport(opts.url);
  await client.connect(transport);
  try {
    const out = {
      protocolVersion: client.getNegotiatedProtocolVersion() ?? null,
      server: client.getServerVersion() ?? null,
      sessionId: transport.sessionId ?? null,
    };
    if (opts.command === "connect") {
      const tools = [];
      let cursor;
      do {
        const page = await client.listTools(cursor ? { cursor } : {});
        tools.push(...page.tools.map((t) => t.name));
        cursor = page.nextCursor;
      } while (cursor);
      out.tools = tools;
    } else if (opts.command === "call") {
      out.result = await client.callTool({ name: opts.name, arguments: opts.args });
      out.shown = shown;
    } else if (opts.command === "prompt") {
      out.result = await client.getPrompt({ name: opts.name, arguments: opts.args });
    } else if (opts.command === "resource") {
      out.result = await client.readResource({ uri: opts.uri });
    } else if (opts.command === "task") {
      out.capabilities = client.getServerCapabilities() ?? null;
      const session = createTaskSessionFromClient(client, {
        endpointId: opts.url.href,
        rawDispatch: rawDispatch(opts.url),
        v2RequestFraming: { protocolVersion: MODERN, clientInfo, clientCapabilities: capabilities },
      });
      try {
        const execution = await session.callTool(opts.name, opts.args, { task: { preference: "prefer" } });
        out.kind = execution.kind;
        out.taskId = execution.handle?.taskId ?? null;
        const events = [];
        const { outcome, lastTask } = await execution.settle({
          onEvent: (event) => {
            if (event.type === "task") events.push(event.task.status);
          },
        });
        out.statuses = events;
        out.lastStatus = lastTask?.status ?? null;
        out.result = resultFromTaskOutcome(outcome);
      } finally {
        await session.close();
      }
    }
    process.stdout.write(JSON.stringify(out) + "\n");
  } finally {
    await client.close();
  }
}

await main();
