/**
 * The worker engine's egress route: Airlock's egress proxy with a token and
 * TLS origination (src/capabilities/network/route.ts). The end-to-end cases
 * through a real worker are in test/security/network-route.test.ts.
 */
import test from 'ava';
import { startWorkerEgress } from '../../../src/capabilities/network/route.ts';
import { startEgressProxy } from '../../../src/egress/index.ts';
import { send, httpServer } from '../../egress/helpers.ts';
import { makeGrants } from '../../helpers/grants.ts';

const LOOP = '127.0.0.1';

test('no network grant, no route', async (t) => {
  t.is(await startWorkerEgress(makeGrants()), undefined);
  t.is(await startWorkerEgress(makeGrants({ network: { allow: [] } })), undefined);
});

test('the route serves only requests carrying its token; CONNECT is refused', async (t) => {
  const server = await httpServer(t);
  const egress = await startWorkerEgress(makeGrants({ network: { allow: [{ host: LOOP, wildcard: false, port: server.port }] } }));
  if (egress === undefined) return t.fail('no route for a network grant');
  t.teardown(() => egress.close());
  const proxy = { address: { host: egress.route.host, port: egress.route.port }, url: '', close: egress.close };
  t.is(egress.route.host, LOOP, 'listens on loopback');
  const target = `${LOOP}:${server.port}`;
  for (const [what, line] of [
    ['no token', `GET http://${target}/ HTTP/1.1`],
    ['a wrong token', `GET http://${'x'.repeat(48)}@${target}/ HTTP/1.1`],
    ['a token prefix', `GET http://${egress.route.token.slice(0, 47)}@${target}/ HTTP/1.1`],
    ['CONNECT', `CONNECT ${target} HTTP/1.1`],
  ] as const) {
    const r = await send(proxy, `${line}\r\nHost: x\r\n\r\n`, { untilClose: true });
    t.is(r.status, 407, what);
    t.regex(r.head, /X-Airlock-Egress: unauthorized/, what);
  }
  t.is(server.requests.length, 0);
  const ok = await send(proxy, `GET http://${egress.route.token}@${target}/in HTTP/1.1\r\nHost: x\r\n\r\n`);
  ok.socket.destroy();
  t.is(ok.status, 200);
  t.is(server.requests.length, 1);
  t.is(server.requests[0]?.headers.host, target, 'the token is not forwarded');
  t.false(JSON.stringify(server.requests[0]).includes(egress.route.token));
});

test('https:// absolute-form requests are refused unless the proxy originates TLS; a short token is refused', async (t) => {
  const proxy = await startEgressProxy({ allow: [{ host: LOOP, wildcard: false, port: 443 }] });
  t.teardown(() => proxy.close());
  const r = await send(proxy, `GET https://${LOOP}/ HTTP/1.1\r\nHost: x\r\n\r\n`, { untilClose: true });
  t.is(r.status, 400);
  t.regex(r.head, /X-Airlock-Egress: unsupported-scheme/);
  await t.throwsAsync(startEgressProxy({ allow: [], token: 'short' }), { instanceOf: TypeError, message: /token/ });
});
