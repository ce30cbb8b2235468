/**
 * The test cluster (test/cluster/cluster.ts) is a real one: the API server admits a Pod, the scheduler
 * binds it, the kubelet runs it through containerd and runc with a bridge network, and deleting it removes
 * it; stopping the cluster leaves nothing on the host. Driven with @kubernetes/client-node, as the
 * Kubernetes engine will be.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import test from 'ava';
import { requireExternal } from '../helpers/require.ts';
import { type Cluster, findClusterTools, PAUSE_IMAGE, startCluster } from './cluster.ts';

const found = findClusterTools();

const available = requireExternal('cluster', 'tools' in found, 'missing' in found ? found.missing : '');
const serial = available ? test.serial : test.skip;
let cluster: Cluster | undefined;
// Host state the kubelet and CNI change outside the cluster folder, as it was before the cluster started.
const hostDirs = ['/var/log/containers', '/var/lib/cni'].map((d) => [d, existsSync(d)] as const);
const hostSysctls = ['kernel/panic', 'kernel/panic_on_oops', 'vm/overcommit_memory'].map((k) => [k, readFileSync(`/proc/sys/${k}`, 'utf8')] as const);

if (available && 'tools' in found) {
  const tools = found.tools;

  test.before(async (t) => {
    // Bounds only (a busy 2-core machine); startCluster bounds each of its own waits too.
    t.timeout(15 * 60_000);
    const started = Date.now();
    cluster = await startCluster(tools);
    t.log(
      `cluster: PKI ${cluster.timings.pki} ms, API server ready ${cluster.timings.apiserverReady} ms, Node Ready ${cluster.timings.nodeReady} ms, ready for Pods ${cluster.timings.ready} ms (${Date.now() - started} ms)`,
    );
  });
  test.after.always(async () => {
    await cluster?.stop();
  });
}

serial('a Pod of the pause image is scheduled, runs on the bridge network, reports its status and is gone once deleted', async (t) => {
  t.timeout(12 * 60_000);
  if (cluster === undefined) return t.fail('no cluster');
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const name = 'smoke';
  const created = Date.now();
  await core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'airlock-test' } },
      spec: {
        automountServiceAccountToken: false,
        containers: [
          {
            name: 'pause',
            image: PAUSE_IMAGE,
            imagePullPolicy: 'Never',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65535,
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
              seccompProfile: { type: 'RuntimeDefault' },
            },
          },
        ],
      },
    },
  });
  let pod: V1Pod = {};
  const deadline = Date.now() + 5 * 60_000;
  while (pod.status?.phase !== 'Running') {
    if (Date.now() > deadline) return t.fail(`Pod not Running after 5 minutes: ${JSON.stringify(pod.status)}`);
    if (pod.status?.phase === 'Failed') return t.fail(`Pod failed: ${JSON.stringify(pod.status)}`);
    await sleep(250);
    pod = await core.readNamespacedPod({ namespace: 'default', name });
  }
  t.log(`Pod create -> Running: ${Date.now() - created} ms`);
  t.is(pod.spec?.nodeName, cluster.nodeName);
  t.regex(pod.status?.podIP ?? '', /^10\.88\.\d+\.\d+$/, 'an address from the bridge network host-local gave it');
  const container = pod.status?.containerStatuses?.[0];
  t.is(container?.name, 'pause');
  t.true(container?.state?.running !== undefined);
  t.true((container?.image ?? '').includes(PAUSE_IMAGE));
  t.is(container?.user?.linux?.uid, 65535, 'the securityContext user reached runc');

  await core.deleteNamespacedPod({ namespace: 'default', name });
  const gone = Date.now() + 5 * 60_000;
  for (;;) {
    const status = await core.readNamespacedPod({ namespace: 'default', name }).then(
      () => 200,
      (e: { code?: number }) => e.code ?? 0,
    );
    if (status === 404) break;
    if (Date.now() > gone) return t.fail(`Pod still present 5 minutes after its deletion (status ${status})`);
    await sleep(250);
  }
  t.pass();
});

serial('stopping the cluster leaves no process, mount, cgroup, bridge or folder behind', async (t) => {
  t.timeout(5 * 60_000);
  if (cluster === undefined) return t.fail('no cluster');
  const { dir, bridge, cgroupRoot } = cluster;
  t.true(existsSync(`/sys/class/net/${bridge}`), 'the bridge exists while the cluster runs');
  t.true(existsSync(`/sys/fs/cgroup/memory${cgroupRoot}`), 'the cgroup root exists while the cluster runs');
  await cluster.stop();
  cluster = undefined;
  t.false(existsSync(dir));
  t.false(readFileSync('/proc/self/mountinfo', 'utf8').includes(dir), 'no mount under the cluster folder');
  const processes = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
      } catch {
        return false;
      }
    });
  t.deepEqual(processes, [], 'no process started with the cluster folder');
  t.false(existsSync(`/sys/class/net/${bridge}`), 'the bridge is gone');
  const hierarchies = readdirSync('/sys/fs/cgroup').filter((h) => existsSync(`/sys/fs/cgroup/${h}${cgroupRoot}`));
  t.deepEqual(hierarchies, [], 'the kubelet cgroup root is gone from every hierarchy');
  t.false(existsSync('/run/containerd/runc/k8s.io'), 'runc kept its state under the cluster folder');
  for (const [d, was] of hostDirs) t.is(existsSync(d), was, `${d} as it was before the cluster`);
  for (const [k, v] of hostSysctls) t.is(readFileSync(`/proc/sys/${k}`, 'utf8'), v, `sysctl ${k} put back`);
});
