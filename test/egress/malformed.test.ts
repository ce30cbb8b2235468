/** Hostile and broken clients: the proxy answers or closes, never crashes, and keeps serving. */
import { once } from 'node:events';
import net from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import { connect, echoServer, proxyFor, roundTrip, send } from './helpers.ts';
import type { TestProxy } from './helpers.ts';

const LOOP = '127.0.0.1';

async function stillServes(t: import('ava').ExecutionContext, proxy: TestProxy, port: number): Promise<void> {
  const r = await connect(proxy, `${LOOP}:${port}`);
  t.is(r.status, 200, `the proxy no longer serves after that: ${r.head}`);
  t.is(await roundTrip(r.socket, 'alive'), 'alive');
  r.socket.destroy();
}

test('garbage request lines and targets get 400 with a reason, then the proxy keeps serving', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyFor(t, { allow: [{ host: LOOP, wildcard: false, port: echo.port }] });
  const inputs = [
    'GARBAGE\r\n\r\n',
    '\u0000\u0001\u0002\u00ff\r\n\r\n',
    'GET\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    'CONNECT api.test HTTP/1.1\r\n\r\n',
    `CONNECT user@${LOOP}:${echo.port} HTTP/1.1\r\n\r\n`,
    `CONNECT ${LOOP}:99999 HTTP/1.1\r\n\r\n`,
    'CONNECT :80 HTTP/1.1\r\n\r\n',
    'CONNECT [::1 HTTP/1.1\r\n\r\n',
    'GET http://[::1/ HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n',
    'GET http://a b/ HTTP/1.1\r\nHost: x\r\n\r\n',
    // Request smuggling shapes the strict parser rejects.
    'POST http://api.test/ HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    'POST http://api.test/ HTTP/1.1\r\nHost: api.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    'GET http://api.test/ HTTP/1.1\r\nHost: api.test\r\nBad Header: x\r\n\r\n',
    'GET http://api.test/ HTTP/1.1\r\n Folded: continuation\r\n\r\n',
  ];
  for (const input of inputs) {
    const r = await send(proxy, input, { untilClose: true, end: true });
    t.is(r.status, 400, `${JSON.stringify(input)} -> ${r.head}`);
    t.regex(r.body, /^airlock egress proxy: (bad-request|not-a-proxy-request): /, JSON.stringify(input));
  }
  t.true(proxy.decisions.every((d) => d.decision === 'refused' && d.status === 400));
  t.is(proxy.decisions.length, inputs.length);
  t.is(echo.sockets.length, 0);
  await stillServes(t, proxy, echo.port);
});

test('a request head over maxHeaderBytes gets 431', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyFor(t, { allow: [{ host: LOOP, wildcard: false, port: echo.port }], limits: { maxHeaderBytes: 4096 } });
  const r = await send(proxy, `CONNECT ${LOOP}:${echo.port} HTTP/1.1\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`, { untilClose: true });
  t.is(r.status, 431);
  t.regex(r.body, /header-too-large: the request head is larger than 4096 bytes/);
  const many = await send(proxy, `GET http://api.test/ HTTP/1.1\r\n${'X-A: b\r\n'.repeat(2000)}\r\n`, { untilClose: true });
  t.is(many.status, 431);
  t.like(proxy.decisions, [{ decision: 'refused', code: 'header-too-large', status: 431, kind: 'unknown' }, { code: 'header-too-large' }]);
  t.is(echo.sockets.length, 0);
  await stillServes(t, proxy, echo.port);
});

test('a request head that trickles in too slowly gets 408', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyFor(t, { allow: [{ host: LOOP, wildcard: false, port: echo.port }], limits: { headersTimeoutMs: 300 } });
  const r = await send(proxy, `CONNECT ${LOOP}:${echo.port} HTTP/1.1\r\nX-Slow: `, { untilClose: true });
  t.is(r.status, 408);
  t.like(proxy.decisions, [{ decision: 'refused', code: 'request-timeout', status: 408 }]);
  t.is(echo.sockets.length, 0);
});

test('half-closed and reset clients mid-request do not disturb the proxy', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyFor(t, { allow: [{ host: LOOP, wildcard: false, port: echo.port }] });
  // Half a request line, then FIN.
  const half = await send(proxy, `CONNECT ${LOOP}:`, { untilClose: true, end: true });
  t.is(half.status, 400);
  // Complete head, FIN at once: the tunnel is made and the half-close passed on.
  const tunnel = await send(proxy, `CONNECT ${LOOP}:${echo.port} HTTP/1.1\r\n\r\n`, { untilClose: true, end: true });
  t.is(tunnel.status, 200);
  t.is(tunnel.body, '<eof>');
  // Reset in the middle of a head, and right after a complete one.
  for (const bytes of ['GET http://api.test/ HT', `CONNECT ${LOOP}:${echo.port} HTTP/1.1\r\n\r\n`]) {
    const s = net.connect(proxy.address.port, LOOP);
    s.on('error', () => {});
    await once(s, 'connect');
    s.write(bytes);
    s.resetAndDestroy();
    await once(s, 'close');
  }
  // Nothing at all, then FIN.
  const empty = await send(proxy, '', { untilClose: true, end: true });
  t.is(empty.status, 0);
  await stillServes(t, proxy, echo.port);
});

test('an Upgrade request over plain HTTP is not turned into a tunnel', async (t) => {
  const proxy = await proxyFor(t, { allow: [] });
  const r = await send(proxy, 'GET http://api.test/ws HTTP/1.1\r\nHost: api.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n', {
    untilClose: true,
    end: true,
  });
  t.true([0, 400, 403].includes(r.status), r.head);
  t.not(r.status, 101);
});

const HEADER_NAMES = ['Host', 'Content-Length', 'Transfer-Encoding', 'Connection', 'Upgrade', 'Proxy-Connection', 'Expect', 'X-A'];

test('fuzz: random bytes and mangled requests never crash the proxy or get a tunnel they were not granted', async (t) => {
  const echo = await echoServer(t);
  const forbidden = await echoServer(t);
  const proxy = await proxyFor(t, {
    allow: [{ host: LOOP, wildcard: false, port: echo.port }],
    // Backstops so a case the parser keeps waiting on still ends.
    limits: { headersTimeoutMs: 2000, idleTimeoutMs: 2000, maxHeaderBytes: 2048 },
  });
  const target = fc.oneof(
    { arbitrary: fc.constant(`${LOOP}:${echo.port}`), weight: 2 },
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.constantFrom(
      `${LOOP}:${echo.port}`,
      `http://${LOOP}:${echo.port}/x`,
      `${LOOP}:${forbidden.port}`,
      `localhost:${forbidden.port}`,
      `http://${LOOP}:${forbidden.port}/`,
      `http://[::1]:${forbidden.port}/`,
      'http://[::1/',
      '[::1]:',
      'http://a@b/',
      '*',
      '/',
      'http://%00/',
      'https://x/',
      `0x7f.1:${forbidden.port}`,
      `[::ffff:127.0.0.1]:${forbidden.port}`,
    ),
    fc.webUrl(),
  );
  const often = <T>(common: fc.Arbitrary<T>, rare: fc.Arbitrary<T>): fc.Arbitrary<T> =>
    fc.oneof({ arbitrary: common, weight: 4 }, { arbitrary: rare, weight: 1 });
  const header = fc.tuple(
    often(fc.constantFrom(...HEADER_NAMES), fc.string({ maxLength: 10 })),
    often(
      fc.constantFrom('chunked', '5', '0', '-1', 'close', 'keep-alive, X-A', 'websocket', '100-continue', 'api.test'),
      fc.oneof(fc.string({ maxLength: 30 }), fc.constant('x'.repeat(3000))),
    ),
  );
  const request = fc
    .tuple(
      often(fc.constantFrom('GET', 'CONNECT', 'POST'), fc.constantFrom('HEAD', 'PUT', 'OPTIONS', 'PRI', 'G\u0000T', '')),
      target,
      often(fc.constant(' HTTP/1.1'), fc.constantFrom(' HTTP/1.0', ' HTTP/2.0', ' HTTP/1.1 extra', '', ' http/1.1')),
      fc.array(header, { maxLength: 6 }),
      often(fc.constant('\r\n\r\n'), fc.constantFrom('\r\n', '\n\n', '')),
      fc.string({ maxLength: 40 }),
    )
    .map(([m, tg, v, hs, end, body]) => Buffer.from(`${m} ${tg}${v}${hs.map(([k, val]) => `\r\n${k}: ${val}`).join('')}${end}${body}`, 'latin1'));
  const input = fc.oneof({ arbitrary: request, weight: 3 }, { arbitrary: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)), weight: 1 });

  await fc.assert(
    fc.asyncProperty(input, async (bytes) => {
      const r = await send(proxy, bytes, { untilClose: true, end: true });
      return [0, 200, 400, 403, 408, 417, 431, 502, 503, 504].includes(r.status);
    }),
    { numRuns: 300 },
  );
  t.is(forbidden.sockets.length, 0, 'a refused destination was reached');
  t.true(proxy.decisions.every((d) => d.decision !== 'allowed' || (d.host === LOOP && d.port === echo.port)));
  await stillServes(t, proxy, echo.port);
});
