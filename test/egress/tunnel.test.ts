/** CONNECT tunnels (src/egress/tunnel.ts): through the whole proxy, then the handler and splice on their own. */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import test from 'ava';
import type { Dial } from '../../src/egress/dial.ts';
import { handleConnect, splice } from '../../src/egress/tunnel.ts';
import { connect, contextFor, dialTo, echoServer, handlerServer, proxyFor, roundTrip, socketPair, tableResolver } from './helpers.ts';

const LOOP = '127.0.0.1';
const loopback = (port: number) => ({ host: LOOP, wildcard: false, port });

/** Resolves once `socket` has received `text`. */
function received(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString('utf8');
      if (got.includes(text)) {
        socket.removeListener('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
  });
}

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

test('splice pipes both ways and arms the idle timeout on both sockets', async (t) => {
  const [clientA, a] = await socketPair(t);
  const [clientB, b] = await socketPair(t);
  splice(a, b, 60_000);
  t.deepEqual([a.timeout, b.timeout], [60_000, 60_000]);
  const atB = received(clientB, 'to b');
  clientA.write('to b');
  t.is(await atB, 'to b');
  const atA = received(clientA, 'to a');
  clientB.write('to a');
  t.is(await atA, 'to a');
});

// The idle timer is socket.setTimeout; its 'timeout' event is emitted here
// instead of waited for, so the test does not race a clock.
for (const side of ['client', 'destination'] as const) {
  test(`splice: an idle timeout on the ${side} side closes both sides of the tunnel`, async (t) => {
    const [clientA, a] = await socketPair(t);
    const [clientB, b] = await socketPair(t);
    splice(a, b, 60_000);
    // Both far ends see their connection end.
    clientA.resume();
    clientB.resume();
    const closed = Promise.all([once(a, 'close'), once(b, 'close'), once(clientA, 'end'), once(clientB, 'end')]);
    (side === 'client' ? a : b).emit('timeout');
    await closed;
    t.true(a.destroyed && b.destroyed);
  });
}

test('splice: an error on one side tears down the other', async (t) => {
  const [, a] = await socketPair(t);
  const [clientB, b] = await socketPair(t);
  splice(a, b, 60_000);
  clientB.resume();
  const closed = Promise.all([once(b, 'close'), once(clientB, 'end')]);
  a.destroy(new Error('reset by peer'));
  await closed;
  t.true(b.destroyed);
});

test('handleConnect: a proxy with a token refuses CONNECT with 407 and dials nothing', async (t) => {
  const { cx, decisions, dialled } = contextFor(dialTo(1), { token: Buffer.from('0123456789abcdef') });
  const proxy = await handlerServer(t, { connect: (req, socket, head) => void handleConnect(cx, req, socket, head, 'client-1') });
  const r = await connect(proxy, 'api.test:443');
  t.is(r.status, 407);
  t.regex(r.head, /X-Airlock-Egress: unauthorized/);
  t.deepEqual(dialled, []);
  t.like(decisions, [{ decision: 'refused', kind: 'connect', code: 'unauthorized', status: 407, client: 'client-1' }]);
});

test('handleConnect: a malformed target is refused with 400 before dialling', async (t) => {
  const { cx, decisions, dialled } = contextFor(dialTo(1));
  const proxy = await handlerServer(t, { connect: (req, socket, head) => void handleConnect(cx, req, socket, head, 'c') });
  const r = await connect(proxy, 'api.test');
  t.is(r.status, 400);
  t.regex(r.body, /bad-request: CONNECT "api\.test" has no port/);
  t.deepEqual(dialled, []);
  t.like(decisions, [{ decision: 'refused', code: 'bad-request', status: 400 }]);
});

test('handleConnect answers with what dial decided: a refusal keeps its status, code, reason and address', async (t) => {
  const refuse: Dial = async (target) => ({
    ok: false,
    refused: { host: target.host, port: target.port, address: '10.0.0.5', code: 'private-address', status: 403, reason: 'resolved to 10.0.0.5' },
  });
  const { cx, decisions, dialled } = contextFor(refuse);
  const proxy = await handlerServer(t, { connect: (req, socket, head) => void handleConnect(cx, req, socket, head, 'c') });
  const r = await connect(proxy, 'API.test:8443');
  t.is(r.status, 403);
  t.regex(r.head, /X-Airlock-Egress: private-address/);
  t.is(r.body, 'airlock egress proxy: private-address: resolved to 10.0.0.5\n');
  t.deepEqual(dialled, [{ host: 'api.test', port: 8443, ip: false }]);
  t.deepEqual(decisions, [
    {
      decision: 'refused',
      kind: 'connect',
      host: 'api.test',
      port: 8443,
      address: '10.0.0.5',
      code: 'private-address',
      status: 403,
      reason: 'resolved to 10.0.0.5',
      client: 'c',
    },
  ]);
});

test('handleConnect: an allowed dial is reported with the address used, and bytes behind the request line reach the destination', async (t) => {
  const echo = await echoServer(t);
  const { cx, decisions } = contextFor(dialTo(echo.port));
  const proxy = await handlerServer(t, { connect: (req, socket, head) => void handleConnect(cx, req, socket, head, 'c') });
  const r = await connect(proxy, 'api.test:443', 'early|');
  t.is(r.status, 200);
  t.is(await roundTrip(r.socket, 'late', 'early|late'), 'early|late');
  t.like(decisions, [
    {
      decision: 'allowed',
      kind: 'connect',
      host: 'api.test',
      port: 443,
      address: '127.0.0.1',
      rule: `test:${echo.port}`,
      reason: `CONNECT api.test:443 matches test:${echo.port}`,
    },
  ]);
  r.socket.destroy();
});
