/** `airlock mcp-config`: what it prints, and that the printed stdio entry really starts a server, from any folder. */
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { writeFileSync } from 'node:fs';
import { cli } from '../helpers/cli.ts';
import { tempDir } from '../helpers/plugin.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('the stdio entry it prints starts a server from another folder: the SDK client spawns exactly that command and args and lists the tools', async (t) => {
  const run = await cli(['mcp-config', '--client', 'cursor', 'fixtures/plugins/echo-c'], { cwd: ROOT });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stderr, /\.cursor\/mcp\.json/);
  const entry = (JSON.parse(run.stdout) as { mcpServers: { airlock: { command: string; args: string[] } } }).mcpServers.airlock;
  t.true(isAbsolute(entry.command));
  for (const arg of entry.args.filter((a) => a !== 'serve')) t.true(isAbsolute(arg), arg);
  t.is(entry.args.at(-1), join(ROOT, 'fixtures/plugins/echo-c'));
  // As a desktop app starts it: its own folder, and the SDK's default environment (no env given).
  const transport = new StdioClientTransport({ command: entry.command, args: entry.args, cwd: tempDir('airlock-elsewhere-'), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'mcp-config-test', version: '1.0.0' });
  t.teardown(() => client.close());
  await client.connect(transport);
  const { tools } = await client.listTools();
  t.deepEqual(tools.map((x) => x.name).sort(), ['echo-c_add', 'echo-c_echo'], stderr);
  const sum = (await client.callTool({ name: 'echo-c_add', arguments: { a: 2, b: 3 } })) as CallToolResult;
  t.deepEqual(sum.content, [{ type: 'text', text: '5' }], stderr);
});

test('without --client it prints all three, each under a heading naming its file, VS Code with type stdio', async (t) => {
  const run = await cli(['mcp-config', 'fixtures/plugins/echo-c', '--engine', 'wasm'], { cwd: ROOT });
  t.is(run.code, 0, run.stderr);
  const sections = run.stdout.split(/^# /m).filter((s) => s !== '');
  t.deepEqual(
    sections.map((s) => s.split(':')[0]),
    ['Claude Desktop', 'Cursor', 'VS Code'],
  );
  const [claude, cursor, vscode] = sections.map((s) => JSON.parse(s.slice(s.indexOf('\n') + 1)) as Record<string, Record<string, Record<string, unknown>>>);
  t.deepEqual(claude, cursor);
  t.deepEqual(Object.keys(vscode ?? {}), ['servers']);
  t.is(vscode?.servers?.airlock?.type, 'stdio');
  t.deepEqual((claude?.mcpServers?.airlock?.args as string[] | undefined)?.slice(1, 4), ['serve', '--engine', 'wasm']);
});

test('--http with --token-file puts the token in the header and says the output holds a secret', async (t) => {
  const dir = tempDir();
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'x'.repeat(40), { mode: 0o600 });
  const run = await cli(['mcp-config', '--client', 'vscode', '--http', 'http://127.0.0.1:8080/mcp', '--token-file', tokenFile], { cwd: dir });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(JSON.parse(run.stdout), {
    servers: { airlock: { type: 'http', url: 'http://127.0.0.1:8080/mcp', headers: { Authorization: `Bearer ${'x'.repeat(40)}` } } },
  });
  t.regex(run.stderr, /holds the token/);
});

test('bad usage is exit 2 with the reason: Claude over HTTP, plugins with --http, no plugin, an unknown client, a token file over stdio', async (t) => {
  for (const [args, reason] of [
    [['--client', 'claude', '--http', 'http://127.0.0.1:8080/mcp'], /Settings > Connectors/],
    [['--http', 'http://127.0.0.1:8080/mcp', 'fixtures/plugins/echo-c'], /belong to `airlock serve --http`/],
    [[], /name at least one plugin/],
    [['--client', 'zed', 'fixtures/plugins/echo-c'], /--client takes claude, cursor, vscode/],
    [['--token-file', 'x', 'fixtures/plugins/echo-c'], /--token-file applies to --http only/],
  ] as const) {
    const run = await cli(['mcp-config', ...args], { cwd: ROOT });
    t.is(run.code, 2, args.join(' '));
    t.regex(run.stderr, reason);
  }
});

test('a plugin that does not load is refused before any configuration is printed', async (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, 'plugin.yaml'), 'apiVersion: airlock/v1\nname: Bad\n');
  const run = await cli(['mcp-config', dir], { cwd: ROOT });
  t.is(run.code, 1);
  t.is(run.stdout, '');
  t.regex(run.stderr, /invalid-manifest/);
});

test('serve --help points at mcp-config', async (t) => {
  const help = await cli(['serve', '--help'], { cwd: ROOT });
  t.regex(help.stdout, /airlock mcp-config/);
});
