/**
 * `node test/mcp/bench-start.ts`: how long an MCP client waits for `airlock serve` over stdio, from spawning
 * it to the answer of `initialize`, then of the first `tools/list`, with 12 plugins configured: ten built
 * fixtures, one whose build fails and one never built (fresh source each run), as issue 20's check has it.
 * Prints a Markdown table of BENCH_RUNS runs (default 7). Not a test: figures depend on the machine.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { stringify } from 'yaml';
import { percentile } from '../../src/bench/index.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
const WARM = ['echo-c', 'bigout', 'env-dump', 'loop', 'membomb', 'random-bomb', 'state', 'terminal-escapes', 'trap', 'bench-c'].map((n) =>
  join(ROOT, 'fixtures/plugins', n),
);

function cPlugin(name: string, source: string): string {
  const dir = mkdtempSync(join(tmpdir(), `airlock-bench-${name}-`));
  writeFileSync(join(dir, 'plugin.c'), source);
  writeFileSync(
    join(dir, 'plugin.yaml'),
    stringify({
      apiVersion: 'airlock/v1',
      name,
      version: '0.1.0',
      runtime: 'wasm',
      entry: 'plugin.c',
      tools: [{ name: 'say', description: 'Says', input: { type: 'object' } }],
    }),
  );
  return dir;
}

async function once(): Promise<{ initialize: number; list: number }> {
  const broken = cPlugin('broken', '#include "airlock_tools.h"\nint tool(this is not C\n');
  const fresh = cPlugin(
    'fresh',
    `#include "airlock_tools.h"\nint tool(const char *n, size_t nl, char *i, size_t il, struct airlock_out *out) {\n  (void)n; (void)nl; (void)i; (void)il;\n  out->ok = airlock_lit("\\"${randomUUID()}\\"");\n  return 0;\n}\n`,
  );
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'serve', ...WARM, broken, fresh], cwd: ROOT, stderr: 'ignore' });
  const client = new Client({ name: 'bench-start', version: '1.0.0' });
  const started = performance.now();
  // connect() spawns the server and completes the initialize handshake.
  await client.connect(transport);
  const initialize = performance.now() - started;
  const tools = (await client.listTools()).tools.length;
  const list = performance.now() - started;
  if (tools < 12) throw new Error(`listed ${tools} tools`);
  await client.close();
  return { initialize, list };
}

const runs: Array<{ initialize: number; list: number }> = [];
for (let i = 0; i < RUNS; i++) runs.push(await once());
const row = (label: string, values: number[]): string => {
  const sorted = [...values].sort((a, b) => a - b);
  return `| ${label} | ${percentile(sorted, 50).toFixed(0)} | ${sorted[0]?.toFixed(0)} | ${sorted.at(-1)?.toFixed(0)} |`;
};
console.log(`| from spawn, 12 plugins (1 broken, 1 never built), ${RUNS} runs | median ms | min | max |`);
console.log('| --- | --: | --: | --: |');
console.log(
  row(
    '`initialize` answered',
    runs.map((r) => r.initialize),
  ),
);
console.log(
  row(
    'first `tools/list` answered',
    runs.map((r) => r.list),
  ),
);
