/**
 * The Kubernetes engine as the registry sees it: node and python plugins from
 * source, as Pods on the cluster the host policy's `kubernetes:` section
 * names. Unavailable unless a policy names one; then available when its API
 * server answers /version. The implementation (client-node, the Docker image
 * build) loads on the first Kubernetes plugin.
 */
import type { AirlockError } from '../../errors.ts';
import type { EngineSettings, KubernetesSetting } from '../../grants/types.ts';
import { defineEngine, type EngineProbe, probeCache } from '../engine.ts';
import { lazyModule } from '../../lazy.ts';

// Loaded on first use: the Pod spec reaches the capabilities and the network code, which importing Airlock need not load.
const podSpec = lazyModule<typeof import('./pod-spec.ts')>(import.meta.url, './pod-spec');

export const KUBERNETES_HINT =
  'add a `kubernetes:` section to the host policy (kubeconfig, namespace, registry, networkPolicy) naming a cluster whose API server this machine reaches';

const PROBE_TIMEOUT_MS = 10_000;

/** Whether the API server of the cluster `setting` names answers /version within `timeoutMs`. */
export async function probeKubernetes(setting: KubernetesSetting | undefined, timeoutMs = PROBE_TIMEOUT_MS): Promise<EngineProbe> {
  if (setting === undefined)
    return { engine: 'kubernetes', available: false, unconfigured: true, reason: 'no host policy names a Kubernetes cluster', installHint: KUBERNETES_HINT };
  let where = setting.kubeconfig;
  try {
    const { bounded, clusterWhere, loadKubeConfig } = await import('./client.ts');
    const kc = await loadKubeConfig(setting);
    where = clusterWhere(kc);
    const { VersionApi } = await import('@kubernetes/client-node');
    const v = await bounded(kc.makeApiClient(VersionApi).getCode(), timeoutMs, `the API server at ${where}`);
    return { engine: 'kubernetes', available: true, path: where, version: v.gitVersion };
  } catch (e) {
    return {
      engine: 'kubernetes',
      available: false,
      path: where,
      reason: `the Kubernetes API server at ${where} does not answer: ${(e as AirlockError).message}`,
      installHint: KUBERNETES_HINT,
    };
  }
}

/** Probes of the clusters host policies name, one per cluster (see probeCache). */
const probePolicyCluster = probeCache(probeKubernetes);

export function probeKubernetesFor(grants: EngineSettings): Promise<EngineProbe> {
  return probePolicyCluster(grants.kubernetes);
}

export const kubernetes = defineEngine({
  name: 'kubernetes',
  label: 'Kubernetes',
  strength: 'runs node and python plugins from source as Pods on a cluster',
  artefact: 'source',
  runtimes: ['node', 'python'],
  builtin: false,
  // Without grants no policy names a cluster: unavailable until probeFor() is asked for a plugin's.
  probe: () => probeKubernetes(undefined),
  probeFor: probeKubernetesFor,
  refusals: (grants) => podSpec().kubernetesRefusals(grants),
  create: async (options = {}) => {
    const { KubernetesEngine } = await import('./engine.ts');
    return new KubernetesEngine(options.onEvent === undefined ? {} : { onEvent: options.onEvent });
  },
});
