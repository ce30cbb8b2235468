/**
 * An engine instance's lease: a coordination.k8s.io Lease in the namespace,
 * renewed while the instance lives. Every object the instance makes carries
 * its id (LABEL_HOST); once the lease is gone or has run out, its objects are
 * orphans (./orphans.ts) wherever the instance ran: a cluster is shared by
 * machines, so a process id says nothing there.
 */
import { randomBytes } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import { LABEL_HOST, LABEL_MANAGED_BY, MANAGED_BY } from './pod-spec.ts';

/** A lease not renewed for this long is dead. */
export const LEASE_SECONDS = 60;
/** Renewed this often: three misses in a row before it runs out. */
const RENEW_MS = 15_000;

export interface HostLease {
  id: string;
  /** Stops renewing and deletes the lease. */
  close(): Promise<void>;
}

export function leaseName(id: string): string {
  return `airlock-host-${id}`;
}

export async function startLease(kc: KubeConfig, namespace: string): Promise<HostLease> {
  const { CoordinationV1Api, V1MicroTime } = await import('@kubernetes/client-node');
  const api = kc.makeApiClient(CoordinationV1Api);
  const id = randomBytes(6).toString('hex');
  const name = leaseName(id);
  await api.createNamespacedLease({
    namespace,
    body: {
      metadata: { name, labels: { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_HOST]: id } },
      spec: { holderIdentity: id, leaseDurationSeconds: LEASE_SECONDS, renewTime: new V1MicroTime() },
    },
  });
  let renewing: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    renewing = (async () => {
      const lease = await api.readNamespacedLease({ name, namespace });
      lease.spec = { ...lease.spec, renewTime: new V1MicroTime() };
      await api.replaceNamespacedLease({ name, namespace, body: lease });
      // A missed renewal is tried again next time; three in a row and the lease runs out.
    })().catch(() => undefined);
  }, RENEW_MS);
  // The lease alone does not keep the process alive.
  timer.unref();
  return {
    id,
    close: async () => {
      clearInterval(timer);
      await renewing;
      await api.deleteNamespacedLease({ name, namespace }).catch(() => undefined);
    },
  };
}
