/**
 * A plugin's network on a real cluster (test/cluster/) that enforces NetworkPolicy (kube-router's firewall,
 * test/cluster/network-policy.ts): the objects preparePodNetwork makes, read back from the API server; a Pod
 * with the plugin's labels and the returned environment reaching a granted address through the egress proxy
 * Pod, a refused one named in the proxy's refusal, its direct connections dropped, the decisions arriving as
 * egress events; and close() removing everything. The target is an HTTP server on the cluster's own bridge (a
 * network the test creates). The proxy runs from a Node image pushed to a registry on loopback. Scripts run in
 * the Pods by exec once the firewall has the Pod's rules, so no connection races the rules.
 */
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { createServer, type Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, Exec, KubeConfig, NetworkingV1Api, type V1Pod, type V1Status } from '@kubernetes/client-node';
import test from 'ava';
import type { EgressDecision } from '../../../src/egress/index.ts';
import type { EngineEvent } from '../../../src/engines/engine.ts';
import { preparePodNetwork } from '../../../src/engines/kubernetes/network.ts';
import type { KubernetesSetting } from '../../../src/grants/types.ts';
import { type Cluster, findClusterTools, PAUSE_IMAGE, startCluster } from '../../cluster/cluster.ts';
import { type Enforcement, enforceNetworkPolicy, findKubeRouter } from '../../cluster/network-policy.ts';
import { makeGrants } from '../../helpers/grants.ts';
import { requireExternal } from '../../helpers/require.ts';
import { haveRegistry, startRegistry, type TestRegistry } from '../../trust/oci/registry.ts';
import { pushNodeImage } from './node-image.ts';

const found = findClusterTools();
const router = findKubeRouter();
const available =
  requireExternal('cluster', 'tools' in found && 'bin' in router, 'missing' in found ? found.missing : 'missing' in router ? router.missing : '') &&
  requireExternal('registry', haveRegistry, 'docker-registry missing');
const serial = available ? test.serial : test.skip;
const NS = 'default';
/** Bounds only, for a busy machine. */
const POD_TIMEOUT_MS = 5 * 60_000;

let cluster: Cluster | undefined;
let enforcement: Enforcement | undefined;
let registry: TestRegistry | undefined;
let image = '';
let kc: KubeConfig;
let core: CoreV1Api;
let networking: NetworkingV1Api;
/** The cluster bridge's own address, where the target servers listen. */
let gateway = '';
let target: Server | undefined;
let targetPort = 0;
/** Remote addresses that reached the target. */
const seen: string[] = [];

if (available && 'tools' in found && 'bin' in router) {
  const tools = found.tools;
  test.before(async (t) => {
    t.timeout(20 * 60_000);
    registry = await startRegistry();
    const pushed = Date.now();
    image = await pushNodeImage(registry.host);
    t.log(`Node image pushed in ${Date.now() - pushed} ms`);
    cluster = await startCluster(tools);
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    core = kc.makeApiClient(CoreV1Api);
    networking = kc.makeApiClient(NetworkingV1Api);
    // Exec needs the Node's address, which the kubelet will not report for loopback (test/cluster sets it too).
    const node = await core.readNode({ name: cluster.nodeName });
    if ((node.status?.addresses ?? []).length === 0)
      await core.patchNodeStatus({
        name: cluster.nodeName,
        body: [{ op: 'add', path: '/status/addresses', value: [{ type: 'InternalIP', address: '127.0.0.1' }] }],
      });
    const enforcing = Date.now();
    enforcement = await enforceNetworkPolicy(cluster, router.bin);
    t.log(`kube-router enforcing in ${Date.now() - enforcing} ms`);
    // The bridge gets its address with the first Pod: a pause Pod brings it up.
    await runPod(pausePod('bridge-up'), 'Running');
    gateway = bridgeAddress(cluster.bridge);
    target = createServer((req, res) => {
      seen.push(req.socket.remoteAddress ?? '');
      res.end(`target saw ${req.url}`);
    });
    target.listen(0, gateway);
    await once(target, 'listening');
    targetPort = (target.address() as { port: number }).port;
  });
  test.after.always(async () => {
    // The proxy's kept-alive connections would outlive its Pod (no FIN from a deleted veth) and hold the worker.
    target?.closeAllConnections();
    target?.close();
    await enforcement?.stop();
    await cluster?.stop();
    await registry?.stop();
  });
}

function setting(): KubernetesSetting {
  return { kubeconfig: cluster?.kubeconfig ?? '', namespace: NS, registry: registry?.host ?? '', networkPolicy: 'enforced' };
}

function bridgeAddress(bridge: string): string {
  const a = networkInterfaces()[bridge]?.find((i) => i.family === 'IPv4');
  if (a === undefined) throw new Error(`bridge ${bridge} has no IPv4 address`);
  return a.address;
}

const hardening = {
  runAsNonRoot: true,
  runAsUser: 10001,
  readOnlyRootFilesystem: true,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

function pausePod(name: string): V1Pod {
  return {
    metadata: { name, labels: { 'airlock.test': 'network' } },
    spec: {
      automountServiceAccountToken: false,
      containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'Never', securityContext: hardening }],
    },
  };
}

/** A Pod standing in for a plugin's: its labels and the network's env; it idles until scripts are exec'd in it. */
function clientPod(name: string, labels: Record<string, string>, env: Record<string, string>): V1Pod {
  return {
    metadata: { name, labels },
    spec: {
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      containers: [
        {
          name: 'client',
          image,
          command: ['node', '-e', 'setInterval(() => {}, 1 << 30)'],
          env: Object.entries(env).map(([k, v]) => ({ name: k, value: v })),
          securityContext: hardening,
        },
      ],
    },
  };
}

async function runPod(body: V1Pod, until: 'Running' | 'Succeeded'): Promise<V1Pod> {
  const name = body.metadata?.name ?? '';
  await core.createNamespacedPod({ namespace: NS, body });
  const deadline = Date.now() + POD_TIMEOUT_MS;
  for (;;) {
    const pod = await core.readNamespacedPod({ namespace: NS, name });
    const phase = pod.status?.phase;
    if (phase === until || (until === 'Succeeded' && phase === 'Failed')) return pod;
    if (phase === 'Failed' || Date.now() > deadline) throw new Error(`Pod ${name}: ${JSON.stringify(pod.status)}`);
    await sleep(250);
  }
}

/** Waits (bounded) until the firewall has rules for each of these Pod addresses. */
async function firewallHas(ips: string[]): Promise<void> {
  const deadline = Date.now() + POD_TIMEOUT_MS;
  for (;;) {
    const rules = execFileSync('iptables', ['-w', '-t', 'filter', '-S', 'KUBE-ROUTER-FORWARD'], { encoding: 'utf8' });
    if (ips.every((ip) => rules.includes(`${ip}/32`) || rules.includes(` ${ip} `))) return;
    if (Date.now() > deadline) throw new Error(`kube-router has no rules for ${ips.join(', ')}:\n${rules}\n${enforcement?.log().slice(-2000)}`);
    await sleep(250);
  }
}

/** Runs a Node ES module script in the Pod by exec and returns the JSON it prints. */
async function execScript(pod: string, script: string): Promise<Record<string, unknown>> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void): Writable => new Writable({ write: (c: Buffer, _e, done) => (f(c.toString('utf8')), done()) });
  const status = await new Promise<V1Status>((resolve, reject) => {
    new Exec(kc)
      .exec(
        NS,
        pod,
        'client',
        ['node', '--input-type=module', '-e', script],
        sink((s) => (out += s)),
        sink((s) => (err += s)),
        null,
        false,
        resolve,
      )
      .catch(reject);
  });
  try {
    return JSON.parse(out.trim().split('\n').at(-1) ?? '') as Record<string, unknown>;
  } catch {
    throw new Error(`exec in ${pod} printed no result (${status.status}):\n${out}\n${err}`);
  }
}

const DIRECT = `
import { connect } from 'node:net';
const direct = (host, port) => new Promise((resolve) => {
  const s = connect({ host, port, timeout: 20000 });
  s.on('connect', () => { s.destroy(); resolve('connected'); });
  s.on('timeout', () => { s.destroy(); resolve('timeout'); });
  s.on('error', (e) => resolve(e.code));
});
`;

/** Objects of one owner, by kind. */
async function owned(owner: string): Promise<{ policies: string[]; pods: string[]; configMaps: string[] }> {
  const labelSelector = `airlock.dev/owner=${owner}`;
  const names = (l: { items: { metadata?: { name?: string } }[] }): string[] => l.items.map((i) => i.metadata?.name ?? '').sort();
  return {
    policies: names(await networking.listNamespacedNetworkPolicy({ namespace: NS, labelSelector })),
    pods: names(await core.listNamespacedPod({ namespace: NS, labelSelector })),
    configMaps: names(await core.listNamespacedConfigMap({ namespace: NS, labelSelector })),
  };
}

const FETCH = `
import { request } from 'node:http';
const get = (url) => fetch(url, { signal: AbortSignal.timeout(60000) }).then(async (r) => ({ status: r.status, body: await r.text() }), (e) => ({ error: String(e.cause ?? e) }));
// node:http under NODE_USE_ENV_PROXY sends an absolute-form request to HTTP_PROXY: the proxy's answer as is.
const viaProxy = (url) => new Promise((resolve) => {
  const req = request(url, { timeout: 60000 }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve({ status: res.statusCode, code: res.headers['x-airlock-egress'], body }));
  });
  req.on('error', (e) => resolve({ error: e.code ?? String(e) }));
  req.end();
});
`;

serial(
  'without a network grant, one policy selects the plugin Pods with no rule in either direction, the cluster drops their connections, and close() removes it',
  async (t) => {
    t.timeout(5 * 60_000);
    const ownerLabels = { 'airlock.dev/owner': 'deny1' };
    const podLabels = { 'airlock.dev/pod-set': 'deny1' };
    const net = await preparePodNetwork({ kubeconfig: kc, setting: setting(), grants: makeGrants({ plugin: { name: 'deny1' } }), podLabels, ownerLabels });
    t.deepEqual(net.env, {});
    const made = await owned('deny1');
    t.deepEqual(made, { policies: ['airlock-deny-deny1'], pods: [], configMaps: [] });
    const p = await networking.readNamespacedNetworkPolicy({ namespace: NS, name: 'airlock-deny-deny1' });
    t.deepEqual(p.spec?.podSelector?.matchLabels, podLabels);
    t.deepEqual(p.spec?.policyTypes, ['Ingress', 'Egress']);
    t.deepEqual(p.spec?.ingress ?? [], []);
    t.deepEqual(p.spec?.egress ?? [], []);
    const pod = await runPod(clientPod('client-deny1', podLabels, {}), 'Running');
    const ip = pod.status?.podIP ?? '';
    await firewallHas([ip]);
    const out = await execScript('client-deny1', `${DIRECT}\nconsole.log(JSON.stringify({ direct: await direct('${gateway}', ${targetPort}) }));`);
    t.not(out.direct, 'connected', `the Pod's direct connection was not dropped: ${String(out.direct)}`);
    t.false(seen.includes(ip), 'the target never saw the Pod');
    await core.deleteNamespacedPod({ namespace: NS, name: 'client-deny1', gracePeriodSeconds: 0 });
    await net.close();
    t.deepEqual(await owned('deny1'), { policies: [], pods: [], configMaps: [] });
  },
);

serial(
  'with a network grant, a plugin Pod reaches the granted address only through the proxy Pod, other hosts are refused by name, no other Pod reaches the proxy, and each decision is an egress event',
  async (t) => {
    t.timeout(15 * 60_000);
    const ownerLabels = { 'airlock.dev/owner': 'net1' };
    const podLabels = { 'airlock.dev/pod-set': 'net1', 'airlock.dev/owner': 'net1' };
    const events: EngineEvent[] = [];
    const grants = makeGrants({ plugin: { name: 'net1' }, network: { allow: [{ host: gateway, wildcard: false, port: targetPort }] } });
    const started = Date.now();
    const net = await preparePodNetwork({
      kubeconfig: kc,
      setting: setting(),
      grants,
      podLabels,
      ownerLabels,
      proxyImage: image,
      onEvent: (e) => events.push(e),
    });
    t.log(`proxy Pod ready (created, image pulled, listening): ${Date.now() - started} ms`);
    try {
      t.regex(net.env.HTTP_PROXY ?? '', /^http:\/\/10\.88\.\d+\.\d+:3128$/);
      t.is(net.env.HTTPS_PROXY, net.env.HTTP_PROXY);
      t.is(net.env.NODE_USE_ENV_PROXY, '1');
      const made = await owned('net1');
      t.is(made.policies.length, 2, 'the plugin route and the proxy policy');
      t.is(made.pods.length, 1, 'the proxy Pod');
      t.is(made.configMaps.length, 1, "the proxy's code");
      const pod = await runPod(clientPod('client-net1', podLabels, net.env), 'Running');
      const ip = pod.status?.podIP ?? '';
      const proxyIp = new URL(net.env.HTTP_PROXY ?? '').hostname;
      await firewallHas([ip, proxyIp]);
      const out = await execScript(
        'client-net1',
        `${FETCH}${DIRECT}
const allowed = await get('http://${gateway}:${targetPort}/granted');
const otherPort = await viaProxy('http://${gateway}:${targetPort + 1}/other');
const name = await viaProxy('http://blocked.example/');
console.log(JSON.stringify({ allowed, otherPort, name, direct: await direct('${gateway}', ${targetPort}) }));`,
      );
      await core.deleteNamespacedPod({ namespace: NS, name: 'client-net1', gracePeriodSeconds: 0 });
      // A Pod that is not the plugin's (no policy limits its own egress) cannot use the plugin's proxy.
      await runPod(clientPod('stranger-net1', { 'airlock.test': 'stranger' }, {}), 'Running');
      const stranger = await execScript('stranger-net1', `${DIRECT}\nconsole.log(JSON.stringify({ direct: await direct('${proxyIp}', 3128) }));`);
      await core.deleteNamespacedPod({ namespace: NS, name: 'stranger-net1', gracePeriodSeconds: 0 });
      t.not(stranger.direct, 'connected', "another Pod's connection to the proxy is dropped");
      t.not(out.direct, 'connected', 'a direct connection, around the proxy, is dropped');
      t.false(seen.includes(ip), 'the target saw the proxy, never the plugin Pod');
      t.true(seen.includes(proxyIp));
      t.deepEqual(out.allowed, { status: 200, body: 'target saw /granted' });
      // The plugin gets the proxy's refusal, naming what was refused and why.
      const otherPort = out.otherPort as { status: number; code: string; body: string };
      t.like(otherPort, { status: 403, code: 'port-not-allowed' });
      t.true(otherPort.body.includes(`port ${targetPort + 1} is not granted for ${gateway}`), otherPort.body);
      const name = out.name as { status: number; code: string; body: string };
      t.like(name, { status: 403, code: 'host-not-allowed' });
      t.true(name.body.includes("blocked.example is not on the plugin's network allowlist"), name.body);
      // The decisions come from the proxy's log stream: wait for them (bounded).
      const deadline = Date.now() + 60_000;
      while (events.length < 3 && Date.now() < deadline) await sleep(100);
      const decisions = events.filter((e): e is { type: 'egress'; plugin: string; decision: EgressDecision } => e.type === 'egress');
      t.deepEqual(
        decisions.map((e) => [e.plugin, e.decision.decision, e.decision.host, e.decision.port]),
        [
          ['net1', 'allowed', gateway, targetPort],
          ['net1', 'refused', gateway, targetPort + 1],
          ['net1', 'refused', 'blocked.example', 80],
        ],
      );
      t.deepEqual(
        decisions.map((e) => e.decision).flatMap((d) => (d.decision === 'refused' ? [d.code] : [])),
        ['port-not-allowed', 'host-not-allowed'],
      );
      // The proxy's code is owned by its Pod, so deleting the Pod (the orphan clean-up does) deletes it too.
      const cm = await core.readNamespacedConfigMap({ namespace: NS, name: made.configMaps[0] ?? '' });
      t.deepEqual(
        cm.metadata?.ownerReferences?.map((r) => [r.kind, r.name]),
        [['Pod', made.pods[0]]],
      );
      t.is(net.failure?.(), undefined, 'no failure while the proxy runs');
    } finally {
      await net.close();
    }
    const deadline = Date.now() + POD_TIMEOUT_MS;
    while ((await owned('net1')).pods.length > 0 && Date.now() < deadline) await sleep(250);
    t.deepEqual(await owned('net1'), { policies: [], pods: [], configMaps: [] }, 'close() removed the policies, the proxy Pod and its ConfigMap');
  },
);

serial('an aborted load leaves no policy, proxy Pod or ConfigMap behind', async (t) => {
  t.timeout(5 * 60_000);
  const grants = makeGrants({ plugin: { name: 'abort1' }, network: { allow: [{ host: gateway, wildcard: false, port: targetPort }] } });
  const labels = { 'airlock.dev/owner': 'abort1' };
  await t.throwsAsync(
    preparePodNetwork({ kubeconfig: kc, setting: setting(), grants, podLabels: labels, ownerLabels: labels, proxyImage: image, signal: AbortSignal.abort() }),
    { name: 'AbortError' },
  );
  const deadline = Date.now() + POD_TIMEOUT_MS;
  while ((await owned('abort1')).pods.length > 0 && Date.now() < deadline) await sleep(250);
  t.deepEqual(await owned('abort1'), { policies: [], pods: [], configMaps: [] });
});

serial('a proxy image the cluster cannot pull fails the load at once, naming the image, and leaves nothing behind', async (t) => {
  t.timeout(5 * 60_000);
  const grants = makeGrants({ plugin: { name: 'pull1' }, network: { allow: [{ host: gateway, wildcard: false, port: targetPort }] } });
  const labels = { 'airlock.dev/owner': 'pull1' };
  const missing = `${registry?.host}/airlock-test/absent:v1`;
  const error = await t.throwsAsync(
    preparePodNetwork({ kubeconfig: kc, setting: setting(), grants, podLabels: labels, ownerLabels: labels, proxyImage: missing }),
  );
  t.is((error as { code?: string }).code, 'engine-unavailable');
  t.regex(error?.message ?? '', /egress proxy of pull1 stopped before it was ready: (ErrImagePull|ImagePullBackOff)/);
  t.regex(error?.message ?? '', /absent/);
  const deadline = Date.now() + POD_TIMEOUT_MS;
  while ((await owned('pull1')).pods.length > 0 && Date.now() < deadline) await sleep(250);
  t.deepEqual(await owned('pull1'), { policies: [], pods: [], configMaps: [] });
});

serial('a proxy Pod that goes away under a loaded plugin is reported as its stopped egress proxy', async (t) => {
  t.timeout(5 * 60_000);
  const grants = makeGrants({ plugin: { name: 'gone1' }, network: { allow: [{ host: gateway, wildcard: false, port: targetPort }] } });
  const labels = { 'airlock.dev/owner': 'gone1' };
  const net = await preparePodNetwork({ kubeconfig: kc, setting: setting(), grants, podLabels: labels, ownerLabels: labels, proxyImage: image });
  try {
    const [pod] = (await owned('gone1')).pods;
    await core.deleteNamespacedPod({ namespace: NS, name: pod ?? '', gracePeriodSeconds: 0 });
    const deadline = Date.now() + POD_TIMEOUT_MS;
    while (net.failure?.() === undefined && Date.now() < deadline) await sleep(250);
    t.is(net.failure?.()?.code, 'engine-unavailable');
    t.regex(net.failure?.()?.message ?? '', /the egress proxy of gone1 has stopped .*; the plugin has no network until it is loaded again/);
  } finally {
    await net.close();
  }
  t.deepEqual((await owned('gone1')).policies, [], 'close() still removes the policies');
});
