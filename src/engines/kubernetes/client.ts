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
  refuseUnverified(kc, setting.kubeconfig);
  return kc;
}

/**
 * The API server must prove its identity: plain HTTP, or TLS with verification turned off, lets anyone reaching the
 * address pose as it and take every Pod's image, environment (granted secrets) and stdio. Refused before any request,
 * as the Docker engine refuses a plain-TCP daemon.
 */
function refuseUnverified(kc: KubeConfig, file: string): void {
  const cluster = kc.getCurrentCluster();
  if (cluster === null) return;
  const why = !/^https:\/\//i.test(cluster.server)
    ? `its cluster ${cluster.name} names ${cluster.server}, not an https:// address`
    : cluster.skipTLSVerify
      ? `its cluster ${cluster.name} sets insecure-skip-tls-verify: the API server's certificate would not be checked`
      : undefined;
  if (why !== undefined)
    throw new AirlockError('engine-unavailable', `the kubeconfig ${file} (host policy kubernetes.kubeconfig) is refused: ${why}`, {
      hint: "name the API server's https:// address and its certificate authority (certificate-authority or certificate-authority-data), without insecure-skip-tls-verify",
    });
}

/** Where the cluster is, for messages. */
export function clusterWhere(kc: KubeConfig): string {
  return kc.getCurrentCluster()?.server ?? 'the cluster';
}

/** Node's codes for a server certificate that does not check out against the trusted CA, or names another host. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * A first request to the API server that failed, as an error naming what to fix: a certificate the kubeconfig's
 * CA did not sign (a server posing as the cluster: nothing was sent), or the network's own error.
 */
export function unreachable(e: unknown, kc: KubeConfig, file: string): AirlockError {
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  const cluster = kc.getCurrentCluster();
  const ca = cluster?.caFile ?? (cluster?.caData === undefined ? "the system's certificate authorities" : 'its certificate-authority-data');
  if (code !== undefined && UNTRUSTED.has(code))
    return new AirlockError(
      'engine-unavailable',
      `the Kubernetes API server at ${clusterWhere(kc)} is not trusted: its certificate does not check out against ${ca} (the kubeconfig ${file}) (${code}); nothing was sent to it`,
      {
        cause: e,
        hint: "point the kubeconfig's certificate-authority at the CA that signed the API server's certificate, and check that the address is the cluster's",
      },
    );
  const why = typeof cause?.message === 'string' ? `${(e as Error).message}: ${cause.message}` : (e as Error).message;
  return new AirlockError('engine-unavailable', `the Kubernetes API server at ${clusterWhere(kc)} does not answer: ${why}`, { cause: e });
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
