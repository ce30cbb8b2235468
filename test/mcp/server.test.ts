/**
 * The MCP server end to end, driven by the official SDK client: over
 * streamable HTTP against serveHttp in this process, and over stdio against
 * `airlock serve --mcp` in a child process.
 */
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema, ErrorCode as RpcErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { isAirlockError, type ErrorCode } from '../../src/errors.ts';
import { PluginHost } from '../../src/host/index.ts';
import type { ToolCallOptions } from '../../src/host/index.ts';
import { createMcpServer, serveHttp, type RunningHttpServer, type ToolSource } from '../../src/mcp/index.ts';
import { CountingProvider, fixture, fixtureCopy } from '../host/helpers.ts';
import { INITIALIZE, rawRequest, withToken, type RawReply } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOOL_NAME_RULE = /^[a-zA-Z0-9_-]{1,64}$/;

interface Served {
  host: PluginHost;
  engines: CountingProvider;
  server: RunningHttpServer;
  /** Settles with how the next call of `name` the server makes into the host ends. */
  ended(name: string): Promise<ErrorCode | 'ok'>;
}

let served: Served;
let opened: PluginHost | undefined;

test.before(async () => {
  const engines = new CountingProvider();
  // fixtureCopy makes its folders under the system temp folder.
  const host = new PluginHost({
    provider: engines,
    policy: { network: { allow: ['api.example.com:443'] }, filesystem: [{ path: realpathSync(tmpdir()), access: 'read-write' }] },
  });
  opened = host;
  await host.load(fixture('echo-c'));
  await host.load(fixture('trap'));
  await host.load(fixture('loop'));
  await host.load(fixture('state'));
  await host.load(
    fixtureCopy('echo-c', 'echo.c', {
      name: 'shaped',
      tools: [
        {
          name: 'echo',
          description: 'Echo with a result schema',
          input: { type: 'object' },
          output: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] },
        },
      ],
    }),
  );
  await host.load(
    fixtureCopy('echo-c', 'echo.c', {
      name: 'netted',
      tools: [{ name: 'echo', description: 'Echo with network', input: { type: 'object' } }],
      permissions: { network: { allow: ['api.example.com:443'] } },
    }),
  );
  await host.load(
    fixtureCopy('echo-c', 'echo.c', {
      name: 'writer',
      tools: [{ name: 'echo', description: 'Echo with a writable folder', input: { type: 'object' } }],
      permissions: { filesystem: [{ path: '.', mount: '/data', access: 'read-write' }] },
    }),
  );
  const waiters: Array<{ name: string; resolve: (code: ErrorCode | 'ok') => void }> = [];
  const record = (name: string, code: ErrorCode | 'ok'): void => {
    const i = waiters.findIndex((w) => w.name === name);
    if (i >= 0) waiters.splice(i, 1)[0]?.resolve(code);
  };
  const source: ToolSource = {
    tools: () => host.tools(),
    call: async (name: string, input: unknown, options?: ToolCallOptions) => {
      try {
        const r = await host.call(name, input, options);
        record(name, 'ok');
        return r;
      } catch (err) {
        record(name, isAirlockError(err) ? err.code : 'internal');
        throw err;
      }
    },
  };
  const server = await serveHttp(source, { name: 'airlock-test' });
  served = {
    host,
    engines,
    server,
    ended: (name) => new Promise((resolve) => waiters.push({ name, resolve })),
  };
});

test.after.always(async () => {
  await served?.server.close();
  await opened?.close();
});

async function httpClient(t: import('ava').ExecutionContext, server: RunningHttpServer = served.server): Promise<Client> {
  const client = new Client({ name: 'airlock-test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url), withToken(server.token)));
  t.teardown(() => client.close());
  return client;
}

function errorOf(result: CallToolResult): { code: string; message: string } {
  const first = result.content[0];
  if (first?.type !== 'text') throw new Error('expected a text error');
  return JSON.parse(first.text) as { code: string; message: string };
}

test('http: the server binds to loopback by default', (t) => {
  t.regex(served.server.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
});

test('http: listTools names every tool plugin_tool, with schemas and grant-derived annotations', async (t) => {
  const client = await httpClient(t);
  const { tools } = await client.listTools();
  const byName = new Map(tools.map((x) => [x.name, x]));
  t.deepEqual(
    [...byName.keys()].sort(),
    served.host
      .tools()
      .map((x) => x.name)
      .sort(),
  );
  for (const name of byName.keys()) t.regex(name, TOOL_NAME_RULE);
  t.deepEqual(byName.get('echo-c_add')?.inputSchema, { type: 'object', properties: { a: { type: 'number' }, b: { type: 'number' } }, required: ['a', 'b'] });
  t.is(byName.get('echo-c_add')?.description, 'Adds a and b.');
  t.deepEqual(byName.get('echo-c_echo')?.annotations, { readOnlyHint: true, openWorldHint: false });
  t.deepEqual(byName.get('netted_echo')?.annotations, { readOnlyHint: false, openWorldHint: true });
  t.deepEqual(byName.get('writer_echo')?.annotations, { readOnlyHint: false, openWorldHint: false });
  t.deepEqual(byName.get('shaped_echo')?.outputSchema, { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] });
});

test('http: callTool returns the result as text, structured content, metrics and logs', async (t) => {
  const client = await httpClient(t);
  const sum = (await client.callTool({ name: 'echo-c_add', arguments: { a: 20, b: 22 } })) as CallToolResult;
  t.falsy(sum.isError);
  t.deepEqual(sum.content, [{ type: 'text', text: '42' }]);
  t.like(sum._meta?.['airlock/metrics'], { engine: 'wasm' });

  const echoed = (await client.callTool({ name: 'echo-c_echo', arguments: { city: 'Oslo' } })) as CallToolResult;
  t.deepEqual(echoed.structuredContent, { city: 'Oslo' });

  // The SDK client checks structured content against the tool's output schema.
  const shaped = (await client.callTool({ name: 'shaped_echo', arguments: { ok: true } })) as CallToolResult;
  t.deepEqual(shaped.structuredContent, { ok: true });

  const printed = (await client.callTool({ name: 'state_print', arguments: { n: 1 } })) as CallToolResult;
  t.deepEqual(printed._meta?.['airlock/logs'], { stdout: '{"n":1}\n', stderr: 'err:{"n":1}\n' });
});

test('http: failures are isError results carrying the typed code', async (t) => {
  const client = await httpClient(t);
  const trap = (await client.callTool({ name: 'trap_boom', arguments: {} })) as CallToolResult;
  t.true(trap.isError);
  t.is(errorOf(trap).code, 'trap');
  t.like(trap._meta?.['airlock/error'], { code: 'trap' });

  const failed = (await client.callTool({ name: 'state_fail', arguments: { reason: 'no' } })) as CallToolResult;
  t.true(failed.isError);
  t.is(errorOf(failed).code, 'plugin-error');

  const badOutput = (await client.callTool({ name: 'shaped_echo', arguments: { ok: 'yes' } }, CallToolResultSchema)) as CallToolResult;
  t.true(badOutput.isError);
  t.is(errorOf(badOutput).code, 'invalid-output');
});

test('http: invalid input is an isError result and never reaches an engine', async (t) => {
  const client = await httpClient(t);
  const result = (await client.callTool({ name: 'echo-c_add', arguments: { a: 1 } })) as CallToolResult;
  t.true(result.isError);
  const error = errorOf(result) as { code: string; message: string; problems?: Array<{ message: string }> };
  t.is(error.code, 'invalid-input');
  t.deepEqual(
    error.problems?.map((p) => p.message),
    ["input must have required property 'b'"],
  );
  const wrongType = (await client.callTool({ name: 'echo-c_add', arguments: { a: 1, b: 'two' } })) as CallToolResult;
  t.is(errorOf(wrongType).code, 'invalid-input');
  t.deepEqual(
    served.engines.calls.filter((c) => c.input === '{"a":1}' || c.input === '{"a":1,"b":"two"}'),
    [],
  );
});

test('http: an unknown tool is a JSON-RPC invalid-params error', async (t) => {
  const client = await httpClient(t);
  const error = await t.throwsAsync(client.callTool({ name: 'echo-c_ad', arguments: {} }));
  t.true(error instanceof McpError);
  t.is((error as McpError).code, RpcErrorCode.InvalidParams);
  t.regex(error?.message ?? '', /did you mean "echo-c_add"/);
});

test('http: a cancelled request aborts the call in its sandbox', async (t) => {
  const client = await httpClient(t);
  const ended = served.ended('loop_spin');
  const running = served.engines.seen((c) => c.plugin === 'loop');
  const controller = new AbortController();
  const pending = client.callTool({ name: 'loop_spin', arguments: {} }, undefined, { signal: controller.signal });
  await running;
  controller.abort();
  await t.throwsAsync(pending);
  // The server side ends as well: the host reports the call aborted (not a 10 s timeout).
  t.is(await ended, 'aborted');
});

/** A raw POST to `server`, with its token unless `headers` gives another Authorization. */
function rawPost(server: RunningHttpServer, headers: Record<string, string>, body: unknown = INITIALIZE): Promise<RawReply> {
  return rawRequest(server.url, { authorization: `Bearer ${server.token ?? ''}`, ...headers }, body);
}

test('http: requests naming another Host or a foreign Origin are refused (DNS rebinding)', async (t) => {
  const port = new URL(served.server.url).port;
  t.is((await rawPost(served.server, { host: `evil.example:${port}` })).status, 403);
  t.is((await rawPost(served.server, { origin: 'http://evil.example' })).status, 403);
  t.is((await rawPost(served.server, { origin: 'null' })).status, 403);
  t.is((await rawPost(served.server, { host: `localhost:${port}`, origin: `http://localhost:${port}` })).status, 200);
});

test('http: an agent served alone exposes only its own tools', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  const agent = await host.agent('solo', { plugins: [fixture('echo-c')] });
  const server = await serveHttp(agent);
  t.teardown(() => server.close());
  const client = await httpClient(t, server);
  t.deepEqual(
    (await client.listTools()).tools.map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  await t.throwsAsync(client.callTool({ name: 'trap_boom', arguments: {} }));
});

test('stdio: `airlock serve --mcp` answers the SDK client over stdin/stdout', async (t) => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['src/cli/main.ts', 'serve', '--mcp', 'fixtures/plugins/echo-c', 'fixtures/plugins/trap'],
    cwd: ROOT,
    env,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'airlock-stdio-test', version: '1.0.0' });
  await client.connect(transport);
  t.teardown(() => client.close());

  const { tools } = await client.listTools();
  t.deepEqual(
    tools.map((x) => x.name),
    ['echo-c_echo', 'echo-c_add', 'trap_boom'],
  );
  t.deepEqual(tools[0]?.annotations, { readOnlyHint: true, openWorldHint: false });

  const sum = (await client.callTool({ name: 'echo-c_add', arguments: { a: 1, b: 2 } })) as CallToolResult;
  t.deepEqual(sum.content, [{ type: 'text', text: '3' }]);
  const trap = (await client.callTool({ name: 'trap_boom', arguments: {} })) as CallToolResult;
  t.true(trap.isError);
  t.is(errorOf(trap).code, 'trap');
  const invalid = (await client.callTool({ name: 'echo-c_add', arguments: { a: 'x', b: 2 } })) as CallToolResult;
  t.is(errorOf(invalid).code, 'invalid-input');
  t.regex(stderr, /serving 3 tools over MCP on stdio/);
});

test('http: sessions end on DELETE, when idle, and past the limit new ones are refused', async (t) => {
  const host = new PluginHost();
  t.teardown(() => host.close());
  await host.load(fixture('echo-c'));
  const closed: Array<[string, string]> = [];
  let onClosed: (() => void) | undefined;
  const options = {
    onSessionClosed: (id: string, reason: string) => {
      closed.push([id, reason]);
      onClosed?.();
    },
  };
  // DELETE from the SDK client.
  const server = await serveHttp(host, { ...options, maxSessions: 1 });
  t.teardown(() => server.close());
  const transport = new StreamableHTTPClientTransport(new URL(server.url), withToken(server.token));
  const client = new Client({ name: 'sessions', version: '1.0.0' });
  await client.connect(transport);
  const id = transport.sessionId;
  t.is(typeof id, 'string');
  t.is((await rawPost(server, {})).status, 503, 'one session is the limit here');
  await transport.terminateSession();
  t.deepEqual(closed, [[id, 'client']]);
  await client.close();
  t.is((await rawPost(server, {})).status, 200, 'the freed place is taken again');

  // Idle: a session nobody uses is closed, and its id is unknown afterwards.
  const idle = await serveHttp(host, { ...options, sessionIdleMs: 1 });
  t.teardown(() => idle.close());
  const gone = new Promise<void>((resolve) => (onClosed = resolve));
  const { status, session } = await rawPost(idle, {});
  t.is(status, 200);
  await gone;
  t.deepEqual(closed.at(-1), [session, 'idle']);
  t.is((await rawPost(idle, { 'mcp-session-id': session ?? '' }, { jsonrpc: '2.0', id: 2, method: 'tools/list' })).status, 404);
});

test('initialize is answered before the source is ready; tools/list and calls wait for it (serve reads manifests after answering)', async (t) => {
  let markReady = (): void => undefined;
  const ready = new Promise<void>((r) => {
    markReady = r;
  });
  const source = {
    tools: () => [],
    call: () => Promise.reject(new Error('not called')),
    ready: () => ready,
  };
  const server = createMcpServer(source);
  const client = new Client({ name: 'ready-test', version: '1' });
  const [a, b] = InMemoryTransport.createLinkedPair();
  // connect() is initialize: it completes while the source is not ready.
  await Promise.all([server.connect(a), client.connect(b)]);
  t.teardown(() => client.close());
  let answered = false;
  const list = client.listTools().then((r) => {
    answered = true;
    return r;
  });
  // A round trip that does not wait for the source (ping) proves the list request was handled first and is waiting.
  await client.ping();
  t.false(answered, 'tools/list waits for the source');
  markReady();
  t.deepEqual((await list).tools, []);
});
