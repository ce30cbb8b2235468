/**
 * The MCP server over a host whose plugins load in the background: a real SDK
 * client's initialize and tools/list are answered while the engine's open is
 * held at the provider's gate (no timing window), and a call made meanwhile
 * waits for the open, then answers; one with a progress token hears the open's steps meanwhile.
 */
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Progress } from '@modelcontextprotocol/sdk/types.js';
import { serveHttp } from '../../src/mcp/index.ts';
import { fixture, heldHost, track } from '../host/helpers.ts';
import { withToken } from './helpers.ts';

test('initialize and tools/list answer while a plugin is still opening; a call meanwhile waits for it, then answers', async (t) => {
  const { engines, host, release } = heldHost(t);
  await host.load(fixture('echo-c'), { background: true });
  await engines.openStarted();
  const server = await serveHttp(host);
  t.teardown(() => server.close());
  const client = new Client({ name: 'background-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url), withToken(server.token)));
  t.teardown(() => client.close());
  t.deepEqual(
    (await client.listTools()).tools.map((x) => x.name),
    ['echo-c_echo', 'echo-c_add'],
  );
  t.is(host.plugins()[0]?.state, 'loading', 'the open is still held: the answers above did not wait for it');

  const call = track(client.callTool({ name: 'echo-c_add', arguments: { a: 20, b: 22 } }));
  // Another request is answered while the call waits: the wait holds no server-wide lock.
  t.is((await client.listTools()).tools.length, 2);
  t.false(call.settled());
  release();
  const result = (await call.promise) as CallToolResult;
  t.deepEqual(result.content, [{ type: 'text', text: '42' }]);
  t.is(host.plugins()[0]?.state, 'ready');
});

test('a call with a progress token hears its plugin open step by step while it waits, then the result', async (t) => {
  const { engines, host, release } = heldHost(t);
  await host.load(fixture('echo-c'), { background: true });
  await engines.openStarted();
  // Said before the call waits: a call that starts waiting hears the latest step at once.
  engines.announce('echo-c', 'step 1/2 : FROM base');
  const server = await serveHttp(host);
  t.teardown(() => server.close());
  const client = new Client({ name: 'background-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(server.url), withToken(server.token)));
  t.teardown(() => client.close());

  const heard: Progress[] = [];
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  const hears = (text: string): Promise<void> =>
    heard.some((p) => p.message === text) ? Promise.resolve() : new Promise((resolve) => waiters.push({ text, resolve }));
  const call = client.callTool({ name: 'echo-c_add', arguments: { a: 1, b: 2 } }, undefined, {
    onprogress: (p) => {
      heard.push(p);
      for (const w of waiters.filter((x) => x.text === p.message)) w.resolve();
    },
  });
  await hears('step 1/2 : FROM base');
  // A step said while the call waits reaches it as it happens; a long one is cut, whitespace folded.
  engines.announce('echo-c', `step 2/2 :\n  RUN ${'x'.repeat(400)}`);
  await hears(`step 2/2 : RUN ${'x'.repeat(200 - 'step 2/2 : RUN '.length)}…`);
  release();
  const result = (await call) as CallToolResult;
  t.deepEqual(result.content, [{ type: 'text', text: '3' }]);
  t.deepEqual(
    heard.map((p) => p.message),
    ['calling echo-c_add', 'step 1/2 : FROM base', `step 2/2 : RUN ${'x'.repeat(185)}…`, 'echo-c_add ended'],
  );
  // Each notification counts one more; no total, since how many steps an open takes is not known ahead.
  t.deepEqual(
    heard.map((p) => [p.progress, p.total]),
    [
      [0, undefined],
      [1, undefined],
      [2, undefined],
      [3, undefined],
    ],
  );
});
