import { LogCapture } from '../../../src/capabilities/index.ts';
import test from 'ava';
import { baselineWasi } from '../../../src/capabilities/index.ts';
import { guardOutgoingHandler, HTTP_DENIED, networkWasi } from '../../../src/capabilities/network/wasi.ts';
import { makeGrants } from '../../helpers/grants.ts';

/** The WASI baseline (every family), as a worker builds it. */
const BASE = await baselineWasi();

const ctx = () => ({ pluginName: 'p', call: { logs: new LogCapture(0), randomBytesLeft: 0 }, base: BASE, shared: {} });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return 'did not throw';
}

function request(scheme: string | undefined, authority: string | undefined, path = '/') {
  let s = scheme === undefined ? undefined : { tag: scheme };
  let a = authority;
  let p = path;
  return {
    scheme: () => s,
    authority: () => a,
    pathWithQuery: () => p,
    setScheme: (v: { tag: string }) => void (s = v),
    setAuthority: (v: string) => void (a = v),
    setPathWithQuery: (v: string) => void (p = v),
  };
}

test('wasi:sockets is denied even when HTTP is granted', (t) => {
  const imports = networkWasi(makeGrants({ network: { allow: [{ host: 'example.com', wildcard: false }] } }), ctx());
  const deny = (iface: string, fn: string) =>
    t.is(
      thrown(() => (imports[iface]![fn] as (...a: unknown[]) => unknown)()),
      'access-denied',
      `${iface}.${fn}`,
    );
  deny('wasi:sockets/tcp-create-socket', 'createTcpSocket');
  deny('wasi:sockets/udp-create-socket', 'createUdpSocket');
  deny('wasi:sockets/ip-name-lookup', 'resolveAddresses');
});

test('outgoing HTTP is denied when no network is granted, before anything is sent', (t) => {
  const imports = networkWasi(makeGrants(), ctx());
  const handle = imports['wasi:http/outgoing-handler']!.handle as (r: unknown, o: unknown) => unknown;
  t.is(
    thrown(() => handle(request('HTTPS', 'example.com'), undefined)),
    HTTP_DENIED,
  );
});

test('the guard passes only allowed scheme/host/port to the real handler, rewritten to go through the route', (t) => {
  const sent: string[] = [];
  const grants = makeGrants({ network: { allow: [{ host: 'api.example.com', wildcard: false, port: 443 }] } });
  const route = { host: '127.0.0.1', port: 4321, token: 'a'.repeat(32) };
  const handle = guardOutgoingHandler(
    grants,
    (r) => {
      sent.push(`${r.scheme()?.tag} ${r.authority()} ${r.pathWithQuery?.()}`);
      return 'future';
    },
    route,
  );
  t.is(handle(request('HTTPS', 'API.example.com', '/v1?q=1'), undefined), 'future');
  for (const [s, a] of [
    ['HTTP', 'api.example.com'], // port 80, not 443
    ['HTTPS', 'api.example.com:8443'],
    ['HTTPS', 'other.example.com'],
    ['other', 'api.example.com'],
    [undefined, 'api.example.com'],
    ['HTTPS', undefined],
    ['HTTPS', 'user@api.example.com'],
  ] as const) {
    t.is(
      thrown(() => handle(request(s, a), undefined)),
      HTTP_DENIED,
      `${s} ${a}`,
    );
  }
  t.deepEqual(sent, [`HTTP 127.0.0.1:4321 https://${'a'.repeat(32)}@api.example.com:443/v1?q=1`]);
});

test('without a route an allowed request is still denied: a worker never sends straight out', (t) => {
  const grants = makeGrants({ network: { allow: [{ host: 'api.example.com', wildcard: false, port: 443 }] } });
  const handle = guardOutgoingHandler(grants, () => 'future', undefined);
  t.is(
    thrown(() => handle(request('HTTPS', 'api.example.com'), undefined)),
    HTTP_DENIED,
  );
});

test('an allowed request that cannot be rewritten onto the route is denied, never sent as it is', (t) => {
  const grants = makeGrants({ network: { allow: [{ host: 'example.com', wildcard: false }] } });
  let sent = 0;
  const handle = guardOutgoingHandler(grants, () => void sent++, { host: '127.0.0.1', port: 4321, token: 't'.repeat(32) });
  const { setAuthority: _dropped, ...noSetter } = request('HTTPS', 'example.com');
  t.is(
    thrown(() => handle(noSetter, undefined)),
    HTTP_DENIED,
  );
  t.is(sent, 0);
});
