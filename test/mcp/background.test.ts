/**
 * The MCP server over a host whose plugins load in the background: a real SDK
 * client's initialize and tools/list are answered while the engine's open is
 * held at the provider's gate (no timing window), and a call made meanwhile
 * waits for the open, then answers.
 */
import test from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
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
