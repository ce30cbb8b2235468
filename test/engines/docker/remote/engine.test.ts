/**
 * The Docker engine on a daemon reached over TCP with mutual TLS: a TLS
 * terminator on loopback in front of this machine's daemon socket
 * (./tls-daemon.ts), with a CA made here. The engine treats any tcp://
 * daemon as remote, so these tests see what a remote host gets: images
 * built through the API, no bind mount of a local path, read-only grants
 * copied into volumes, read-write grants refused with their reason, the
 * egress proxy from its image.
 */
import test, { type ExecutionContext } from 'ava';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { OWNER } from '../../../../src/engines/docker/container.ts';
import { resolveDaemon } from '../../../../src/engines/docker/daemon.ts';
import { dockerRefusals } from '../../../../src/engines/docker/definition.ts';
import type { DockerEngine } from '../../../../src/engines/docker/index.ts';
import { probeDocker } from '../../../../src/engines/probe.ts';
import { loadPlugin } from '../../../../src/manifest/index.ts';
import { defaultEngineProvider } from '../../../../src/provider/index.ts';
import { AirlockError, isAirlockError } from '../../../../src/errors.ts';
import type { Grants } from '../../../../src/grants/types.ts';
import { DOCKER, engine, FIXTURES, grantsFor } from '../helpers.ts';
import { makePki, mixedClient, startPlainForwarder, startTerminator, tlsEnv, tlsSetting } from './tls-daemon.ts';

const t = DOCKER ? test.serial : test.serial.skip;

const pki = makePki('good');
const other = makePki('other');

/** Every call's outcome, as a caller sees it: the result and logs, or the error's code and message. */
async function outcomes(e: DockerEngine, grants: Grants, calls: [string, unknown][]): Promise<unknown[]> {
  const p = await e.load(grants);
  try {
    const out: unknown[] = [];
    for (const [tool, input] of calls) {
      try {
        const r = await p.call(tool, JSON.stringify(input));
        out.push({ output: JSON.parse(r.output), logs: r.logs });
      } catch (err) {
        out.push(err instanceof AirlockError ? { code: err.code, message: err.message, plugin: err.details?.pluginCode } : String(err));
      }
    }
    return out;
  } finally {
    await p.close();
  }
}

const CALLS: [string, unknown][] = [
  ['echo', { text: 'hello', n: [1, 2] }],
  ['add', { a: 2, b: 40 }],
  ['add', { a: 'x' }],
  ['print', { say: 'hi' }],
  ['fail', { why: 'on purpose' }],
];

/** Every container this process has on the daemon for `plugin`, inspected (the local client sees them: same daemon). */
async function inspectOwn(plugin: string): Promise<Docker.ContainerInspectInfo[]> {
  const local = new Docker();
  const list = await local.listContainers({ all: true, filters: JSON.stringify({ label: [`airlock.plugin=${plugin}`, `airlock.owner=${OWNER}`] }) });
  return Promise.all(list.map((c) => local.getContainer(c.Id).inspect()));
}

function noLocalPath(t: ExecutionContext, info: Docker.ContainerInspectInfo): void {
  t.deepEqual(info.HostConfig.Binds ?? [], [], `${info.Name} has no Binds`);
  t.deepEqual(info.Mounts, [], `${info.Name} mounts nothing`);
}

for (const fixture of ['conformance-node', 'conformance-python']) {
  t(`${fixture} answers over mutual TLS exactly as on the local socket: results, logs and errors; no local path is mounted`, async (t) => {
    const term = await startTerminator(pki);
    t.teardown(() => term.close());
    const remote = engine({ daemon: tlsSetting(term.port, pki.client) });
    const local = engine();
    t.teardown(() => Promise.all([remote.close(), local.close()]));
    const grants = grantsFor(fixture);
    const there = await outcomes(remote, grants, CALLS);
    t.true(term.forwarded > 0, 'the calls went through the TLS terminator');
    t.deepEqual(there, await outcomes(local, grants, CALLS));
    // Sanity of what was compared: a result, a log, a plugin error with its code.
    t.deepEqual((there[1] as { output: unknown }).output, 42);
    t.is((there[4] as { plugin: string }).plugin, 'bad-thing');

    // While loaded on the remote daemon, the containers mount nothing of this machine.
    const p = await remote.load(grants);
    t.teardown(() => p.close());
    const infos = await inspectOwn(fixture);
    t.true(infos.length > 0);
    for (const info of infos) noLocalPath(t, info);
  });
}

t('a network grant on the remote daemon: the egress proxy runs there from its image, nothing bind-mounted, and admits only the allowlist', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const bridge = (await new Docker().getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string; Subnet?: string }[] } };
  const config = bridge.IPAM.Config.find((c) => c.Gateway !== undefined || c.Subnet?.includes('.') === true);
  const gateway = config?.Gateway ?? config?.Subnet?.replace(/\.0\/\d+$/, '.1');
  if (gateway === undefined) return t.fail('the default bridge has no IPv4 address');
  const server = createServer((_q, s) => s.end('hello'));
  await new Promise<void>((r) => server.listen(0, gateway, r));
  t.teardown(() => server.close());
  const port = (server.address() as AddressInfo).port;

  const remote = engine({ daemon: tlsSetting(term.port, pki.client) });
  t.teardown(() => remote.close());
  const p = await remote.load(grantsFor('node-net', undefined, { network: { allow: [{ host: gateway, wildcard: false, port }] } }));
  t.deepEqual(JSON.parse((await p.call('fetch', JSON.stringify({ url: `http://${gateway}:${port}/` }))).output), { status: 200, body: 'hello' });
  const direct = await t.throwsAsync(p.call('tcp', JSON.stringify({ host: gateway, port })));
  t.true(isAirlockError(direct, 'plugin-error'), String(direct));
  const infos = await inspectOwn('node-net');
  t.true(
    infos.some((i) => i.Config.Labels['airlock.role'] === 'egress-proxy'),
    'the proxy is a container on that daemon',
  );
  for (const info of infos) noLocalPath(t, info);
  await p.close();
});

t('a read-only grant on a remote daemon is copied into a volume there: same reads and refused writes as locally, no bind mount', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const remote = engine({ daemon: tlsSetting(term.port, pki.client) });
  const local = engine();
  t.teardown(() => Promise.all([remote.close(), local.close()]));
  const grants = grantsFor('python-fs', { filesystem: [{ path: './data', access: 'read' }] });
  const calls: [string, unknown][] = [
    ['read', { path: '/data/hello.txt' }],
    ['list', { path: '/data' }],
    ['write', { path: '/data/hello.txt', text: 'overwritten' }],
    ['write', { path: '/data/new.txt', text: 'new' }],
  ];
  const there = await outcomes(remote, grants, calls);
  t.deepEqual(there, await outcomes(local, grants, calls));
  t.regex(JSON.stringify(there[0]), /"text":/);
  t.regex(JSON.stringify(there[2]), /Read-only file system/);

  const p = await remote.load(grants);
  t.teardown(() => p.close());
  const [info] = await inspectOwn('python-fs');
  if (info === undefined) return t.fail('no container');
  t.deepEqual(info.HostConfig.Binds ?? [], []);
  t.deepEqual(
    info.Mounts.map((m) => ({ type: m.Type, to: m.Destination, rw: m.RW })),
    [{ type: 'volume', to: '/data', rw: false }],
  );
  const volume = info.Mounts[0]?.Name ?? '';
  await p.close();
  const left = await new Docker()
    .getVolume(volume)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  t.false(left, 'closing the plugin removes its grant volume');
});

t('a read-write grant is refused on a remote daemon with its reason, before anything runs there', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const remote = engine({ daemon: tlsSetting(term.port, pki.client) });
  t.teardown(() => remote.close());
  // The policy accepts unbounded writes on Docker, so only the remote daemon stands in the way.
  const base = grantsFor('python-fs', { filesystem: [{ path: './data', access: 'read-write' }], unboundedWrites: ['docker'] });
  const grants: Grants = { ...base, filesystem: base.filesystem.map((f) => ({ ...f, access: 'read-write' })) };
  const err = await t.throwsAsync(remote.load(grants));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err.message, /filesystem: \/\S+\/python-fs\/data \(granted read-write at \/data\) is a folder of this machine/);
  t.regex(err.message, /is remote.*Run this plugin on a local daemon.*or make the grant read-only/s);
  t.is(await inspectOwn('python-fs').then((i) => i.length), 0, 'no container was created');
  // The selector sees the same refusal (the grants name the daemon, as the host policy's docker: does).
  const refusals = dockerRefusals({ ...grants, docker: tlsSetting(term.port, pki.client) });
  t.true(
    refusals.some((r) => r.includes('is a folder of this machine')),
    refusals.join('\n'),
  );
  t.deepEqual(dockerRefusals(grants), [], 'on the local socket the same grants run');
});

t('a daemon whose certificate another CA signed is refused as untrusted, naming the CA file', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const wrongCa = mixedClient(other, pki); // trusts the other CA only
  const remote = engine({ daemon: tlsSetting(term.port, wrongCa) });
  t.teardown(() => remote.close());
  const err = await t.throwsAsync(remote.load(grantsFor('conformance-node')));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err.message, /the daemon's TLS certificate is not trusted/);
  t.true(err.message.includes(`${wrongCa}/ca.pem`), err.message);
  t.is(term.forwarded, 0);
  const probe = await probeDocker({ env: tlsEnv(term.port, wrongCa), timeoutMs: 10_000 });
  t.false(probe.available);
  t.regex(probe.reason ?? '', /not trusted/);
});

t('a client certificate the daemon does not trust is refused at the handshake, naming the certificate', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const untrusted = mixedClient(pki, other); // trusts the daemon, but presents the other CA's client certificate
  const remote = engine({ daemon: tlsSetting(term.port, untrusted) });
  t.teardown(() => remote.close());
  const err = await t.throwsAsync(remote.load(grantsFor('conformance-node')));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err.message, /refused the TLS handshake/);
  t.true(err.message.includes(`${untrusted}/cert.pem`), err.message);
  t.is(term.forwarded, 0);
  t.true(term.refused > 0);
});

t('plain TCP is refused unless explicitly accepted; accepted, the plugin runs there', async (t) => {
  const plain = await startPlainForwarder();
  t.teardown(() => plain.close());
  const host = `tcp://127.0.0.1:${plain.port}`;
  const refused = engine({ daemon: { host } });
  const err = await t.throwsAsync(refused.load(grantsFor('conformance-node')));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err.message, /plain TCP without TLS.*AIRLOCK_DOCKER_INSECURE=1/s);
  t.is(plain.forwarded, 0, 'nothing was sent over plain TCP');
  const probe = await probeDocker({ env: { DOCKER_HOST: host } });
  t.false(probe.available);
  t.regex(probe.reason ?? '', /plain TCP without TLS/);

  const accepted = engine({ daemon: { host, insecure: true } });
  t.teardown(() => accepted.close());
  const p = await accepted.load(grantsFor('conformance-node'));
  t.teardown(() => p.close());
  t.is(JSON.parse((await p.call('add', JSON.stringify({ a: 1, b: 2 }))).output), 3);
  t.true(plain.forwarded > 0);
  t.true(resolveDaemon(undefined, { DOCKER_HOST: host, AIRLOCK_DOCKER_INSECURE: '1' }).remote);
});

t('the daemon a host policy names is the one the selector probes: with no local daemon answering, the plugin runs there', async (t) => {
  const term = await startTerminator(pki);
  t.teardown(() => term.close());
  const unavailable = { available: false, reason: 'no daemon on the local socket (test)' };
  const provider = defaultEngineProvider({
    probes: {
      wasm: { engine: 'wasm', available: true },
      wasmtime: { engine: 'wasmtime', ...unavailable },
      docker: { engine: 'docker', ...unavailable },
      kubernetes: { engine: 'kubernetes', ...unavailable },
    },
  });
  t.teardown(() => provider.close());
  const plugin = loadPlugin(join(FIXTURES, 'conformance-node'));
  const grants = grantsFor('conformance-node');
  const local = await t.throwsAsync(provider.open(plugin, grants, 'auto'));
  t.true(isAirlockError(local, 'engine-unavailable'), String(local));
  const opened = await provider.open(plugin, { ...grants, docker: tlsSetting(term.port, pki.client) }, 'auto');
  t.teardown(() => opened.instance.close());
  t.is(opened.engine, 'docker');
  t.is(JSON.parse((await opened.instance.call('add', JSON.stringify({ a: 20, b: 22 }))).output), 42);
  t.true(term.forwarded > 0);
});
