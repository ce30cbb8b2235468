/** The client configuration builder: each client's file shape, absolute paths, and what it refuses. */
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import test from 'ava';
import { airlockServeLaunch, cliEntry, clientConfig, ClientConfigError } from '../../src/mcp/index.ts';

const STDIO = { command: '/usr/local/bin/node', args: ['/opt/airlock/dist/cli/main.js', 'serve', '/srv/plugins/weather'] };

test('stdio: Claude Desktop and Cursor list the server under mcpServers with command and args', (t) => {
  for (const client of ['claude', 'cursor'] as const) {
    const config = JSON.parse(JSON.stringify(clientConfig({ client, stdio: STDIO })));
    t.deepEqual(Object.keys(config), ['mcpServers'], client);
    t.deepEqual(config.mcpServers, { airlock: { command: STDIO.command, args: STDIO.args } }, client);
  }
});

test('stdio: VS Code lists it under servers with type stdio', (t) => {
  const config = clientConfig({ client: 'vscode', stdio: STDIO, name: 'tools' });
  t.deepEqual(config, { servers: { tools: { type: 'stdio', command: STDIO.command, args: STDIO.args } } });
});

test('http: Cursor and VS Code get url and an Authorization: Bearer header carrying the given token', (t) => {
  const http = { url: 'http://127.0.0.1:8080/mcp', token: 'a-token-of-sufficient-length' };
  t.deepEqual(clientConfig({ client: 'cursor', http }), {
    mcpServers: { airlock: { url: http.url, headers: { Authorization: `Bearer ${http.token}` } } },
  });
  t.deepEqual(clientConfig({ client: 'vscode', http }), {
    servers: { airlock: { type: 'http', url: http.url, headers: { Authorization: `Bearer ${http.token}` } } },
  });
});

test('http without a token: VS Code asks for it as a password input, Cursor reads AIRLOCK_MCP_TOKEN', (t) => {
  const http = { url: 'http://127.0.0.1:8080/mcp' };
  const vscode = clientConfig({ client: 'vscode', http }) as {
    inputs: Array<Record<string, unknown>>;
    servers: Record<string, { headers: Record<string, string> }>;
  };
  t.is(vscode.inputs[0]?.type, 'promptString');
  t.is(vscode.inputs[0]?.password, true);
  t.is(vscode.servers.airlock?.headers.Authorization, `Bearer \${input:${String(vscode.inputs[0]?.id)}}`);
  const cursor = clientConfig({ client: 'cursor', http }) as { mcpServers: Record<string, { headers: Record<string, string> }> };
  t.is(cursor.mcpServers.airlock?.headers.Authorization, `Bearer \${env:AIRLOCK_MCP_TOKEN}`);
});

test('refused: Claude Desktop over HTTP (its file lists only stdio servers), a relative command, a URL that is not http(s), both or neither transport', (t) => {
  const refused = (f: () => unknown): string => t.throws(f, { instanceOf: ClientConfigError })?.message ?? '';
  t.regex(
    refused(() => clientConfig({ client: 'claude', http: { url: 'http://127.0.0.1:8080/mcp' } })),
    /Settings > Connectors/,
  );
  t.regex(
    refused(() => clientConfig({ client: 'cursor', stdio: { command: 'node', args: [] } })),
    /absolute path/,
  );
  t.regex(
    refused(() => clientConfig({ client: 'vscode', http: { url: '127.0.0.1:8080' } })),
    /http:\/\//,
  );
  refused(() => clientConfig({ client: 'cursor' }));
  refused(() => clientConfig({ client: 'cursor', stdio: STDIO, http: { url: 'http://x/mcp' } }));
});

test('the serve launch names this node binary and this install CLI entry, absolute and existing, then serve and the plugins', (t) => {
  const launch = airlockServeLaunch(['/srv/plugins/a', '/srv/plugins/b'], ['--engine', 'wasm']);
  t.is(launch.command, process.execPath);
  t.true(isAbsolute(launch.command));
  t.is(launch.args[0], cliEntry());
  t.true(isAbsolute(cliEntry()));
  t.true(existsSync(cliEntry()), cliEntry());
  t.regex(cliEntry(), /[/\\]cli[/\\]main\.(ts|js)$/);
  t.deepEqual(launch.args.slice(1), ['serve', '--engine', 'wasm', '/srv/plugins/a', '/srv/plugins/b']);
  t.throws(() => airlockServeLaunch(['plugins/a']), { instanceOf: ClientConfigError, message: /absolute/ });
});
