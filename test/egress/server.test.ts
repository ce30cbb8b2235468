/** The server (src/egress/server.ts): decisions, limits, close and abort, listening and option errors. */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import { startEgressProxy } from '../../src/egress/index.ts';
import type { EgressDecision } from '../../src/egress/index.ts';
import { connect, echoServer, proxyFor, roundTrip, send } from './helpers.ts';

const LOOP = '127.0.0.1';
const loopback = (port: number) => ({ host: LOOP, wildcard: false, port });

test('onDecision is called once per request, and a throwing callback does not break the proxy', async (t) => {
  const echo = await echoServer(t);
  const seen: EgressDecision[] = [];
  const proxy = await proxyFor(t, {
    allow: [loopback(echo.port)],
    onDecision: (d) => {
      seen.push(d);
      throw new Error('logger bug');
    },
  });
  const a = await connect(proxy, `${LOOP}:${echo.port}`);
  const b = await connect(proxy, `api.test:${echo.port}`);
  const c = await connect(proxy, `${LOOP}:${echo.port}`);
  t.deepEqual([a.status, b.status, c.status], [200, 403, 200]);
  t.deepEqual(
    seen.map((d) => d.decision),
    ['allowed', 'refused', 'allowed'],
  );
  t.regex(seen[0]!.client, /^127\.0\.0\.1:\d+$/);
  a.socket.destroy();
  c.socket.destroy();
});

test('close() ends open tunnels at both ends and stops listening', async (t) => {
  const echo = await echoServer(t);
  const proxy = await startEgressProxy({ allow: [loopback(echo.port)] });
  const tunnels = await Promise.all([connect(proxy, `${LOOP}:${echo.port}`), connect(proxy, `${LOOP}:${echo.port}`)]);
  for (const tn of tunnels) t.is(await roundTrip(tn.socket, 'up'), 'up');
  const clientsClosed = tunnels.map((tn) => once(tn.socket, 'close'));
  const farEndsClosed = echo.sockets.map((s) => once(s, 'close'));
  await proxy.close();
  await Promise.all([...clientsClosed, ...farEndsClosed]);
  await proxy.close(); // idempotent
  const again = net.connect(proxy.address.port, LOOP);
  const [err] = (await once(again, 'error')) as [NodeJS.ErrnoException];
  t.is(err.code, 'ECONNREFUSED');
});

test('aborting the signal closes the proxy and its tunnels', async (t) => {
  const echo = await echoServer(t);
  const ac = new AbortController();
  const proxy = await startEgressProxy({ allow: [loopback(echo.port)], signal: ac.signal });
  t.teardown(() => proxy.close());
  const tunnel = await connect(proxy, `${LOOP}:${echo.port}`);
  t.is(await roundTrip(tunnel.socket, 'a'), 'a');
  const closed = once(tunnel.socket, 'close');
  ac.abort();
  await closed;
  const again = net.connect(proxy.address.port, LOOP);
  const [err] = (await once(again, 'error')) as [NodeJS.ErrnoException];
  t.is(err.code, 'ECONNREFUSED');
  await t.throwsAsync(startEgressProxy({ allow: [], signal: AbortSignal.abort() }), { name: 'AbortError' });
});

test('connections beyond maxConnections get 503 and a reason; a freed slot is reused', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyFor(t, { allow: [loopback(echo.port)], limits: { maxConnections: 2 } });
  const a = await connect(proxy, `${LOOP}:${echo.port}`);
  const b = await connect(proxy, `${LOOP}:${echo.port}`);
  t.deepEqual([a.status, b.status], [200, 200]);
  const third = await send(proxy, '', { untilClose: true });
  t.is(third.status, 503);
  t.regex(third.body, /too-many-connections: more than 2 connections/);
  const farEnd = await echo.connection(1);
  const farClosed = once(farEnd, 'close');
  // A reset makes the proxy tear the tunnel down at once: its client socket
  // closes (freeing the slot) before the far end can see the close.
  a.socket.resetAndDestroy();
  await farClosed;
  const d = await connect(proxy, `${LOOP}:${echo.port}`);
  t.is(d.status, 200);
  b.socket.destroy();
  d.socket.destroy();
  t.like(
    proxy.decisions.find((x) => x.decision === 'refused'),
    { code: 'too-many-connections', status: 503, kind: 'unknown' },
  );
});

test('listening errors reject startEgressProxy; bad options throw naming the field', async (t) => {
  const proxy = await proxyFor(t, { allow: [] });
  await t.throwsAsync(startEgressProxy({ allow: [], listen: { host: LOOP, port: proxy.address.port } }), { code: 'EADDRINUSE' });
  await t.throwsAsync(startEgressProxy({ allow: [{ host: '', wildcard: false }] }), { message: /allow\[0\]\.host/ });
  await t.throwsAsync(startEgressProxy({ allow: [], limits: { maxConnections: 0 } }), { message: /limits\.maxConnections/ });
  t.regex(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});
