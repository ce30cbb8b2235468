import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, linkSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cli } from '../helpers/cli.ts';
import { cPlugin } from '../host/helpers.ts';
import { tempDir } from '../helpers/plugin.ts';
import { withToken } from '../mcp/helpers.ts';
import { MAIN, processEnv, ROOT, startServe, stopServe as stop } from '../helpers/serve.ts';

/** Connects the SDK client (with these transport options) and calls echo-c_add(5, 6). */
async function callAdd(url: string, options: ConstructorParameters<typeof StreamableHTTPClientTransport>[1] = {}): Promise<CallToolResult> {
  const client = new Client({ name: 'cli-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), options));
  try {
    return (await client.callTool({ name: 'echo-c_add', arguments: { a: 5, b: 6 } })) as CallToolResult;
  } finally {
    await client.close();
  }
}

async function refusedWith(t: import('ava').ExecutionContext, call: Promise<unknown>): Promise<number | undefined> {
  const error = await t.throwsAsync(call);
  return error instanceof StreamableHTTPError ? error.code : undefined;
}

test('serve --http binds loopback, needs the token it prints, and exits 0 on SIGTERM removing the token file', async (t) => {
  const serving = await startServe(t, ['--mcp', '--http', '0', 'fixtures/plugins/echo-c']);
  t.regex(serving.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
  t.regex(serving.token ?? '', /^[A-Za-z0-9_-]{43}$/);
  const tokenFile = serving.tokenFile ?? '';
  t.regex(tokenFile, /\/airlock\/mcp-127\.0\.0\.1-\d+\.token$/);
  t.is(statSync(tokenFile).mode & 0o777, 0o600, "the token file is the user's alone");
  t.is(statSync(dirname(tokenFile)).mode & 0o777, 0o700, 'and so is its folder');
  t.is(serving.stderr().split(serving.token ?? '').length, 2, 'the token is printed once');

  t.is(await refusedWith(t, callAdd(serving.url)), 401, 'no token');
  t.is(await refusedWith(t, callAdd(serving.url, withToken('x'.repeat(43)))), 401, 'a wrong token');
  t.is(await refusedWith(t, callAdd(serving.url, withToken(`${serving.token ?? ''}==`))), 401, 'a token of another length');
  const client = new Client({ name: 'cli-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(serving.url), withToken(serving.token)));
  t.deepEqual(
    (await client.listTools()).tools.map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  const sum = (await client.callTool({ name: 'echo-c_add', arguments: { a: 5, b: 6 } })) as CallToolResult;
  t.deepEqual(sum.content, [{ type: 'text', text: '11' }]);
  await client.close();
  t.is(await stop(serving), 0);
  t.false(existsSync(tokenFile), 'a clean shutdown removes the token file');
});

test('serve --http takes the token from --token-file or AIRLOCK_MCP_TOKEN, and writes no token file then', async (t) => {
  const file = join(tempDir('airlock-tok-'), 'token');
  writeFileSync(file, 'from-a-file-0123456789\n', { mode: 0o600 });
  const fromFile = await startServe(t, ['--http', '0', '--token-file', file, 'fixtures/plugins/echo-c'], { AIRLOCK_MCP_TOKEN: 'from-the-env-0123456789' });
  t.is(fromFile.tokenFile, undefined);
  t.false(fromFile.stderr().includes('from-a-file'), 'a token the user gave is not printed');
  t.is(await refusedWith(t, callAdd(fromFile.url, withToken('from-the-env-0123456789'))), 401, '--token-file wins over the environment');
  t.deepEqual((await callAdd(fromFile.url, withToken('from-a-file-0123456789'))).content, [{ type: 'text', text: '11' }]);
  t.is(await stop(fromFile), 0);

  const fromEnv = await startServe(t, ['--http', '0', 'fixtures/plugins/echo-c'], { AIRLOCK_MCP_TOKEN: 'from-the-env-0123456789' });
  t.is(fromEnv.tokenFile, undefined);
  t.is(await refusedWith(t, callAdd(fromEnv.url)), 401);
  t.deepEqual((await callAdd(fromEnv.url, withToken('from-the-env-0123456789'))).content, [{ type: 'text', text: '11' }]);
  t.is(await stop(fromEnv), 0);
});

test('serve --http 0.0.0.0 warns loudly and the URL it prints answers with the token (and only with it)', async (t) => {
  const serving = await startServe(t, ['--http', '0.0.0.0:0', 'fixtures/plugins/echo-c']);
  t.regex(serving.stderr(), /WARNING: listening on 0\.0\.0\.0, not loopback: whoever can reach this machine/);
  t.notRegex(serving.url, /0\.0\.0\.0/, 'the printed URL names an address clients can use');
  t.regex(serving.tokenFile ?? '', /mcp-0\.0\.0\.0-\d+\.token$/);
  t.is(await refusedWith(t, callAdd(serving.url)), 401);
  t.deepEqual((await callAdd(serving.url, withToken(serving.token))).content, [{ type: 'text', text: '11' }]);
  t.is(await stop(serving), 0);
});

test('serve --no-auth serves loopback without a token, and is refused with a non-loopback host', async (t) => {
  for (const bind of ['0.0.0.0:0', '[::]:0', '192.0.2.1:0']) {
    const refused = await cli(['serve', '--http', bind, '--no-auth', 'fixtures/plugins/echo-c'], { cwd: ROOT });
    t.is(refused.code, 2, bind);
    t.regex(refused.stderr, /--no-auth is only allowed on a loopback address/);
  }
  const serving = await startServe(t, ['--http', '0', '--no-auth', 'fixtures/plugins/echo-c']);
  t.is(serving.tokenFile, undefined);
  t.regex(serving.stderr(), /--no-auth: every local user can call every tool/);
  t.deepEqual((await callAdd(serving.url)).content, [{ type: 'text', text: '11' }]);
  t.is(await stop(serving), 0);
});

// Another local user: the machine's tests run as root, which can start a client as nobody.
const CAN_SWITCH_UID = process.getuid?.() === 0 && process.platform === 'linux';
if (!CAN_SWITCH_UID)
  console.warn('\n*** SKIPPED: serve --http against another local user needs root (to start a client as nobody); this run proves nothing about it ***\n');

/** What a client run as nobody (uid/gid 65534) sees: reading the token file and its folder, and calling without the token. */
const AS_NOBODY = `
import { readFileSync, readdirSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
const out = { uid: process.getuid() };
try { out.read = readFileSync(process.env.TOKEN_FILE, 'utf8'); } catch (e) { out.read = e.code; }
try { out.list = readdirSync(process.env.TOKEN_DIR); } catch (e) { out.list = e.code; }
for (const [k, headers] of [['none', {}], ['guess', { Authorization: 'Bearer ' + 'A'.repeat(43) }]]) {
  const client = new Client({ name: 'nobody', version: '1' });
  try { await client.connect(new StreamableHTTPClientTransport(new URL(process.env.URL), { requestInit: { headers } })); out[k] = 'connected'; }
  catch (e) { out[k] = e.code ?? String(e); }
}
process.stdout.write(JSON.stringify(out));
`;

(CAN_SWITCH_UID ? test : test.skip)('serve --http: another local user (nobody) cannot read the token file and gets 401', async (t) => {
  const serving = await startServe(t, ['--http', '0', 'fixtures/plugins/echo-c']);
  const tokenFile = serving.tokenFile ?? '';
  // Only the modes Airlock sets protect the token here: the folders above it are open to all.
  chmodSync(dirname(dirname(tokenFile)), 0o755);
  // Node as installed for root may sit under /root (closed to nobody): the same binary, linked into an open folder.
  const bin = tempDir('airlock-node-');
  chmodSync(bin, 0o755);
  const node = join(bin, 'node');
  try {
    linkSync(process.execPath, node);
  } catch {
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  const seen = await new Promise<Record<string, unknown>>((resolve, reject) => {
    execFile(
      node,
      ['--input-type=module', '-e', AS_NOBODY],
      { cwd: ROOT, uid: 65534, gid: 65534, env: { PATH: '/usr/bin:/bin', URL: serving.url, TOKEN_FILE: tokenFile, TOKEN_DIR: dirname(tokenFile) } },
      (error, stdout, stderr) => (error === null ? resolve(JSON.parse(stdout) as Record<string, unknown>) : reject(new Error(`${error.message}\n${stderr}`))),
    );
  });
  t.deepEqual(seen, { uid: 65534, read: 'EACCES', list: 'EACCES', none: 401, guess: 401 });
  // The owner's client still gets in.
  t.deepEqual((await callAdd(serving.url, withToken(serving.token))).content, [{ type: 'text', text: '11' }]);
  t.is(await stop(serving), 0);
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
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [MAIN, 'serve', '--watch', dir],
    cwd: ROOT,
    env: processEnv(),
    stderr: 'pipe',
  });
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

test('serve --help tells how the HTTP token works and why there is no --token', async (t) => {
  const help = await cli(['serve', '--help'], { cwd: ROOT });
  t.is(help.code, 0);
  const text = help.stdout + help.stderr;
  for (const want of [
    /Authorization: Bearer <token>/,
    /mcp-<host>-<port>\.token/,
    /--token-file <file>/,
    /AIRLOCK_MCP_TOKEN/,
    /no --token option, because\s+a command line is visible to every local user/,
    /--no-auth/,
  ])
    t.regex(text, want);
});

test('serve refuses bad usage with exit 2', async (t) => {
  const none = await cli(['serve', '--mcp'], { cwd: ROOT });
  t.is(none.code, 2);
  t.regex(none.stderr, /name at least one plugin to serve/);
  const badHttp = await cli(['serve', '--http', 'localhost', 'fixtures/plugins/echo-c'], { cwd: ROOT });
  t.is(badHttp.code, 2);
  t.regex(badHttp.stderr, /--http takes \[host:\]port/);
  const stdioAuth = await cli(['serve', '--no-auth', 'fixtures/plugins/echo-c'], { cwd: ROOT });
  t.is(stdioAuth.code, 2);
  t.regex(stdioAuth.stderr, /apply to --http only/);
  const both = await cli(['serve', '--http', '0', '--no-auth', '--token-file', 'x', 'fixtures/plugins/echo-c'], { cwd: ROOT });
  t.is(both.code, 2);
  t.regex(both.stderr, /contradict/);
});
