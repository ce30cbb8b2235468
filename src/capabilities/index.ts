/**
 * Every capability, and the composition engines use on the host. Adding a
 * capability means adding its folder and listing it here; engines only ever
 * iterate. A wasm worker imports ./worker.ts instead, never this file.
 */
import type { Grants } from '../grants/types.ts';
import { env } from './env/index.ts';
import { filesystem } from './filesystem/index.ts';
import { limits } from './limits/index.ts';
import { network } from './network/index.ts';
import { random } from './random/index.ts';
import { stdio } from './stdio/index.ts';
import type { Capability, CapabilityOpenOptions, OpenedCapability } from './types.ts';
import type { WasiPlan } from './worker.ts';

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
  WasiPart,
  WasmtimeContribution,
  WorkerPartRef,
} from './types.ts';
export { baselineWasi, loadWasi, type InstanceContext, type WasiPlan, type WasiRuntime } from './worker.ts';
export { LogCapture } from './stdio/index.ts';
// A grant's path re-checked at each use (the Docker engine's copies of read-only grants to a remote daemon).
export { verifyGrantPath } from './filesystem/verify.ts';
export type { EgressRoute, RouteOptions } from './network/index.ts';
/** The Docker container's user and home (its tmpfs is sized with /tmp; the image adds the passwd entry). */
export { CONTAINER_HOME, CONTAINER_UID } from './limits/docker.ts';
export { env, filesystem, limits, network, random, stdio };

export const CAPABILITIES: readonly Capability[] = [filesystem, network, env, stdio, random, limits];

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

/**
 * What a wasm worker loads for a component that imports `interfaces`
 * (undefined: not known, so every part): the worker parts whose interfaces
 * it imports, in list order. A part for interfaces the component does not
 * import could never be called.
 */
export function wasiPlan(interfaces: readonly string[] | undefined): WasiPlan {
  const imported = interfaces === undefined ? undefined : new Set(interfaces);
  const parts: WasiPlan['parts'][number][] = [];
  for (const cap of CAPABILITIES) {
    const w = cap.worker;
    if (w !== undefined && (imported === undefined || w.interfaces.some((i) => imported.has(i)))) parts.push({ name: cap.name, ...w });
  }
  return { interfaces, parts };
}

/** Applies every capability's core-module rewrite (e.g. the memory cap), in list order. */
export function prepareCoreModule(grants: Grants, bytes: Uint8Array, name: string, capabilities: readonly Capability[] = CAPABILITIES): Uint8Array {
  let out = bytes;
  for (const cap of capabilities) if (cap.coreModule) out = cap.coreModule(grants, out, name);
  return out;
}
