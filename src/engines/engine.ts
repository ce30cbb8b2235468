/**
 * The one extension point for engines. An engine folder (src/engines/<name>/)
 * exports an `EngineDefinition` from its `definition.ts`, and
 * src/engines/registry.ts lists it: the provider, the selector, probes,
 * `airlock doctor`, the conformance suite and the attack matrix iterate the
 * registry and never name an engine.
 *
 * A definition is cheap to import (what the selector and `doctor` need: its
 * traits, probe and refusals); `create()` imports the engine's implementation
 * the first time a plugin is loaded on it (dockerode, jco, worker code).
 */
import type { EngineSettings, Grants } from '../grants/types.ts';
import type { EgressDecision } from '../egress/index.ts';
import type { EnginePlugin } from './types.ts';

export type Runtime = Grants['plugin']['runtime'];

/** What an engine loads a plugin from. */
export type Artefact =
  /** A WASI component Airlock built or verified (in its cache), for engines with `artefact: 'component'`. */
  | { kind: 'component'; path: string }
  /**
   * The plugin's own source folder (grants.plugin.dir), for `artefact: 'source'`, with its manifest's
   * `build:` section as the host read it (absent: the engine reads the folder's plugin.yaml, for grants built in code).
   */
  | { kind: 'source'; build?: { dependencies?: string; args?: Record<string, string> } };

/** What an engine reports while it loads and runs plugins. */
export type EngineEvent =
  /**
   * A step of preparing a plugin (an image build's step, a cache hit), or with `detail` a tool's own
   * output during it (a compiler's lines), which displays may leave out.
   */
  | { type: 'build'; plugin: string; message: string; detail?: boolean }
  /** An outgoing connection of a plugin, as its egress proxy decided it. */
  | { type: 'egress'; plugin: string; decision: EgressDecision };

export interface EngineLoadOptions {
  /** Aborts the load (an image build, containers starting). */
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
  /**
   * Called once the plugin's instances are starting off this thread (the worker engine: a worker thread
   * instantiating the component), so the caller can do its own work meanwhile. Engines may leave it uncalled.
   */
  onStarting?: () => void;
}

/** One engine instance: loads plugins and closes them all on close(). */
export interface Engine {
  readonly name: string;
  /** Loads a plugin with warm instances. `artefact.kind` is the definition's `artefact`. */
  load(grants: Grants, artefact: Artefact, options?: EngineLoadOptions): Promise<EnginePlugin>;
  /**
   * Builds what load() would build for this artefact (an image), without starting any instance:
   * `airlock build` ahead of a first call. Engines with nothing to build ahead leave it out.
   */
  prepare?(grants: Grants, artefact: Artefact, options?: EngineLoadOptions): Promise<Prepared>;
  /** Closes every plugin loaded through this engine. */
  close(): Promise<void>;
}

/** What an engine built ahead of a first call. */
export interface Prepared {
  /** What it is, e.g. `image`. */
  kind: string;
  /** How the engine names it, e.g. an image tag. */
  artifact: string;
  /** True when it was already built (found by content hash). */
  cached: boolean;
  /** Its content digest (`sha256:…`), e.g. an image id. */
  digest?: string;
}

export interface EngineProbe {
  engine: string;
  available: boolean;
  version?: string;
  /** The binary or daemon address that was found. */
  path?: string;
  /** Why it is unavailable. */
  reason?: string;
  /** How to install it when unavailable. */
  installHint?: string;
  /** True when it is unavailable only because nothing here configures it (no host policy names a cluster): not a fault. */
  unconfigured?: boolean;
}

export interface ProbeOptions {
  /** Where a probe looks for binaries and daemon addresses (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** How long a probe that waits for an answer (a daemon's ping) waits; each engine has its default. */
  timeoutMs?: number;
}

export interface EngineCreateOptions {
  /** Events of every plugin this engine loads (egress decisions happen after load). */
  onEvent?: (event: EngineEvent) => void;
}

export interface EngineDefinition<Name extends string = string> {
  readonly name: Name;
  /** How reasons name it: `the worker engine`, `wasmtime`, `Docker`. */
  readonly label: string;
  /** Why the selector prefers it when nothing is configured (the registry lists engines in preference order). */
  readonly strength: string;
  /** `component`: runs a plugin's WASI component; `source`: runs the plugin's own source. */
  readonly artefact: Artefact['kind'];
  /** For `source` engines, the runtimes whose source it runs; component engines run any plugin's component. */
  readonly runtimes: readonly Runtime[];
  /** True when the engine needs nothing outside Node (it is never unavailable). */
  readonly builtin: boolean;
  /** Whether it can run here, found cheaply (a binary's version, a daemon's ping). */
  probe(options?: ProbeOptions): Promise<EngineProbe>;
  /**
   * Whether it can run plugins on the daemon or cluster the host policy names (every plugin's grants carry
   * them); undefined: probe() answers for every plugin.
   */
  probeFor?(settings: EngineSettings): Promise<EngineProbe> | undefined;
  /**
   * Why this engine cannot run a plugin with these grants exactly as granted (empty: it can). Pure.
   * The selector never widens a grant: a refusing engine is passed over with this as the reason.
   */
  refusals(grants: Grants): string[];
  create(options?: EngineCreateOptions): Promise<Engine>;
  /**
   * Starts ahead what a load will wait for and that holds nothing of any plugin (the worker engine: one blank
   * worker thread), when a load on this engine is likely (src/selector likelyEngine). Called speculatively:
   * at most one such start is waiting at a time, and it serves any later load.
   */
  warm?(): void;
}

/**
 * `probe`, remembered per setting (a daemon or cluster a host policy names): one probe per setting for the
 * process's life, as the provider keeps its probes; one that found it unavailable is asked again next time
 * (it may be starting). For an engine's `probeFor`.
 */
export function probeCache<Setting>(probe: (setting: Setting) => Promise<EngineProbe>): (setting: Setting) => Promise<EngineProbe> {
  const probes = new Map<string, Promise<EngineProbe>>();
  return (setting) => {
    const key = JSON.stringify(setting ?? null);
    let found = probes.get(key);
    if (found === undefined) {
      const started = probe(setting);
      probes.set(key, started);
      void started.then((p) => {
        if (!p.available && probes.get(key) === started) probes.delete(key);
      });
      found = started;
    }
    return found;
  };
}

/** Declares an engine, keeping its name's literal type (for the registry's `EngineName`). */
export function defineEngine<const Name extends string>(definition: EngineDefinition<Name>): EngineDefinition<Name> {
  return definition;
}
