/**
 * The one shape every capability has. A capability turns the Grants into
 * what one engine needs: WASI import overrides for the wasm worker engine
 * (`worker`: a module of its own, loaded in the instance's thread only when
 * the component imports one of its interfaces), container options for Docker
 * (`docker`), CLI flags for wasmtime (`wasmtime`). Engines compose the whole
 * list from `./index.ts` (the worker from `./worker.ts`) and never
 * special-case a capability.
 */
import type { Grants } from '../grants/types.ts';
import type Docker from 'dockerode';
import type { HostPattern } from '../grants/types.ts';
import type { RouteOptions } from './network/route.ts';

/**
 * A fragment of a jco instantiation import object, keyed by unversioned WASI
 * interface name (`wasi:cli/stdout`), each value the full interface object.
 */
export type WasiImports = Record<string, Record<string, unknown>>;

/** Files a call read and wrote through its grants: operations and bytes. */
export interface FileUsage {
  reads: number;
  readBytes: number;
  writes: number;
  writeBytes: number;
}

/** An outgoing request refused before any egress proxy saw it. */
export interface RefusedRequest {
  host?: string;
  port?: number;
  code: string;
}

/** State that lives for one call; each capability resets its part (beginCall) before each call. */
export interface CallState {
  /** Captured guest stdout/stderr for this call. */
  logs: LogSink;
  /** Random bytes the guest may still draw during this call. */
  randomBytesLeft: number;
  /** File reads and writes of this call through the filesystem capability (its usage; zeroed in place by beginCall). */
  files?: FileUsage;
  /** Outgoing requests refused in this call before reaching the egress proxy (at most 32 kept; network beginCall empties it). */
  egressRefused?: RefusedRequest[];
}

/** A call's captured output (stdio/capture.ts): guests write, the engine reads it into the call's result. */
export interface LogSink {
  write(stream: 'stdout' | 'stderr', bytes: Uint8Array): void;
  text(stream: 'stdout' | 'stderr'): string;
  readonly truncated: boolean;
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
   * The baseline import object (preview2-shim's interfaces the component
   * imports, every sandbox option closed: ./baseline.ts); wasi:io and
   * wasi:clocks always. Capabilities read resource classes from it (streams,
   * pollables) so that resources they return pass jco's instanceof checks.
   */
  base: WasiImports;
  /**
   * Registers what to free (open fds) when the engine drops this instance.
   * Without it, garbage collection frees them, which a fast loop of
   * instances (per-call isolation) can outrun.
   */
  onRelease?(fn: () => void): void;
  /** Each capability's `open().shared` for this plugin, by capability name (absent: it opened nothing). */
  shared: Readonly<Record<string, unknown>>;
}

/** The fields of Docker's HostConfig a capability may set. */
export type DockerHostConfig = Docker.HostConfig;

/**
 * What one capability contributes to a container (the Docker engine composes
 * them in src/engines/docker/options.ts). A grant a container cannot express
 * exactly is refused, never widened.
 */
export interface DockerContribution {
  /** HostConfig fields; two capabilities setting the same field is a bug (composition throws). */
  hostConfig?: Partial<DockerHostConfig>;
  /** Bind mounts (only granted paths). */
  mounts?: Docker.MountSettings[];
  /** Environment of the container's process. */
  env?: Record<string, string>;
  /**
   * Outgoing connections allowed only to these: the engine puts the container
   * on an internal network whose only way out is its egress proxy.
   */
  egress?: HostPattern[];
  /** Why a container cannot express this grant exactly; any refusal means the engine refuses the plugin. */
  refuse?: string[];
  /**
   * Grants a container could mount but not bound as granted, which the host
   * policy has not accepted unbounded: the engine refuses the plugin with
   * `permission-denied` (no other engine runs node/python, so it is the
   * policy owner's call, not an engine to fall back from).
   */
  deny?: string[];
}

/** What one capability contributes to a `wasmtime run` command line (composed in src/engines/wasmtime/flags.ts). */
export interface WasmtimeContribution {
  /** Arguments placed before the component path (`-W …`, `-S …`, `--dir …`, `--env …`). */
  args?: string[];
  /**
   * Variables of the wasmtime process. Granted env values travel here and the
   * guest gets them through `--env NAME` (inherit form), so secret values are
   * never on the command line, where every local user can read them
   * (/proc/<pid>/cmdline).
   */
  env?: Record<string, string>;
  /** Why the CLI cannot express this grant exactly; any refusal means the engine refuses the plugin. */
  refuse?: string[];
}

/** Options of the per-plugin hooks (`open`), from the engine's own options: tests inject resolvers and CAs here. */
export interface CapabilityOpenOptions {
  /** The network capability's egress route options (a resolver, a CA). */
  egress?: RouteOptions;
}

/**
 * What a capability holds while one plugin is loaded on an in-process engine
 * (the worker engine): its `shared` value reaches every instance's `wasi()`
 * as `ctx.shared` (it crosses into worker threads, so it must survive
 * structured cloning), `instanceGone` runs on the host when an instance's
 * thread ended (a timeout, an abort, a crash), and `close` when the plugin is
 * closed.
 */
export interface OpenedCapability {
  shared?: unknown;
  instanceGone?(threadId: number): void;
  close?(): Promise<void>;
}

export interface Capability {
  /** Folder name under src/capabilities/, e.g. `filesystem`. */
  readonly name: string;
  /** Its part in a wasm worker (the WASI interfaces it provides, replacing the baseline's). */
  readonly worker?: WorkerPartRef;
  /**
   * Rewrites one core wasm module before the host compiles it (e.g. to cap
   * its linear memory). Runs on the host, once per load, not per call.
   */
  coreModule?(grants: Grants, bytes: Uint8Array, name: string): Uint8Array;
  /**
   * Per plugin, on engines that run instances in this process (the worker
   * engine): what the capability must hold for the plugin's lifetime (the
   * network capability's egress route, the filesystem's disk-quota counters).
   */
  open?(grants: Grants, options: CapabilityOpenOptions): Promise<OpenedCapability | undefined>;
  docker?(grants: Grants): DockerContribution;
  wasmtime?(grants: Grants): WasmtimeContribution;
  /** wasmtime: what the component's imports need beyond the grants (known only once it is compiled). */
  wasmtimeImports?(imports: readonly string[]): WasmtimeContribution;
}

/**
 * Where a capability's worker part lives, and when a worker needs it. Plain
 * data: it crosses into the worker (workerData), which imports only the parts
 * a plugin needs, so a worker never loads another engine's code, nor
 * network code for a component that imports no network interface.
 */
export interface WorkerPartRef {
  /** The unversioned WASI interfaces the part provides (`wasi:cli/stdout`); it is loaded when the component imports one. */
  interfaces: readonly string[];
  /** `file:` URL of the module exporting `wasiPart` (a WasiPart). */
  module: string;
}

/** A capability's worker part: what runs in the instance's thread. */
export interface WasiPart {
  /**
   * Loads what `wasi` needs for these grants, once per thread before the
   * first `wasi`: a part may leave out what the grants never reach (the
   * filesystem layer without a filesystem grant).
   */
  load?(grants: Grants): Promise<void>;
  /** The WASI interfaces it provides (exactly those of its WorkerPartRef), replacing the baseline's. */
  wasi(grants: Grants, ctx: WasiContext): WasiImports;
  /** Per call, before the guest runs: resets this capability's part of the call state. */
  beginCall?(grants: Grants, call: CallState): void;
}
