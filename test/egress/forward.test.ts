/** Absolute-form HTTP forwarding (src/egress/forward.ts): through the whole proxy, then the parser, the header filter and the handler on their own. */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import type { Dial } from '../../src/egress/dial.ts';
import { handleHttp, parseProxyRequest, stripHopByHop } from '../../src/egress/forward.ts';
import { contextFor, dialTo, handlerServer, httpServer, proxyFor, send, tableResolver, viaProxy } from './helpers.ts';

const LOOP = '127.0.0.1';
const loopback = (port: number) => ({ host: LOOP, wildcard: false, port });

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
  t.deepEqual(
    proxy.decisions.map((d) => d.decision),
    ['refused', 'refused', 'refused'],
  );
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
  t.deepEqual(
    proxy.decisions.map((d) => d.decision === 'refused' && d.code),
    ['not-a-proxy-request', 'unsupported-scheme'],
  );
});

test("Expect: 100-continue is decided first: a refused request gets no 100, an allowed one gets the destination's", async (t) => {
  const upstream = await httpServer(t);
  const proxy = await proxyFor(t, { allow: [loopback(upstream.port)] });
  const post = async (url: string): Promise<{ continued: boolean; status: number; body: string }> => {
    const req = http.request({
      host: LOOP,
      port: proxy.address.port,
      method: 'POST',
      path: url,
      headers: { Host: new URL(url).host, Expect: '100-continue', 'Content-Length': '4' },
      agent: false,
    });
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
  t.deepEqual(
    proxy.decisions.map((d) => d.decision),
    ['allowed', 'refused'],
  );
});
test('stripHopByHop drops hop-by-hop headers, those Connection names and the extra names; keeps order, case and duplicates', (t) => {
  const raw = [
    'Host',
    'a.test',
    'Connection',
    'X-Drop, keep-alive',
    'X-Drop',
    '1',
    'Keep-Alive',
    'timeout=1',
    'Proxy-Authorization',
    'Basic x',
    'TE',
    'trailers',
    'Transfer-Encoding',
    'chunked',
    'Upgrade',
    'websocket',
    'Set-Cookie',
    'a=1',
    'X-Keep',
    'k',
    'set-cookie',
    'b=2',
  ];
  t.deepEqual(stripHopByHop(raw, ['host']), ['Set-Cookie', 'a=1', 'X-Keep', 'k', 'set-cookie', 'b=2']);
  t.deepEqual(stripHopByHop(['X-Airlock-Egress', 'forged', 'X-A', '1'], ['x-airlock-egress']), ['X-A', '1']);
  // A dangling name without a value is dropped rather than sent empty.
  t.deepEqual(stripHopByHop(['X-A', '1', 'X-B'], []), ['X-A', '1']);
});

test('parseProxyRequest reads scheme, canonical target and path from an absolute URL', (t) => {
  t.deepEqual(parseProxyRequest('http://API.test:8080/p?q=1#frag', undefined, false), {
    ok: true,
    scheme: 'http',
    target: { host: 'api.test', port: 8080, ip: false },
    defaultPort: 80,
    path: '/p?q=1',
  });
  t.like(parseProxyRequest('HTTP://api.test', undefined, false), { ok: true, target: { port: 80 }, path: '/' });
  t.like(parseProxyRequest('https://api.test/x', undefined, true), { ok: true, scheme: 'https', target: { port: 443 }, defaultPort: 443, path: '/x' });
  t.like(parseProxyRequest('https://api.test/x', undefined, false), { ok: false, status: 400, code: 'unsupported-scheme' });
  t.like(parseProxyRequest('ftp://api.test/x', undefined, true), { ok: false, status: 400, code: 'unsupported-scheme' });
  t.like(parseProxyRequest('/index.html', undefined, false), { ok: false, status: 400, code: 'not-a-proxy-request' });
  t.like(parseProxyRequest('http://a b/', undefined, false), { ok: false, status: 400, code: 'bad-request' });
});

test('parseProxyRequest with a token serves only URLs whose user info is exactly the token', (t) => {
  const token = Buffer.from('0123456789abcdef');
  t.like(parseProxyRequest('http://0123456789abcdef@api.test/x', token, false), { ok: true, target: { host: 'api.test' }, path: '/x' });
  for (const url of [
    'http://api.test/x',
    'http://0123456789abcdeX@api.test/x',
    'http://0123456789abcdef0@api.test/x',
    'http://@api.test/',
    'http://user:0123456789abcdef@api.test/',
  ]) {
    t.like(parseProxyRequest(url, token, false), { ok: false, status: 407, code: 'unauthorized' }, url);
  }
  // The token is checked before the scheme: a wrong token learns nothing about what would be served.
  t.like(parseProxyRequest('ftp://api.test/', token, false), { ok: false, code: 'unauthorized' });
});

test('handleHttp sends the request on the dialled socket (no lookup of its own), with Host rewritten, Connection: close, and no forged X-Airlock-Egress back', async (t) => {
  const seen: http.IncomingHttpHeaders[] = [];
  const upstream = http.createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(201, { 'X-Airlock-Egress': 'allowed', 'X-Up': 'yes' });
    res.end(`${req.method} ${req.url}`);
  });
  upstream.listen(0, LOOP);
  await once(upstream, 'listening');
  t.teardown(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const { cx, decisions, dialled } = contextFor(dialTo((upstream.address() as AddressInfo).port));
  const proxy = await handlerServer(t, { request: (req, res) => void handleHttp(cx, req, res, 'c') });
  // A name that resolves nowhere: only the dialled socket can carry this request.
  const res = await viaProxy(proxy, 'http://no-such-host.invalid:8080/a?b=1', {
    method: 'PUT',
    headers: { 'Proxy-Authorization': 'Basic x', 'X-E2e': 'kept' },
    body: 'x',
  });
  t.is(res.status, 201);
  t.is(res.body, 'PUT /a?b=1');
  t.is(res.headers['x-airlock-egress'], undefined);
  t.is(res.headers['x-up'], 'yes');
  t.like(seen[0], { host: 'no-such-host.invalid:8080', connection: 'close', 'x-e2e': 'kept' });
  t.is(seen[0]!['proxy-authorization'], undefined);
  t.deepEqual(dialled, [{ host: 'no-such-host.invalid', port: 8080, ip: false }]);
  t.like(decisions, [
    {
      decision: 'allowed',
      kind: 'http',
      host: 'no-such-host.invalid',
      port: 8080,
      address: LOOP,
      reason: `PUT http://no-such-host.invalid:8080 matches test:${String((upstream.address() as AddressInfo).port)}`,
    },
  ]);
});

test('handleHttp: the default port is left out of Host', async (t) => {
  const upstream = await httpServer(t);
  const { cx } = contextFor(dialTo(upstream.port));
  const proxy = await handlerServer(t, { request: (req, res) => void handleHttp(cx, req, res, 'c') });
  t.is((await viaProxy(proxy, 'http://api.test/')).status, 200);
  t.is(upstream.requests[0]!.headers.host, 'api.test');
});

test('handleHttp answers a failed dial with its status and code, reported as failed', async (t) => {
  const fail: Dial = async (target) => ({
    ok: false,
    failed: { host: target.host, port: target.port, address: LOOP, code: 'connect-failed', status: 502, reason: 'ECONNREFUSED' },
  });
  const { cx, decisions } = contextFor(fail);
  const proxy = await handlerServer(t, { request: (req, res) => void handleHttp(cx, req, res, 'c') });
  const res = await viaProxy(proxy, 'http://api.test/');
  t.is(res.status, 502);
  t.is(res.headers['x-airlock-egress'], 'connect-failed');
  t.is(res.body, 'airlock egress proxy: connect-failed: ECONNREFUSED\n');
  t.deepEqual(decisions, [
    { decision: 'failed', kind: 'http', host: 'api.test', port: 80, address: LOOP, code: 'connect-failed', status: 502, reason: 'ECONNREFUSED', client: 'c' },
  ]);
});

test('handleHttp refuses an unparsable request before dialling', async (t) => {
  const { cx, decisions, dialled } = contextFor(dialTo(1));
  const proxy = await handlerServer(t, { request: (req, res) => void handleHttp(cx, req, res, 'c') });
  const r = await send(proxy, 'GET /x HTTP/1.1\r\nHost: x\r\n\r\n', { untilClose: true });
  t.is(r.status, 400);
  t.deepEqual(dialled, []);
  t.like(decisions, [{ decision: 'refused', kind: 'http', code: 'not-a-proxy-request', status: 400 }]);
});
