/**
 * Airlock's MCP server as three widely used Python MCP clients see it (issue 20: real clients), each over
 * stdio the way its users start a server, and over streamable HTTP to a running `airlock serve --http` with
 * its bearer token: fastmcp's `Client`, the OpenAI Agents SDK's `MCPServerStdio` / `MCPServerStreamableHttp`
 * (the MCP side only: no model, no key, no network) and langchain-mcp-adapters' `MultiServerMCPClient`,
 * which also turns every tool's JSON Schema into a LangChain tool. Each lists the tools and calls `echo-js_add`.
 *
 * Needs the clients in the virtualenv `.ci/setup-toolchain.sh` makes (AIRLOCK_MCP_PYTHON names another
 * interpreter). Skips loudly without them; fails instead under AIRLOCK_REQUIRE_MCP_PYTHON=1 (CI).
 */
import test from 'ava';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { drive as run, hasPythonClients, TRANSPORTS, type Transport } from './python.ts';

const HAS_CLIENTS = hasPythonClients('fastmcp, agents.mcp, langchain_mcp_adapters.client', 'fastmcp / openai-agents / langchain-mcp-adapters');
const TOOLS = ['echo-js_add', 'echo-js_echo', 'state_boom', 'state_count', 'state_fail', 'state_print', 'state_spin'];
const SERVE = ['serve', '--engine', 'wasm', join(FIXTURES_DIR, 'echo-js'), join(FIXTURES_DIR, 'state')];

const drive = (t: import('ava').ExecutionContext, client: string, transport: Transport): Promise<Record<string, unknown>> =>
  run(t, client, transport, SERVE, 'echo-js_add', { a: 2, b: 3 });

for (const transport of TRANSPORTS) {
  (HAS_CLIENTS ? test : test.skip)(`fastmcp Client over ${transport} lists every tool and gets 2 + 3 = 5 from echo-js_add`, async (t) => {
    const report = await drive(t, 'fastmcp_client', transport);
    t.is(report.server, 'airlock');
    t.deepEqual(report.tools, TOOLS);
    t.false(report.isError);
    t.deepEqual(report.text, ['5']);
  });

  (HAS_CLIENTS ? test : test.skip)(`OpenAI Agents SDK over ${transport} lists every tool and gets 2 + 3 = 5 from echo-js_add`, async (t) => {
    const report = await drive(t, 'openai_agents_client', transport);
    t.deepEqual(report.tools, TOOLS);
    t.false(report.isError);
    t.deepEqual(report.text, ['5']);
  });

  (HAS_CLIENTS ? test : test.skip)(
    `langchain-mcp-adapters over ${transport} converts every tool schema into a LangChain tool, and echo-js_add (args a, b) answers 5`,
    async (t) => {
      const report = await drive(t, 'langchain_client', transport);
      t.deepEqual(report.tools, TOOLS);
      t.deepEqual(report.args, ['a', 'b']);
      t.deepEqual(report.text, ['5']);
    },
  );
}
