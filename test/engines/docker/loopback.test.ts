/**
 * A network grant of `127.0.0.1:port` means this machine's loopback on every engine. On Docker the
 * plugin's egress proxy runs in a container, so it dials loopback through the host's relay
 * (src/engines/docker/loopback.ts), which serves only the loopback entries of the grant.
 */
import test, { type ExecutionContext } from 'ava';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { relayHandshake } from '../../../src/egress/loopback.ts';
import { loopbackEntries, startLoopbackRelay } from '../../../src/engines/docker/loopback.ts';
import { startEgress } from '../../../src/engines/docker/network.ts';
import { isAirlockError } from '../../../src/errors.ts';
import type { EgressDecision } from '../../../src/egress/index.ts';
import { manifestObject, writePlugin } from '../../helpers/plugin.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;

interface Local {
  server: Server;
  port: number;
  connections: number;
}

/** An HTTP server on the host's 127.0.0.1, counting the connections it accepts; closed when the test ends. */
async function loopbackServer(t: ExecutionContext, name: string): Promise<Local> {
  const server = createServer((_req, res) => res.end(`hello from ${name}`));
  const local: Local = { server, port: 0, connections: 0 };
  server.on('connection', () => {
    local.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  local.port = (server.address() as AddressInfo).port;
  t.teardown(() => server.close());
  return local;
}

/** Asks the relay at `path` for address:port; resolves with the socket or rejects with the relay's code. */
async function viaRelay(path: string, address: string, port: number): Promise<net.Socket> {
  const socket = net.connect({ path });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  try {
    await relayHandshake(socket, address, port);
    return socket;
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

test('only entries naming a loopback address go to the relay', (t) => {
  t.deepEqual(
    loopbackEntries([
      { host: '127.0.0.1', wildcard: false, port: 1 },
      { host: '::1', wildcard: false, port: 2 },
      { host: '127.1.2.3', wildcard: false },
      { host: 'localhost', wildcard: false, port: 3 },
      { host: '10.0.0.1', wildcard: false, port: 4 },
      { host: 'example.com', wildcard: false, port: 5 },
    ]).map((p) => p.host),
    ['127.0.0.1', '::1', '127.1.2.3'],
  );
});

test('the relay connects to a granted loopback port and refuses every other target itself', async (t) => {
  const allowed = await loopbackServer(t, 'allowed');
  const other = await loopbackServer(t, 'other');
  const relay = await startLoopbackRelay([{ host: '127.0.0.1', wildcard: false, port: allowed.port }]);
  t.teardown(() => relay.close());
  const socket = await viaRelay(relay.path, '127.0.0.1', allowed.port);
  const answer = await new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
    });
    socket.on('end', () => resolve(text));
    socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  });
  t.regex(answer, /hello from allowed$/);
  for (const [address, port] of [
    ['127.0.0.1', other.port],
    ['10.0.0.1', allowed.port],
    ['::1', allowed.port],
  ] as const) {
    const err = await t.throwsAsync(viaRelay(relay.path, address, port));
    t.is((err as Error & { code?: string }).code, 'EACCES', `${address}:${port}`);
  }
  t.is(other.connections, 0);
  // Granted, but nothing listens there: the host's own answer comes back.
  const closed = await loopbackServer(t, 'closed');
  closed.server.close();
  const relay2 = await startLoopbackRelay([{ host: '127.0.0.1', wildcard: false, port: closed.port }]);
  t.teardown(() => relay2.close());
  const refused = await t.throwsAsync(viaRelay(relay2.path, '127.0.0.1', closed.port));
  t.is((refused as Error & { code?: string }).code, 'ECONNREFUSED');
});

test("with a remote daemon a loopback grant is refused before anything is created: it could not mean this machine's loopback", async (t) => {
  // A daemon the engine resolved as remote (./daemon.ts), at an address nothing answers: the refusal comes before any request to it.
  const remote = new Docker({ host: '127.0.0.1', port: 9 });
  const err = await t.throwsAsync(startEgress(remote, 'remote-loop', [{ host: '127.0.0.1', wildcard: false, port: 5432 }], { image: 'unused', remote: true }));
  t.true(isAirlockError(err, 'engine-unavailable'));
  t.regex(err?.message ?? '', /127\.0\.0\.1:5432 of remote-loop names this machine's loopback, which a remote Docker daemon's containers cannot reach/);
});

const PY_GET =
  'import urllib.request, urllib.error\n\ndef get(input):\n    try:\n        with urllib.request.urlopen(input["url"], timeout=5) as r:\n            return {"status": r.status, "body": r.read().decode()}\n    except urllib.error.HTTPError as e:\n        return {"status": e.code}\n';
const NODE_GET =
  'export async function get(input) {\n  const r = await fetch(input.url);\n  return { status: r.status, body: r.status === 200 ? await r.text() : undefined };\n}\n';

for (const [runtime, entry, source, title] of [
  ['python', 'main.py', PY_GET, "a python plugin granted 127.0.0.1:port reaches the host's loopback server; another port is refused"],
  ['node', 'main.mjs', NODE_GET, "a node plugin granted 127.0.0.1:port reaches the host's loopback server; another port is refused"],
] as const) {
  t(title, async (t) => {
    const allowed = await loopbackServer(t, 'allowed');
    const other = await loopbackServer(t, 'other');
    const plugin = writePlugin(
      manifestObject({ name: `${runtime}-loopback`, runtime, entry, tools: [{ name: 'get', description: 'g', input: { type: 'object' } }] }),
      { [entry]: source },
    );
    const decisions: EgressDecision[] = [];
    const docker = engine({ onEgress: (_p, d) => decisions.push(d) });
    t.teardown(() => docker.close());
    const p = await docker.load(grantsFor(plugin.dir, undefined, { network: { allow: [{ host: '127.0.0.1', wildcard: false, port: allowed.port }] } }));
    t.deepEqual(JSON.parse((await p.call('get', JSON.stringify({ url: `http://127.0.0.1:${allowed.port}/x` }))).output), {
      status: 200,
      body: 'hello from allowed',
    });
    // Python sends plain HTTP to the proxy (a 403 answer); Node's fetch tunnels with CONNECT, whose 403 it throws.
    const refused = await p.call('get', JSON.stringify({ url: `http://127.0.0.1:${other.port}/x` })).then(
      (r) => JSON.parse(r.output).status as number,
      () => 'thrown',
    );
    t.is(refused, runtime === 'python' ? 403 : 'thrown');
    t.is(other.connections, 0);
    t.true(allowed.connections > 0);
    t.true(decisions.some((d) => d.decision === 'allowed' && d.host === '127.0.0.1' && d.port === allowed.port));
    t.true(decisions.some((d) => d.decision === 'refused' && d.port === other.port));
    await p.close();
  });
}

t("without a loopback grant a Docker plugin does not reach the host's loopback", async (t) => {
  const server = await loopbackServer(t, 'host');
  const plugin = writePlugin(manifestObject({ name: 'python-noloop', tools: [{ name: 'get', description: 'g', input: { type: 'object' } }] }), {
    'main.py': PY_GET,
  });
  const docker = engine();
  t.teardown(() => docker.close());
  // A network grant for something else: the proxy refuses 127.0.0.1.
  const granted = await docker.load(grantsFor(plugin.dir, undefined, { network: { allow: [{ host: 'example.com', wildcard: false, port: 443 }] } }));
  t.is(JSON.parse((await granted.call('get', JSON.stringify({ url: `http://127.0.0.1:${server.port}/x` }))).output).status, 403);
  await granted.close();
  // No network grant: no proxy, and 127.0.0.1 is the container's own loopback.
  const none = await docker.load(grantsFor(plugin.dir));
  await t.throwsAsync(none.call('get', JSON.stringify({ url: `http://127.0.0.1:${server.port}/x` })), { message: /Connection refused|Errno 111/ });
  await none.close();
  t.is(server.connections, 0);
});
