import test from 'ava';
import { baselineWasi } from '../../../src/capabilities/index.ts';
import { guardOutgoingHandler, HTTP_DENIED, networkWasi } from '../../../src/capabilities/network/wasi.ts';
import { makeGrants } from '../../helpers/grants.ts';

const ctx = () => ({ pluginName: 'p', call: { logs: { write() {} }, randomBytesLeft: 0 }, base: baselineWasi('p') });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return 'did not throw';
}

function request(scheme: string | undefined, authority: string | undefined) {
  return {
    scheme: () => (scheme === undefined ? undefined : { tag: scheme }),
    authority: () => authority,
  };
}

test('wasi:sockets is denied even when HTTP is granted', (t) => {
  const imports = networkWasi(makeGrants({ network: { allow: [{ host: 'example.com', wildcard: false }] } }), ctx());
  const deny = (iface: string, fn: string) => t.is(thrown(() => (imports[iface]![fn] as (...a: unknown[]) => unknown)()), 'access-denied', `${iface}.${fn}`);
  deny('wasi:sockets/tcp-create-socket', 'createTcpSocket');
  deny('wasi:sockets/udp-create-socket', 'createUdpSocket');
  deny('wasi:sockets/ip-name-lookup', 'resolveAddresses');
});

test('outgoing HTTP is denied when no network is granted, before anything is sent', (t) => {
  const imports = networkWasi(makeGrants(), ctx());
  const handle = imports['wasi:http/outgoing-handler']!.handle as (r: unknown, o: unknown) => unknown;
  t.is(thrown(() => handle(request('HTTPS', 'example.com'), undefined)), HTTP_DENIED);
});

test('the guard passes only allowed scheme/host/port to the real handler', (t) => {
  const sent: string[] = [];
  const grants = makeGrants({ network: { allow: [{ host: 'api.example.com', wildcard: false, port: 443 }] } });
  const handle = guardOutgoingHandler(grants, (r) => {
    sent.push(r.authority()!);
    return 'future';
  });
  t.is(handle(request('HTTPS', 'api.example.com'), undefined), 'future');
  for (const [s, a] of [
    ['HTTP', 'api.example.com'], // port 80, not 443
    ['HTTPS', 'api.example.com:8443'],
    ['HTTPS', 'other.example.com'],
    ['other', 'api.example.com'],
    [undefined, 'api.example.com'],
    ['HTTPS', undefined],
    ['HTTPS', 'user@api.example.com'],
  ] as const) {
    t.is(thrown(() => handle(request(s, a), undefined)), HTTP_DENIED, `${s} ${a}`);
  }
  t.deepEqual(sent, ['api.example.com']);
});
