import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import test from 'ava';
import { startEgressProxy } from '../../src/egress/index.ts';
import type { EgressDecision } from '../../src/egress/index.ts';
import { closedPort, connect, echoServer, httpServer, proxyFor, roundTrip, send, tableResolver, viaProxy } from './helpers.ts';

const LOOP = '127.0.0.1';
const loopback = (port: number) => ({ host: LOOP, wildcard: false, port });

test('CONNECT to an allowed host:port opens a tunnel and reports the address used', async (t) => {
  const echo = await echoServer(t);
  const dns = tableResolver({ 'api.test': [LOOP] });
  const proxy = await proxyFor(t, { allow: [{ host: 'api.test', wildcard: false, port: echo.port }, loopback(echo.port)], resolve: dns.resolve });
  const tunnel = await connect(proxy, `api.test:${echo.port}`);
  t.is(tunnel.status, 200, tunnel.head);
  t.is(await roundTrip(tunnel.socket, 'ping'), 'ping');
  t.deepEqual(dns.calls, ['api.test']);
  t.like(proxy.decisions, [{ decision: 'allowed', kind: 'connect', host: 'api.test', port: echo.port, address: LOOP, rule: `api.test:${echo.port}` }]);
  tunnel.socket.destroy();
});

test('CONNECT forwards bytes sent right behind the request line (head) and carries half-closes', async (t) => {
  const echo = await echoServer(t);
  const proxy = await proxyFor(t, { allow: [loopback(echo.port)] });
  const tunnel = await connect(proxy, `${LOOP}:${echo.port}`, 'early-bytes|');
  t.is(tunnel.status, 200);
  // The client stops writing; the server still answers, and only then closes.
  const got = new Promise<string>((resolve) => {
    let s = '';
    tunnel.socket.on('data', (d: Buffer) => (s += d.toString()));
    tunnel.socket.on('end', () => resolve(s));
    tunnel.socket.resume();
  });
  tunnel.socket.end('late');
  t.is(await got, 'early-bytes|late<eof>');
});

test('CONNECT to a host not on the allowlist is refused with 403 and a reason, without resolving it', async (t) => {
  const echo = await echoServer(t);
  const dns = tableResolver({ 'evil.test': [LOOP] });
  const proxy = await proxyFor(t, { allow: [{ host: 'api.test', wildcard: false, port: echo.port }, loopback(echo.port)], resolve: dns.resolve });
  const r = await connect(proxy, `evil.test:${echo.port}`);
  t.is(r.status, 403);
  t.regex(r.head, /X-Airlock-Egress: host-not-allowed/);
  t.regex(r.body, /evil\.test is not on the plugin's network allowlist/);
  t.deepEqual(dns.calls, []);
  t.is(echo.sockets.length, 0);
  t.like(proxy.decisions, [{ decision: 'refused', kind: 'connect', host: 'evil.test', port: echo.port, code: 'host-not-allowed', status: 403 }]);
});

test('IP-literal targets are refused unless the grant names the address', async (t) => {
  const echo = await echoServer(t);
  const dns = tableResolver({ 'api.test': [LOOP] });
  const proxy = await proxyFor(t, { allow: [{ host: 'api.test', wildcard: false, port: echo.port }], resolve: dns.resolve });
  for (const spelled of [LOOP, '2130706433', '0x7f.0.0.1', '[::ffff:127.0.0.1]']) {
    const r = await connect(proxy, `${spelled}:${echo.port}`);
    t.is(r.status, 403, spelled);
    t.regex(r.head, /X-Airlock-Egress: ip-not-named/);
  }
  t.is(echo.sockets.length, 0);
  t.true(proxy.decisions.every((d) => d.decision === 'refused' && d.code === 'ip-not-named' && d.host === LOOP));

  const named = await proxyFor(t, { allow: [loopback(echo.port)] });
  const ok = await connect(named, `[::ffff:127.0.0.1]:${echo.port}`);
  t.is(ok.status, 200);
  ok.socket.destroy();
});

test('a name that resolves to a private, loopback or metadata address is refused even though it is allowlisted', async (t) => {
  const echo = await echoServer(t);
  const table: Record<string, string[]> = { 'rfc1918.test': ['10.0.0.5'], 'metadata.test': ['169.254.169.254'], 'loop.test': [LOOP], 'mapped.test': ['::ffff:127.0.0.1'], 'mixed.test': ['93.184.216.34', '192.168.1.10'] };
  /** The address each refusal names (canonical form). */
  const refusedAt: Record<string, string> = { 'rfc1918.test': '10.0.0.5', 'metadata.test': '169.254.169.254', 'loop.test': LOOP, 'mapped.test': LOOP, 'mixed.test': '192.168.1.10' };
  const dns = tableResolver(table);
  const allow = Object.keys(table).map((host) => ({ host, wildcard: false, port: echo.port }));
  const proxy = await proxyFor(t, { allow, resolve: dns.resolve });
  for (const host of Object.keys(table)) {
    const connectRefusal = await connect(proxy, `${host}:${echo.port}`);
    t.is(connectRefusal.status, 403, host);
    t.regex(connectRefusal.head, /X-Airlock-Egress: private-address/);
    t.true(connectRefusal.body.includes(`resolved to ${refusedAt[host]}`), connectRefusal.body);
    const httpRefusal = await viaProxy(proxy, `http://${host}:${echo.port}/`);
    t.is(httpRefusal.status, 403, host);
    t.is(httpRefusal.headers['x-airlock-egress'], 'private-address');
  }
  // One resolution per request, none reused or repeated.
  t.deepEqual(dns.calls, Object.keys(table).flatMap((h) => [h, h]));
  t.is(echo.sockets.length, 0);
  t.true(proxy.decisions.every((d) => d.decision === 'refused' && d.code === 'private-address' && d.status === 403));
  t.like(proxy.decisions.find((d) => d.host === 'metadata.test'), { address: '169.254.169.254' });
});

test('a private address is reachable when the grant names it (allow loopback when named)', async (t) => {
  const echo = await echoServer(t);
  const dns = tableResolver({ 'svc.test': [LOOP] });
  const onlyName = await proxyFor(t, { allow: [{ host: 'svc.test', wildcard: false, port: echo.port }], resolve: dns.resolve });
  t.is((await connect(onlyName, `svc.test:${echo.port}`)).status, 403);
  const named = await proxyFor(t, { allow: [{ host: 'svc.test', wildcard: false, port: echo.port }, loopback(echo.port)], resolve: dns.resolve });
  const r = await connect(named, `svc.test:${echo.port}`);
  t.is(r.status, 200);
  t.is(await roundTrip(r.socket, 'x'), 'x');
  r.socket.destroy();
  // Named on another port does not count.
  const otherPort = await proxyFor(t, { allow: [{ host: 'svc.test', wildcard: false, port: echo.port }, loopback(echo.port + 1)], resolve: dns.resolve });
  t.is((await connect(otherPort, `svc.test:${echo.port}`)).status, 403);
});

test('each request resolves its name exactly once and connects to that answer (no rebinding)', async (t) => {
  const echo = await echoServer(t);
  let calls = 0;
  // A hostile resolver: the first answer is allowed, any later one points elsewhere.
  const resolve = async (): Promise<string[]> => (++calls === 1 ? [LOOP] : ['169.254.169.254']);
  const proxy = await proxyFor(t, { allow: [{ host: 'flip.test', wildcard: false, port: echo.port }, loopback(echo.port)], resolve });
  const r = await connect(proxy, `flip.test:${echo.port}`);
  t.is(r.status, 200);
  t.is(await roundTrip(r.socket, 'still here'), 'still here');
  t.is(calls, 1);
  t.like(proxy.decisions, [{ decision: 'allowed', address: LOOP }]);
  r.socket.destroy();
});

test('wildcard entries admit subdomains, not the apex', async (t) => {
  const echo = await echoServer(t);
  const dns = tableResolver({ 'a.corp.test': [LOOP], 'x.y.corp.test': [LOOP], 'corp.test': [LOOP], 'evilcorp.test': [LOOP] });
  const proxy = await proxyFor(t, { allow: [{ host: 'corp.test', wildcard: true, port: echo.port }, loopback(echo.port)], resolve: dns.resolve });
  for (const host of ['a.corp.test', 'x.y.corp.test']) {
    const r = await connect(proxy, `${host}:${echo.port}`);
    t.is(r.status, 200, host);
    r.socket.destroy();
  }
  for (const host of ['corp.test', 'evilcorp.test']) {
    const r = await connect(proxy, `${host}:${echo.port}`);
    t.is(r.status, 403, host);
    t.regex(r.head, /host-not-allowed/);
  }
  t.deepEqual(dns.calls, ['a.corp.test', 'x.y.corp.test']);
  t.like(proxy.decisions[0], { decision: 'allowed', rule: `*.corp.test:${echo.port}` });
});

test('ports: a port-less entry admits 80/443 only, a ported entry its port only', async (t) => {
  const echo = await echoServer(t);
  const dns = tableResolver({ 'web.test': [LOOP], 'db.test': [LOOP] });
  const proxy = await proxyFor(t, {
    allow: [{ host: 'web.test', wildcard: false }, { host: 'db.test', wildcard: false, port: echo.port }, { host: LOOP, wildcard: false }],
    resolve: dns.resolve,
  });
  const portless = await connect(proxy, `web.test:${echo.port}`);
  t.is(portless.status, 403);
  t.regex(portless.body, /port \d+ is not granted for web\.test \(granted: web\.test \(ports 80, 443\)\)/);
  const ported = await connect(proxy, `db.test:${echo.port + 1}`);
  t.is(ported.status, 403);
  t.regex(ported.head, /port-not-allowed/);
  // The named loopback address (no port) covers 80/443, not this port: db.test resolves but its address is refused.
  const addr = await connect(proxy, `db.test:${echo.port}`);
  t.is(addr.status, 403);
  t.regex(addr.head, /private-address/);
  t.deepEqual(dns.calls, ['db.test']);
});

test('plain HTTP: allowed request is forwarded with Host rewritten and hop-by-hop headers stripped both ways', async (t) => {
  const upstream = await httpServer(t);
  const dns = tableResolver({ 'api.test': [LOOP] });
  const proxy = await proxyFor(t, { allow: [{ host: 'api.test', wildcard: false, port: upstream.port }, loopback(upstream.port)], resolve: dns.resolve });
  const res = await viaProxy(proxy, `http://api.test:${upstream.port}/p/../q?x=1#frag`, {
    method: 'POST',
    headers: {
      Host: 'other.test',
      Connection: 'X-Drop-Me, keep-alive',
      'X-Drop-Me': 'hop',
      'Keep-Alive': 'timeout=1',
      'Proxy-Authorization': 'Basic c2VjcmV0',
      'Proxy-Connection': 'keep-alive',
      TE: 'trailers',
      'X-Keep': 'end-to-end',
    },
    body: 'payload',
  });
  t.is(res.status, 200);
  t.is(res.body, 'hello POST /p/../q?x=1 payload');
  t.is(res.headers['x-kept'], 'yes');
  t.is(res.headers['x-secret-resp'], undefined);
  t.not(res.headers['keep-alive'], 'timeout=99');
  t.is(upstream.requests.length, 1);
  const seen = upstream.requests[0]!.headers;
  t.is(seen.host, `api.test:${upstream.port}`);
  t.is(seen['x-keep'], 'end-to-end');
  for (const h of ['x-drop-me', 'keep-alive', 'proxy-authorization', 'proxy-connection', 'te']) t.is(seen[h], undefined, h);
  t.is(seen.connection, 'close');
  t.deepEqual(dns.calls, ['api.test']);
  t.like(proxy.decisions, [{ decision: 'allowed', kind: 'http', host: 'api.test', port: upstream.port, address: LOOP }]);
});

test('plain HTTP: refused requests get 403 with the reason and never reach the server', async (t) => {
  const upstream = await httpServer(t);
  const dns = tableResolver({ 'api.test': [LOOP] });
  const proxy = await proxyFor(t, { allow: [{ host: 'api.test', wildcard: false, port: upstream.port }], resolve: dns.resolve });
  const notListed = await viaProxy(proxy, `http://other.test:${upstream.port}/`);
  t.is(notListed.status, 403);
  t.is(notListed.headers['x-airlock-egress'], 'host-not-allowed');
  t.regex(notListed.body, /^airlock egress proxy: host-not-allowed: other\.test:\d+: other\.test is not on/);
  const loop = await viaProxy(proxy, `http://api.test:${upstream.port}/`);
  t.is(loop.status, 403);
  t.regex(loop.body, /resolved to 127\.0\.0\.1, a loopback address/);
  const literal = await viaProxy(proxy, `http://${LOOP}:${upstream.port}/`);
  t.is(literal.headers['x-airlock-egress'], 'ip-not-named');
  t.is(upstream.requests.length, 0);
  t.deepEqual(proxy.decisions.map((d) => d.decision), ['refused', 'refused', 'refused']);
});

test('non-proxy and non-http requests are refused with 400 and a hint', async (t) => {
  const proxy = await proxyFor(t, { allow: [] });
  const origin = await send(proxy, 'GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n', { untilClose: true });
  t.is(origin.status, 400);
  t.regex(origin.head, /not-a-proxy-request/);
  t.regex(origin.body, /CONNECT host:port/);
  const https = await send(proxy, 'GET https://api.test/ HTTP/1.1\r\nHost: api.test\r\n\r\n', { untilClose: true });
  t.is(https.status, 400);
  t.regex(https.body, /unsupported-scheme: https:\/\/ requests are not forwarded/);
  t.deepEqual(proxy.decisions.map((d) => d.decision === 'refused' && d.code), ['not-a-proxy-request', 'unsupported-scheme']);
});

test('unreachable destinations and resolver failures are reported as failed with 502', async (t) => {
  const dead = await closedPort();
  const dns = tableResolver({ 'junk.test': ['not-an-address'], 'empty.test': [] });
  const proxy = await proxyFor(t, {
    allow: [loopback(dead), { host: 'gone.test', wildcard: false, port: dead }, { host: 'junk.test', wildcard: false, port: dead }, { host: 'empty.test', wildcard: false, port: dead }],
    resolve: dns.resolve,
  });
  const refused = await connect(proxy, `${LOOP}:${dead}`);
  t.is(refused.status, 502);
  t.regex(refused.head, /connect-failed/);
  t.regex(refused.body, /ECONNREFUSED/);
  for (const host of ['gone.test', 'junk.test', 'empty.test']) {
    const r = await connect(proxy, `${host}:${dead}`);
    t.is(r.status, 502, host);
    t.regex(r.head, /resolve-failed/);
  }
  const throwing = await proxyFor(t, { allow: [{ host: 'x.test', wildcard: false, port: dead }], resolve: () => { throw new Error('resolver bug'); } });
  t.is((await connect(throwing, `x.test:${dead}`)).status, 502);
  t.like(proxy.decisions[0], { decision: 'failed', code: 'connect-failed', address: LOOP, status: 502 });
  t.true(proxy.decisions.slice(1).every((d) => d.decision === 'failed' && d.code === 'resolve-failed'));
});

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
  t.deepEqual(seen.map((d) => d.decision), ['allowed', 'refused', 'allowed']);
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
  t.like(proxy.decisions.find((x) => x.decision === 'refused'), { code: 'too-many-connections', status: 503, kind: 'unknown' });
});

test('an idle tunnel is closed after idleTimeoutMs', async (t) => {
  const echo = await echoServer(t);
  // Seconds, not ms: the round trip that proves the tunnel open must not race the idle timer on a busy machine.
  const proxy = await proxyFor(t, { allow: [loopback(echo.port)], limits: { idleTimeoutMs: 5000 } });
  const tunnel = await connect(proxy, `${LOOP}:${echo.port}`);
  t.is(await roundTrip(tunnel.socket, 'once'), 'once');
  const farEnd = await echo.connection(1);
  await Promise.all([once(tunnel.socket, 'close'), once(farEnd, 'close')]);
  t.pass();
});

test('listening errors reject startEgressProxy; bad options throw naming the field', async (t) => {
  const proxy = await proxyFor(t, { allow: [] });
  await t.throwsAsync(startEgressProxy({ allow: [], listen: { host: LOOP, port: proxy.address.port } }), { code: 'EADDRINUSE' });
  await t.throwsAsync(startEgressProxy({ allow: [{ host: '', wildcard: false }] }), { message: /allow\[0\]\.host/ });
  await t.throwsAsync(startEgressProxy({ allow: [], limits: { maxConnections: 0 } }), { message: /limits\.maxConnections/ });
  t.regex(proxy.url, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('Expect: 100-continue is decided first: a refused request gets no 100, an allowed one gets the destination\'s', async (t) => {
  const upstream = await httpServer(t);
  const proxy = await proxyFor(t, { allow: [loopback(upstream.port)] });
  const post = async (url: string): Promise<{ continued: boolean; status: number; body: string }> => {
    const req = http.request({ host: LOOP, port: proxy.address.port, method: 'POST', path: url, headers: { Host: new URL(url).host, Expect: '100-continue', 'Content-Length': '4' }, agent: false });
    let continued = false;
    req.on('continue', () => {
      continued = true;
      req.end('body');
    });
    req.flushHeaders();
    const [res] = (await once(req, 'response')) as [http.IncomingMessage];
    let body = '';
    for await (const chunk of res) body += String(chunk);
    return { continued, status: res.statusCode ?? 0, body };
  };
  t.deepEqual(await post(`http://${LOOP}:${upstream.port}/up`), { continued: true, status: 200, body: 'hello POST /up body' });
  const refused = await post(`http://${LOOP}:${upstream.port + 1}/up`);
  t.like(refused, { continued: false, status: 403 });
  t.deepEqual(proxy.decisions.map((d) => d.decision), ['allowed', 'refused']);
});
