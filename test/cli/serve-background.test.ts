/**
 * `airlock serve` answers initialize before its plugins have loaded: the
 * manifests are read, the server starts, the engines open in the background.
 * A plugin that fails to open answers its reason; one that cannot be read is
 * skipped with its reason on stderr; only when none can be read does serve fail.
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { tempDir } from '../helpers/plugin.ts';
import { cPlugin } from '../host/helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = join(ROOT, 'src/cli/main.ts');
/** Ten built fixtures (warm cache), besides the broken and the never-built plugin each test makes. */
const WARM = ['echo-c', 'bigout', 'env-dump', 'loop', 'membomb', 'random-bomb', 'state', 'terminal-escapes', 'trap', 'bench-c'].map(
  (n) => `fixtures/plugins/${n}`,
);

function processEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  return env;
}

async function stdioClient(
  t: import('ava').ExecutionContext,
  args: string[],
  env: Record<string, string> = processEnv(),
): Promise<{ client: Client; stderr: () => string }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [MAIN, 'serve', ...args], cwd: ROOT, env, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'serve-background-test', version: '1.0.0' });
  t.teardown(() => client.close());
  await client.connect(transport);
  return { client, stderr: () => stderr };
}

function errorOf(result: CallToolResult): { code: string; message: string } {
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error('expected a text error');
  return JSON.parse(first.text) as { code: string; message: string };
}

const SAY_C = (text: string): string => `#include "airlock_tools.h"
int tool(const char *name, size_t name_len, char *input, size_t input_len, struct airlock_out *out) {
  (void)name; (void)name_len; (void)input; (void)input_len;
  out->ok = airlock_lit("\\"${text}\\"");
  return 0;
}
`;
const SAY = [{ name: 'say', description: 'Says something', input: { type: 'object' } }];

test('serve with 12 plugins, one failing its build and one never built: initialize and tools/list answer with every tool; the broken one answers its reason, the others serve', async (t) => {
  const broken = cPlugin({ name: 'broken', tools: SAY }, '#include "airlock_tools.h"\nint tool(this is not C\n');
  // Source no earlier run has built: its first build happens in the background.
  const fresh = cPlugin({ name: 'fresh', tools: SAY }, SAY_C(`fresh ${randomUUID()}`));
  const { client, stderr } = await stdioClient(t, [...WARM, broken, fresh]);
  const names = (await client.listTools()).tools.map((x) => x.name);
  t.is(new Set(names.map((n) => n.split('_')[0])).size, 12, names.join(' '));
  t.true(names.includes('broken_say') && names.includes('fresh_say'));

  // The broken plugin's call waits for its build to fail, then says why, naming it.
  const failed = (await client.callTool({ name: 'broken_say', arguments: {} })) as CallToolResult;
  t.true(failed.isError);
  t.regex(errorOf(failed).message, /^broken_say is unavailable: plugin broken failed to load: /);
  t.regex(stderr(), /airlock: broken failed to load, its tools answer this error: /);
  t.regex((await client.listTools()).tools.find((x) => x.name === 'broken_say')?.description ?? '', /^\[unavailable: plugin broken failed to load/);

  // The never-built one waits for its first build, then answers.
  const said = (await client.callTool({ name: 'fresh_say', arguments: {} })) as CallToolResult;
  t.not(said.isError, true);
  t.regex(JSON.stringify(said.content), /fresh [0-9a-f-]{36}/);
  const sum = (await client.callTool({ name: 'echo-c_add', arguments: { a: 2, b: 2 } })) as CallToolResult;
  t.deepEqual(sum.content, [{ type: 'text', text: '4' }]);
});

test('serve skips a plugin whose manifest cannot be read, saying why on stderr, and serves the others; with none readable it fails', async (t) => {
  const bad = tempDir('airlock-bad-');
  writeFileSync(join(bad, 'plugin.yaml'), 'apiVersion: airlock/v1\nname: Not_A_Name\n');
  const { client, stderr } = await stdioClient(t, [bad, 'fixtures/plugins/echo-c']);
  t.deepEqual(
    (await client.listTools()).tools.map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  t.regex(stderr(), new RegExp(`airlock: skipping ${bad}: invalid-manifest: `));

  // A child with its stdin open, as a client starts it: serve answers on stdio before reading manifests,
  // so it must still exit (1) by itself when none can be read.
  const none = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = execFile(process.execPath, [MAIN, 'serve', bad], { cwd: ROOT, timeout: 120_000 }, (err, _out, stderr) =>
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : null, stderr }),
    );
    t.teardown(() => child.kill());
  });
  t.is(none.code, 1);
  t.regex(none.stderr, /airlock: skipping .*invalid-manifest/);
  t.regex(none.stderr, /airlock serve: invalid-manifest/);
});

test("serve under a desktop app's PATH (/usr/bin:/bin, without componentize-py) serves every already-built plugin: C, JS and Python", async (t) => {
  t.false(
    ['/usr/bin', '/bin'].some((d) => existsSync(`${d}/componentize-py`)),
    'the desktop PATH must lack the toolchain for this test to mean anything',
  );
  const plugins = ['echo-c', 'echo-js', 'echo-py'].map((n) => `fixtures/plugins/${n}`);
  // Built (or found built) with the full PATH first, as `airlock build` in a terminal would.
  for (const plugin of plugins) {
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, [MAIN, 'build', plugin], { cwd: ROOT, timeout: 600_000 }, (err) => (err ? reject(err) : resolve())),
    );
  }
  const { client, stderr } = await stdioClient(t, plugins, { ...processEnv(), PATH: '/usr/bin:/bin' });
  for (const name of ['echo-c', 'echo-js', 'echo-py']) {
    const result = (await client.callTool({ name: `${name}_add`, arguments: { a: 2, b: 40 } })) as CallToolResult;
    t.falsy(result.isError, `${name}: ${JSON.stringify(result.content)}\n${stderr()}`);
    t.deepEqual(result.content, [{ type: 'text', text: '42' }], name);
  }
  t.notRegex(stderr(), /failed to load/);
});
