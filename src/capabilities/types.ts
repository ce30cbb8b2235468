/**
 * The one shape every capability has. A capability turns the Grants into
 * what one engine needs: WASI import overrides for the wasm worker engine
 * (`wasi`), container options for Docker (`docker`), CLI flags for wasmtime
 * (`wasmtime`). Engines compose the whole list from `./index.ts` and never
 * special-case a capability.
 */
import type { Grants } from '../grants/types.ts';
import type { EgressRoute } from './network/route.ts';

/**
 * A fragment of a jco instantiation import object, keyed by unversioned WASI
 * interface name (`wasi:cli/stdout`), each value the full interface object.
 */
export type WasiImports = Record<string, Record<string, unknown>>;

/** State that lives for one call and is reset by the engine before each call. */
export interface CallState {
  /** Captured guest stdout/stderr for this call. */
  logs: LogSink;
  /** Random bytes the guest may still draw during this call. */
  randomBytesLeft: number;
}

export interface LogSink {
  write(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
}

/**
 * What a capability's `wasi()` gets besides the grants. Built once per
 * instance, in the worker thread that runs the plugin.
 */
export interface WasiContext {
  /** The plugin's name (the guest's argv[0]). */
  pluginName: string;
  /** The state of the call running now; the engine swaps its fields per call. */
  call: CallState;
  /**
   * The baseline import object (preview2-shim's WASIShim with every sandbox
   * option closed). Capabilities read resource classes from it (streams,
   * pollables) so that resources they return pass jco's instanceof checks.
   */
  base: WasiImports;
  /** The plugin's wasi:http route (its egress proxy on the host), when it has a network grant. */
  egress?: EgressRoute;
  /**
   * Registers what to free (open fds) when the engine drops this instance.
   * Without it, garbage collection frees them, which a fast loop of
   * instances (per-call isolation) can outrun.
   */
  onRelease?(fn: () => void): void;
  /**
   * The plugin's disk-quota counters (filesystem/quota.ts), one buffer shared
   * by every instance of the plugin. Absent: each instance counts alone.
   */
  diskQuota?: SharedArrayBuffer;
}

/** Open records the Docker and wasmtime engines fill in; defined beside those engines. */
export interface DockerContribution {
  [key: string]: unknown;
}
export interface WasmtimeContribution {
  [key: string]: unknown;
}

export interface Capability {
  /** Folder name under src/capabilities/, e.g. `filesystem`. */
  readonly name: string;
  /** WASI interfaces this capability provides, replacing the baseline's. */
  wasi?(grants: Grants, ctx: WasiContext): WasiImports;
  /**
   * Rewrites one core wasm module before the host compiles it (e.g. to cap
   * its linear memory). Runs on the host, once per load, not per call.
   */
  coreModule?(grants: Grants, bytes: Uint8Array, name: string): Uint8Array;
  docker?(grants: Grants): DockerContribution;
  wasmtime?(grants: Grants): WasmtimeContribution;
}
