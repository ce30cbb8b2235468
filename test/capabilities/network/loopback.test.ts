/**
 * A grant of `127.0.0.1:port` on the worker engine: its egress route runs on the host, so the grant
 * means the host's loopback, the same as on Docker (test/engines/docker/loopback.test.ts). Only the
 * named port is reached; `localhost:port` alone is refused, since loopback passes only when named.
 */
import test from 'ava';
import { startWorkerEgress } from '../../../src/capabilities/network/route.ts';
import { httpServer, send } from '../../egress/helpers.ts';
import { makeGrants } from '../../helpers/grants.ts';

test("worker route: a grant of 127.0.0.1:port reaches the host's loopback server; another loopback port and a bare localhost grant are refused", async (t) => {
  const allowed = await httpServer(t);
  const other = await httpServer(t);
  const egress = await startWorkerEgress(
    makeGrants({
      network: {
        allow: [
          { host: '127.0.0.1', wildcard: false, port: allowed.port },
          { host: 'localhost', wildcard: false, port: other.port },
        ],
      },
    }),
  );
  if (egress === undefined) return t.fail('no route for a network grant');
  t.teardown(() => egress.close());
  const proxy = { address: { host: egress.route.host, port: egress.route.port }, url: '', close: egress.close };
  const get = (authority: string) => send(proxy, `GET http://${egress.route.token}@${authority}/ HTTP/1.1\r\nHost: x\r\n\r\n`, { untilClose: true });
  const ok = await get(`127.0.0.1:${allowed.port}`);
  t.is(ok.status, 200);
  t.is(allowed.requests.length, 1);
  const otherPort = await get(`127.0.0.1:${other.port}`);
  t.is(otherPort.status, 403);
  const named = await get(`localhost:${other.port}`);
  t.is(named.status, 403);
  t.regex(named.head, /X-Airlock-Egress: private-address/);
  t.is(other.requests.length, 0);
});
