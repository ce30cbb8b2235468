/**
 * The worker engine's wasi:http goes out through its loopback egress route
 * (src/capabilities/network/route.ts), end to end on the real engine with the
 * `net` fixture: an allowlisted name that resolves to a forbidden address
 * (DNS rebinding) is refused before anything is sent, names are resolved once
 * by the route's resolver (never by preview2-shim), and HTTPS keeps the name
 * for SNI and certificate verification. Servers listen on loopback only;
 * names resolve through an injected table (no DNS, no /etc/hosts).
 */
import test, { type ExecutionContext } from 'ava';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WasmEngine } from '../../src/engines/wasm/index.ts';
import type { EgressDecision } from '../../src/egress/index.ts';
import { fixtureComponent, fixtureGrants } from '../engines/wasm/helpers.ts';
import { makeCa } from './tls.ts';

interface Seen {
  host: string | undefined;
  url: string | undefined;
}

async function listen(t: ExecutionContext, server: http.Server | https.Server): Promise<{ port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push({ host: req.headers.host, url: req.url });
    res.writeHead(200, { 'X-Airlock-Egress': 'forged-by-destination' });
    res.end('hello');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => void server.close());
  return { port: (server.address() as AddressInfo).port, seen };
}

function setUp(t: ExecutionContext, table: Record<string, string[]>, ca?: string): { engine: WasmEngine; lookups: string[]; decisions: EgressDecision[] } {
  const lookups: string[] = [];
  const decisions: EgressDecision[] = [];
  const engine = new WasmEngine({
    egress: {
      resolve: async (host) => {
        lookups.push(host);
        const answer = table[host];
        if (answer === undefined) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
        return answer;
      },
      onDecision: (d) => decisions.push(d),
      ...(ca === undefined ? {} : { ca }),
    },
  });
  t.teardown(() => engine.close());
  return { engine, lookups, decisions };
}

const allow = (host: string, port: number) => ({ host, wildcard: false, port });
const LOOP = '127.0.0.1';

test.serial('matrix net.rebind × worker: an allowlisted name resolving to a loopback or private address is refused; nothing is sent', async (t) => {
  const server = await listen(t, http.createServer());
  const table = { 'rebind.test': [LOOP], 'mixed.test': ['93.184.216.34', LOOP], 'meta.test': ['169.254.169.254'] };
  const { engine, lookups, decisions } = setUp(t, table);
  const grants = fixtureGrants('net', { network: { allow: Object.keys(table).map((h) => allow(h, server.port)) } });
  const p = await engine.load(grants, { kind: 'component', path: await fixtureComponent('net') });
  for (const host of Object.keys(table)) {
    const r = await p.call('http', JSON.stringify({ url: `http://${host}:${server.port}/x` }));
    t.is(r.output, '"denied:ErrorCode_DestinationIpProhibited()"', host);
  }
  t.deepEqual(server.seen, [], 'the loopback server saw no request');
  t.deepEqual(lookups, Object.keys(table), 'each name resolved once, by the route');
  t.true(
    decisions.every((d) => d.decision === 'refused' && d.code === 'private-address'),
    JSON.stringify(decisions),
  );
  await p.close();
});

test.serial('worker wasi:http: a name is resolved once by the route and the request goes to that address with its own Host', async (t) => {
  const server = await listen(t, http.createServer());
  // The grant names the loopback address too, so the answer is admitted; the name itself is not in any DNS.
  const { engine, lookups, decisions } = setUp(t, { 'svc.test': [LOOP] });
  const p = await engine.load(fixtureGrants('net', { network: { allow: [allow('svc.test', server.port), allow(LOOP, server.port)] } }), {
    kind: 'component',
    path: await fixtureComponent('net'),
  });
  // The destination's own X-Airlock-Egress header is dropped by the route, so it cannot fake a refusal.
  t.is((await p.call('http', JSON.stringify({ url: `http://svc.test:${server.port}/path?q=1` }))).output, '"ok:200"');
  t.deepEqual(server.seen, [{ host: `svc.test:${server.port}`, url: '/path?q=1' }]);
  t.deepEqual(lookups, ['svc.test']);
  t.like(decisions, [{ decision: 'allowed', host: 'svc.test', address: LOOP }]);
  // Not allowlisted: refused by the guard before the route is asked.
  t.regex((await p.call('http', JSON.stringify({ url: `http://other.test:${server.port}/` }))).output, /^"denied:ErrorCode_HttpRequestDenied/);
  t.is(lookups.length, 1);
  await p.close();
});

test.serial('worker wasi:http: HTTPS through the route verifies the certificate against the name and sends it as SNI', async (t) => {
  const ca = makeCa();
  const good = ca.leaf('svc.test');
  const wrong = ca.leaf('elsewhere.test');
  const snis: (string | false | null)[] = [];
  const goodServer = https.createServer({ ...good });
  goodServer.on('secureConnection', (s) => snis.push(s.servername));
  const a = await listen(t, goodServer);
  const b = await listen(t, https.createServer({ ...wrong }));
  const { engine } = setUp(t, { 'svc.test': [LOOP] }, ca.ca);
  const grants = fixtureGrants('net', { network: { allow: [allow('svc.test', a.port), allow('svc.test', b.port), allow(LOOP, a.port), allow(LOOP, b.port)] } });
  const p = await engine.load(grants, { kind: 'component', path: await fixtureComponent('net') });
  t.is((await p.call('http', JSON.stringify({ url: `https://svc.test:${a.port}/secure` }))).output, '"ok:200"');
  t.deepEqual(a.seen, [{ host: `svc.test:${a.port}`, url: '/secure' }]);
  t.deepEqual(snis, ['svc.test']);
  // A certificate for another name fails verification: nothing is sent.
  t.regex((await p.call('http', JSON.stringify({ url: `https://svc.test:${b.port}/secure` }))).output, /^"denied:ErrorCode_TlsCertificateError/);
  t.deepEqual(b.seen, []);
  await p.close();
});
