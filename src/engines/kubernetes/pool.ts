/**
 * The Kubernetes engine's slots (src/slots/pool.ts): each a warm Pod serving
 * one call at a time over its attached stdio (./pod.ts). A timeout or abort
 * deletes the Pod serving the call and starts a replacement; a Pod that ends
 * by itself is a `crash` (or `memory-limit`) and is replaced; a replacement
 * that cannot start is tried again with backoff. With `isolation: per-call` a
 * Pod serves a single call. The same rules as the Docker engine's pool
 * (src/engines/docker/pool.ts) for which errors are the host's and which
 * leave a Pod unfit for reuse.
 */
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { Slot, SlotCall, SlotDriver } from '../../slots/driver.ts';
import type { SlotPool } from '../../slots/pool.ts';
import { admitJson, callOutcome, leavesBroken } from '../host-stream.ts';
import type { CallResult } from '../types.ts';
import { CONTAINER_BACKOFF, InstancePool } from '../instance-pool.ts';
import { PluginPod, type PodOptions } from './pod.ts';

type PodSlot = Slot<PluginPod, unknown>;

class PodDriver implements SlotDriver<PluginPod, unknown> {
  pool!: SlotPool<PluginPod, unknown, CallResult>;
  readonly #grants: Grants;
  readonly #options: PodOptions;

  constructor(grants: Grants, options: PodOptions) {
    this.#grants = grants;
    this.#options = options;
  }

  admit(tool: string, input: string): unknown {
    return admitJson(this.#grants.plugin.name, tool, input);
  }

  async start(slot: PodSlot, _prev: PluginPod | undefined, signal: AbortSignal | undefined): Promise<PluginPod> {
    let pod: PluginPod;
    try {
      pod = await PluginPod.start(this.#options, signal);
    } catch (e) {
      if (e instanceof AirlockError) throw e;
      if (signal?.aborted === true) throw new AirlockError('aborted', `starting a Pod for ${this.#grants.plugin.name} was aborted`, { cause: e });
      throw new AirlockError(
        'engine-unavailable',
        `plugin ${this.#grants.plugin.name}: a Pod could not be made: ${(e as { body?: string }).body ?? (e as Error).message}`,
        { cause: e },
      );
    }
    // An idle Pod that ends (deleted or killed from outside) is replaced; a busy one fails its call in run().
    void pod.exited.then((err) => {
      if (slot.state === 'idle' && slot.handle === pod) this.pool.died(slot, pod, err);
    });
    return pod;
  }

  run(slot: PodSlot, call: SlotCall<unknown>): void {
    const pod = slot.handle as PluginPod;
    pod.call(call.tool, call.input).then(
      (msg) => {
        const outcome = callOutcome(this.#grants, call.tool, msg, (e) => pod.fromHost(e), this.#options.hint);
        const replace = leavesBroken(msg, (e) => pod.fromHost(e)) || this.#grants.isolation === 'per-call' || pod.killed;
        if (outcome instanceof AirlockError) this.pool.fail(call, outcome, replace);
        else this.pool.answer(call, { output: outcome.output, logs: outcome.logs, metrics: { engine: 'kubernetes', ...this.pool.metrics(call) } }, replace);
      },
      (err: AirlockError) => this.pool.fail(call, err, true),
    );
  }

  kill(pod: PluginPod): Promise<void> {
    return pod.kill();
  }

  stop(pod: PluginPod): Promise<void> {
    return pod.stop();
  }
}

/** One plugin's warm Pods. */
export class PodPool extends InstancePool<PluginPod, unknown> {
  constructor(grants: Grants, options: PodOptions) {
    super(new PodDriver(grants, options), grants, {
      instance: 'Pod',
      backoff: CONTAINER_BACKOFF,
      closeFailsQueued: true,
      idleMs: grants.idleMs ?? 0,
    });
  }
}
