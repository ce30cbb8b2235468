/**
 * Objects of Airlock engine instances that are gone: Pods and NetworkPolicies
 * labelled with a host id (LABEL_HOST) whose lease (./lease.ts) is missing or
 * ran out, and the expired leases themselves. Live instances keep theirs.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { leaseName } from './lease.ts';
import { DELETE_GRACE_SECONDS } from './pod.ts';
import { LABEL_HOST, LABEL_MANAGED_BY, MANAGED_BY } from './pod-spec.ts';

export interface OrphanCount {
  pods: number;
  networkPolicies: number;
  leases: number;
}

/** Deletes what dead instances left in `namespace`; `now` (ms) is the clock leases are judged by. */
export async function cleanupOrphans(kc: KubeConfig, namespace: string, now = Date.now()): Promise<OrphanCount> {
  const { CoordinationV1Api, CoreV1Api, NetworkingV1Api } = await import('@kubernetes/client-node');
  const core = kc.makeApiClient(CoreV1Api);
  const net = kc.makeApiClient(NetworkingV1Api);
  const coord = kc.makeApiClient(CoordinationV1Api);
  const labelSelector = `${LABEL_MANAGED_BY}=${MANAGED_BY},${LABEL_HOST}`;
  const leases = (await coord.listNamespacedLease({ namespace, labelSelector })).items;
  const alive = new Set<string>();
  const expired: string[] = [];
  for (const l of leases) {
    const host = l.metadata?.labels?.[LABEL_HOST];
    if (host === undefined || l.metadata?.name !== leaseName(host)) continue;
    // Typed as a Date, but client-node 2.0 hands it over as the API's string.
    const renewed = new Date(l.spec?.renewTime ?? 0).getTime();
    if (renewed + (l.spec?.leaseDurationSeconds ?? 0) * 1000 > now) alive.add(host);
    else expired.push(l.metadata.name);
  }
  const dead = (o: { metadata?: { labels?: Record<string, string> } }): boolean => {
    const host = o.metadata?.labels?.[LABEL_HOST];
    return host !== undefined && !alive.has(host);
  };
  const pods = (await core.listNamespacedPod({ namespace, labelSelector })).items.filter(dead);
  const policies = (await net.listNamespacedNetworkPolicy({ namespace, labelSelector })).items.filter(dead);
  await Promise.all([
    ...pods.map((p) => core.deleteNamespacedPod({ namespace, name: p.metadata!.name!, gracePeriodSeconds: DELETE_GRACE_SECONDS }).catch(() => undefined)),
    ...policies.map((p) => net.deleteNamespacedNetworkPolicy({ namespace, name: p.metadata!.name! }).catch(() => undefined)),
    ...expired.map((name) => coord.deleteNamespacedLease({ namespace, name }).catch(() => undefined)),
  ]);
  return { pods: pods.length, networkPolicies: policies.length, leases: expired.length };
}
