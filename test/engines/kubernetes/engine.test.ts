/**
 * The Kubernetes engine end to end on a real cluster (API server, scheduler, kubelet, containerd, runc):
 * images built by the Docker engine, pushed to a loopback registry and pulled by digest; the node and
 * python conformance fixtures answer, fail and log as on Docker; the admitted Pod carries every hardening
 * field; a timed-out, aborted or crashed call's Pod is replaced; close leaves no Pod; refusals name why.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { EngineEvent } from '../../../src/engines/engine.ts';
import { isAirlockError } from '../../../src/errors.ts';
import { KubernetesEngine } from '../../../src/engines/kubernetes/engine.ts';
import { cleanupOrphans } from '../../../src/engines/kubernetes/orphans.ts';
import { PAUSE_IMAGE } from '../../cluster/cluster.ts';
import { POD_PIDS_LIMIT } from '../../cluster/config.ts';
import { makeCa } from '../../helpers/ca.ts';
import { cli } from '../../helpers/cli.ts';
import { tempDir } from '../../helpers/plugin.ts';
import { requireExternal } from '../../helpers/require.ts';
import { FIXTURES } from '../docker/helpers.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
import { bridgeAddress, CLUSTER_MISSING, clusterGrants, NAMESPACE, podsOf, startTestCluster, type TestCluster } from './helpers.ts';
import { forgeriesStayThePlugins } from '../../helpers/forge.ts';

const available = requireExternal('cluster', CLUSTER_MISSING === '', CLUSTER_MISSING);
const serial = available ? test.serial : test.skip;
let tc: TestCluster | undefined;
let engine: KubernetesEngine | undefined;

if (available) {
  test.before(async (t) => {
    t.timeout(15 * 60_000);
    tc = await startTestCluster();
    engine = new KubernetesEngine();
  });
  test.after.always(async () => {
    await engine?.close();
    await tc?.stop();
  });
}

function ready(): { tc: TestCluster; engine: KubernetesEngine } {
  if (tc === undefined || engine === undefined) throw new Error('no cluster');
  return { tc, engine };
}

for (const fixture of ['conformance-node', 'conformance-python']) {
  serial(`${fixture} answers echo, tool errors, logs and not-found as on Docker, from warm Pods`, async (t) => {
    t.timeout(10 * 60_000);
    const { tc, engine } = ready();
    const p = await engine.load(clusterGrants(tc, fixture));
    t.teardown(() => p.close());
    const echo = await p.call('echo', JSON.stringify({ text: 'line\nbreak "quoted" ✓', list: [1, null] }));
    t.deepEqual(JSON.parse(echo.output), { text: 'line\nbreak "quoted" ✓', list: [1, null] });
    t.is(echo.metrics.engine, 'kubernetes');
    t.deepEqual(JSON.parse((await p.call('add', JSON.stringify({ a: 2, b: 3 }))).output), 5);
    const printed = await p.call('print', JSON.stringify({ n: 1 }));
    t.is(printed.logs.stdout, '{"n":1}\n');
    t.is(printed.logs.stderr, 'err:{"n":1}\n');
    const failed = await t.throwsAsync(p.call('fail', JSON.stringify({ why: 'x' })));
    t.true(isAirlockError(failed, 'plugin-error'), String(failed));
    t.is(isAirlockError(failed) ? failed.details.pluginCode : undefined, 'bad-thing');
    const missing = await t.throwsAsync(p.call('nope', '{}'));
    t.true(isAirlockError(missing, 'not-found'), String(missing));
    // The same warm Pod served every call (a tool error leaves it healthy).
    t.is(JSON.parse((await p.call('count', '{}')).output), 1);
    t.is(JSON.parse((await p.call('count', '{}')).output), 2);
  });
}

serial(
  '`airlock call --engine kubernetes` runs the node and the python plugin on the cluster the policy names, with the same results and errors',
  async (t) => {
    t.timeout(10 * 60_000);
    const { tc } = ready();
    const policy = policyFile(tc);
    for (const fixture of ['conformance-node', 'conformance-python']) {
      const ok = await cli(['call', join(FIXTURES, fixture), 'echo', '{"via":"cli"}', '--engine', 'kubernetes', '--policy', policy]);
      t.is(ok.code, 0, ok.stderr);
      t.deepEqual(JSON.parse(ok.stdout), { via: 'cli' });
      const failed = await cli(['call', join(FIXTURES, fixture), 'fail', '{}', '--engine', 'kubernetes', '--policy', policy]);
      t.not(failed.code, 0);
      t.regex(failed.stderr, /bad-thing/);
    }
  },
);

/** A policy file naming the test cluster. */
function policyFile(tc: TestCluster): string {
  const policy = join(tempDir('airlock-k8s-policy-'), 'policy.yaml');
  const { kubeconfig, namespace, registry } = tc.setting;
  writeFileSync(policy, `kubernetes:\n  kubeconfig: ${kubeconfig}\n  namespace: ${namespace}\n  registry: "${registry}"\n  networkPolicy: enforced\n`);
  return policy;
}

/** `airlock serve` of the node and python conformance fixtures with `flags`: the tool count, then each call's result as an MCP client sees it. */
async function serveResults(flags: string[]): Promise<unknown[]> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(ROOT, 'src/cli/main.ts'), 'serve', ...flags, join(FIXTURES, 'conformance-node'), join(FIXTURES, 'conformance-python')],
    cwd: ROOT,
    env: Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined)),
    stderr: 'pipe',
  });
  const client = new Client({ name: 'kubernetes-test', version: '1.0.0' });
  await client.connect(transport);
  try {
    const out: unknown[] = [(await client.listTools()).tools.length];
    for (const name of ['conformance-node_add', 'conformance-python_add', 'conformance-node_fail', 'conformance-python_fail']) {
      const args = name.endsWith('_add') ? { a: 20, b: 22 } : { why: 'on purpose' };
      const r = (await client.callTool({ name, arguments: args }, undefined, { timeout: 600_000 })) as CallToolResult;
      // What a client acts on; the metadata names the engine and its timings, which differ.
      out.push({ content: r.content, isError: r.isError ?? false, structured: r.structuredContent });
    }
    return out;
  } finally {
    await client.close();
  }
}

serial(
  '`airlock serve --engine kubernetes` serves the node and the python plugin from the cluster, with the same MCP results and errors as on Docker',
  async (t) => {
    t.timeout(15 * 60_000);
    const { tc } = ready();
    const onCluster = await serveResults(['--engine', 'kubernetes', '--policy', policyFile(tc)]);
    t.deepEqual(onCluster, await serveResults(['--engine', 'docker']));
    const [, nodeAdd, pythonAdd, nodeFail] = onCluster as { content: { text: string }[]; isError: boolean }[];
    t.is(nodeAdd?.content[0]?.text, '42');
    t.is(pythonAdd?.content[0]?.text, '42');
    t.true(nodeFail?.isError);
  },
);

serial(
  'a network grant: the plugin reaches the granted address only through its egress proxy Pod; another port or name is refused, and each decision is an egress event',
  async (t) => {
    t.timeout(10 * 60_000);
    const { tc, engine } = ready();
    const bridge = await bridgeAddress(tc);
    t.teardown(() => bridge.stop());
    const gateway = bridge.address;
    const seen: string[] = [];
    const target = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      res.writeHead(204).end();
    });
    target.listen(0, gateway);
    await once(target, 'listening');
    t.teardown(() => {
      target.closeAllConnections();
      target.close();
    });
    const port = (target.address() as AddressInfo).port;
    const events: EngineEvent[] = [];
    const grants = clusterGrants(tc, 'conformance-node', {}, { network: { allow: [{ host: gateway, wildcard: false, port }] } });
    const p = await engine.load(grants, { kind: 'source' }, { onEvent: (e) => events.push(e) });
    t.teardown(() => p.close());
    t.is((await p.call('http', JSON.stringify({ url: `http://${gateway}:${port}/allowed?q=1` }))).output, '"ok:204"');
    t.regex((await p.call('http', JSON.stringify({ url: `http://${gateway}:${port + 1}/other-port` }))).output, /^"denied:/);
    t.regex((await p.call('http', JSON.stringify({ url: `http://localhost:${port}/by-name` }))).output, /^"denied:/);
    t.deepEqual(seen, ['GET /allowed?q=1'], 'only the allowlisted request reached the target');
    const decisions = events.flatMap((e) => (e.type === 'egress' ? [e.decision.decision] : []));
    t.true(decisions.includes('allowed') && decisions.includes('refused'), JSON.stringify(decisions));
  },
);

serial('the Pod as the API server admitted it has every hardening field, and runc ran it as the container user', async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  const p = await engine.load(clusterGrants(tc, 'conformance-node'));
  t.teardown(() => p.close());
  await p.call('echo', '{}');
  const [pod, ...more] = await podsOf(tc, await engine.hostIds());
  t.is(more.length, 0, 'one warm Pod (resources.concurrency 1)');
  const spec = pod!.spec!;
  const c = spec.containers[0]!;
  t.is(spec.automountServiceAccountToken, false);
  t.is(spec.enableServiceLinks, false);
  t.falsy(spec.hostNetwork);
  t.falsy(spec.hostPID);
  t.falsy(spec.hostIPC);
  t.is(spec.restartPolicy, 'Never');
  t.true(
    (spec.volumes ?? []).every((v) => v.hostPath === undefined),
    'no hostPath volume',
  );
  t.false(
    (c.volumeMounts ?? []).some((m) => m.mountPath.startsWith('/var/run/secrets')),
    'no service-account token mounted',
  );
  t.like(c.securityContext, {
    runAsNonRoot: true,
    runAsUser: 10001,
    readOnlyRootFilesystem: true,
    allowPrivilegeEscalation: false,
    privileged: false,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  });
  const granted = clusterGrants(tc, 'conformance-node').resources;
  t.deepEqual(c.resources?.limits, { memory: String(granted.memoryBytes), cpu: '1' }, 'as the API server writes the quantities');
  t.deepEqual(c.resources?.requests, c.resources?.limits);
  t.regex(c.image ?? '', /^127\.0\.0\.1:\d+\/airlock-plugin\/conformance-node@sha256:[0-9a-f]{64}$/, 'pulled from the registry by digest');
  const status = pod!.status?.containerStatuses?.[0];
  t.is(status?.user?.linux?.uid, 10001, 'the kubelet reports the process uid');
  t.like(pod!.metadata?.labels, { 'app.kubernetes.io/managed-by': 'airlock', 'airlock.dev/plugin': 'conformance-node' });
});

serial('the plugin sees the granted env only: a host variable not granted is absent', async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  process.env.AIRLOCK_K8S_NOT_GRANTED = 'host-secret-1';
  const p = await engine.load(clusterGrants(tc, 'conformance-node', {}, { env: { GRANTED_NAME: 'granted-value' } }));
  t.teardown(() => p.close());
  const env = JSON.parse((await p.call('dump', '{}')).output) as string[];
  t.true(env.includes('GRANTED_NAME=granted-value'));
  t.false(
    env.some((e) => e.includes('host-secret-1')),
    'no host value that was not granted',
  );
  t.false(
    env.some((e) => e.startsWith('AIRLOCK_')),
    "Airlock's own settings are removed before the plugin loads",
  );
  // Besides the granted name: the image's own (as on Docker), and the `kubernetes` Service's address, which the
  // kubelet gives every container whatever enableServiceLinks says (README: Kubernetes).
  const names = env.map((e) => e.slice(0, e.indexOf('=')));
  const service = names.filter((n) => /^KUBERNETES_(SERVICE|PORT)/.test(n));
  t.deepEqual(names.filter((n) => !service.includes(n)).sort(), ['GRANTED_NAME', 'HOME', 'HOSTNAME', 'LANG', 'NODE_ENV', 'PATH', 'PWD']);
  t.true(service.includes('KUBERNETES_SERVICE_HOST'), 'the kubelet-injected names are as documented');
});

serial("another plugin's granted secret is not visible in a second plugin's Pods, before or after the first used it", async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  for (const fixture of ['conformance-node', 'conformance-python']) {
    const a = await engine.load(clusterGrants(tc, fixture, {}, { env: { MATRIX_A_TOKEN: 'a-secret-7' } }));
    t.teardown(() => a.close());
    const b = await engine.load(clusterGrants(tc, fixture));
    t.teardown(() => b.close());
    t.true((await a.call('dump', '{}')).output.includes('MATRIX_A_TOKEN=a-secret-7'), "A's grant is there to be stolen");
    for (let i = 0; i < 2; i++) {
      const seen = (await b.call('dump', '{}')).output;
      t.false(seen.includes('a-secret-7') || seen.includes('MATRIX_A_TOKEN'), `${fixture}: ${seen}`);
      await a.call('dump', '{}');
    }
    // A Pod asks for a whole CPU: the next runtime's pair fits on the 2-core node once these are gone.
    await Promise.all([a.close(), b.close()]);
  }
});

serial("/proc is the Pod's own: its environment is the grant's and the image's, pid 1 is the pause container, no host process is there", async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  process.env.AIRLOCK_K8S_PROC_SECRET = 'host-secret-2';
  t.teardown(() => delete process.env.AIRLOCK_K8S_PROC_SECRET);
  for (const fixture of ['conformance-node', 'conformance-python']) {
    const p = await engine.load(clusterGrants(tc, fixture, {}, { env: { GRANTED: 'yes' } }));
    t.teardown(() => p.close());
    const read = async (path: string): Promise<string> => (await p.call('read', JSON.stringify({ path }))).output;
    const environ = await read('/proc/self/environ');
    t.regex(environ, /^"ok:/);
    t.true(environ.includes('GRANTED=yes'), 'the granted variable is there');
    t.false(environ.includes('host-secret-2'), 'no host value');
    // The Pod shares its process namespace: pid 1 is its pause container (as Docker's init), not a host process.
    t.regex(await read('/proc/1/cmdline'), /^"ok:\/pause/);
    t.regex(await read(`/proc/${process.pid}/environ`), /^"errno:/, "the host test process's pid is not in the Pod");
    const pids = JSON.parse((await p.call('list', JSON.stringify({ path: '/proc' }))).output) as string;
    t.false(pids.split(',').includes(String(process.pid)));
    await p.close();
  }
});

for (const fixture of ['node-forge', 'python-forge']) {
  serial(`${fixture} on a Pod: host errors forged on the protocol stream are the plugin's errors; the Pod is kept`, async (t) => {
    t.timeout(10 * 60_000);
    const { tc, engine } = ready();
    const p = await engine.load(clusterGrants(tc, fixture));
    t.teardown(() => p.close());
    await forgeriesStayThePlugins(t, p);
    await p.close();
  });
}

/** `fixture`'s `long_line` tool writes protocol lines past the engine bound: each is output-limit, and a fresh Pod answers. */
async function oversizedLines(t: ExecutionContext, fixture: string): Promise<void> {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  // Small limits give a small bound: 6 x (output + logs) + 64 KiB = 76 KiB.
  const grants = clusterGrants(tc, fixture);
  const p = await engine.load({ ...grants, resources: { ...grants.resources, outputBytes: 1024, logBytes: 1024 } });
  t.teardown(() => p.close());
  for (const bytes of [80 * 1024, 4 * 1024 * 1024]) {
    const err = await t.throwsAsync(p.call('long_line', JSON.stringify({ bytes })));
    t.true(isAirlockError(err, 'output-limit'), `${bytes}: ${String(err)}`);
    t.is((await p.call('ping', '{}')).output, '"pong"');
  }
  await p.close();
}

serial('a protocol line past the engine bound is output-limit and the Pod is replaced', (t) => oversizedLines(t, 'node-forge'));

serial('a timed-out call and an aborted call each delete their Pod; a fresh Pod serves the next call', async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  const p = await engine.load(clusterGrants(tc, 'conformance-node'));
  t.teardown(() => p.close());
  const hosts = await engine.hostIds();
  // Pods not being deleted (a replaced one stays listed, terminating, until the kubelet has stopped it).
  const names = async (): Promise<string[]> =>
    (await podsOf(tc, hosts)).filter((x) => x.metadata?.deletionTimestamp === undefined).map((x) => x.metadata!.name!);
  const first = await names();
  const timedOut = await t.throwsAsync(p.call('spin', '{}', { timeoutMs: 2000 }));
  t.true(isAirlockError(timedOut, 'timeout'), String(timedOut));
  t.regex(timedOut!.message, /its Pod was stopped and replaced/);
  t.deepEqual(JSON.parse((await p.call('echo', '{"after":"timeout"}')).output), { after: 'timeout' });
  const second = await names();
  t.is(second.length, 1);
  t.false(first.includes(second[0]!), 'a new Pod');
  t.is(JSON.parse((await p.call('count', '{}')).output), 1, 'fresh state');

  const controller = new AbortController();
  const spinning = p.call('spin', '{}', { signal: controller.signal });
  setImmediate(() => controller.abort());
  const aborted = await t.throwsAsync(spinning);
  t.true(isAirlockError(aborted, 'aborted'), String(aborted));
  t.deepEqual(JSON.parse((await p.call('echo', '{"after":"abort"}')).output), { after: 'abort' });
  const third = await names();
  t.is(third.length, 1);
  t.false(second.includes(third[0]!), 'a new Pod after the abort');
});

serial('a Pod whose process dies mid-call is a crash, and a fresh Pod answers the next call', async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  const p = await engine.load(clusterGrants(tc, 'conformance-python'));
  t.teardown(() => p.close());
  const err = await t.throwsAsync(p.call('boom', '{}'));
  t.true(isAirlockError(err, 'crash'), String(err));
  t.regex(err!.message, /its Pod's container exited \(code \d+\)/);
  t.deepEqual(JSON.parse((await p.call('echo', '{"again":1}')).output), { again: 1 });
});

serial('a plugin past its memory limit is memory-limit (the kubelet says OOMKilled), and a fresh Pod answers the next call', async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  const p = await engine.load(clusterGrants(tc, 'conformance-node'));
  t.teardown(() => p.close());
  const err = await t.throwsAsync(p.call('grow', '{}'));
  t.true(isAirlockError(err, 'memory-limit'), String(err));
  t.deepEqual(JSON.parse((await p.call('echo', '{"after":"oom"}')).output), { after: 'oom' });
});

serial('close deletes every Pod and NetworkPolicy it made and waits until they are gone', async (t) => {
  t.timeout(10 * 60_000);
  const { tc } = ready();
  const own = new KubernetesEngine();
  const p = await own.load(clusterGrants(tc, 'conformance-node', {}, { resources: { ...clusterGrants(tc, 'conformance-node').resources, concurrency: 2 } }));
  await p.call('echo', '{}');
  const hosts = await own.hostIds();
  t.is((await podsOf(tc, hosts)).length, 2, 'two warm Pods (resources.concurrency 2)');
  await own.close();
  t.deepEqual(await podsOf(tc, hosts), [], 'no Pod listed once close() resolved');
  const { NetworkingV1Api, CoordinationV1Api } = await import('@kubernetes/client-node');
  const policies = (
    await tc.kc.makeApiClient(NetworkingV1Api).listNamespacedNetworkPolicy({ namespace: NAMESPACE, labelSelector: `airlock.dev/host=${hosts[0]}` })
  ).items;
  t.deepEqual(policies, []);
  const leases = (await tc.kc.makeApiClient(CoordinationV1Api).listNamespacedLease({ namespace: NAMESPACE, labelSelector: `airlock.dev/host=${hosts[0]}` }))
    .items;
  t.deepEqual(leases, [], 'its lease is gone too');
});

serial('a path grant and a cluster not stated to enforce NetworkPolicy are refused at load, with their reasons', async (t) => {
  t.timeout(5 * 60_000);
  const { tc, engine } = ready();
  const withPath = clusterGrants(tc, 'conformance-node', {}, { filesystem: [{ hostPath: '/srv', mount: '/data', access: 'read' }] });
  const e1 = await t.throwsAsync(engine.load(withPath));
  t.true(isAirlockError(e1, 'engine-unavailable'), String(e1));
  t.regex(e1!.message, /\/srv \(granted read at \/data\).*mounts no host path/);
  const unenforced = clusterGrants(tc, 'conformance-node');
  unenforced.kubernetes = { ...unenforced.kubernetes!, networkPolicy: 'unenforced' };
  const e2 = await t.throwsAsync(engine.load(unenforced));
  t.true(isAirlockError(e2, 'engine-unavailable'), String(e2));
  t.regex(e2!.message, /not stated to enforce NetworkPolicy/);
});

serial("orphans: the Pods, NetworkPolicies and expired lease of instances that are gone are deleted; a live instance's Pods stay", async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  const live = await engine.load(clusterGrants(tc, 'conformance-node'));
  t.teardown(() => live.close());
  const liveHosts = await engine.hostIds();
  const { CoordinationV1Api, NetworkingV1Api, V1MicroTime } = await import('@kubernetes/client-node');
  const coord = tc.kc.makeApiClient(CoordinationV1Api);
  const net = tc.kc.makeApiClient(NetworkingV1Api);
  const labels = (host: string) => ({ 'app.kubernetes.io/managed-by': 'airlock', 'airlock.dev/host': host });
  // An instance whose lease ran out ten minutes ago, and one whose lease is gone altogether.
  const expired = 'dead00000001';
  const vanished = 'dead00000002';
  await coord.createNamespacedLease({
    namespace: NAMESPACE,
    body: {
      metadata: { name: `airlock-host-${expired}`, labels: labels(expired) },
      spec: { holderIdentity: expired, leaseDurationSeconds: 60, renewTime: new V1MicroTime(Date.now() - 10 * 60_000) },
    },
  });
  for (const host of [expired, vanished])
    await tc.core.createNamespacedPod({
      namespace: NAMESPACE,
      body: {
        metadata: { name: `orphan-${host}`, labels: labels(host) },
        spec: { automountServiceAccountToken: false, containers: [{ name: 'pause', image: PAUSE_IMAGE, imagePullPolicy: 'Never' }] },
      },
    });
  await net.createNamespacedNetworkPolicy({
    namespace: NAMESPACE,
    body: { metadata: { name: `orphan-${expired}`, labels: labels(expired) }, spec: { podSelector: {}, policyTypes: ['Egress'] } },
  });
  const livePods = (await podsOf(tc, liveHosts)).map((p) => p.metadata!.name);
  t.is(livePods.length, 1);

  t.deepEqual(await cleanupOrphans(tc.kc, NAMESPACE), { pods: 2, networkPolicies: 1, leases: 1 });
  // Deleted with a grace period: listed (terminating) until the kubelet has stopped them.
  const deadline = Date.now() + 5 * 60_000;
  while ((await podsOf(tc, [expired, vanished])).length > 0 && Date.now() < deadline) await sleep(250);
  t.deepEqual(await podsOf(tc, [expired, vanished]), [], 'the orphan Pods are deleted');
  t.deepEqual(
    (await podsOf(tc, liveHosts)).map((p) => p.metadata!.name),
    livePods,
    "the live instance's Pod is kept",
  );
  t.deepEqual((await net.listNamespacedNetworkPolicy({ namespace: NAMESPACE, labelSelector: `airlock.dev/host=${expired}` })).items, []);
  t.deepEqual((await coord.listNamespacedLease({ namespace: NAMESPACE, labelSelector: `airlock.dev/host=${expired}` })).items, []);
  t.deepEqual(JSON.parse((await live.call('echo', '{"still":"here"}')).output), { still: 'here' });
});

/**
 * The pids bound the kernel holds for `plugin`'s one Pod of this engine: pids.max of the Pod's cgroup (the
 * kubelet writes its podPidsLimit there), or why there is none. Read before a bomb runs on this machine.
 */
async function podPidsMax(tc: TestCluster, engine: KubernetesEngine, plugin: string): Promise<string> {
  const pods = (await podsOf(tc, await engine.hostIds())).filter((p) => p.metadata?.labels?.['airlock.dev/plugin'] === plugin);
  if (pods.length !== 1) return `${pods.length} Pods of ${plugin}`;
  const dir = `pod${pods[0]!.metadata!.uid}`;
  const root = `/sys/fs/cgroup/pids${tc.cluster.cgroupRoot}`;
  const found = readdirSync(root, { recursive: true, withFileTypes: true }).find((e) => e.isDirectory() && e.name === dir);
  return found === undefined ? `no ${dir} under ${root}` : readFileSync(join(found.parentPath, dir, 'pids.max'), 'utf8').trim();
}

serial("a fork bomb in a node Pod: children are refused at the node's podPidsLimit (EAGAIN), and the plugin still answers", async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  const p = await engine.load(clusterGrants(tc, 'attack-node'));
  t.teardown(() => p.close());
  // A Pod spec has no pids field: the kubelet's bound must be on the Pod before a bomb runs on this machine.
  if (!t.is(await podPidsMax(tc, engine, 'attack-node'), String(POD_PIDS_LIMIT), "the Pod's pids cgroup")) return;
  const r = JSON.parse((await p.call('spawn_all', '{}')).output) as { spawned: number; error: string | null };
  t.is(r.error, 'EAGAIN', JSON.stringify(r));
  t.true(r.spawned > 0 && r.spawned < POD_PIDS_LIMIT, `${r.spawned} children started, under the Pod's pids limit ${POD_PIDS_LIMIT}`);
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

serial("a fork bomb in a python Pod: the node's podPidsLimit holds it, the timeout ends the call, a fresh Pod follows", async (t) => {
  t.timeout(10 * 60_000);
  const { tc, engine } = ready();
  const p = await engine.load(clusterGrants(tc, 'python-forkbomb'));
  t.teardown(() => p.close());
  if (!t.is(await podPidsMax(tc, engine, 'python-forkbomb'), String(POD_PIDS_LIMIT), "the Pod's pids cgroup")) return;
  const err = await t.throwsAsync(p.call('bomb', '{}'));
  t.true(isAirlockError(err, 'timeout'), String(err));
  t.regex(err!.message, /its Pod was stopped and replaced/);
  t.is((await p.call('ping', '{}')).output, '"pong"');
  await p.close();
});

for (const fixture of ['conformance-node', 'conformance-python']) {
  serial(`${fixture}: 100 MiB of input to one call is memory-limit (the Pod dies reading it), and a fresh Pod serves the next call`, async (t) => {
    t.timeout(10 * 60_000);
    const { tc, engine } = ready();
    const p = await engine.load(clusterGrants(tc, fixture));
    t.teardown(() => p.close());
    const err = await t.throwsAsync(p.call('echo', JSON.stringify({ text: 'x'.repeat(100 << 20) })));
    t.true(isAirlockError(err, 'memory-limit'), String(err));
    t.deepEqual(JSON.parse((await p.call('echo', '{"after":"input"}')).output), { after: 'input' });
    await p.close();
  });
}

serial('a python plugin writing protocol lines past the engine bound to its own stdout: output-limit, and the Pod is replaced', (t) =>
  oversizedLines(t, 'attack-python'),
);

serial("the cluster's API server checked against a CA that did not sign it is refused as untrusted, naming the CA file", async (t) => {
  t.timeout(5 * 60_000);
  const { tc } = ready();
  const other = makeCa('not the cluster CA');
  const kubeconfig = join(tempDir('airlock-k8s-ca-'), 'kubeconfig');
  // The test cluster's own kubeconfig (its admin client certificate), with another CA to check the server against.
  writeFileSync(kubeconfig, readFileSync(tc.setting.kubeconfig, 'utf8').replace(/certificate-authority: .*/, `certificate-authority: ${other.ca}`));
  const own = new KubernetesEngine({ cleanupOrphans: false });
  t.teardown(() => own.close());
  const err = await t.throwsAsync(own.load(clusterGrants(tc, 'conformance-node', {}, { kubernetes: { ...tc.setting, kubeconfig } })));
  t.true(isAirlockError(err, 'engine-unavailable'), String(err));
  t.regex(err!.message, /is not trusted: its certificate does not check out against/);
  t.true(err!.message.includes(other.ca), err!.message);
});

/** The API server's count of requests on Pods themselves (no subresource: not attach, not status), by verb. */
async function podRequests(tc: TestCluster): Promise<Record<string, number>> {
  const text = String((await tc.cluster.api('GET', '/metrics')).body);
  const counts: Record<string, number> = {};
  for (const line of text.split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const labels = line.slice(line.indexOf('{') + 1, line.lastIndexOf('}'));
    if (!labels.includes('resource="pods"') || !labels.includes('subresource=""')) continue;
    const verb = /\bverb="([A-Z]+)"/.exec(labels)?.[1] ?? '?';
    counts[verb] = (counts[verb] ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return counts;
}

/** `podRequests` once it counts a WATCH more than `from` did (a watch is counted when it ends), bounded at 2 minutes. */
async function afterWatch(tc: TestCluster, from: Record<string, number>): Promise<Record<string, number> | undefined> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const now = await podRequests(tc);
    if ((now.WATCH ?? 0) > (from.WATCH ?? 0)) return now;
    if (Date.now() > deadline) return undefined;
    await sleep(250);
  }
}

serial('a Pod start and stop wait on a watch of the Pod (read when it changes), not on a 100 ms poll', async (t) => {
  t.timeout(10 * 60_000);
  const { tc } = ready();
  const own = new KubernetesEngine({ cleanupOrphans: false });
  t.teardown(() => own.close());
  // Once first, so the image is on the node: the measured start waits for the Pod, not for a pull.
  await (await own.load(clusterGrants(tc, 'conformance-node'))).close();
  const before = await podRequests(tc);
  const p = await own.load(clusterGrants(tc, 'conformance-node'));
  const started = await afterWatch(tc, before);
  await p.close();
  const after = started === undefined ? undefined : await afterWatch(tc, started);
  const gets = (a: Record<string, number> | undefined, b: Record<string, number> | undefined): number => (b?.GET ?? 0) - (a?.GET ?? 0);
  // A figure, not a claim (it grows with the time a start takes): the kubelet's and the controllers' GETs included.
  t.log(`GETs of Pods while starting: ${gets(before, started)}; while stopping: ${gets(started, after)}`);
  t.not(started, undefined, 'the start watched its Pod');
  t.not(after, undefined, 'the stop watched its Pod');
});
