/**
 * One plugin Pod and the JSON-lines protocol (src/protocol.ts) over its
 * container's attached stdio: created, waited for until Running, attached
 * through the API server (a websocket), greeted with the token line, ready
 * once the in-container host loaded the plugin. Its end (the attach stream
 * closing) is read back from the Pod's status: OOMKilled is `memory-limit`,
 * anything else a `crash`. kill() deletes the Pod at once and resolves once
 * the API server no longer lists it.
 */
import { randomBytes } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CoreV1Api, KubeConfig, V1ContainerStateTerminated, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';
import { AirlockError } from '../../errors.ts';
import type { ContainerError } from '../../protocol.ts';
import { HostStream, lastLines, type ResultMessage, STDERR_TAIL } from '../host-stream.ts';
import { statusOf } from './client.ts';
import { POLL_MS, PodWake } from './pod-watch.ts';
import { CONTAINER_NAME, dnsLabel } from './pod-spec.ts';

export type { ResultMessage } from '../host-stream.ts';

/** From create to Running: an image pull on a cold node included. */
const START_TIMEOUT_MS = 180_000;
/** From attach to the host's `ready` line (the plugin's entry loading). */
const READY_TIMEOUT_MS = 60_000;
/** A deleted Pod is waited for this long to leave the API server's list. */
const GONE_TIMEOUT_MS = 120_000;
/**
 * A deleted Pod's grace period. Not 0: the API server removes a Pod deleted with 0 at once, while its
 * container may still run on the node (a force deletion); with 1 the Pod stays listed until the kubelet has
 * stopped it (SIGTERM, then SIGKILL after the kubelet's minimum of 2 s), so "gone" means stopped.
 */
export const DELETE_GRACE_SECONDS = 1;

/**
 * client-node sends each stdin chunk as one websocket message, and the API server's websocket reader closes the
 * stream on a message over 32 MiB (golang.org/x/net/websocket's DefaultMaxPayloadBytes): a long request line goes
 * in slices, so it reaches the Pod (and meets its memory limit there, as in a container) instead of ending the stream.
 */
const STDIN_SLICE = 1 << 20;

/** Writes `line` to `stdin` in chunks of at most STDIN_SLICE bytes (the bytes of one string, split anywhere). */
export function writeSliced(stdin: PassThrough, line: string): void {
  if (line.length <= STDIN_SLICE / 3) {
    stdin.write(line);
    return;
  }
  const bytes = Buffer.from(line);
  for (let i = 0; i < bytes.length; i += STDIN_SLICE) stdin.write(bytes.subarray(i, i + STDIN_SLICE));
}

/** Container waiting reasons that will not resolve by themselves. */
const STUCK = new Set(['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError', 'RunContainerError']);

/** The Pod to create, given its name. */
export type PodSpecFactory = (name: string) => V1Pod;

export interface PodOptions {
  kc: KubeConfig;
  core: CoreV1Api;
  namespace: string;
  plugin: string;
  /** A line from the container longer than this is an output-limit (the Pod is then deleted). */
  maxLineBytes: number;
  pod: PodSpecFactory;
  /** Advice for a plugin error at load. */
  hint?: (code: string, message: string) => string | undefined;
}

/** The Pod's name: the plugin's (as a DNS label) and a random part. */
export function podName(plugin: string): string {
  return `airlock-${dnsLabel(plugin, 40)}-${randomBytes(5).toString('hex')}`;
}

function containerStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === CONTAINER_NAME);
}

export class PluginPod {
  readonly name: string;
  /** See PluginContainer: proves an error comes from the in-container host, not the plugin posing as it. */
  readonly #token = randomBytes(16).toString('hex');
  readonly #o: PodOptions;
  readonly #stdin = new PassThrough();
  readonly #host: HostStream;
  #stderrTail = '';
  #killed = false;
  #gone: Promise<void> | undefined;
  #socket: { close(): void } | undefined;
  #ended!: () => void;
  /** Resolves with the error a call in flight gets when the Pod ends. */
  readonly exited: Promise<AirlockError>;

  private constructor(name: string, options: PodOptions) {
    this.name = name;
    this.#o = options;
    this.#host = new HostStream({
      plugin: options.plugin,
      instance: 'Pod',
      name,
      maxLineBytes: options.maxLineBytes,
      ...(options.hint === undefined ? {} : { hint: options.hint }),
      write: (line) => writeSliced(this.#stdin, line),
      broken: () => void this.kill(),
    });
    this.exited = new Promise<void>((resolve) => {
      this.#ended = resolve;
    }).then(() => this.#exitError());
    void this.exited.then((e) => this.#host.fail(e));
  }

  /** Creates the Pod, waits until it runs, attaches and resolves once its host loaded the plugin. */
  static async start(options: PodOptions, signal?: AbortSignal): Promise<PluginPod> {
    const name = podName(options.plugin);
    const pod = new PluginPod(name, options);
    try {
      // Watched from before its creation: the wait reads the Pod when it changes (a failed watch leaves the poll).
      // Both at once (opening never rejects; a failed create is awaited below, after the watch can be closed).
      const created = options.core.createNamespacedPod({ namespace: options.namespace, body: options.pod(name) });
      created.catch(() => undefined);
      const wake = await PodWake.open(options.kc, options.namespace, name);
      try {
        await created;
        await pod.#running(signal, wake);
      } finally {
        wake.close();
      }
      await pod.#attach();
      const ready = pod.#host.ready();
      await pod.#host.greet(ready, pod.#token, { signal, timeoutMs: READY_TIMEOUT_MS });
      return pod;
    } catch (e) {
      await pod.kill();
      throw e;
    }
  }

  /** Waits (bounded) until the Pod's container runs; a Pod that cannot start is an error naming why. */
  async #running(signal: AbortSignal | undefined, wake: PodWake): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const onAbort = (): void => wake.poke();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await this.#waitRunning(signal, wake, deadline);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async #waitRunning(signal: AbortSignal | undefined, wake: PodWake, deadline: number): Promise<void> {
    const { core, namespace, plugin } = this.#o;
    for (;;) {
      if (signal?.aborted === true) throw new AirlockError('aborted', `starting a Pod for ${plugin} was aborted`);
      const seen = wake.seq;
      const pod = await core.readNamespacedPod({ namespace, name: this.name });
      const phase = pod.status?.phase;
      const status = containerStatus(pod);
      if (phase === 'Running' && status?.state?.running !== undefined) return;
      const waiting = status?.state?.waiting;
      if (waiting?.reason !== undefined && STUCK.has(waiting.reason))
        throw new AirlockError('engine-unavailable', `plugin ${plugin}: Pod ${this.name} cannot start: ${waiting.reason}: ${waiting.message ?? ''}`, {
          hint: waiting.reason.includes('Image')
            ? 'the cluster must be able to pull from the host policy kubernetes.registry (plain HTTP registries need the node runtime configured for them)'
            : undefined,
        });
      if (phase === 'Failed' || phase === 'Succeeded') {
        const t = status?.state?.terminated;
        throw new AirlockError('crash', `plugin ${plugin}: Pod ${this.name} ended before it was ready (${t?.reason ?? phase}, code ${t?.exitCode ?? '?'})`);
      }
      if (Date.now() > deadline) {
        // The scheduler's word when it could not place the Pod (Insufficient cpu, say), else the phase.
        const unscheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
        throw new AirlockError(
          'engine-unavailable',
          `plugin ${plugin}: Pod ${this.name} was not running after ${START_TIMEOUT_MS / 1000} s (${unscheduled?.message ?? waiting?.reason ?? phase ?? 'no phase'})`,
          unscheduled === undefined ? {} : { hint: 'the cluster has no node with room for the Pod’s requests (resources.memory and resources.cpu)' },
        );
      }
      await wake.next(seen);
    }
  }

  async #attach(): Promise<void> {
    const { Attach } = await import('@kubernetes/client-node');
    const stdout = { write: (b: Buffer) => this.#host.push(b), end: () => undefined };
    const stderr = {
      write: (b: Buffer) => {
        this.#stderrTail = (this.#stderrTail + b.toString('utf8')).slice(-STDERR_TAIL);
      },
      end: () => undefined,
    };
    const ws = await new Attach(this.#o.kc).attach(this.#o.namespace, this.name, CONTAINER_NAME, stdout, stderr, this.#stdin, false);
    this.#socket = ws;
    ws.on('close', () => this.#ended());
    ws.on('error', () => this.#ended());
  }

  /** Sends one request; resolves with its result. One call at a time. */
  call(tool: string, input: unknown): Promise<ResultMessage> {
    return this.#host.call(tool, input);
  }

  fromHost(error: ContainerError): boolean {
    return error.origin === 'airlock' && (error as ContainerError & { token?: unknown }).token === this.#token;
  }

  get killed(): boolean {
    return this.#killed;
  }

  /** Deletes the Pod at once (idempotent); resolves when the API server no longer has it. */
  kill(): Promise<void> {
    this.#killed = true;
    this.#gone ??= this.#delete();
    return this.#gone;
  }

  async #delete(): Promise<void> {
    const { core, namespace } = this.#o;
    // Deleted while the watch opens: a kill is not held up by it.
    const [wake] = await Promise.all([
      PodWake.open(this.#o.kc, namespace, this.name),
      core.deleteNamespacedPod({ namespace, name: this.name, gracePeriodSeconds: DELETE_GRACE_SECONDS }).catch(() => undefined),
    ]);
    try {
      this.#socket?.close();
      this.#ended();
      const deadline = Date.now() + GONE_TIMEOUT_MS;
      while (Date.now() < deadline) {
        const seen = wake.seq;
        const status = await core.readNamespacedPod({ namespace, name: this.name }).then(
          () => 200,
          (e: unknown) => statusOf(e) ?? 0,
        );
        if (status === 404) return;
        await wake.next(seen);
      }
    } finally {
      wake.close();
    }
  }

  /** Stops an idle Pod (close): deleted like a killed one. */
  stop(): Promise<void> {
    return this.kill();
  }

  /** Why the Pod ended, from its status (the kubelet's word, not the plugin's output). */
  async #exitError(): Promise<AirlockError> {
    const plugin = this.#o.plugin;
    if (this.#killed) return new AirlockError('crash', `plugin ${plugin}: its Pod was stopped`);
    const tail = lastLines(this.#stderrTail);
    // The attach stream can close a moment before the kubelet reports the container's end.
    let terminated: V1ContainerStateTerminated | undefined;
    for (let i = 0; i < 50 && terminated === undefined; i++) {
      const pod = await this.#o.core.readNamespacedPod({ namespace: this.#o.namespace, name: this.name }).catch(() => undefined);
      const status = pod === undefined ? undefined : containerStatus(pod);
      terminated = status?.state?.terminated ?? status?.lastState?.terminated;
      if (pod === undefined) break;
      if (terminated === undefined) await sleep(POLL_MS);
    }
    void this.kill();
    const details = { exitCode: terminated?.exitCode, reason: terminated?.reason, lastLines: tail };
    if (terminated?.reason === 'OOMKilled') return new AirlockError('memory-limit', `plugin ${plugin} went past its memory limit and was killed`, { details });
    if (terminated === undefined)
      return new AirlockError('crash', `plugin ${plugin}: the attach stream of Pod ${this.name} closed while the Pod ran`, { details });
    return new AirlockError(
      'crash',
      `plugin ${plugin}: its Pod's container exited (code ${terminated.exitCode})${tail === '' ? '' : `; last lines:\n${tail}`}`,
      { details },
    );
  }
}
