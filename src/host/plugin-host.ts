/**
 * PluginHost: the library API agents use. Load plugin folders, list their
 * tools, call them. Input is validated against the tool's schema before
 * anything reaches a sandbox; output against its output schema when there is
 * one. Agents (`host.agent(id, …)`) each see only the plugins they loaded,
 * under their own policy, with their own concurrency limit, while plugins
 * with identical grants share one warm pool across agents.
 */
import { createHash } from 'node:crypto';
import { relative, sep } from 'node:path';
import PQueue from 'p-queue';
import { AirlockError, isAirlockError } from '../errors.ts';
import { computeGrants, defaultPolicy, loadPolicy, policyFromObject, type Grants, type Policy, type PolicyInput } from '../grants/index.ts';
import { loadPluginOffThread, type LoadedManifest } from '../manifest/index.ts';
import { didYouMean } from '../manifest/suggest.ts';
import type { CallLogs, CallMetrics, CallResult, EngineName, EnginePlugin } from '../engines/types.ts';
import type { EnginePreference, EngineProvider, OpenedPlugin } from '../provider/index.ts';
import { toAnthropicTool, toolInfo, toOpenAITool, ToolValidators, type AnthropicTool, type OpenAITool, type ToolInfo } from './catalog.ts';
import { hashTree } from '../content-hash.ts';
import { FairShare } from './fair-share.ts';
import { MAX_JSON_DEPTH, nestsDeeperThan } from './json-depth.ts';

/** Least time a result's schema check gets when the call used up its timeout in the plugin (a large result is checked off the event loop). */
const MIN_CHECK_MS = 100;

export type { EnginePreference, EngineProvider, OpenedPlugin } from '../provider/index.ts';

export interface HostOptions {
  /** The host policy for plugins loaded without an agent-specific one: an object, a checked Policy, or a YAML file path. */
  policy?: Policy | PolicyInput | string;
  /** Engine choice for every plugin (`auto` lets the selector decide). */
  engine?: EnginePreference;
  /** Per-plugin engine choice, by plugin name. */
  engines?: Record<string, EnginePreference>;
  /** Where granted env values come from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** The engines. Default: the real ones (see `defaultEngineProvider`). */
  provider?: EngineProvider;
  /**
   * Calls in flight per agent (default 64) and waiting per agent (default
   * 1024) before `overloaded`. Besides this, an agent gets an equal share of
   * the instances of a pool it shares with other agents (see fair-share.ts).
   */
  agentConcurrency?: number;
  agentQueue?: number;
}

export interface AgentOptions {
  /** Plugin folders this agent loads. */
  plugins?: string[];
  /** This agent's policy (default: the host's). */
  policy?: Policy | PolicyInput | string;
  /** Calls in flight for this agent (default: the host's agentConcurrency). */
  concurrency?: number;
  /** Calls waiting for this agent before `overloaded` (default: the host's agentQueue). */
  queue?: number;
  /** Abandons loading the plugins. */
  signal?: AbortSignal;
}

export interface LoadOptions {
  /** Abandons the load (a component or image build can take a while). */
  signal?: AbortSignal;
}

export interface ToolCallOptions {
  signal?: AbortSignal;
  /** Milliseconds; can only shorten the plugin's granted timeout. */
  timeout?: number;
}

export interface ToolCallResult {
  /** The parsed result. */
  value: unknown;
  /** The result as the plugin returned it (JSON text). */
  output: string;
  logs: CallLogs;
  metrics: CallMetrics & { /** Time waiting for the agent's own concurrency limit. */ agentQueueMs: number; totalMs: number };
}

export interface PluginSummary {
  name: string;
  version: string;
  dir: string;
  engine: EngineName;
  reason: string;
  tools: string[];
  grants: Grants;
}

interface Shared {
  opened: Promise<OpenedPlugin>;
  /** Loads holding it (one per agent that loaded the plugin with these grants). */
  refs: number;
  /** Calls the pool serves at once (grants.resources.concurrency). */
  instances: number;
}

interface LoadedEntry {
  plugin: LoadedManifest;
  grants: Grants;
  key: string;
  contentHash: string;
  opened: OpenedPlugin;
  tools: Map<string, { info: ToolInfo; validators: ToolValidators }>;
  preference: EnginePreference;
  /** This agent's share of the (possibly shared) pool. */
  share: FairShare;
}

function resolvePolicy(policy: Policy | PolicyInput | string | undefined): Policy {
  if (policy === undefined) return defaultPolicy();
  if (typeof policy === 'string') return loadPolicy(policy);
  if ('baseDir' in policy && 'origin' in policy) return policy as Policy;
  return policyFromObject(policy as PolicyInput);
}

export class PluginHost {
  readonly #options: HostOptions;
  readonly #policy: Policy;
  #provider: EngineProvider | undefined;
  readonly #shared = new Map<string, Shared>();
  /** Pools being opened (builds, container starts); close() waits for them. */
  readonly #opening = new Set<Promise<OpenedPlugin>>();
  readonly #agents = new Map<string, Agent>();
  readonly #default: Agent;
  #closed = false;

  constructor(options: HostOptions = {}) {
    this.#options = options;
    this.#policy = resolvePolicy(options.policy);
    this.#provider = options.provider;
    this.#default = new Agent(this, '', this.#policy, options.agentConcurrency ?? 64, options.agentQueue ?? 1024);
  }

  /** Loads a plugin folder for the host's own (default) agent. */
  load(dir: string, options: LoadOptions = {}): Promise<PluginSummary> {
    return this.#default.load(dir, options);
  }

  unload(name: string): Promise<void> {
    return this.#default.unload(name);
  }

  reload(name: string): Promise<boolean> {
    return this.#default.reload(name);
  }

  reloadAll(): Promise<string[]> {
    return this.#default.reloadAll();
  }

  plugins(): PluginSummary[] {
    return this.#default.plugins();
  }

  tools(): ToolInfo[] {
    return this.#default.tools();
  }

  openAITools(): OpenAITool[] {
    return this.tools().map(toOpenAITool);
  }

  anthropicTools(): AnthropicTool[] {
    return this.tools().map(toAnthropicTool);
  }

  call(name: string, input: unknown, options: ToolCallOptions = {}): Promise<ToolCallResult> {
    return this.#default.call(name, input, options);
  }

  /** An agent with its own plugin set and policy, sharing this host's warm pools. */
  async agent(id: string, options: AgentOptions = {}): Promise<Agent> {
    this.#assertOpen();
    if (id === '' || this.#agents.has(id)) throw new AirlockError('conflict', `agent id ${JSON.stringify(id)} is ${id === '' ? 'empty' : 'already in use'}`);
    const agent = new Agent(
      this,
      id,
      options.policy === undefined ? this.#policy : resolvePolicy(options.policy),
      options.concurrency ?? this.#options.agentConcurrency ?? 64,
      options.queue ?? this.#options.agentQueue ?? 1024,
    );
    this.#agents.set(id, agent);
    try {
      for (const dir of options.plugins ?? []) await agent.load(dir, { signal: options.signal });
    } catch (err) {
      await agent.close();
      this.#agents.delete(id);
      throw err;
    }
    return agent;
  }

  /** Drains in-flight calls, then stops every worker and container. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#agents.values(), this.#default].map((a) => a.close()));
    // Pools still opening belong to loads that will now fail: let them finish opening, then stop them.
    await Promise.allSettled([...this.#opening]);
    const left = [...this.#shared.values()];
    this.#shared.clear();
    await Promise.allSettled(left.map(async (s) => (await s.opened).instance.close()));
    await this.#provider?.close();
  }

  // ---- for Agent ----

  /** @internal */
  _preference(name: string): EnginePreference {
    return this.#options.engines?.[name] ?? this.#options.engine ?? 'auto';
  }

  /** @internal */
  _env(): Record<string, string | undefined> | undefined {
    return this.#options.env;
  }

  /** @internal A closed agent gives its id back. */
  _forget(agent: Agent): void {
    if (this.#agents.get(agent.id) === agent) this.#agents.delete(agent.id);
  }

  /** @internal Opens (or shares) the warm pool for these grants. */
  async _acquire(plugin: LoadedManifest, grants: Grants, preference: EnginePreference, contentHash: string): Promise<{ key: string; opened: OpenedPlugin }> {
    this.#assertOpen();
    const key = createHash('sha256').update(JSON.stringify({ grants, preference, contentHash })).digest('hex');
    let shared = this.#shared.get(key);
    if (shared === undefined) {
      // Registered before any await, so concurrent loads of the same grants share this one open.
      const opened = this.#getProvider().then((provider) => provider.open(plugin, grants, preference));
      const entry: Shared = { opened, refs: 0, instances: Math.max(1, grants.resources.concurrency) };
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
    let opened: OpenedPlugin;
    try {
      opened = await shared.opened;
    } catch (err) {
      shared.refs--;
      throw err;
    }
    if (this.#closed) {
      // close() ran while this pool was opening, and has stopped it.
      throw new AirlockError('aborted', `the plugin host closed while ${plugin.manifest.name} was loading`);
    }
    return { key, opened };
  }

  /** @internal How many calls one agent may have in this pool at once: an equal share of its instances. */
  _share(key: string): number {
    const shared = this.#shared.get(key);
    if (shared === undefined) return Number.POSITIVE_INFINITY;
    return Math.max(1, Math.floor(shared.instances / Math.max(1, shared.refs)));
  }

  /** @internal */
  async _release(key: string): Promise<void> {
    const shared = this.#shared.get(key);
    if (shared === undefined) return;
    if (--shared.refs > 0) return;
    this.#shared.delete(key);
    await (await shared.opened).instance.close();
  }

  async #getProvider(): Promise<EngineProvider> {
    if (this.#provider === undefined) {
      const { defaultEngineProvider } = await import('../provider/index.ts');
      this.#provider = defaultEngineProvider();
    }
    return this.#provider;
  }

  #assertOpen(): void {
    if (this.#closed) throw new AirlockError('aborted', 'the plugin host is closed');
  }
}

export class Agent {
  readonly id: string;
  readonly #host: PluginHost;
  readonly #policy: Policy;
  readonly #queue: PQueue;
  readonly #queueLimit: number;
  readonly #plugins = new Map<string, LoadedEntry>();
  #closed = false;

  /** @internal use `host.agent()` */
  constructor(host: PluginHost, id: string, policy: Policy, concurrency: number, queueLimit: number) {
    this.#host = host;
    this.id = id;
    this.#policy = policy;
    this.#queue = new PQueue({ concurrency });
    this.#queueLimit = queueLimit;
  }

  /**
   * Loads a plugin folder: manifest, grants under this agent's policy, then a
   * warm pool (shared when another agent has the same grants). A build can
   * take a while; the signal abandons it (the pool, when it comes, is released).
   */
  async load(dir: string, options: LoadOptions = {}): Promise<PluginSummary> {
    this.#assertOpen();
    const { signal } = options;
    if (isAborted(signal)) throw new AirlockError('aborted', `loading ${dir} was aborted`, { cause: signal.reason });
    const plugin = await loadPluginOffThread(dir, { signal });
    const name = plugin.manifest.name;
    this.#assertFree(plugin);
    const opening = this.#open(plugin);
    const entry = await abortable(opening, signal, `loading ${dir}`, (late) => void this.#host._release(late.key));
    // Re-checked: the agent may have closed, or loaded the same name, while this one opened.
    if (this.#closed || this.#plugins.has(name)) {
      await this.#host._release(entry.key);
      this.#assertOpen();
      this.#assertFree(plugin);
    }
    this.#plugins.set(name, entry);
    return summary(entry);
  }

  #assertFree(plugin: LoadedManifest): void {
    const existing = this.#plugins.get(plugin.manifest.name);
    if (existing !== undefined) {
      throw new AirlockError('conflict', `a plugin named "${plugin.manifest.name}" is already loaded from ${existing.plugin.dir}`, {
        details: { plugin: plugin.manifest.name },
      });
    }
  }

  async unload(name: string): Promise<void> {
    const entry = this.#plugins.get(name);
    if (entry === undefined) throw new AirlockError('not-found', `no plugin named "${name}" is loaded`);
    this.#plugins.delete(name);
    await this.#host._release(entry.key);
  }

  /** Re-reads a plugin's folder; when its manifest, files or grants changed, swaps in a fresh pool. Returns whether it changed. */
  async reload(name: string): Promise<boolean> {
    this.#assertOpen();
    const entry = this.#plugins.get(name);
    if (entry === undefined) throw new AirlockError('not-found', `no plugin named "${name}" is loaded`);
    const plugin = await loadPluginOffThread(entry.plugin.dir);
    if (plugin.manifest.name !== name) {
      throw new AirlockError('conflict', `${entry.plugin.file} now names the plugin "${plugin.manifest.name}", not "${name}": unload and load it instead`);
    }
    const fresh = await this.#open(plugin);
    if (fresh.key === entry.key) {
      await this.#host._release(fresh.key);
      return false;
    }
    if (this.#closed || this.#plugins.get(name) !== entry) {
      // Closed, unloaded or reloaded by someone else meanwhile: theirs stands.
      await this.#host._release(fresh.key);
      this.#assertOpen();
      return false;
    }
    this.#plugins.set(name, fresh);
    await this.#host._release(entry.key);
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
    return [...this.#plugins.values()].map(summary);
  }

  tools(): ToolInfo[] {
    return [...this.#plugins.values()].flatMap((e) => [...e.tools.values()].map((t) => t.info));
  }

  openAITools(): OpenAITool[] {
    return this.tools().map(toOpenAITool);
  }

  anthropicTools(): AnthropicTool[] {
    return this.tools().map(toAnthropicTool);
  }

  async call(name: string, input: unknown, options: ToolCallOptions = {}): Promise<ToolCallResult> {
    this.#assertOpen();
    const started = performance.now();
    const { entry, tool } = this.#find(name);
    const { signal } = options;
    if (options.timeout !== undefined && !(Number.isFinite(options.timeout) && options.timeout > 0)) {
      throw new AirlockError('invalid-input', `the timeout for ${name} must be a positive number of milliseconds (got ${String(options.timeout)})`);
    }
    // Checking the input and the result counts against the call's timeout (a large value is checked off the event loop).
    const timeoutMs = Math.min(options.timeout ?? Infinity, entry.grants.resources.timeoutMs);
    const text = JSON.stringify(input);
    // Nothing reaches a sandbox before the input matches the tool's schema.
    const checking = tool.validators.checkInput(name, input, text ?? '', timeoutMs);
    if (checking !== undefined) await checking;
    if (signal?.aborted === true) throw aborted(name, signal);
    if (this.#queue.size >= this.#queueLimit) {
      throw new AirlockError('overloaded', `agent ${this.#label()} has ${this.#queue.size} calls waiting (limit ${this.#queueLimit}); retry later`, {
        details: { agent: this.id, waiting: this.#queue.size, limit: this.#queueLimit },
      });
    }
    // The caller's signal may take a call out of the agent's queue while it
    // waits; once it runs, the engine owns the abort and the agent's slot
    // stays taken until the engine has really stopped it (p-queue would free
    // the slot at once, letting an agent that aborts and retries exceed its limit).
    const waiting = new AbortController();
    let running = false;
    const onAbort = (): void => {
      if (!running) waiting.abort(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let waited = 0;
    let ranAt = 0;
    let result: CallResult;
    try {
      result = await this.#queue.add(
        async () => {
          running = true;
          await entry.share.enter(signal, `call to ${name}`);
          try {
            waited = performance.now() - started;
            ranAt = performance.now();
            return await entry.opened.instance.call(tool.info.tool, text, { signal, timeoutMs: options.timeout });
          } finally {
            entry.share.leave();
          }
        },
        { signal: waiting.signal },
      );
    } catch (err) {
      if (isAirlockError(err)) throw err;
      // (Read again: the signal may have fired while the call ran.)
      if (isAborted(signal)) throw aborted(name, signal, err);
      throw new AirlockError('internal', `call to ${name} failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    if (nestsDeeperThan(result.output)) {
      throw new AirlockError('invalid-output', `${name} returned JSON nested more than ${MAX_JSON_DEPTH} levels deep`, { details: { logs: result.logs } });
    }
    let value: unknown;
    try {
      value = JSON.parse(result.output);
    } catch (err) {
      throw new AirlockError('invalid-output', `${name} returned text that is not JSON: ${JSON.stringify(result.output.slice(0, 80))}`, {
        cause: err,
        details: { logs: result.logs },
      });
    }
    const checked = tool.validators.checkOutput(name, value, result.output, Math.max(MIN_CHECK_MS, timeoutMs - (performance.now() - ranAt)));
    if (checked !== undefined) await checked;
    return { value, output: result.output, logs: result.logs, metrics: { ...result.metrics, agentQueueMs: waited, totalMs: performance.now() - started } };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Let calls already accepted finish (drain), then give the pools back.
    await this.#queue.onIdle();
    const keys = [...this.#plugins.values()].map((e) => e.key);
    this.#plugins.clear();
    await Promise.all(keys.map((k) => this.#host._release(k)));
    this.#host._forget(this);
  }

  async #open(plugin: LoadedManifest): Promise<LoadedEntry> {
    const grants = computeGrants(plugin, this.#policy, { env: this.#host._env() });
    const preference = this.#host._preference(plugin.manifest.name);
    // Dependency folders are the engines' business (builds ignore them too), and can be huge.
    // Granted folders inside the plugin are its data, not its code: a plugin writing there must
    // not count as changed (under `serve --watch` every write would rebuild and reload it).
    const data = grants.filesystem.map((f) => relative(plugin.dir, f.hostPath).split(sep).join('/')).filter((r) => r !== '' && !r.startsWith('..'));
    const contentHash = await hashTree(plugin.dir, {
      ignore: (rel) => rel === 'node_modules' || rel === '__pycache__' || rel === '.venv' || data.some((d) => rel === d || rel.startsWith(`${d}/`)),
    });
    const { key, opened } = await this.#host._acquire(plugin, grants, preference, contentHash);
    const tools = new Map(plugin.manifest.tools.map((t) => [t.name, { info: toolInfo(plugin.manifest.name, t, grants), validators: new ToolValidators(t) }]));
    return { plugin, grants, key, contentHash, opened, tools, preference, share: new FairShare(() => this.#host._share(key)) };
  }

  #find(name: string): { entry: LoadedEntry; tool: { info: ToolInfo; validators: ToolValidators } } {
    // Plugin names have no "_" (DNS labels), so the first one splits plugin_tool.
    const cut = name.indexOf('_');
    const tool = cut <= 0 ? undefined : this.#plugins.get(name.slice(0, cut))?.tools.get(name.slice(cut + 1));
    if (tool !== undefined) return { entry: this.#plugins.get(name.slice(0, cut)) as LoadedEntry, tool };
    const known = this.tools().map((t) => t.name);
    const guess = didYouMean(name, known);
    throw new AirlockError('not-found', `no tool named "${name}"${guess === undefined ? '' : `; did you mean "${guess}"?`}${known.length === 0 ? ' (no plugins are loaded)' : ''}`, {
      details: { tool: name },
    });
  }

  #label(): string {
    return this.id === '' ? '(host)' : JSON.stringify(this.id);
  }

  #assertOpen(): void {
    if (this.#closed) throw new AirlockError('aborted', `agent ${JSON.stringify(this.id)} is closed`);
  }
}

/**
 * Waits for `promise` unless the signal fires first; a result that arrives
 * after the abort goes to `late` (so what it holds can be released).
 */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, what: string, late: (value: T) => void): Promise<T> {
  if (signal === undefined) return promise;
  return new Promise<T>((resolve, reject) => {
    let abandoned = false;
    const onAbort = (): void => {
      abandoned = true;
      reject(new AirlockError('aborted', `${what} was aborted`, { cause: signal.reason }));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (abandoned) late(value);
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!abandoned) reject(err);
      },
    );
  });
}

function isAborted(signal: AbortSignal | undefined): signal is AbortSignal {
  return signal?.aborted === true;
}

function aborted(name: string, signal: AbortSignal, cause?: unknown): AirlockError {
  return new AirlockError('aborted', `call to ${name} was aborted${signal.reason instanceof Error ? `: ${signal.reason.message}` : ''}`, { cause: cause ?? signal.reason });
}

function summary(e: LoadedEntry): PluginSummary {
  return {
    name: e.plugin.manifest.name,
    version: e.plugin.manifest.version,
    dir: e.plugin.dir,
    engine: e.opened.engine,
    reason: e.opened.reason,
    tools: [...e.tools.values()].map((t) => t.info.name),
    grants: e.grants,
  };
}
