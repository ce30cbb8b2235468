/**
 * The warm pools of a PluginHost, shared by its agents: one pool per
 * (grants, engine choice, plugin content), opened once however many agents
 * load the plugin with those grants, counted per load, closed when the last
 * load lets go. Agents hold this object; it is not part of the public API.
 */
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Observers } from '../observe/observer.ts';
import type { Grants } from '../grants/index.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import type { EnginePreference, EngineProvider, OpenedPlugin, ProviderEvent } from '../provider/index.ts';
import { EgressTap } from '../observe/usage.ts';
import { lazyModule } from '../lazy.ts';

/** The real engines' provider, loaded on first use (synchronously: prepareEngines runs inside a host's constructor). */
const providers = lazyModule<typeof import('../provider/index.ts')>(import.meta.url, '../provider/index');

interface Shared {
  opened: Promise<OpenedPlugin>;
  /** Its egress decisions, handed to the calls running in it (their usage). */
  tap: EgressTap;
  /** Loads holding it (one per agent that loaded the plugin with these grants). */
  refs: number;
  /** Calls the pool serves at once (grants.resources.concurrency). */
  instances: number;
  /** Whoever waits for this open (each load sharing it): told its events (build steps) until it settles. */
  listeners: Set<(event: ProviderEvent) => void>;
}

/**
 * A host is being made: what its first load will likely wait for starts now, synchronously (EngineProvider.prepare;
 * without a provider of the host's own, the real engines' provider/index.ts prepareEngine). A hint: errors are dropped.
 */
export function prepareEngines(provider: EngineProvider | undefined, preference: EnginePreference): void {
  try {
    if (provider === undefined) providers().prepareEngine(preference);
    else provider.prepare?.(preference);
  } catch {
    // Only slower: the first load starts its engine itself.
  }
}

export class Pools {
  #provider: EngineProvider | undefined;
  readonly #shared = new Map<string, Shared>();
  /** Pools being opened (builds, container starts); close() waits for them. */
  readonly #opening = new Set<Promise<OpenedPlugin>>();
  #closed = false;
  readonly #observe: Pick<Observers, 'egress' | 'build'> | undefined;

  /** Without a provider, the real engines are loaded on the first open. `observe` hears every pool's opening and egress decisions. */
  constructor(provider: EngineProvider | undefined, observe?: Pick<Observers, 'egress' | 'build'>) {
    this.#provider = provider;
    this.#observe = observe;
  }

  /**
   * Opens (or shares) the warm pool for these grants; `key` names the hold to release. `onStarting`: called
   * once the engine is starting the pool's instances off this thread (only when this call opens the pool).
   */
  async acquire(
    plugin: LoadedManifest,
    grants: Grants,
    preference: EnginePreference,
    contentHash: string,
    onEvent?: (event: ProviderEvent) => void,
    onStarting?: () => void,
  ): Promise<{ key: string; opened: OpenedPlugin; tap: EgressTap }> {
    this.#assertOpen();
    // node:crypto on first use: importing the host does not load it (issue 21).
    const key = process.getBuiltinModule('node:crypto').createHash('sha256').update(JSON.stringify({ grants, preference, contentHash })).digest('hex');
    let shared = this.#shared.get(key);
    if (shared === undefined) {
      // Registered before any await, so concurrent loads of the same grants share this one open.
      const listeners = new Set<(event: ProviderEvent) => void>();
      const tap = new EgressTap();
      const onEvent = (event: ProviderEvent): void => {
        for (const l of listeners) l(event);
        if (event.type !== 'egress') return;
        tap.decision(event.decision);
        this.#observe?.egress(event.plugin, event.decision);
      };
      const startedAt = Date.now();
      const began = performance.now();
      const name = plugin.manifest.name;
      const opened = this.#getProvider().then((provider) =>
        provider.open(plugin, grants, preference, { onEvent, ...(onStarting === undefined ? {} : { onStarting }) }),
      );
      opened.then(
        (o) => this.#observe?.build({ plugin: name, engine: o.engine, startedAt, durationMs: performance.now() - began }),
        (err: unknown) =>
          this.#observe?.build({ plugin: name, startedAt, durationMs: performance.now() - began, ...(isAirlockError(err) ? { error: err } : {}) }),
      );
      const entry: Shared = { opened, tap, refs: 0, instances: Math.max(1, grants.resources.concurrency), listeners };
      shared = entry;
      this.#shared.set(key, entry);
      this.#opening.add(opened);
      opened.then(
        () => this.#opening.delete(opened),
        () => {
          this.#opening.delete(opened);
          if (this.#shared.get(key) === entry) this.#shared.delete(key);
        },
      );
    }
    shared.refs++;
    if (onEvent !== undefined) shared.listeners.add(onEvent);
    let opened: OpenedPlugin;
    try {
      opened = await shared.opened;
    } catch (err) {
      shared.refs--;
      throw err;
    } finally {
      if (onEvent !== undefined) shared.listeners.delete(onEvent);
    }
    if (this.#closed) {
      // close() ran while this pool was opening, and has stopped it.
      throw new AirlockError('aborted', `the plugin host closed while ${plugin.manifest.name} was loading`);
    }
    return { key, opened, tap: shared.tap };
  }

  /**
   * A plugin with these grants is about to be opened: its likely engine starts what the open will wait for
   * (a blank wasm worker thread) while the host hashes, builds and loads (EngineProvider.warm). A hint: errors are dropped.
   */
  warm(grants: Grants, preference: EnginePreference): void {
    if (this.#closed) return;
    this.#getProvider().then(
      (provider) => provider.warm?.(grants, preference),
      () => undefined,
    );
  }

  /** How many calls one agent may have in this pool at once: an equal share of its instances. */
  share(key: string): number {
    const shared = this.#shared.get(key);
    if (shared === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.floor(shared.instances / Math.max(1, shared.refs)));
  }

  /** One load lets go of the pool; the last one closes it. */
  async release(key: string): Promise<void> {
    const shared = this.#shared.get(key);
    if (shared === undefined) return;
    if (--shared.refs > 0) return;
    this.#shared.delete(key);
    await (await shared.opened).instance.close();
  }

  /**
   * Refuses new loads at once, lets `drain` (the agents closing: their calls
   * finish, their holds are released) run, then stops every pool left and the engines.
   */
  async close(drain: () => Promise<unknown>): Promise<void> {
    this.#closed = true;
    await drain();
    // Pools still opening belong to loads that will now fail: let them finish opening, then stop them.
    await Promise.allSettled([...this.#opening]);
    const left = [...this.#shared.values()];
    this.#shared.clear();
    await Promise.allSettled(left.map(async (s) => (await s.opened).instance.close()));
    await this.#provider?.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new AirlockError('aborted', 'the plugin host is closed');
  }

  async #getProvider(): Promise<EngineProvider> {
    this.#provider ??= providers().defaultEngineProvider();
    return this.#provider;
  }
}
