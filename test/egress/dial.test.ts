/** Dialling (src/egress/dial.ts): the allowlist, the one resolution and the address checks, through the whole proxy and on their own. */
import type { Socket } from 'node:net';
import test from 'ava';
import { dialer } from '../../src/egress/dial.ts';
import type { DialOptions } from '../../src/egress/dial.ts';
import { compileRules, parseAuthority } from '../../src/egress/index.ts';
import type { Target } from '../../src/egress/index.ts';
import type { HostPattern } from '../../src/grants/types.ts';
import { closedPort, connect, echoServer, proxyFor, roundTrip, tableResolver, viaProxy } from './helpers.ts';

const LOOP = '127.0.0.1';
const loopback = (port: number) => ({ host: LOOP, wildcard: false, port });

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
  const table: Record<string, string[]> = {
    'rfc1918.test': ['10.0.0.5'],
    'metadata.test': ['169.254.169.254'],
    'loop.test': [LOOP],
    'mapped.test': ['::ffff:127.0.0.1'],
    'mixed.test': ['93.184.216.34', '192.168.1.10'],
  };
  /** The address each refusal names (canonical form). */
  const refusedAt: Record<string, string> = {
    'rfc1918.test': '10.0.0.5',
    'metadata.test': '169.254.169.254',
    'loop.test': LOOP,
    'mapped.test': LOOP,
    'mixed.test': '192.168.1.10',
  };
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
  t.deepEqual(
    dns.calls,
    Object.keys(table).flatMap((h) => [h, h]),
  );
  t.is(echo.sockets.length, 0);
  t.true(proxy.decisions.every((d) => d.decision === 'refused' && d.code === 'private-address' && d.status === 403));
  t.like(
    proxy.decisions.find((d) => d.host === 'metadata.test'),
    { address: '169.254.169.254' },
  );
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
    allow: [
      { host: 'web.test', wildcard: false },
      { host: 'db.test', wildcard: false, port: echo.port },
      { host: LOOP, wildcard: false },
    ],
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

test('unreachable destinations and resolver failures are reported as failed with 502', async (t) => {
  const dead = await closedPort();
  const dns = tableResolver({ 'junk.test': ['not-an-address'], 'empty.test': [] });
  const proxy = await proxyFor(t, {
    allow: [
      loopback(dead),
      { host: 'gone.test', wildcard: false, port: dead },
      { host: 'junk.test', wildcard: false, port: dead },
      { host: 'empty.test', wildcard: false, port: dead },
    ],
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
  const throwing = await proxyFor(t, {
    allow: [{ host: 'x.test', wildcard: false, port: dead }],
    resolve: () => {
      throw new Error('resolver bug');
    },
  });
  t.is((await connect(throwing, `x.test:${dead}`)).status, 502);
  t.like(proxy.decisions[0], { decision: 'failed', code: 'connect-failed', address: LOOP, status: 502 });
  t.true(proxy.decisions.slice(1).every((d) => d.decision === 'failed' && d.code === 'resolve-failed'));
});

const target = (authority: string): Target => {
  const t = parseAuthority(authority);
  if (typeof t === 'string') throw new Error(t);
  return t;
};

/** A dialler over `allow` and a resolver table, recording every socket it opens. */
function dialFor(
  allow: HostPattern[],
  table: Record<string, string[]>,
  over: Partial<DialOptions> = {},
): { dial: ReturnType<typeof dialer>; calls: string[]; opened: Socket[] } {
  const dns = tableResolver(table);
  const opened: Socket[] = [];
  const dial = dialer({
    rules: compileRules(allow),
    resolve: dns.resolve,
    connectTimeoutMs: 60_000,
    track: (s) => opened.push(s),
    closing: () => false,
    ...over,
  });
  return { dial, calls: dns.calls, opened };
}

test('dial refuses an allowlisted name that resolves to a disallowed address, and opens no socket', async (t) => {
  const { dial, calls, opened } = dialFor([{ host: 'api.test', wildcard: false, port: 443 }], { 'api.test': ['169.254.169.254'] });
  const r = await dial(target('api.test:443'));
  t.like(r, { ok: false, refused: { host: 'api.test', port: 443, address: '169.254.169.254', code: 'private-address', status: 403 } });
  t.deepEqual(calls, ['api.test']);
  t.deepEqual(opened, []);
});

test('dial refuses a mixed public and private answer as a whole (what rebinding looks like)', async (t) => {
  const { dial, opened } = dialFor([{ host: 'api.test', wildcard: false, port: 443 }], { 'api.test': ['93.184.216.34', '::ffff:10.0.0.1'] });
  t.like(await dial(target('api.test:443')), { ok: false, refused: { code: 'private-address', address: '10.0.0.1' } });
  t.deepEqual(opened, []);
});

test('dial refuses a target off the allowlist without resolving it', async (t) => {
  const { dial, calls, opened } = dialFor([{ host: 'api.test', wildcard: false, port: 443 }], { 'evil.test': ['93.184.216.34'] });
  t.like(await dial(target('evil.test:443')), { ok: false, refused: { code: 'host-not-allowed', status: 403 } });
  t.like(await dial(target('api.test:22')), { ok: false, refused: { code: 'port-not-allowed', status: 403 } });
  t.like(await dial(target('93.184.216.34:443')), { ok: false, refused: { code: 'ip-not-named', status: 403 } });
  t.deepEqual(calls, []);
  t.deepEqual(opened, []);
});

test('dial connects to the checked address itself, after one resolution, and hands the socket to track', async (t) => {
  const echo = await echoServer(t);
  const { dial, calls, opened } = dialFor([{ host: 'svc.test', wildcard: false, port: echo.port }, loopback(echo.port)], { 'svc.test': [LOOP] });
  const r = await dial(target(`svc.test:${echo.port}`));
  if (!r.ok) return t.fail(JSON.stringify(r));
  t.teardown(() => r.socket.destroy());
  t.is(r.address, LOOP);
  t.is(r.rule, `svc.test:${echo.port}`);
  t.is(r.socket.remoteAddress, LOOP);
  t.deepEqual(opened, [r.socket]);
  t.deepEqual(calls, ['svc.test']);
  t.is(await roundTrip(r.socket, 'direct'), 'direct');
});

test('dial: a resolver that never answers ends as connect-timeout (504) at the deadline', async (t) => {
  const dial = dialer({
    rules: compileRules([{ host: 'slow.test', wildcard: false, port: 443 }]),
    resolve: () => new Promise(() => {}),
    connectTimeoutMs: 1,
    track: () => t.fail('no socket'),
    closing: () => false,
  });
  t.like(await dial(target('slow.test:443')), {
    ok: false,
    failed: { code: 'connect-timeout', status: 504, reason: 'slow.test:443: resolving slow.test took longer than 1 ms' },
  });
});

test('dial opens nothing once the proxy is closing, even for an allowed target', async (t) => {
  const { dial, opened } = dialFor([loopback(443), { host: 'svc.test', wildcard: false, port: 443 }], { 'svc.test': [LOOP] }, { closing: () => true });
  t.like(await dial(target('svc.test:443')), { ok: false, refused: { code: 'closing', status: 503 } });
  t.like(await dial(target(`${LOOP}:443`)), { ok: false, refused: { code: 'closing', status: 503 } });
  t.deepEqual(opened, []);
});

test('dial: resolver errors and answers that are not addresses are resolve-failed (502)', async (t) => {
  const port = await closedPort();
  const allow = ['gone.test', 'junk.test', 'empty.test'].map((host) => ({ host, wildcard: false, port }));
  const { dial, opened } = dialFor(allow, { 'junk.test': ['not-an-address'], 'empty.test': [] });
  for (const host of ['gone.test', 'junk.test', 'empty.test'])
    t.like(await dial(target(`${host}:${port}`)), { ok: false, failed: { code: 'resolve-failed', status: 502 } }, host);
  t.deepEqual(opened, []);
});
