/**
 * What the MCP server says besides results: a plugin's output as log notifications (filtered by the level
 * the client sets), progress for calls that ask for it, and JSON-RPC errors for input it cannot read.
 * Notifications of a call are sent before its result, so each check waits only for the call to end.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { type LoggingMessageNotification, LoggingMessageNotificationSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { PluginHost } from '../../src/host/index.ts';
import { createMcpServer, serveHttp } from '../../src/mcp/index.ts';
import { logTo } from '../../src/mcp/server.ts';
import { fixture } from '../host/helpers.ts';
import { INITIALIZE } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let host: PluginHost;

test.before(async () => {
  host = new PluginHost();
  await host.load(fixture('state'));
});

test.after.always(() => host?.close());

async function connected(
  t: import('ava').ExecutionContext,
): Promise<{ client: Client; logs: LoggingMessageNotification['params'][]; server: ReturnType<typeof createMcpServer> }> {
  const server = createMcpServer(host);
  const client = new Client({ name: 'notifications-test', version: '1' });
  const logs: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  const [a, b] = InMemoryTransport.createLinkedPair();
  await Promise.all([server.connect(a), client.connect(b)]);
  t.teardown(() => client.close());
  return { client, logs, server };
}

test('the logging capability is declared, and a plugin log line reaches the client as notifications/message', async (t) => {
  const { client, logs } = await connected(t);
  t.deepEqual(client.getServerCapabilities()?.logging, {});
  await client.callTool({ name: 'state_print', arguments: { n: 1 } });
  t.deepEqual(logs, [
    { level: 'info', logger: 'state_print', data: '{"n":1}\n' },
    { level: 'warning', logger: 'state_print', data: 'err:{"n":1}\n' },
  ]);
});

test('logging/setLevel drops what is below the level, for this session only', async (t) => {
  const { client, logs } = await connected(t);
  await client.setLoggingLevel('warning');
  await client.callTool({ name: 'state_print', arguments: { n: 2 } });
  t.deepEqual(
    logs.map((l) => l.level),
    ['warning'],
  );
  await client.setLoggingLevel('error');
  await client.callTool({ name: 'state_print', arguments: { n: 3 } });
  t.is(logs.length, 1, 'nothing at error or above was written');

  const other = await connected(t);
  await other.client.callTool({ name: 'state_print', arguments: { n: 4 } });
  t.is(other.logs.length, 2, 'another session keeps the default (everything)');
});

test('what the server reports on its own (a plugin ready, one that failed to load) reaches the client as notifications/message, above its level', async (t) => {
  const { client, logs, server } = await connected(t);
  await client.setLoggingLevel('warning');
  await logTo(server, 'info', 'airlock', 'echo-c is ready');
  await logTo(server, 'error', 'airlock', 'broken failed to load, its tools answer this error: build-failed: no such file');
  // A round trip: notifications sent before it have arrived when it answers.
  await client.listTools();
  t.deepEqual(logs, [{ level: 'error', logger: 'airlock', data: 'broken failed to load, its tools answer this error: build-failed: no such file' }]);
});

test('what the server reports before the client has initialized waits until it has initialized, then arrives in order', async (t) => {
  const server = createMcpServer(host);
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(a);
  // Said before any client spoke (a plugin failing at once): nothing is written to a client that has not initialized.
  const sent: unknown[] = [];
  const send = a.send.bind(a);
  a.send = (message, options) => {
    sent.push(message);
    return send(message, options);
  };
  await logTo(server, 'error', 'airlock', 'broken failed to load, its tools answer this error: build-failed: no such file');
  await logTo(server, 'info', 'airlock', 'echo-c is ready');
  t.deepEqual(sent, []);
  const client = new Client({ name: 'notifications-test', version: '1' });
  const logs: LoggingMessageNotification['params'][] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push(n.params);
  });
  await client.connect(b);
  t.teardown(() => client.close());
  // A round trip: notifications sent before it have arrived when it answers.
  await client.listTools();
  t.deepEqual(
    logs.map((l) => [l.level, l.data]),
    [
      ['error', 'broken failed to load, its tools answer this error: build-failed: no such file'],
      ['info', 'echo-c is ready'],
    ],
  );
});

test('a call carrying a progress token gets progress at its start and end, a refused one too', async (t) => {
  const { client } = await connected(t);
  const seen: Progress[] = [];
  const result = await client.callTool({ name: 'state_count', arguments: {} }, undefined, { onprogress: (p) => seen.push(p) });
  t.falsy(result.isError);
  t.deepEqual(
    seen.map((p) => [p.progress, p.total]),
    [
      [0, undefined],
      [1, undefined],
    ],
  );
  t.regex(seen[0]?.message ?? '', /calling state_count/);

  // A refused call ends too.
  const failed: Progress[] = [];
  const refused = await client.callTool({ name: 'state_boom', arguments: {} }, undefined, { onprogress: (p) => failed.push(p) });
  t.true(refused.isError);
  t.deepEqual(
    failed.map((p) => p.progress),
    [0, 1],
  );
});

test('stdio: a line that is not JSON gets -32700, one that is not JSON-RPC -32600, and the server keeps serving', async (t) => {
  const child = spawn(process.execPath, ['src/cli/main.ts', 'serve', '--mcp', 'fixtures/plugins/echo-c'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  t.teardown(() => child.kill());
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, unknown>> => {
    const { value, done } = await lines.next();
    if (done === true) throw new Error(`the server closed its stdout; stderr: ${stderr}`);
    return JSON.parse(value as string) as Record<string, unknown>;
  };
  child.stdin.write('this is {not json\n');
  t.deepEqual(await next(), { jsonrpc: '2.0', id: null, error: { code: -32700, message: 'Parse error: the line is not JSON' } });
  child.stdin.write(`${JSON.stringify({ id: 7, method: 'tools/list' })}\n`);
  t.like(await next(), { id: 7, error: { code: -32600 } });
  child.stdin.write(`${JSON.stringify(INITIALIZE)}\n`);
  t.like(await next(), { id: 1, result: { serverInfo: { name: 'airlock' } } });
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' })}\n`);
  const listed = (await next()) as { id: number; result: { tools: Array<{ name: string }> } };
  t.deepEqual(
    listed.result.tools.map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
});

test('http: a body that is not JSON gets -32700', async (t) => {
  const server = await serveHttp(host);
  t.teardown(() => server.close());
  const reply = await fetch(server.url, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token ?? ''}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: '{"jsonrpc": "2.0", "id": 1, "method": ',
  });
  t.is(reply.status, 400);
  t.like(await reply.json(), { id: null, error: { code: -32700 } });
});
