/**
 * A plugin's network on Kubernetes: the NetworkPolicy objects that deny its
 * Pods every connection, or (with a network grant) allow only the egress
 * proxy, and the proxy itself. The engine calls preparePodNetwork() before it
 * makes a plugin's first Pod and close() when the plugin closes.
 *
 * CONTRACT between the engine (src/engines/kubernetes/engine.ts) and this
 * file: keep these exported names and shapes.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Grants, KubernetesSetting } from '../../grants/types.ts';
import type { EngineEvent } from '../engine.ts';

export interface NetworkContext {
  kubeconfig: KubeConfig;
  setting: KubernetesSetting;
  grants: Grants;
  /** Labels that select exactly this plugin's Pods. */
  podLabels: Record<string, string>;
  /** Labels every object made for this plugin carries (orphan clean-up finds them). */
  ownerLabels: Record<string, string>;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
}

export interface PodNetwork {
  /** Environment for the plugin's container (the proxy's address); empty without a network grant. */
  env: Record<string, string>;
  /** Removes what preparePodNetwork made (policies, the proxy). */
  close(): Promise<void>;
}

/** Why these grants cannot be given on this cluster (empty: they can). Pure. */
export function networkRefusals(grants: Grants, setting: KubernetesSetting): string[] {
  if (setting.networkPolicy !== 'enforced')
    return [
      'this cluster is not stated to enforce NetworkPolicy (host policy kubernetes.networkPolicy: enforced): a Pod there reaches any address, so its network cannot be denied',
    ];
  if (grants.network !== null) return ['network grants on Kubernetes are not supported yet'];
  return [];
}

/** Makes the deny-all NetworkPolicy for the plugin's Pods (and, with a network grant, the proxy route). */
export async function preparePodNetwork(ctx: NetworkContext): Promise<PodNetwork> {
  const { NetworkingV1Api } = await import('@kubernetes/client-node');
  const api = ctx.kubeconfig.makeApiClient(NetworkingV1Api);
  const namespace = ctx.setting.namespace;
  const name = `airlock-deny-${ctx.podLabels['airlock.dev/pod-set'] ?? ctx.grants.plugin.name}`.slice(0, 63);
  await api.createNamespacedNetworkPolicy({
    namespace,
    body: {
      metadata: { name, labels: ctx.ownerLabels },
      // Both directions listed with no rule: nothing in, nothing out.
      spec: { podSelector: { matchLabels: ctx.podLabels }, policyTypes: ['Ingress', 'Egress'] },
    },
  });
  return {
    env: {},
    close: async () => {
      await api.deleteNamespacedNetworkPolicy({ name, namespace }).catch(() => undefined);
    },
  };
}
