/**
 * The Docker engine's slots (src/slots/pool.ts): each a warm container serving
 * one call at a time over its stdio. A timeout or abort kills the container
 * serving the call and starts a replacement; a crash or OOM kill is reported
 * and the container replaced; a replacement that cannot start is tried again
 * with backoff. With `isolation: per-call` a container serves a single call:
 * the pool keeps fresh (never used) containers started ahead, and retires
 * each after its call. Close fails the queued calls (a slot may be waiting
 * out a backoff) and lets the running ones finish.
 */
import type Docker from 'dockerode';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { CallResult } from '../types.ts';
import { CONTAINER_BACKOFF, InstancePool } from '../instance-pool.ts';
import { admitJson, callOutcome, leavesBroken } from '../host-stream.ts';
import type { Slot, SlotCall, SlotDriver } from '../../slots/driver.ts';
import type { SlotPool } from '../../slots/pool.ts';
import { daemonError, daemonUnreachable, PluginContainer, removeLeftovers, type ContainerSpec } from './container.ts';
import { dockerHint } from './hints.ts';

type ContainerSlot = Slot<PluginContainer, unknown>;

class ContainerDriver implements SlotDriver<PluginContainer, unknown> {
  pool!: SlotPool<PluginContainer, unknown, CallResult>;
  readonly #docker: Docker;
  readonly #grants: Grants;
  readonly #spec: ContainerSpec;
  /** Leftover removals in flight; closed() waits for them. */
  readonly #cleanups = new Set<Promise<void>>();

  constructor(docker: Docker, grants: Grants, spec: ContainerSpec) {
    this.#docker = docker;
    this.#grants = grants;
    this.#spec = spec;
  }

  admit(tool: string, input: string): unknown {
    return admitJson(this.#grants.plugin.name, tool, input);
  }

  async start(slot: ContainerSlot, _prev: PluginContainer | undefined, signal: AbortSignal | undefined): Promise<PluginContainer> {
    let c: PluginContainer;
    try {
      c = await PluginContainer.start(this.#docker, this.#spec, signal);
    } catch (e) {
      throw e instanceof AirlockError
        ? e
        : signal?.aborted === true
          ? new AirlockError('aborted', `starting a container for ${this.#grants.plugin.name} was aborted`, { cause: e })
          : daemonUnreachable(e)
            ? daemonError(this.#grants.plugin.name, e)
            : new AirlockError('crash', `plugin ${this.#grants.plugin.name}: a container could not start: ${(e as Error).message}`, { cause: e });
    }
    // The daemon answers: remove what an earlier outage left.
    this.#track(removeLeftovers(this.#docker));
    await c.markUsage();
    // An idle container that dies (killed from outside) is replaced; a busy one fails its call in run().
    void c.exited.then(() => {
      if (slot.state === 'idle') this.pool.died(slot, c, new AirlockError('crash', `plugin ${this.#grants.plugin.name}: an idle container exited`));
    });
    return c;
  }

  #track(p: Promise<void>): void {
    const q: Promise<void> = p.catch(() => undefined).finally(() => this.#cleanups.delete(q));
    this.#cleanups.add(q);
  }

  run(slot: ContainerSlot, call: SlotCall<unknown>): void {
    const c = slot.handle as PluginContainer;
    c.call(call.tool, call.input).then(
      async (msg) => {
        const outcome = callOutcome(this.#grants, call.tool, msg, (e) => c.fromHost(e), this.#spec.hint);
        // output-limit or a plugin error leaves a healthy container.
        const replace = leavesBroken(msg, (e) => c.fromHost(e)) || this.#grants.isolation === 'per-call' || c.killed;
        // The call's timing is taken before asking the daemon for its usage.
        const metrics = { engine: 'docker' as const, ...this.pool.metrics(call) };
        const usage = await c.usage();
        if (outcome instanceof AirlockError) {
          Object.assign(outcome.details, { usage });
          this.pool.fail(call, outcome, replace);
        } else this.pool.answer(call, { output: outcome.output, logs: outcome.logs, metrics, usage }, replace);
      },
      (err: AirlockError) => this.pool.fail(call, err, true),
    );
  }

  kill(c: PluginContainer): Promise<void> {
    return c.kill();
  }

  stop(c: PluginContainer): Promise<void> {
    return c.stop();
  }

  async closed(): Promise<void> {
    while (this.#cleanups.size > 0) await Promise.all([...this.#cleanups]);
    await removeLeftovers(this.#docker);
  }
}

/** One plugin's warm containers. Close fails the queued calls, waits for running ones, then stops every container. */
export class ContainerPool extends InstancePool<PluginContainer, unknown> {
  constructor(docker: Docker, grants: Grants, spec: ContainerSpec) {
    super(new ContainerDriver(docker, grants, { hint: (code, message) => dockerHint(grants, code, message), ...spec }), grants, {
      instance: 'container',
      backoff: CONTAINER_BACKOFF,
      closeFailsQueued: true,
      // Idle containers are stopped after grants.idleMs; the next call starts one from the same image.
      idleMs: grants.idleMs ?? 0,
    });
  }
}
