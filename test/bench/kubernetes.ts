/**
 * `node test/bench/kubernetes.ts`: the Kubernetes engine on the test cluster
 * (test/cluster/cluster.ts, a loopback docker-registry the node pulls from).
 * Not a test: figures depend on the machine. Prints:
 * - warm call over attach: p50/p99 of `echo` on one warm Pod (JSON lines on
 *   the attach stream, API server -> kubelet -> containerd);
 * - exec: p50/p99 of one exec of `/bin/true` in that Pod, the least a design
 *   opening a stream per call pays before any plugin code runs;
 * - cold start: engine.load() (image already pushed) to the first answer;
 * - Pods/s: a plugin with resources.concurrency 8 loaded (8 Pods to ready);
 * - throughput: calls/s and p50/p99 of 400 calls across 4 warm Pods.
 *
 *   BENCH_ROUNDS=200 node test/bench/kubernetes.ts
 */
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, Exec, KubeConfig } from '@kubernetes/client-node';
import { percentile } from '../../src/bench/index.ts';
import { KubernetesEngine } from '../../src/engines/kubernetes/engine.ts';
import { computeGrants } from '../../src/grants/grant.ts';
import { policyFromObject } from '../../src/grants/policy.ts';
import { loadPlugin } from '../../src/manifest/index.ts';
import { findClusterTools, startCluster } from '../cluster/cluster.ts';
import { dockerSetupEnv } from '../conformance/docker-env.ts';
import { startRegistry } from '../trust/oci/registry.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const FIXTURE = join(import.meta.dirname, '../../fixtures/plugins/conformance-node');
const NAMESPACE = 'airlock';

dockerSetupEnv();
const found = findClusterTools();
if (!('tools' in found)) throw new Error(`no test cluster here: ${found.missing}`);
const registry = await startRegistry();
const cluster = await startCluster(found.tools);
const fmt = (xs: number[]): string => `p50 ${percentile(xs, 50).toFixed(2)} ms, p99 ${percentile(xs, 99).toFixed(2)} ms (n=${xs.length})`;

try {
  console.log(`cluster ready in ${cluster.timings.ready} ms`);
  cluster.pullFrom(registry.host);
  await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
  while ((await cluster.api('GET', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/default`)).status !== 200) await sleep(250);
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const core = kc.makeApiClient(CoreV1Api);
  const grants = (concurrency: number) => {
    const g = computeGrants(
      loadPlugin(FIXTURE),
      policyFromObject({ limits: { concurrency: 8 }, kubernetes: { kubeconfig: cluster.kubeconfig, registry: registry.host, networkPolicy: 'enforced' } }),
    );
    // A tenth of a core each: requests are what the scheduler fits, and the node has 2 cores.
    return { ...g, resources: { ...g.resources, cpu: 0.1, concurrency, queue: 1000 } };
  };
  const engine = new KubernetesEngine();
  // The first load builds (or finds) the image and pushes it; not part of any figure.
  let t0 = performance.now();
  const warm = await engine.load(grants(1));
  console.log(`first load (build or cache, push, one Pod): ${(performance.now() - t0).toFixed(0)} ms`);

  const attach: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    t0 = performance.now();
    await warm.call('echo', '{"n":1}');
    attach.push(performance.now() - t0);
  }
  console.log(`warm call over attach: ${fmt(attach)}`);

  const pod = (await core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=airlock' })).items[0]!;
  const exec = new Exec(kc);
  const execs: number[] = [];
  for (let i = 0; i < Math.min(ROUNDS, 50); i++) {
    t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const sink = new Writable({ write: (_c, _e, cb) => cb() });
      void exec
        .exec(NAMESPACE, pod.metadata!.name!, 'plugin', ['/bin/true'], sink, sink, new PassThrough(), false, (status) => {
          if (status.status === 'Success') resolve();
          else reject(new Error(JSON.stringify(status)));
        })
        .catch(reject);
    });
    execs.push(performance.now() - t0);
  }
  console.log(`exec of /bin/true (stream set-up per call): ${fmt(execs)}`);
  await warm.close();

  const cold: number[] = [];
  for (let i = 0; i < 5; i++) {
    t0 = performance.now();
    const p = await engine.load(grants(1));
    await p.call('echo', '{}');
    cold.push(performance.now() - t0);
    await p.close();
  }
  console.log(`cold start (load with a pushed image -> first answer): ${fmt(cold)}`);

  t0 = performance.now();
  const eight = await engine.load(grants(8));
  const podsMs = performance.now() - t0;
  console.log(`8 Pods to ready: ${podsMs.toFixed(0)} ms = ${((8 * 1000) / podsMs).toFixed(2)} Pods/s`);
  await eight.close();

  const four = await engine.load(grants(4));
  const lat: number[] = [];
  t0 = performance.now();
  await Promise.all(
    Array.from({ length: 400 }, async () => {
      const s = performance.now();
      await four.call('echo', '{"n":1}');
      lat.push(performance.now() - s);
    }),
  );
  const wall = performance.now() - t0;
  console.log(`400 calls across 4 warm Pods: ${((400 * 1000) / wall).toFixed(0)} calls/s, latency ${fmt(lat)}`);
  await four.close();
  await engine.close();
} finally {
  await cluster.stop();
  await registry.stop();
}
