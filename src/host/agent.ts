/**
 * Agent: one agent's view of a PluginHost. It sees only the plugins it
 * loaded, under its own policy, with its own concurrency limit and queue,
 * and a fair share of any warm pool it shares with other agents.
 */
import PQueue from 'p-queue';
import { AirlockError, isAirlockError } from '../errors.ts';
import type { Policy } from '../grants/index.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import { loadPluginOffThread } from '../manifest/off-thread.ts';
import { didYouMean } from '../manifest/suggest.ts';
import { abortable, isAborted } from './abortable.ts';
import { callTool } from './call.ts';
import { toAnthropicTool, toOpenAITool, type AnthropicTool, type OpenAITool, type ToolInfo } from './catalog.ts';
import { openEntry, openPrepared, prepareEntry, type LoadedEntry, type LoadedTool, type OpenContext, type PreparedEntry } from './loaded.ts';
import { PluginSlot } from './slot.ts';
import type { LoadOptions, PluginSummary, ToolCallOptions, ToolCallResult } from './types.ts';
import type { LockFile } from '../trust/lock.ts';
import { trustConfigured } from '../trust/configured.ts';
import type { Observers } from '../observe/observer.ts';
import type { CallUsage } from '../observe/usage.ts';

/** What an agent gets from its host: the shared pools and the host's settings (not public API). */
export interface AgentContext extends OpenContext {
  /** A closed agent gives its id back. */
  forget(agent: Agent): void;
  /** Background opens, bounded across the host's agents (HostOptions.backgroundOpens). */
  opens: PQueue;
  /** The host's lock file (HostOptions.lock), if any. */
  lock(): Promise<LockFile | undefined>;
  /** Those watching the host (audit log, telemetry, status page). */
  observe: Observers;
  /** Whether calls' inputs reach the observers (AuditOptions.inputs). */
  keepInputs: boolean;
  /** A fresh call id, unique within the host. */
  callId(): number;
}

export class Agent {
  readonly id: string;
  readonly #context: AgentContext;
  readonly #policy: Policy;
  readonly #queue: PQueue;
  readonly #queueLimit: number;
  readonly #plugins = new Map<string, PluginSlot>();
  #closed = false;

  /** @internal use `host.agent()` */
  constructor(context: AgentContext, id: string, policy: Policy, concurrency: number, queueLimit: number) {
    this.#context = context;
    this.id = id;
    this.#policy = policy;
    this.#queue = new PQueue({ concurrency });
    this.#queueLimit = queueLimit;
  }

  /**
   * Loads a plugin folder: manifest, grants under this agent's policy, then a
   * warm pool (shared when another agent has the same grants). A build can
   * take a while; the signal abandons it (the pool, when it comes, is released).
   * With `background`, returns once the manifest and grants are checked (see LoadOptions).
   */
  async load(dir: string, options: LoadOptions = {}): Promise<PluginSummary> {
    const startedAt = Date.now();
    const read: { manifest?: LoadedManifest } = {};
    try {
      return await this.#load(dir, options, startedAt, read);
    } catch (err) {
      const m = read.manifest?.manifest;
      if (isAirlockError(err)) {
        this.#context.observe.load({
          agent: this.id,
          dir,
          ...(m === undefined ? {} : { plugin: m.name, version: m.version }),
          error: err,
          startedAt,
          durationMs: Date.now() - startedAt,
        });
      }
      throw err;
    }
  }

  /** Tells the observers how a load ended (foreground, or a background open once settled). */
  #observeLoad(slot: PluginSlot, startedAt = Date.now()): void {
    const s = slot.summary();
    this.#context.observe.load({
      startedAt,
      durationMs: Date.now() - startedAt,
      agent: this.id,
      dir: s.dir,
      plugin: s.name,
      version: s.version,
      grants: s.grants,
      ...(slot.entry === undefined ? {} : { digest: slot.entry.contentHash }),
      ...(s.engine === undefined ? {} : { engine: s.engine }),
      ...(s.error === undefined ? {} : { error: s.error }),
    });
  }

  /** `read` gets the manifest once it is read (for the observers, should the load then fail). */
  async #load(dir: string, options: LoadOptions, startedAt: number, read: { manifest?: LoadedManifest }): Promise<PluginSummary> {
    this.#assertOpen();
    const { signal } = options;
    if (isAborted(signal)) throw new AirlockError('aborted', `loading ${dir} was aborted`, { cause: signal.reason });
    const plugin = await loadPluginOffThread(dir, { signal });
    read.manifest = plugin;
    const name = plugin.manifest.name;
    this.#assertOpen();
    this.#assertFree(plugin);
    // Lock pins and signatures, before anything is built (a background load too: a refusal fails the load itself).
    await abortable(this.#checkTrust(plugin), signal, `loading ${dir}`, () => undefined);
    this.#assertOpen();
    this.#assertFree(plugin);
    if (options.background === true) return this.#loadInBackground(plugin, options.onSettled, startedAt);
    const opening = this.#open(plugin);
    const entry = await abortable(opening, signal, `loading ${dir}`, (late) => void this.#release(late));
    // Re-checked: the agent may have closed, or loaded the same name, while this one opened.
    if (this.#closed || this.#plugins.has(name)) {
      await this.#release(entry);
      this.#assertOpen();
      this.#assertFree(plugin);
    }
    const slot = new PluginSlot(entry, entry);
    this.#plugins.set(name, slot);
    this.#observeLoad(slot, startedAt);
    return slot.summary();
  }

  /** Lists the plugin's tools now; opens its engine in the background, a few at a time across the host. */
  #loadInBackground(plugin: LoadedManifest, onSettled: ((plugin: PluginSummary) => void) | undefined, startedAt: number): PluginSummary {
    // The grants are checked now: a policy refusal fails the load itself, as it would in the foreground.
    const prepared = prepareEntry(plugin, this.#policy, this.#context);
    // Not p-queue's signal: it would abandon an open under way, whose pool must still be released once it comes.
    const slot = new PluginSlot(prepared, (cancelled, onEvent) =>
      this.#context.opens.add(() => {
        if (cancelled.aborted) throw new AirlockError('aborted', `loading ${plugin.manifest.name} was cancelled (unloaded or closed before its turn)`);
        return openPrepared(prepared, this.#context, onEvent);
      }),
    );
    this.#plugins.set(plugin.manifest.name, slot);
    void slot.settled.then(() => this.#observeLoad(slot, startedAt));
    if (onSettled !== undefined) void slot.settled.then(() => onSettled(slot.summary()));
    return slot.summary();
  }

  async unload(name: string): Promise<void> {
    const slot = this.#plugins.get(name);
    if (slot === undefined) throw new AirlockError('not-found', `no plugin named "${name}" is loaded`);
    this.#plugins.delete(name);
    // A background open still under way is not waited for (a build can take minutes); its pool is released when it comes.
    if (slot.state === 'loading') void this.#drop(slot).catch(() => undefined);
    else await this.#drop(slot);
  }

  /** Re-reads a plugin's folder; when its manifest, files or grants changed, swaps in a fresh pool. Returns whether it changed. */
  async reload(name: string): Promise<boolean> {
    this.#assertOpen();
    const slot = this.#plugins.get(name);
    if (slot === undefined) throw new AirlockError('not-found', `no plugin named "${name}" is loaded`);
    // A background open under way is waited for, so what it opened is what the fresh one is compared with.
    await slot.settled;
    const { dir, file } = slot.prepared.plugin;
    const plugin = await loadPluginOffThread(dir);
    if (plugin.manifest.name !== name) {
      throw new AirlockError('conflict', `${file} now names the plugin "${plugin.manifest.name}", not "${name}": unload and load it instead`);
    }
    await this.#checkTrust(plugin);
    const fresh = await this.#open(plugin);
    if (fresh.key === slot.entry?.key) {
      await this.#release(fresh);
      return false;
    }
    if (this.#closed || this.#plugins.get(name) !== slot) {
      // Closed, unloaded or reloaded by someone else meanwhile: theirs stands.
      await this.#release(fresh);
      this.#assertOpen();
      return false;
    }
    // A plugin whose open had failed is replaced too: this is how a fixed one comes back.
    const replaced = new PluginSlot(fresh, fresh);
    this.#plugins.set(name, replaced);
    this.#observeLoad(replaced);
    await this.#drop(slot);
    return true;
  }

  /**
   * Computes a plugin's grants again (after host.grant / host.revoke): when they changed, its
   * tools are answered by a fresh pool from the next call on (calls wait for it), and the old
   * pool is let go once its calls in flight end. Returns whether they changed.
   */
  async regrant(name: string): Promise<boolean> {
    const slot = this.#plugins.get(name);
    if (slot === undefined || this.#closed) return false;
    if (slot.state === 'loading') await slot.settled;
    if (this.#plugins.get(name) !== slot) return false;
    let prepared: PreparedEntry;
    try {
      prepared = prepareEntry(slot.prepared.plugin, this.#policy, this.#context);
    } catch (err) {
      // The manifest ∩ policy itself no longer holds (a folder gone): the calls answer why, as a failed load would.
      prepared = { ...slot.prepared };
      const fresh = new PluginSlot(prepared, () => Promise.reject(err));
      this.#plugins.set(name, fresh);
      await fresh.settled;
      this.#observeLoad(fresh);
      await this.#drop(slot);
      return true;
    }
    if (JSON.stringify(prepared.grants) === JSON.stringify(slot.prepared.grants)) return false;
    const fresh = new PluginSlot(prepared, () => openPrepared(prepared, this.#context));
    this.#plugins.set(name, fresh);
    await this.#drop(slot);
    await fresh.settled;
    this.#observeLoad(fresh);
    return true;
  }

  /** Reloads every plugin whose folder changed; returns their names. */
  async reloadAll(): Promise<string[]> {
    const changed: string[] = [];
    let failure: unknown;
    for (const name of [...this.#plugins.keys()]) {
      try {
        if (await this.reload(name)) changed.push(name);
      } catch (err) {
        // One broken plugin does not hold back the others; the first failure is reported after.
        failure ??= err;
      }
    }
    if (failure !== undefined) {
      if (isAirlockError(failure)) Object.assign(failure.details, { reloaded: changed });
      throw failure;
    }
    return changed;
  }

  plugins(): PluginSummary[] {
    return [...this.#plugins.values()].map((s) => s.summary());
  }

  /** Every tool, from the manifests: those of a plugin still loading too (a call waits for it), and of one that failed (a call answers why). */
  tools(): ToolInfo[] {
    return [...this.#plugins.values()].flatMap((s) => s.tools());
  }

  openAITools(): OpenAITool[] {
    return this.tools().map(toOpenAITool);
  }

  anthropicTools(): AnthropicTool[] {
    return this.tools().map(toAnthropicTool);
  }

  async call(name: string, input: unknown, options: ToolCallOptions = {}): Promise<ToolCallResult> {
    this.#assertOpen();
    const { slot, tool } = this.#find(name);
    const { observe } = this.#context;
    const start = { id: this.#context.callId(), agent: this.id, plugin: slot.name, tool: tool.info.tool, startedAt: Date.now() };
    const began = performance.now();
    const kept = this.#context.keepInputs ? { input } : {};
    observe.callStart(start);
    try {
      const result = await callTool({ queue: this.#queue, limit: this.#queueLimit, id: this.id, label: this.#label() }, slot, tool, name, input, options);
      observe.callEnd({ ...start, engine: result.metrics.engine, outcome: 'ok', durationMs: performance.now() - began, usage: result.usage, ...kept });
      return result;
    } catch (err) {
      const usage = isAirlockError(err) ? (err.details.usage as CallUsage | undefined) : undefined;
      observe.callEnd({
        ...start,
        ...(slot.entry === undefined ? {} : { engine: slot.entry.opened.engine }),
        outcome: isAirlockError(err) ? err.code : 'internal',
        durationMs: performance.now() - began,
        ...(usage === undefined ? {} : { usage }),
        ...kept,
      });
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Let calls already accepted finish (drain), then give the pools back.
    await this.#queue.onIdle();
    const slots = [...this.#plugins.values()];
    this.#plugins.clear();
    await Promise.all(slots.map((s) => this.#drop(s)));
    this.#context.forget(this);
  }

  async #checkTrust(plugin: LoadedManifest): Promise<void> {
    const lock = await this.#context.lock();
    // Nothing to check: the check's code (minisign, digests, node:crypto) is not even loaded (issue 21).
    if (!trustConfigured(this.#policy, lock)) return;
    const { checkTrust } = await import('../trust/check.ts');
    await checkTrust(plugin, this.#policy, lock);
  }

  #open(plugin: LoadedManifest): Promise<LoadedEntry> {
    return openEntry(plugin, this.#policy, this.#context);
  }

  #release(entry: LoadedEntry): Promise<void> {
    return this.#context.pools.release(entry.key);
  }

  /** Lets go of a plugin taken out of the map: its pool, once a background open under way has settled (one not started yet never starts). */
  async #drop(slot: PluginSlot): Promise<void> {
    slot.cancel.abort();
    await slot.settled;
    if (slot.entry !== undefined) await this.#release(slot.entry);
  }

  #assertFree(plugin: LoadedManifest): void {
    const existing = this.#plugins.get(plugin.manifest.name);
    if (existing !== undefined) {
      throw new AirlockError('conflict', `a plugin named "${plugin.manifest.name}" is already loaded from ${existing.prepared.plugin.dir}`, {
        details: { plugin: plugin.manifest.name },
      });
    }
  }

  #find(name: string): { slot: PluginSlot; tool: LoadedTool } {
    // Plugin names have no "_" (DNS labels), so the first one splits plugin_tool.
    const cut = name.indexOf('_');
    const slot = cut <= 0 ? undefined : this.#plugins.get(name.slice(0, cut));
    const tool = slot?.prepared.tools.get(name.slice(cut + 1));
    if (slot !== undefined && tool !== undefined) return { slot, tool };
    const known = this.tools().map((t) => t.name);
    const guess = didYouMean(name, known);
    throw new AirlockError(
      'not-found',
      `no tool named "${name}"${guess === undefined ? '' : `; did you mean "${guess}"?`}${known.length === 0 ? ' (no plugins are loaded)' : ''}`,
      {
        details: { tool: name },
      },
    );
  }

  #label(): string {
    return this.id === '' ? '(host)' : JSON.stringify(this.id);
  }

  #assertOpen(): void {
    if (this.#closed) throw new AirlockError('aborted', `agent ${JSON.stringify(this.id)} is closed`);
  }
}
