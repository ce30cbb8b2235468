/**
 * Starts a plugin's egress proxy Pod (./egress-pod.ts) and follows its log: the proxy's `listening` line says
 * it is ready, and each `decision` line becomes an egress event, as on Docker. Every wait is bounded and
 * follows the load's AbortSignal; whatever was made is undone by the caller's `undo` steps.
 */
import { type RequestOptions, request } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeConfig, V1Pod } from '@kubernetes/client-node';
import { type EgressDecision, proxyEnv } from '../../egress/index.ts';
import { AirlockError } from '../../errors.ts';
import type { HostPattern } from '../../grants/types.ts';
import { proxyCodeConfigMap, proxyPod, readProxyCode } from './egress-pod.ts';
import { PROXY_LABEL, PROXY_PORT } from './network-policy.ts';
import { ProxyLog } from '../proxy-log.ts';

/** Generous: the first start on a node pulls the image. */
const READY_TIMEOUT_MS = 180_000;
/** Container states the kubelet only retries with back-off: reported at once instead of waiting out the bound. */
const FATAL_WAITING = new Set([
  'ErrImagePull',
  'ImagePullBackOff',
  'InvalidImageName',
  'ErrImageNeverPull',
  'CreateContainerConfigError',
  'CreateContainerError',
]);

export interface ProxyOptions {
  kubeconfig: KubeConfig;
  namespace: string;
  proxyId: string;
  image: string;
  labels: Record<string, string>;
  plugin: string;
  allow: readonly HostPattern[];
  signal?: AbortSignal | undefined;
  onDecision: (decision: EgressDecision) => void;
  /** Clean-up steps, run in reverse by the caller. */
  undo: (() => Promise<unknown>)[];
}

export interface StartedProxy {
  /** `http://<Pod IP>:3128`. */
  url: string;
  env: Record<string, string>;
  /** Set once the proxy's log ended while it was not being closed: the proxy has stopped. */
  failure(): AirlockError | undefined;
}

export async function startProxy(o: ProxyOptions): Promise<StartedProxy> {
  const { CoreV1Api } = await import('@kubernetes/client-node');
  const core = o.kubeconfig.makeApiClient(CoreV1Api);
  const { namespace } = o;
  const name = `airlock-proxy-${o.proxyId}`;
  const labels = { ...o.labels, [PROXY_LABEL]: o.proxyId };
  const code = await readProxyCode();
  await core.createNamespacedConfigMap({ namespace, body: proxyCodeConfigMap(name, namespace, labels, code) });
  o.undo.push(() => core.deleteNamespacedConfigMap({ name, namespace }));
  const created = await core.createNamespacedPod({
    namespace,
    body: proxyPod({ name, namespace, labels, image: o.image, configMap: name, code, allow: o.allow }),
  });
  o.undo.push(() => core.deleteNamespacedPod({ name, namespace, gracePeriodSeconds: 0 }));
  // Owned by its Pod: whoever deletes the Pod (close(), the engine's orphan clean-up) deletes the code with it.
  await core.patchNamespacedConfigMap({
    name,
    namespace,
    body: [
      {
        op: 'add',
        path: '/metadata/ownerReferences',
        value: [{ apiVersion: 'v1', kind: 'Pod', name, uid: created.metadata?.uid ?? '', blockOwnerDeletion: false }],
      },
    ],
  });

  const deadline = Date.now() + READY_TIMEOUT_MS;
  const late = (what: string): AirlockError =>
    new AirlockError('engine-unavailable', `the egress proxy of ${o.plugin} (Pod ${namespace}/${name}) did not ${what} within ${READY_TIMEOUT_MS / 1000} s`);
  let pod: V1Pod = await core.readNamespacedPod({ name, namespace });
  while (pod.status?.phase !== 'Running' || !pod.status.podIP) {
    o.signal?.throwIfAborted();
    const waiting = pod.status?.containerStatuses?.[0]?.state?.waiting?.reason ?? '';
    if (pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded' || FATAL_WAITING.has(waiting))
      throw new AirlockError('engine-unavailable', `the egress proxy of ${o.plugin} stopped before it was ready: ${podProblem(pod)}`, {
        details: { pod: `${namespace}/${name}`, image: o.image },
      });
    if (Date.now() > deadline) throw late(`run (${podProblem(pod)})`);
    await sleep(200, undefined, { signal: o.signal });
    pod = await core.readNamespacedPod({ name, namespace });
  }

  let listening!: () => void;
  const ready = new Promise<void>((resolve) => (listening = resolve));
  const log = new ProxyLog({ onListening: () => listening(), onDecision: o.onDecision });
  const follow = new AbortController();
  o.undo.push(async () => follow.abort());
  let failure: AirlockError | undefined;
  // The log of a running container ends when the container does (then the plugin has no network), or when the
  // connection to the API server drops: the Pod's state tells which.
  const ended = (): void => {
    if (follow.signal.aborted) return;
    void core.readNamespacedPod({ name, namespace }).then(
      (p) => {
        if (p.status?.containerStatuses?.[0]?.state?.running === undefined) stopped(podProblem(p));
      },
      () => stopped('its Pod is gone'),
    );
  };
  const stopped = (why: string): void => {
    if (follow.signal.aborted) return;
    failure ??= new AirlockError(
      'engine-unavailable',
      `the egress proxy of ${o.plugin} has stopped (${why}); the plugin has no network until it is loaded again`,
      {
        details: { pod: `${namespace}/${name}` },
      },
    );
  };
  await followLog(o.kubeconfig, `/api/v1/namespaces/${namespace}/pods/${name}/log?container=proxy&follow=true`, log, ended, follow.signal);
  const timer = new AbortController();
  try {
    await Promise.race([
      ready,
      sleep(Math.max(0, deadline - Date.now()), undefined, { signal: AbortSignal.any([timer.signal, ...(o.signal ? [o.signal] : [])]) }).then(() => {
        throw late('report that it listens');
      }),
    ]);
  } finally {
    timer.abort();
  }
  const url = `http://${pod.status.podIP}:${PROXY_PORT}`;
  return { url, env: proxyEnv(url), failure: () => failure };
}

/** Why a Pod is not running, from its container's state. */
function podProblem(pod: V1Pod): string {
  const state = pod.status?.containerStatuses?.[0]?.state;
  const waiting = state?.waiting;
  if (waiting !== undefined) return `${waiting.reason ?? 'waiting'}${waiting.message === undefined ? '' : `: ${waiting.message}`}`;
  const ended = state?.terminated;
  if (ended !== undefined)
    return `exit code ${ended.exitCode}${ended.reason === undefined ? '' : ` (${ended.reason})`}${ended.message ? `: ${ended.message}` : ''}`;
  return `phase ${pod.status?.phase ?? 'unknown'}${pod.status?.message ? `: ${pod.status.message}` : ''}`;
}

/**
 * Follows a Pod's log through the API server into `log` (bounded lines, checked decisions: ../proxy-log.ts),
 * and calls `onEnd` once it is over. Resolves once the stream is open. Every error of the request or the
 * response is handled here (the stream just stops): client-node's Log pipes a response with no error handler,
 * so an abort or a reset would be an uncaught exception in the host.
 */
async function followLog(kc: KubeConfig, path: string, log: ProxyLog, onEnd: () => void, signal: AbortSignal): Promise<void> {
  const server = kc.getCurrentCluster()?.server;
  if (server === undefined) throw new AirlockError('engine-unavailable', 'the kubeconfig names no cluster');
  const options: RequestOptions = { signal };
  await kc.applyToHTTPSOptions(options);
  await new Promise<void>((resolve, reject) => {
    const req = request(new URL(path, server), options, (res) => {
      res.on('error', () => undefined);
      if (res.statusCode !== 200) {
        res.resume();
        reject(new AirlockError('engine-unavailable', `cannot follow the egress proxy's log: the API server answered ${res.statusCode}`));
        return;
      }
      resolve();
      res.once('close', onEnd);
      res.on('data', (chunk: Buffer) => log.push(chunk));
    });
    req.on('error', (e) => reject(new AirlockError('engine-unavailable', `cannot follow the egress proxy's log: ${e.message}`)));
    req.end();
  });
}
