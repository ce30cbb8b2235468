/**
 * The wasm engine's slots (src/slots/pool.ts): each a worker thread with its
 * own fast channel. Timeouts and aborts terminate the worker (a fresh one
 * replaces it), a dead worker fails its call with `crash`, and the host spins
 * briefly for a quick answer (hostSpinMicros). The main thread never blocks.
 *
 * With per-call isolation the pool keeps one standby worker beyond
 * resources.concurrency (never more calls than that run at once): a worker
 * builds its next fresh instance right after answering, and meanwhile the
 * next call goes to a worker whose instance is already built, so calls in
 * quick succession do not wait for an instantiation.
 */
import type { CallResult } from '../types.ts';
import { InstancePool } from '../instance-pool.ts';
import { AirlockError } from '../../errors.ts';
import type { Grants } from '../../grants/types.ts';
import type { OpenedCapabilities, WasiPlan } from '../../capabilities/index.ts';
import type { WasmAdoptMessage, WasmPluginData, WasmWorkerMessage } from '../../protocol.ts';
import type { Slot, SlotCall, SlotDriver } from '../../slots/driver.ts';
import type { SlotPool } from '../../slots/pool.ts';
import { waitAsync, type WasmModule } from '../../wasm-api.ts';
import { Channel, ChannelFullError, RESP_SEQ, RESPONSE } from './channel.ts';
import { type BlankWorker, readStdio, retire, standby } from './standby.ts';
import { createUsageCells, readUsage } from './usage.ts';

/** How long a stopped worker may take to end by itself before it is terminated. */
const STOP_BOUND_MS = 10_000;

/** One worker thread and its channel: a slot's instance. */
interface WasmWorker extends BlankWorker {
  channel: Channel;
  /** The last call's usage, written by the worker (./usage.ts). */
  usage: SharedArrayBuffer;
  /** An Atomics.waitAsync on this worker's channel is pending. */
  waiting: boolean;
}

type WasmSlot = Slot<WasmWorker>;

export interface PoolOptions {
  grants: Grants;
  glueUrl: string;
  glueScript?: WasmPluginData['glueScript'];
  glueName: string;
  modules: Record<string, WasmModule>;
  /** What the workers load for the component (capabilities/worker.ts). */
  wasi: WasiPlan;
  /** What the capabilities opened for the plugin: `shared` reaches every worker, `instanceGone` runs when one exits. */
  capabilities: Pick<OpenedCapabilities, 'shared' | 'instanceGone'>;
  /** See WasmEngineOptions.hostSpinMicros. */
  hostSpinMicros: number;
  /** See WasmEngineOptions.workerSpinMicros. */
  workerSpinMicros: number;
  /** Called each time a worker has been handed the plugin and instantiates it (the host's thread is free meanwhile). */
  onAdopting?: () => void;
}

class WasmDriver implements SlotDriver<WasmWorker> {
  pool!: SlotPool<WasmWorker, string, CallResult>;
  readonly #opts: PoolOptions;
  /** Terminations in flight; close waits for them (and so for Node closing their fds). */
  readonly #cleanups = new Set<Promise<void>>();

  constructor(opts: PoolOptions) {
    this.#opts = opts;
  }

  /** Adopts a blank worker (./standby.ts) for the plugin; resolves on its `ready`, rejects on its init error or an early death. */
  async start(slot: WasmSlot, _prev: WasmWorker | undefined, signal: AbortSignal | undefined): Promise<WasmWorker> {
    const g = this.#opts.grants;
    const script = this.#opts.glueScript;
    const blank = await standby.take({
      ...(script === undefined ? {} : { glue: { script, name: this.#opts.glueName } }),
      ...(this.#opts.wasi.interfaces === undefined ? {} : { interfaces: this.#opts.wasi.interfaces }),
    });
    const worker = blank.worker;
    const channel = Channel.create(Math.max(64 << 20, 3 * (g.resources.outputBytes + g.resources.logBytes) + (1 << 20)));
    const plugin: WasmPluginData = {
      glueUrl: this.#opts.glueUrl,
      ...(this.#opts.glueScript === undefined ? {} : { glueScript: this.#opts.glueScript }),
      glueName: this.#opts.glueName,
      modules: this.#opts.modules,
      grants: g,
      wasi: this.#opts.wasi,
      capabilities: this.#opts.capabilities.shared,
      channel: channel.sab,
      usage: createUsageCells(),
      spinMicros: this.#opts.workerSpinMicros,
    };
    const w: WasmWorker = Object.assign(blank, { channel, usage: plugin.usage, waiting: false });
    readStdio(w);
    // A worker killed mid-call (timeout, abort) may hold what a capability shares (the disk-quota lock).
    const thread = worker.threadId;
    worker.once('exit', () => this.#opts.capabilities.instanceGone(thread));
    return new Promise<WasmWorker>((resolve, reject) => {
      let state: 'adopting' | 'ready' | 'over' = 'adopting';
      // Settles when the worker's start is over: it is ready, it failed or it died.
      let startOver!: () => void;
      const over = new Promise<void>((r) => {
        startOver = r;
      });
      // Before `ready` a failure rejects the start (the pool does not restart it in a loop); after, the pool replaces the worker.
      const fail = (err: AirlockError): void => {
        startOver();
        if (state === 'ready') return this.pool.died(slot, w, err);
        if (state === 'over') return;
        state = 'over';
        signal?.removeEventListener('abort', onAbort);
        void this.kill(w);
        reject(err);
      };
      const onAbort = (): void => {
        if (state !== 'adopting') return;
        state = 'over';
        reject(new AirlockError('aborted', `starting a worker for ${g.plugin.name} was aborted`));
        // It may be importing the glue and instantiating: terminated once that is over, never midway (./standby.ts retire),
        // within the plugin's call timeout (a hostile start function may never end).
        w.channel.close();
        this.#track(retire(worker, over, Math.max(g.resources.timeoutMs, 10_000)));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (msg: WasmWorkerMessage) => {
        if (msg.type === 'ready') {
          startOver();
          if (state !== 'adopting') return;
          state = 'ready';
          signal?.removeEventListener('abort', onAbort);
          resolve(w);
        } else if (msg.type === 'init-error') {
          fail(AirlockError.fromJSON(msg.error));
        }
      });
      worker.on('error', (e: Error & { code?: string }) => {
        const oom = e.code === 'ERR_WORKER_OUT_OF_MEMORY';
        fail(
          new AirlockError(oom ? 'memory-limit' : 'crash', `plugin ${g.plugin.name}: worker ${oom ? 'ran out of JS heap' : 'crashed'}: ${e.message}`, {
            cause: e,
          }),
        );
      });
      worker.on('exit', (code) => {
        fail(new AirlockError('crash', `plugin ${g.plugin.name}: worker exited with code ${code}${w.stderrTail ? `: ${w.stderrTail.trim()}` : ''}`));
      });
      if (signal?.aborted === true) {
        // Not adopted yet: a blank worker that has started; it may still compile the glue it guessed (./worker.ts).
        void blank.settled.then(startOver);
        onAbort();
      } else {
        worker.postMessage({ type: 'adopt', plugin } satisfies WasmAdoptMessage);
        this.#opts.onAdopting?.();
      }
    });
  }

  /** Ends a worker at once (timeout, abort, crash); the pool ignores its later events (it is no longer the slot's handle). */
  kill(w: WasmWorker): Promise<void> {
    // Wakes our own waitAsync so it does not linger.
    w.channel.close();
    return this.#track(w.worker.terminate().then(() => undefined));
  }

  /**
   * Stops an idle worker (close, parking) without terminating it: its closed
   * channel makes it leave its loop once the instance it may be building is
   * done, and its thread ends by itself. So no thread is torn down while it
   * compiles or instantiates (see ./standby.ts retire). One that has not
   * ended within STOP_BOUND_MS is terminated.
   */
  stop(w: WasmWorker): Promise<void> {
    w.channel.close();
    const exited = w.worker.threadId < 0 ? Promise.resolve() : new Promise<void>((r) => w.worker.once('exit', () => r()));
    return this.#track(retire(w.worker, exited, STOP_BOUND_MS));
  }

  /** Terminations in flight are kept until done: close waits for them (and so for Node closing their fds). */
  #track(p: Promise<void>): Promise<void> {
    const done: Promise<void> = p.finally(() => this.#cleanups.delete(done));
    this.#cleanups.add(done);
    return done;
  }

  async closed(): Promise<void> {
    await Promise.all([...this.#cleanups]);
  }

  /** A worker whose next instance is built already. */
  prefer(a: WasmWorker, b: WasmWorker): boolean {
    return !a.channel.spareReady && b.channel.spareReady;
  }

  run(slot: WasmSlot, call: SlotCall<string>): void {
    const w = slot.handle as WasmWorker;
    try {
      w.channel.sendRequest({ tool: call.tool, input: call.input });
    } catch (e) {
      throw e instanceof ChannelFullError
        ? new AirlockError('invalid-input', `input for ${call.tool} is too large: ${e.message}`)
        : new AirlockError('internal', String(e));
    }
    this.#arm(slot, w);
  }

  dispatched(): void {
    this.#drive();
  }

  /** Makes sure one Atomics.waitAsync watches the worker's response counter. */
  #arm(slot: WasmSlot, w: WasmWorker): void {
    if (w.waiting) return;
    w.waiting = true;
    const seq = Atomics.load(w.channel.ctl, RESP_SEQ);
    // A response may already be there (seq moved on before we armed): then the
    // state check in #onWake finds it.
    const wait = w.channel.state === RESPONSE ? undefined : waitAsync(w.channel.ctl, RESP_SEQ, seq);
    const wake = () => this.#onWake(slot, w);
    if (wait === undefined || !wait.async) void Promise.resolve().then(wake);
    else void wait.value.then(wake);
  }

  #onWake(slot: WasmSlot, w: WasmWorker): void {
    if (slot.handle !== w) return;
    w.waiting = false;
    if (slot.state === 'busy' && w.channel.state === RESPONSE) this.#complete(slot, w);
    if (slot.state === 'busy' && slot.handle === w) this.#arm(slot, w);
    this.#drive();
  }

  /**
   * For up to hostSpinMicros, watches every busy slot and completes answers
   * in place: a quick call then resolves without an event-loop wake-up (the
   * larger part of a round trip). A bounded busy-wait; 0 disables it.
   */
  #drive(): void {
    const spinMs = this.#opts.hostSpinMicros / 1000;
    if (spinMs <= 0) return;
    const slots = this.pool.slots;
    const until = performance.now() + spinMs;
    for (;;) {
      let busy = false;
      for (const slot of slots) {
        if (slot.state !== 'busy') continue;
        const w = slot.handle as WasmWorker;
        if (w.channel.state === RESPONSE) this.#complete(slot, w);
        if (slot.state === 'busy') busy = true;
      }
      if (!busy || performance.now() >= until) return;
    }
  }

  /** Reads a slot's answer and settles its call (the pool then gives the slot the next queued call). */
  #complete(slot: WasmSlot, w: WasmWorker): void {
    const call = slot.call as SlotCall<string>;
    // Read before the response is released: the worker's next call overwrites it.
    const usage = readUsage(w.usage);
    const res = w.channel.readResponse();
    const logs = { stdout: res.stdout, stderr: res.stderr, ...(res.truncated ? { truncated: true } : {}) };
    if (res.kind === 'ok') {
      this.pool.answer(call, { output: res.output, logs, metrics: { engine: 'wasm', ...this.pool.metrics(call) }, usage });
    } else {
      const err = AirlockError.fromJSON(res.error);
      Object.assign(err.details, { logs, usage });
      this.pool.fail(call, err);
    }
  }
}

/** One plugin's warm workers. Close lets queued and running calls finish, then stops every worker. */
export class PluginPool extends InstancePool<WasmWorker, string> {
  constructor(opts: PoolOptions) {
    // Idle workers are parked after grants.idleMs: the next call adopts a standby worker and instantiates the compiled modules again.
    super(new WasmDriver(opts), opts.grants, {
      instance: 'worker',
      spare: opts.grants.isolation === 'per-call' ? 1 : 0,
      // A component's start function is plugin code: it gets the plugin's call timeout (at least 10 s, for the
      // glue's import and instantiation on a busy machine), then the worker is retired (./standby.ts).
      startTimeoutMs: Math.max(opts.grants.resources.timeoutMs, 10_000),
      idleMs: opts.grants.idleMs ?? 0,
    });
  }
}
