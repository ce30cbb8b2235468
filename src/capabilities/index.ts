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
import { stdio } from './stdio/index.ts';
import type { EgressRoute } from './network/route.ts';
import type { CallState, Capability, WasiContext, WasiImports } from './types.ts';

export type { CallState, Capability, DockerContribution, LogSink, WasiContext, WasiImports, WasmtimeContribution } from './types.ts';
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

/**
 * The full WASI import object for one instance: the baseline with every
 * capability's overrides applied. `call` is read by the imports at call
 * time, so the engine resets its fields before each call.
 */
export function wasiImports(
  grants: Grants,
  call: CallState,
  capabilities: readonly Capability[] = CAPABILITIES,
  egress?: EgressRoute,
  onRelease?: (fn: () => void) => void,
  diskQuota?: SharedArrayBuffer,
): WasiImports {
  const base = cachedBaseline(grants.plugin.name);
  const ctx: WasiContext = {
    pluginName: grants.plugin.name,
    call,
    base,
    ...(egress === undefined ? {} : { egress }),
    ...(onRelease === undefined ? {} : { onRelease }),
    ...(diskQuota === undefined ? {} : { diskQuota }),
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
