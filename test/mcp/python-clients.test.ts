/**
 * Airlock's MCP server as three widely used Python MCP clients see it (issue 20: real clients), each over
 * stdio the way its users start a server: fastmcp's `Client`, the OpenAI Agents SDK's `MCPServerStdio` (the
 * MCP side only: no model, no key, no network) and langchain-mcp-adapters' `MultiServerMCPClient`, which
 * also turns every tool's JSON Schema into a LangChain tool. Each lists the tools and calls `echo-js_add`.
 *
 * Needs the clients in the virtualenv `.ci/setup-toolchain.sh` makes (AIRLOCK_MCP_PYTHON names another
 * interpreter). Skips loudly without them; fails instead under AIRLOCK_REQUIRE_MCP_PYTHON=1 (CI).
 */
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FIXTURES_DIR } from '../../src/build/fixtures.ts';
import { requireExternal } from '../helpers/require.ts';

const cacheRoot = process.env.AIRLOCK_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'airlock');
const PYTHON = process.env.AIRLOCK_MCP_PYTHON ?? join(cacheRoot, 'mcp-python-2', 'bin', 'python');
const probe = spawnSync(PYTHON, ['-c', 'import fastmcp, agents.mcp, langchain_mcp_adapters.client'], { encoding: 'utf8' });
const HAS_CLIENTS = requireExternal(
  'mcp-python',
  probe.status === 0,
  `no fastmcp / openai-agents / langchain-mcp-adapters at ${PYTHON} (run .ci/setup-toolchain.sh)`,
);
const CLI = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const TOOLS = ['echo-js_add', 'echo-js_echo', 'state_boom', 'state_count', 'state_fail', 'state_print', 'state_spin'];

/** Runs test/mcp/clients/<client>.py against `airlock serve` on echo-js and state; returns its JSON report. */
async function drive(client: string): Promise<Record<string, unknown>> {
  const script = fileURLToPath(new URL(`./clients/${client}.py`, import.meta.url));
  const serve = [process.execPath, CLI, 'serve', '--engine', 'wasm', join(FIXTURES_DIR, 'echo-js'), join(FIXTURES_DIR, 'state')];
  const stdout = await new Promise<string>((resolve, reject) =>
    // Bounded generously: a busy machine may build components on first use; nothing here waits on a short window.
    execFile(PYTHON, [script, 'echo-js_add', JSON.stringify({ a: 2, b: 3 }), '--', ...serve], { timeout: 300_000, maxBuffer: 4 << 20 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out),
    ),
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

(HAS_CLIENTS ? test : test.skip)('fastmcp Client over its stdio transport lists every tool and gets 2 + 3 = 5 from echo-js_add', async (t) => {
  const report = await drive('fastmcp_client');
  t.is(report.server, 'airlock');
  t.deepEqual(report.tools, TOOLS);
  t.false(report.isError);
  t.deepEqual(report.text, ['5']);
});

(HAS_CLIENTS ? test : test.skip)('OpenAI Agents SDK MCPServerStdio lists every tool and gets 2 + 3 = 5 from echo-js_add', async (t) => {
  const report = await drive('openai_agents_client');
  t.deepEqual(report.tools, TOOLS);
  t.false(report.isError);
  t.deepEqual(report.text, ['5']);
});

(HAS_CLIENTS ? test : test.skip)(
  'langchain-mcp-adapters converts every tool schema into a LangChain tool, and echo-js_add (args a, b) answers 5',
  async (t) => {
    const report = await drive('langchain_client');
    t.deepEqual(report.tools, TOOLS);
    t.deepEqual(report.args, ['a', 'b']);
    t.deepEqual(report.text, ['5']);
  },
);
