/**
 * Shared set-up of the Kubernetes engine tests: a real one-node cluster (test/cluster/cluster.ts) whose
 * containerd pulls from a loopback docker-registry the local Docker daemon pushes to, the namespace
 * the engine works in, and grants for fixtures under a policy naming them.
 */
import { networkInterfaces } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { PolicyInput } from '../../../src/grants/policy.ts';
import type { Grants, KubernetesSetting } from '../../../src/grants/types.ts';
import { type Cluster, findClusterTools, PAUSE_IMAGE, startCluster } from '../../cluster/cluster.ts';
import { type Enforcement, enforceNetworkPolicy, findKubeRouter } from '../../cluster/network-policy.ts';
import { haveRegistry, startRegistry, type TestRegistry } from '../../trust/oci/registry.ts';
import { DOCKER, grantsFor } from '../docker/helpers.ts';

export const NAMESPACE = 'airlock';

const found = findClusterTools();
const router = findKubeRouter();
const missing = [
  ...('missing' in found ? [found.missing] : []),
  ...('missing' in router ? [router.missing] : []),
  ...(haveRegistry ? [] : ['docker-registry']),
  ...(DOCKER ? [] : ['Docker']),
];
/** Why the cluster tests cannot run here ('' when they can). */
export const CLUSTER_MISSING = missing.join('; ');

export interface TestCluster {
  cluster: Cluster;
  registry: TestRegistry;
  setting: KubernetesSetting;
  core: CoreV1Api;
  kc: KubeConfig;
  stop(): Promise<void>;
}

/**
 * Starts the registry and the cluster, lets the node pull from the registry, makes the namespace; the cluster
 * enforces NetworkPolicy (kube-router's firewall, test/cluster/network-policy.ts), as the setting states.
 */
export async function startTestCluster(): Promise<TestCluster> {
  if (!('tools' in found)) throw new Error(found.missing);
  if (!('bin' in router)) throw new Error(router.missing);
  const registry = await startRegistry();
  let cluster: Cluster | undefined;
  let enforcement: Enforcement | undefined;
  try {
    cluster = await startCluster(found.tools);
    cluster.pullFrom(registry.host);
    enforcement = await enforceNetworkPolicy(cluster, router.bin);
    const made = await cluster.api('POST', '/api/v1/namespaces', { metadata: { name: NAMESPACE } });
    if (made.status !== 201) throw new Error(`namespace ${NAMESPACE}: ${made.status} ${JSON.stringify(made.body)}`);
    // The ServiceAccount admission refuses Pods until the controller manager made the namespace's `default`.
    const deadline = Date.now() + 5 * 60_000;
    while ((await cluster.api('GET', `/api/v1/namespaces/${NAMESPACE}/serviceaccounts/default`)).status !== 200) {
      if (Date.now() > deadline) throw new Error(`no default ServiceAccount in ${NAMESPACE} after 5 minutes`);
      await sleep(250);
    }
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfig);
    const c = cluster;
    return {
      cluster: c,
      registry,
      setting: { kubeconfig: c.kubeconfig, namespace: NAMESPACE, registry: registry.host, networkPolicy: 'enforced' },
      core: kc.makeApiClient(CoreV1Api),
      kc,
      stop: async () => {
        try {
          await enforcement?.stop();
          await c.stop();
        } finally {
          await registry.stop();
        }
      },
    };
  } catch (e) {
    await enforcement?.stop();
    await cluster?.stop();
    await registry.stop();
    throw e;
  }
}

/** Grants for a fixture under a policy naming the test cluster (which enforces NetworkPolicy). */
export function clusterGrants(tc: TestCluster, fixture: string, policy: PolicyInput = {}, overrides: Partial<Grants> = {}): Grants {
  const { kubeconfig, namespace, registry, networkPolicy } = tc.setting;
  return grantsFor(fixture, { ...policy, kubernetes: { kubeconfig, namespace, registry, networkPolicy } }, overrides);
}

/** The Pods of the engine instances `hosts` (their lease ids), as the API server lists them. */
export async function podsOf(tc: TestCluster, hosts: string[]): Promise<V1Pod[]> {
  const pods = (await tc.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: 'app.kubernetes.io/managed-by=airlock' })).items;
  return pods.filter((p) => hosts.includes(p.metadata?.labels?.['airlock.dev/host'] ?? ''));
}

/**
 * An address of this machine that the cluster's Pods reach: the cluster bridge's own, a network the test cluster
 * made. The bridge has it while a Pod is on it, so a pause Pod `name` that asks for no CPU (the plugins' Pods still
 * fit on the node) is started and kept; delete it (`stop`) when done.
 */
export async function bridgeAddress(tc: TestCluster, name = 'bridge-up'): Promise<{ address: string; stop(): Promise<unknown> }> {
  const pods = `/api/v1/namespaces/${NAMESPACE}/pods`;
  const up = await tc.cluster.api('POST', pods, {
    metadata: { name },
    spec: { automountServiceAccountToken: false, containers: [{ name: 'pause', image: PAUSE_IMAGE }] },
  });
  if (up.status !== 201) throw new Error(`pause Pod ${name}: ${up.status} ${JSON.stringify(up.body)}`);
  const stop = () => tc.cluster.api('DELETE', `${pods}/${name}`);
  try {
    const deadline = Date.now() + 5 * 60_000;
    while (((await tc.cluster.api('GET', `${pods}/${name}`)).body as { status?: { phase?: string } }).status?.phase !== 'Running') {
      if (Date.now() > deadline) throw new Error(`the pause Pod ${name} was not running after 5 minutes`);
      await sleep(250);
    }
    const address = networkInterfaces()[tc.cluster.bridge]?.find((i) => i.family === 'IPv4')?.address;
    if (address === undefined) throw new Error(`bridge ${tc.cluster.bridge} has no IPv4 address`);
    return { address, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
