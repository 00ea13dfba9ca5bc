// An MCP client built on the official TypeScript SDK: connects to URL,
// lists the tools, optionally calls one, and prints one JSON object:
//   {"server": {...}, "protocolVersion": "...", "tools": [names], "result": CallToolResult}
//
// usage: node ts-sdk-client.mjs URL [--transport http|sse] [--tool NAME] [--args JSON]
//                               [--header "Name: value"]...
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

function parse(argv) {
  const opts = { transport: "http", tool: null, args: {}, headers: {} };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--transport") opts.transport = argv[++i];
    else if (a === "--tool") opts.tool = argv[++i];
    else if (a === "--args") opts.args = JSON.parse(argv[++i]);
    else if (a === "--header") {
      const [name, ...value] = argv[++i].split(":");
      opts.headers[name.trim()] = value.join(":").trim();
    } else rest.push(a);
  }
  if (rest.length !== 1) throw new Error("usage: ts-sdk-client.mjs URL [--transport http|sse] [--tool NAME] [--args JSON]");
  opts.url = new URL(rest[0]);
  return opts;
}

const opts = parse(process.argv.slice(2));
const requestInit = { headers: opts.headers };
const transport =
  opts.transport === "sse"
    ? new SSEClientTransport(opts.url, { requestInit })
    : new StreamableHTTPClientTransport(opts.url, { requestInit });
const client = new Client({ name: "tfc-mcp-e2e-ts-sdk", version: "1.0.0" });

try {
  await client.connect(transport);
  const tools = [];
  let cursor;
  do {
    const page = await client.listTools(cursor ? { cursor } : {});
    tools.push(...page.tools.map((t) => t.name));
    cursor = page.nextCursor;
  } while (cursor);
  const out = {
    server: client.getServerVersion(),
    protocolVersion: transport.protocolVersion ?? null,
    tools,
  };
  if (opts.tool) out.result = await client.callTool({ name: opts.tool, arguments: opts.args });
  process.stdout.write(JSON.stringify(out) + "\n");
} finally {
  await client.close();
}
