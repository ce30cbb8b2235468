import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli } from '../helpers/cli.ts';
import { cPlugin } from '../host/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

test('serve --http binds loopback, serves the SDK client, and exits 0 on SIGTERM', async (t) => {
  const child = spawn(process.execPath, [MAIN, 'serve', '--mcp', '--http', '0', 'fixtures/plugins/echo-c'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let stderr = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /serving 2 tools over MCP at (http:\/\/\S+)/.exec(stderr);
      if (m?.[1] !== undefined) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${stderr}`)));
  });
  t.regex(url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  const client = new Client({ name: 'cli-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  t.deepEqual((await client.listTools()).tools.map((x) => x.name), ['echo-c_echo', 'echo-c_add']);
  const sum = (await client.callTool({ name: 'echo-c_add', arguments: { a: 5, b: 6 } })) as CallToolResult;
  t.deepEqual(sum.content, [{ type: 'text', text: '11' }]);
  await client.close();
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const [code] = (await exited) as [number | null];
  t.is(code, 0);
});

test('serve --watch reloads an edited plugin and tells the client its tools changed', async (t) => {
  const source = (text: string): string => `#include "airlock_tools.h"
int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out) {
  (void)name; (void)name_len; (void)input; (void)input_len;
  out->ok = airlock_lit("\\"${text}\\"");
  return 0;
}
`;
  const dir = cPlugin({ name: 'live', tools: [{ name: 'say', description: 'Says something', input: { type: 'object' } }] }, source('first'));
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'serve', '--watch', dir], cwd: ROOT, env: processEnv(), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'cli-test', version: '1.0.0' });
  let changed: (() => void) | undefined;
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => changed?.());
  await client.connect(transport);
  t.teardown(() => client.close());
  const first = (await client.callTool({ name: 'live_say', arguments: {} })) as CallToolResult;
  t.deepEqual(first.content, [{ type: 'text', text: '"first"' }]);

  const notified = new Promise<void>((resolve) => (changed = resolve));
  writeFileSync(join(dir, 'plugin.c'), source('second'));
  await notified;
  const second = (await client.callTool({ name: 'live_say', arguments: {} })) as CallToolResult;
  t.deepEqual(second.content, [{ type: 'text', text: '"second"' }]);
  t.regex(stderr, /airlock: reloaded live/);
});

test('serve refuses bad usage with exit 2', async (t) => {
  const none = await cli(['serve', '--mcp'], { cwd: ROOT });
  t.is(none.code, 2);
  t.regex(none.stderr, /name at least one plugin to serve/);
  const badHttp = await cli(['serve', '--http', 'localhost', 'fixtures/plugins/echo-c'], { cwd: ROOT });
  t.is(badHttp.code, 2);
  t.regex(badHttp.stderr, /--http takes \[host:\]port/);
});
