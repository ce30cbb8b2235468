/**
 * A plugin's network on Kubernetes: the NetworkPolicy objects that deny its
 * Pods every connection, or (with a network grant) allow only the egress
 * proxy, and the proxy itself. The engine calls preparePodNetwork() before it
 * makes a plugin's first Pod and close() when the plugin closes.
 *
 * What enforces what: the cluster's NetworkPolicy enforcement keeps a plugin's
 * Pods from any address but the proxy's Pod (./network-policy.ts); the proxy
 * (./egress-pod.ts, ./network-proxy.ts) admits only the allowlisted names and
 * ports. On a cluster that does not enforce NetworkPolicy neither holds, so
 * every plugin is refused there.
 *
 * CONTRACT between the engine (src/engines/kubernetes/engine.ts) and this
 * file: keep these exported names and shapes.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { AirlockError } from '../../errors.ts';
import type { Grants, KubernetesSetting } from '../../grants/types.ts';
import { loopbackEntries } from '../docker/loopback.ts';
import type { EngineEvent } from '../engine.ts';
import { denyAllPolicy, pluginEgressPolicy, proxyPolicy, type PolicyNames } from './network-policy.ts';
import { startProxy } from './network-proxy.ts';

export interface NetworkContext {
  kubeconfig: KubeConfig;
  setting: KubernetesSetting;
  grants: Grants;
  /** Labels that select exactly this plugin's Pods. */
  podLabels: Record<string, string>;
  /** Labels every object made for this plugin carries (orphan clean-up finds them). */
  ownerLabels: Record<string, string>;
  /**
   * A Node >= 22.18 image the cluster pulls (the engine's Node base image as pushed to setting.registry): the
   * egress proxy runs from it, its code in a ConfigMap. Needed only with a network grant.
   */
  proxyImage?: string;
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
}

export interface PodNetwork {
  /** Environment for the plugin's container (the proxy's address); empty without a network grant. */
  env: Record<string, string>;
  /** Removes what preparePodNetwork made (policies, the proxy). */
  close(): Promise<void>;
  /**
   * Why the plugin has lost its network (its egress proxy has stopped), for the engine to report in place of a
   * bare connection error; undefined while all is well. Absent without a network grant.
   */
  failure?(): AirlockError | undefined;
}

/** Why these grants cannot be given on this cluster (empty: they can). Pure. */
export function networkRefusals(grants: Grants, setting: KubernetesSetting): string[] {
  if (setting.networkPolicy !== 'enforced')
    return [
      'this cluster is not stated to enforce NetworkPolicy (host policy kubernetes.networkPolicy: enforced): a Pod there reaches any address, so its network cannot be denied',
    ];
  if (grants.network === null) return [];
  const loopback = loopbackEntries(grants.network.allow);
  if (loopback.length > 0)
    return [
      `the network grant ${loopback.map((p) => `${p.host.includes(':') ? `[${p.host}]` : p.host}${p.port === undefined ? '' : `:${p.port}`}`).join(', ')} names this machine's loopback, which a Pod cannot reach; grant an address the cluster's Pods reach instead`,
    ];
  return [];
}

/** Makes the deny-all NetworkPolicy for the plugin's Pods (and, with a network grant, the proxy route). */
export async function preparePodNetwork(ctx: NetworkContext): Promise<PodNetwork> {
  const { NetworkingV1Api } = await import('@kubernetes/client-node');
  const api = ctx.kubeconfig.makeApiClient(NetworkingV1Api);
  const namespace = ctx.setting.namespace;
  const names: PolicyNames = { namespace, ownerLabels: ctx.ownerLabels, podLabels: ctx.podLabels };
  const base = objectName(ctx.podLabels['airlock.dev/pod-set'] ?? ctx.grants.plugin.name);
  const undo: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of undo.splice(0).reverse()) await step().catch(() => undefined);
  };
  const policy = async (body: ReturnType<typeof denyAllPolicy>): Promise<void> => {
    const name = body.metadata?.name ?? '';
    await api.createNamespacedNetworkPolicy({ namespace, body });
    undo.push(() => api.deleteNamespacedNetworkPolicy({ name, namespace }));
  };
  const allow = ctx.grants.network?.allow;
  if (allow === undefined) {
    await policy(denyAllPolicy(`airlock-deny-${base}`.slice(0, 63), names));
    return { env: {}, close };
  }
  try {
    if (ctx.proxyImage === undefined)
      throw new AirlockError('engine-unavailable', `the network grant of ${ctx.grants.plugin.name} needs an egress proxy, and the engine gave no image for it`);
    // The proxy's id: its Pod's label and its objects' names (a plugin loaded twice gets two proxies).
    const proxyId = `${base.slice(0, 45)}-${randomBytes(4).toString('hex')}`;
    // The plugin's policy first: whatever happens next, its Pods are never without one.
    await policy(pluginEgressPolicy(`airlock-egress-${proxyId}`, names, proxyId));
    await policy(proxyPolicy(`airlock-proxy-${proxyId}`, names, proxyId, allow));
    const proxy = await startProxy({
      kubeconfig: ctx.kubeconfig,
      namespace,
      proxyId,
      image: ctx.proxyImage,
      labels: ctx.ownerLabels,
      plugin: ctx.grants.plugin.name,
      allow,
      signal: ctx.signal,
      onDecision: (decision) => ctx.onEvent?.({ type: 'egress', plugin: ctx.grants.plugin.name, decision }),
      undo,
    });
    return { env: proxy.env, close, failure: proxy.failure };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A DNS-1123 label from a plugin or Pod-set name. */
function objectName(text: string): string {
  const name = text
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 48)
    .replace(/-+$/, '');
  return name === '' ? 'plugin' : name;
}
