/**
 * The capabilities' contract inside a wasm worker (the host side is
 * ./index.ts, which a worker never imports: it names every engine's parts).
 * The host sends a WasiPlan (./index.ts wasiPlan: the capabilities' worker
 * parts the component needs, by module URL); the worker loads them and the
 * baseline families the component imports (./baseline.ts), then builds
 * each instance's import object from them. Nothing here names a capability.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Worker } from 'node:worker_threads';
import { AirlockError } from '../errors.ts';
import type { Grants } from '../grants/types.ts';
import { baselineWasi } from './baseline.ts';
import { LogCapture } from './stdio/capture.ts';
import type { WasiPlan } from '../protocol.ts';
import { readyPollable } from './shim.ts';
import { COMMON_INTERFACES, WARM_PARTS } from './warm.ts';
import type { CallState, WasiContext, WasiImports, WasiPart } from './types.ts';

export type { CallState, LogSink, WasiImports } from './types.ts';
export { baselineWasi } from './baseline.ts';

export type { WasiPlan };

/** What a blank worker has loaded ahead (warmWasi). */
export interface Warmed {
  /** Resolves once the threads the loaded modules started run JavaScript (Node's boot of them is over). */
  threadsOnline: Promise<void>;
  /** With the shim's wasi:io, blocks until its IO thread answers a call (short once it is online): its boot is then over; with Airlock's own, returns at once. */
  ioRoundTrip(): void;
}

/**
 * What a blank worker loads while nobody waits (./warm.ts): the baseline
 * families and the worker parts most components import, and the baseline of
 * `interfaces` (the plugin adopted last). An adoption then finds them loaded
 * (each module once per thread); the rest it loads itself.
 *
 * preview2-shim's wasi:io module starts a thread of its own on import (its IO
 * worker, a nested Node worker; only for components with wasi:http or
 * wasi:sockets, ./baseline.ts), which boots in the background: the standby
 * waits for it (Warmed) before it calls itself settled, so that boot never
 * competes with an adoption for the CPU in a process that has been up a
 * while (a cached component's cold start measured 21-30 ms while it booted,
 * 11 ms once it had; issue 21).
 */
export async function warmWasi(interfaces: readonly string[] = []): Promise<Warmed> {
  const online: Promise<unknown>[] = [];
  const onWorker = (m: unknown): void => {
    const w = (m as { worker?: Worker }).worker;
    if (w !== undefined) online.push(new Promise((resolve) => w.once('online', resolve).once('exit', resolve)));
  };
  subscribe('worker_threads', onWorker);
  let base: WasiImports;
  try {
    [base] = await Promise.all([baselineWasi([...COMMON_INTERFACES, ...interfaces]), ...WARM_PARTS.map((m) => import(m))]);
  } finally {
    unsubscribe('worker_threads', onWorker);
  }
  return {
    threadsOnline: Promise.all(online).then(() => undefined),
    ioRoundTrip() {
      const pollable = readyPollable(base) as { [Symbol.dispose]?: () => void };
      pollable[Symbol.dispose]?.();
    },
  };
}

/** Per instance: frees what the instance holds (open fds), and what capabilities opened for the plugin. */
export interface InstanceContext {
  onRelease?: (fn: () => void) => void;
  shared?: Readonly<Record<string, unknown>>;
}

/** The loaded plan: builds each instance's imports and resets the per-call state. */
export interface WasiRuntime {
  /** The per-call state of a fresh instance, each part's share reset (beginCall). */
  newCallState(): CallState;
  /** Resets every part's share of the call state before a call (fresh logs, the random budget). */
  beginCall(call: CallState): void;
  /**
   * The full WASI import object for one instance: the baseline with every
   * part's interfaces applied. `call` is read by the imports at call time.
   */
  imports(call: CallState, instance?: InstanceContext): WasiImports;
}

interface LoadedPart {
  name: string;
  interfaces: ReadonlySet<string>;
  part: WasiPart;
}

async function loadPart(grants: Grants, ref: WasiPlan['parts'][number]): Promise<LoadedPart> {
  const mod = (await import(ref.module)) as { wasiPart?: WasiPart };
  if (typeof mod.wasiPart?.wasi !== 'function') throw new AirlockError('internal', `capability ${ref.name}: ${ref.module} exports no wasiPart`);
  await mod.wasiPart.load?.(grants);
  return { name: ref.name, interfaces: new Set(ref.interfaces), part: mod.wasiPart };
}

/** Loads the plan's baseline families and parts (each module once per thread). */
export async function loadWasi(grants: Grants, plan: WasiPlan): Promise<WasiRuntime> {
  const [base, parts] = await Promise.all([baselineWasi(plan.interfaces), Promise.all(plan.parts.map((ref) => loadPart(grants, ref)))]);
  const beginCall = (call: CallState): void => {
    for (const p of parts) p.part.beginCall?.(grants, call);
  };
  return {
    beginCall,
    newCallState() {
      const call: CallState = { logs: new LogCapture(0), randomBytesLeft: 0, files: { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 }, egressRefused: [] };
      beginCall(call);
      return call;
    },
    imports(call, instance = {}) {
      const ctx: WasiContext = {
        pluginName: grants.plugin.name,
        call,
        base,
        shared: instance.shared ?? {},
        ...(instance.onRelease === undefined ? {} : { onRelease: instance.onRelease }),
      };
      const imports: WasiImports = { ...base };
      const owner = new Map<string, string>();
      for (const p of parts) {
        for (const [key, value] of Object.entries(p.part.wasi(grants, ctx))) {
          // A part provides what it declared, and no interface has two owners.
          if (!p.interfaces.has(key)) throw new AirlockError('internal', `capability ${p.name} provides ${key}, which its worker part does not declare`);
          const prev = owner.get(key);
          if (prev !== undefined) throw new AirlockError('internal', `capabilities ${prev} and ${p.name} both provide ${key}`);
          owner.set(key, p.name);
          imports[key] = value;
        }
      }
      return imports;
    },
  };
}
