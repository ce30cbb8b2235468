/**
 * PluginHost: the library API agents use. Load plugin folders, list their
 * tools, call them. Input is validated against the tool's schema before
 * anything reaches a sandbox; output against its output schema when there is
 * one. Agents (`host.agent(id, …)`) each see only the plugins they loaded,
 * under their own policy, with their own concurrency limit, while plugins
 * with identical grants share one warm pool across agents (pools.ts). The
 * host's own methods are those of its default agent.
 */
import PQueue from 'p-queue';
import { AirlockError } from '../errors.ts';
import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import type { Policy, PolicyInput } from '../grants/index.ts';
import { outsidePolicy, type Revocation, type Revocations } from '../grants/revoke.ts';
import { Agent, type AgentContext } from './agent.ts';
import { toAnthropicTool, toOpenAITool, type AnthropicTool, type OpenAITool, type ToolInfo } from './catalog.ts';
import { Pools, prepareEngines } from './pools.ts';
import type { LockFile } from '../trust/lock.ts';
import { TelemetryObserver } from '../telemetry/otel.ts';
import { fanOut, type GrantChange, type Observers } from '../observe/observer.ts';
import type { AgentOptions, HostOptions, LoadOptions, PluginSummary, ToolCallOptions, ToolCallResult } from './types.ts';
import { lazyModule } from '../lazy.ts';
import { defaultPolicy } from '../grants/default-policy.ts';

/** The audit log (hash chains: node:crypto), loaded by a host that keeps one, not when Airlock is imported. */
const audits = lazyModule<typeof import('../audit/log.ts')>(import.meta.url, '../audit/log');

/** The policy schema (zod, yaml), loaded when a host is made, not when Airlock is imported. */
const policies = lazyModule<typeof import('../grants/policy.ts')>(import.meta.url, '../grants/policy');

/** A policy's origin is a file when it came from loadPolicy (an absolute path); in code it is a description. */
function isPolicyFile(origin: string): boolean {
  return isAbsolute(origin) && existsSync(origin);
}

/** The entries of a grant change, checked as the policy schema checks its `revoked:` section. */
function checkRevocation(plugin: string, what: Revocation): Revocation {
  const parsed = policies().policySchema.shape.revoked.safeParse({ [plugin]: what });
  if (!parsed.success || typeof plugin !== 'string' || plugin === '') {
    const why = parsed.success ? 'the plugin name is empty' : parsed.error.issues.map((i) => `${i.path.slice(1).join('.')}: ${i.message}`).join('; ');
    throw new AirlockError('invalid-input', `a grant change for ${JSON.stringify(plugin)} is invalid: ${why}`);
  }
  return parsed.data[plugin] as Revocation;
}

function resolvePolicy(policy: Policy | PolicyInput | string | undefined): Policy {
  if (policy === undefined) return defaultPolicy();
  if (typeof policy === 'string') return policies().loadPolicy(policy);
  if ('baseDir' in policy && 'origin' in policy) return policy as Policy;
  return policies().policyFromObject(policy as PolicyInput);
}

/** The host's lock file, read on the first load (once; a read failure fails every load, naming the file). */
function lockReader(lock: string | LockFile | undefined): () => Promise<LockFile | undefined> {
  if (lock === undefined || typeof lock !== 'string') return () => Promise.resolve(lock);
  let read: Promise<LockFile> | undefined;
  return () => (read ??= import('../trust/lock.ts').then((m) => m.readLock(lock)));
}

export class PluginHost {
  readonly #options: HostOptions;
  readonly #policy: Policy;
  readonly #pools: Pools;
  readonly #context: AgentContext;
  readonly #agents = new Map<string, Agent>();
  readonly #default: Agent;
  readonly #observe: Observers;
  #closed = false;

  constructor(options: HostOptions = {}) {
    this.#options = options;
    // First: the thread the first load will likely adopt boots while the policy is read and the plugin loaded.
    prepareEngines(options.provider, options.engine ?? 'auto');
    this.#policy = resolvePolicy(options.policy);
    // A Policy built in code before `revoked:` existed has none.
    (this.#policy as { revoked?: Revocations }).revoked ??= {};
    const observers = [new TelemetryObserver(), ...(options.audit === undefined ? [] : [new (audits().AuditLog)(options.audit)]), ...(options.observers ?? [])];
    this.#observe = fanOut(observers);
    let calls = 0;
    this.#pools = new Pools(options.provider, this.#observe);
    this.#context = {
      observe: this.#observe,
      keepInputs: options.audit?.inputs === true,
      callId: () => ++calls,
      revoked: (plugin) => ({ revocation: this.#policy.revoked[plugin], baseDir: this.#policy.baseDir }),
      pools: this.#pools,
      preference: (name) => options.engines?.[name] ?? options.engine ?? 'auto',
      env: options.env,
      opens: new PQueue({ concurrency: options.backgroundOpens ?? 4 }),
      lock: lockReader(options.lock),
      forget: (agent) => {
        if (this.#agents.get(agent.id) === agent) this.#agents.delete(agent.id);
      },
    };
    this.#default = new Agent(this.#context, '', this.#policy, options.agentConcurrency ?? 64, options.agentQueue ?? 1024);
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

  /**
   * Takes permissions away from a plugin, for every agent, from its next call on: pools whose
   * grants change are replaced (calls in flight finish on the old one). Recorded in the host
   * policy file when the policy came from one (its `revoked:` section), and in the audit log.
   * Entries: network allow-list entries (and those they cover), folders (and all below; relative
   * to the policy file), env names or `PREFIX_*`.
   */
  async revoke(plugin: string, what: Revocation): Promise<GrantChange> {
    return this.#change('revoke', plugin, what);
  }

  /** Gives back what revoke() took, never more: an entry the host policy does not allow is refused (permission-denied). */
  async grant(plugin: string, what: Revocation): Promise<GrantChange> {
    return this.#change('grant', plugin, what);
  }

  /** What is revoked now, per plugin. */
  revoked(): Revocations {
    return structuredClone(this.#policy.revoked);
  }

  async #change(action: 'grant' | 'revoke', plugin: string, what: Revocation): Promise<GrantChange> {
    if (this.#closed) throw new AirlockError('aborted', 'the plugin host is closed');
    const checked = checkRevocation(plugin, what);
    if (action === 'grant') {
      const refusals = (['network', 'filesystem', 'env'] as const).flatMap((k) => (checked[k] ?? []).flatMap((e) => outsidePolicy(this.#policy, k, e) ?? []));
      if (refusals.length > 0) {
        throw new AirlockError('permission-denied', `cannot grant ${plugin}: ${refusals.join('; ')} (a grant at run time only gives back what was revoked)`, {
          details: { plugin, refusals },
        });
      }
    }
    const current = this.#policy.revoked[plugin] ?? {};
    const next: Revocation = {};
    for (const k of ['network', 'filesystem', 'env'] as const) {
      const had = current[k] ?? [];
      const list = action === 'revoke' ? [...new Set([...had, ...(checked[k] ?? [])])] : had.filter((e) => !(checked[k] ?? []).includes(e));
      if (list.length > 0) next[k] = list;
    }
    const revoked = { ...this.#policy.revoked, [plugin]: next };
    if (Object.keys(next).length === 0) delete revoked[plugin];
    const file = isPolicyFile(this.#policy.origin) ? this.#policy.origin : undefined;
    // Written first: a change that cannot be recorded is not made.
    if (file !== undefined) (await import('../grants/persist.ts')).persistRevocations(file, revoked);
    this.#policy.revoked = revoked;
    const change: GrantChange = { action, plugin, ...checked, ...(file === undefined ? {} : { policyFile: file }) };
    this.#observe.grant(change);
    await Promise.all([...this.#agents.values(), this.#default].map((a) => a.regrant(plugin)));
    return change;
  }

  /** An agent with its own plugin set and policy, sharing this host's warm pools. */
  async agent(id: string, options: AgentOptions = {}): Promise<Agent> {
    if (this.#closed) throw new AirlockError('aborted', 'the plugin host is closed');
    if (id === '' || this.#agents.has(id)) throw new AirlockError('conflict', `agent id ${JSON.stringify(id)} is ${id === '' ? 'empty' : 'already in use'}`);
    const agent = new Agent(
      this.#context,
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
    await this.#pools.close(() => Promise.all([...this.#agents.values(), this.#default].map((a) => a.close())));
    await this.#observe.close();
  }
}
