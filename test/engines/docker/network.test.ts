/**
 * A network grant in Docker: the plugin reaches allowlisted host:port
 * through the egress proxy and nothing else: not another port, not the
 * same server directly, not the host's own services. Destinations are local
 * servers on the Docker bridge's host address (our own test hosts).
 */
import test, { type ExecutionContext } from 'ava';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Docker from 'dockerode';
import { OWNER } from '../../../src/engines/docker/container.ts';
import { isAirlockError } from '../../../src/errors.ts';
import type { EgressDecision } from '../../../src/egress/index.ts';
import { manifestObject, writePlugin } from '../../helpers/plugin.ts';
import { DOCKER, engine, grantsFor } from './helpers.ts';

const t = DOCKER ? test : test.skip;

interface Local {
  server: Server;
  port: number;
  /** TCP connections accepted, whatever came of them. */
  connections: number;
}

async function localServer(host: string, name: string): Promise<Local> {
  const server = createServer((_req, res) => res.end(`hello from ${name}`));
  const local: Local = { server, port: 0, connections: 0 };
  server.on('connection', () => {
    local.connections++;
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  local.port = (server.address() as AddressInfo).port;
  return local;
}

async function bridgeGateway(): Promise<string | undefined> {
  // The host's address on the default bridge (docker0). Older daemons list only the subnet; the
  // bridge then has the subnet's first address (dockerd's default without --bip).
  const bridge = (await new Docker().getNetwork('bridge').inspect()) as { IPAM: { Config: { Gateway?: string; Subnet?: string }[] } };
  const config = bridge.IPAM.Config.find((c) => c.Gateway !== undefined || c.Subnet?.includes('.') === true);
  return config?.Gateway ?? config?.Subnet?.replace(/\.0\/\d+$/, '.1');
}

/** An allowed and a forbidden server on Docker's bridge gateway, closed when the test ends. */
async function destinations(t: ExecutionContext) {
  const gateway = await bridgeGateway();
  if (gateway === undefined) return undefined;
  const allowed = await localServer(gateway, 'allowed');
  const forbidden = await localServer(gateway, 'forbidden');
  t.teardown(() => {
    allowed.server.close();
    forbidden.server.close();
  });
  return { gateway, allowed, forbidden };
}

t('a python plugin goes through the proxy with plain HTTP requests (absolute form) too', async (t) => {
  const scene = await destinations(t);
  if (scene === undefined) return t.fail('the default bridge has no IPv4 address');
  const { gateway, allowed, forbidden } = scene;
  const plugin = writePlugin(manifestObject({ name: 'python-net', tools: [{ name: 'get', description: 'g', input: { type: 'object' } }] }), {
    'main.py':
      'import urllib.request, urllib.error\n\ndef get(input):\n    try:\n        with urllib.request.urlopen(input["url"], timeout=5) as r:\n            return {"status": r.status, "body": r.read().decode()}\n    except urllib.error.HTTPError as e:\n        return {"status": e.code}\n',
  });
  const decisions: EgressDecision[] = [];
  const docker = engine({ onEgress: (_plugin, d) => decisions.push(d) });
  t.teardown(() => docker.close());
  const p = await docker.load(grantsFor(plugin.dir, undefined, { network: { allow: [{ host: gateway, wildcard: false, port: allowed.port }] } }));
  t.deepEqual(JSON.parse((await p.call('get', JSON.stringify({ url: `http://${gateway}:${allowed.port}/x` }))).output), {
    status: 200,
    body: 'hello from allowed',
  });
  t.deepEqual(JSON.parse((await p.call('get', JSON.stringify({ url: `http://${gateway}:${forbidden.port}/x` }))).output), { status: 403 });
  t.is(forbidden.connections, 0);
  t.true(decisions.some((d) => d.decision === 'allowed' && d.kind === 'http'));
  await p.close();
});

t('only the allowlisted host:port is reachable, through the proxy; refusals are reported', async (t) => {
  const scene = await destinations(t);
  if (scene === undefined) return t.fail('the default bridge has no IPv4 address');
  const { gateway, allowed, forbidden } = scene;
  const decisions: EgressDecision[] = [];
  const docker = engine({ onEgress: (_plugin, d) => decisions.push(d) });
  t.teardown(() => docker.close());
  const grants = grantsFor('node-net', undefined, { network: { allow: [{ host: gateway, wildcard: false, port: allowed.port }] } });
  const p = await docker.load(grants);

  const ok = await p.call('fetch', JSON.stringify({ url: `http://${gateway}:${allowed.port}/` }));
  t.deepEqual(JSON.parse(ok.output), { status: 200, body: 'hello from allowed' });

  const refused = await t.throwsAsync(p.call('fetch', JSON.stringify({ url: `http://${gateway}:${forbidden.port}/` })));
  t.true(isAirlockError(refused, 'plugin-error'), String(refused));
  // Straight to the server, bypassing the proxy: no route.
  const direct = await t.throwsAsync(p.call('tcp', JSON.stringify({ host: gateway, port: forbidden.port })));
  t.true(isAirlockError(direct, 'plugin-error'), String(direct));
  t.is(forbidden.connections, 0, 'the forbidden server never saw a connection');

  // The proxy container is hardened like plugin containers; the plugin's network is internal and has no host address.
  const client = new Docker();
  const [proxy] = await client.listContainers({
    filters: JSON.stringify({ label: ['airlock.role=egress-proxy', 'airlock.plugin=node-net', `airlock.owner=${OWNER}`] }),
  });
  if (proxy === undefined) return t.fail('no egress proxy container');
  const info = await client.getContainer(proxy.Id).inspect();
  t.true(info.HostConfig.ReadonlyRootfs);
  t.deepEqual(info.HostConfig.CapDrop, ['ALL']);
  t.deepEqual(info.HostConfig.SecurityOpt, ['no-new-privileges:true']);
  t.is(info.Config.User, '10001:10001');
  t.true((info.HostConfig.Memory ?? 0) > 0);
  t.deepEqual(info.Mounts, [], 'the proxy’s code is in its image: nothing of this machine is mounted');
  const internal = Object.keys(info.NetworkSettings.Networks).find((n) => n.startsWith('airlock-egress-node-net-'));
  if (internal === undefined) return t.fail('the proxy is not on the plugin network');
  const net = (await client.getNetwork(internal).inspect()) as { Internal: boolean; Options: Record<string, string> };
  t.true(net.Internal);
  t.is(net.Options['com.docker.network.bridge.inhibit_ipv4'], 'true');

  t.true(decisions.some((d) => d.decision === 'allowed' && d.port === allowed.port));
  t.true(decisions.some((d) => d.decision === 'refused' && d.port === forbidden.port && d.code === 'port-not-allowed'));
  await p.close();
  // close() removes the proxy container and the internal network.
  const left = await client.listNetworks({ filters: JSON.stringify({ name: [`airlock-egress-node-net-`] }) });
  t.false(left.some((n) => n.Name.startsWith('airlock-egress-node-net-') && n.Labels?.['airlock.owner']?.endsWith(`/${process.pid}`)));
});

t('an egress proxy that dies after start fails the calls with engine-unavailable, not a bare ECONNREFUSED', async (t) => {
  const gateway = await bridgeGateway();
  if (gateway === undefined) return t.fail('the default bridge has no IPv4 address');
  const allowed = await localServer(gateway, 'allowed');
  t.teardown(() => allowed.server.close());
  const docker = engine();
  t.teardown(() => docker.close());
  const plugin = writePlugin(
    manifestObject({ name: 'node-net-proxydeath', runtime: 'node', entry: 'index.mjs', tools: [{ name: 'get', description: 'g', input: { type: 'object' } }] }),
    {
      'index.mjs':
        'export async function get({ url }) {\n  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });\n  return { status: res.status };\n}\n',
    },
  );
  const p = await docker.load(grantsFor(plugin.dir, undefined, { network: { allow: [{ host: gateway, wildcard: false, port: allowed.port }] } }));
  const url = JSON.stringify({ url: `http://${gateway}:${allowed.port}/` });
  t.deepEqual(JSON.parse((await p.call('get', url)).output), { status: 200 });
  const client = new Docker();
  const [proxy] = await client.listContainers({
    filters: JSON.stringify({ label: ['airlock.role=egress-proxy', 'airlock.plugin=node-net-proxydeath', `airlock.owner=${OWNER}`] }),
  });
  if (proxy === undefined) return t.fail('no egress proxy container');
  await client.getContainer(proxy.Id).kill({ signal: 'SIGKILL' });
  await client.getContainer(proxy.Id).wait();
  for (let i = 0; i < 2; i++) {
    const err = await t.throwsAsync(p.call('get', url));
    t.true(isAirlockError(err, 'engine-unavailable'), String(err));
    t.regex(err!.message, /egress proxy of node-net-proxydeath has stopped/);
  }
  await p.close();
});
