/**
 * The cluster a host policy names, as a client-node KubeConfig. client-node
 * is loaded here (dynamically) the first time a Kubernetes plugin is probed or
 * loaded: a process that runs none never loads it.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import { AirlockError } from '../../errors.ts';
import type { KubernetesSetting } from '../../grants/types.ts';

export async function loadKubeConfig(setting: KubernetesSetting): Promise<KubeConfig> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(setting.kubeconfig);
    if (setting.context !== undefined) {
      if (kc.getContextObject(setting.context) === null) throw new Error(`it has no context named ${setting.context}`);
      kc.setCurrentContext(setting.context);
    }
    if (kc.getCurrentCluster() === null) throw new Error('its current context names no cluster');
  } catch (e) {
    throw new AirlockError(
      'engine-unavailable',
      `the kubeconfig ${setting.kubeconfig} (host policy kubernetes.kubeconfig) cannot be used: ${(e as Error).message}`,
      { cause: e, hint: 'point kubernetes.kubeconfig at a readable kubeconfig file, and kubernetes.context at one of its contexts' },
    );
  }
  return kc;
}

/** Where the cluster is, for messages. */
export function clusterWhere(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? 'the cluster';
}

/** `p`, or a rejection once `ms` passed (the request itself is left to end on its own). */
export async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The HTTP status of a client-node error (404 for a missing object), if any. */
export function statusOf(e: unknown): number | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
