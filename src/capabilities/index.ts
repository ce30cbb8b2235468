/**
 * Every capability, and the composition engines use. Adding a capability
 * means adding its folder and listing it here; engines only ever iterate.
 */
import { WASIShim } from '@bytecodealliance/preview2-shim/instantiation';
import type { Grants } from '../grants/types.ts';
import { AirlockError } from '../errors.ts';
import { env } from './env/index.ts';
import { filesystem } from './filesystem/index.ts';
import { limits } from './limits/index.ts';
import { network } from './network/index.ts';
import { random } from './random/index.ts';
import { LogCapture, stdio } from './stdio/index.ts';
import type { CallState, Capability, CapabilityOpenOptions, OpenedCapability, WasiContext, WasiImports } from './types.ts';

export type {
  CallState,
  FileUsage,
  RefusedRequest,
  Capability,
  CapabilityOpenOptions,
  DockerContribution,
  DockerHostConfig,
  LogSink,
  OpenedCapability,
  WasiContext,
  WasiImports,
  WasmtimeContribution,
} from './types.ts';
export { LogCapture } from './stdio/index.ts';
export type { EgressRoute, RouteOptions } from './network/index.ts';
export { env, filesystem, limits, network, random, stdio };

export const CAPABILITIES: readonly Capability[] = [filesystem, network, env, stdio, random, limits];

/**
 * The baseline: preview2-shim's WASIShim with every sandbox option closed
 * (no preopens, no env, no network). preview2-shim is not a security
 * boundary; the capabilities replace each interface a grant governs.
 */
export function baselineWasi(pluginName: string): WasiImports {
  const shim = new WASIShim({ sandbox: { preopens: {}, env: {}, args: [pluginName], enableNetwork: false } });
  return shim.getImportObject() as unknown as WasiImports;
}

// The baseline holds no per-instance state (every stateful interface is
// replaced by a capability), so one per plugin name serves every instance;
// per-call isolation builds an instance per call.
const baselines = new Map<string, WasiImports>();
function cachedBaseline(pluginName: string): WasiImports {
  let base = baselines.get(pluginName);
  if (base === undefined) {
    base = baselineWasi(pluginName);
    baselines.set(pluginName, base);
  }
  return base;
}

/** What every capability opened for one plugin (see Capability.open); engines pass `shared` to each instance. */
export interface OpenedCapabilities {
  /** By capability name: what crosses into each instance (structured-cloneable). */
  shared: Record<string, unknown>;
  /** An instance's thread ended (timeout, abort, crash): each capability frees what that thread held. */
  instanceGone(threadId: number): void;
  close(): Promise<void>;
}

/** Opens every capability for one plugin; closes what opened when one fails. */
export async function openCapabilities(
  grants: Grants,
  options: CapabilityOpenOptions = {},
  capabilities: readonly Capability[] = CAPABILITIES,
): Promise<OpenedCapabilities> {
  const opened: { name: string; value: OpenedCapability }[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(opened.splice(0).map((o) => o.value.close?.()));
  };
  try {
    for (const cap of capabilities) {
      const value = await cap.open?.(grants, options);
      if (value !== undefined) opened.push({ name: cap.name, value });
    }
  } catch (e) {
    await close();
    throw e;
  }
  const shared = Object.create(null) as Record<string, unknown>;
  for (const o of opened) if (o.value.shared !== undefined) shared[o.name] = o.value.shared;
  const gone = opened.flatMap((o) => (o.value.instanceGone === undefined ? [] : [o.value.instanceGone.bind(o.value)]));
  return {
    shared,
    instanceGone: (threadId) => {
      for (const fn of gone) fn(threadId);
    },
    close,
  };
}

/** The per-call state of a fresh instance, each capability's part reset (beginCall). */
export function newCallState(grants: Grants, capabilities: readonly Capability[] = CAPABILITIES): CallState {
  const call: CallState = { logs: new LogCapture(0), randomBytesLeft: 0, files: { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 }, egressRefused: [] };
  beginCall(grants, call, capabilities);
  return call;
}

/** Resets every capability's part of the call state before a call (fresh logs, the random budget). */
export function beginCall(grants: Grants, call: CallState, capabilities: readonly Capability[] = CAPABILITIES): void {
  for (const cap of capabilities) cap.beginCall?.(grants, call);
}

/** Per instance: frees what the instance holds (open fds), and what capabilities opened for the plugin. */
export interface InstanceContext {
  onRelease?: (fn: () => void) => void;
  shared?: Readonly<Record<string, unknown>>;
}

/**
 * The full WASI import object for one instance: the baseline with every
 * capability's overrides applied. `call` is read by the imports at call
 * time, so the engine resets it (beginCall) before each call.
 */
export function wasiImports(grants: Grants, call: CallState, capabilities: readonly Capability[] = CAPABILITIES, instance: InstanceContext = {}): WasiImports {
  const base = cachedBaseline(grants.plugin.name);
  const ctx: WasiContext = {
    pluginName: grants.plugin.name,
    call,
    base,
    shared: instance.shared ?? {},
    ...(instance.onRelease === undefined ? {} : { onRelease: instance.onRelease }),
  };
  const imports: WasiImports = { ...base };
  const owner = new Map<string, string>();
  for (const cap of capabilities) {
    const part = cap.wasi?.(grants, ctx);
    if (part === undefined) continue;
    for (const [key, value] of Object.entries(part)) {
      const prev = owner.get(key);
      if (prev !== undefined) throw new AirlockError('internal', `capabilities ${prev} and ${cap.name} both provide ${key}`);
      owner.set(key, cap.name);
      imports[key] = value;
    }
  }
  return imports;
}

/** Applies every capability's core-module rewrite (e.g. the memory cap), in list order. */
export function prepareCoreModule(grants: Grants, bytes: Uint8Array, name: string, capabilities: readonly Capability[] = CAPABILITIES): Uint8Array {
  let out = bytes;
  for (const cap of capabilities) if (cap.coreModule) out = cap.coreModule(grants, out, name);
  return out;
}
