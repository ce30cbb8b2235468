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
import { defaultPolicy, loadPolicy, policyFromObject, type Policy, type PolicyInput } from '../grants/index.ts';
import { Agent, type AgentContext } from './agent.ts';
import { toAnthropicTool, toOpenAITool, type AnthropicTool, type OpenAITool, type ToolInfo } from './catalog.ts';
import { Pools } from './pools.ts';
import { AuditLog } from '../audit/log.ts';
import { fanOut, type Observers } from '../observe/observer.ts';
import type { AgentOptions, HostOptions, LoadOptions, PluginSummary, ToolCallOptions, ToolCallResult } from './types.ts';

function resolvePolicy(policy: Policy | PolicyInput | string | undefined): Policy {
  if (policy === undefined) return defaultPolicy();
  if (typeof policy === 'string') return loadPolicy(policy);
  if ('baseDir' in policy && 'origin' in policy) return policy as Policy;
  return policyFromObject(policy as PolicyInput);
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
    this.#policy = resolvePolicy(options.policy);
    const observers = [...(options.audit === undefined ? [] : [new AuditLog(options.audit)]), ...(options.observers ?? [])];
    this.#observe = fanOut(observers);
    let calls = 0;
    this.#pools = new Pools(options.provider, (plugin, decision) => this.#observe.egress(plugin, decision));
    this.#context = {
      observe: this.#observe,
      keepInputs: options.audit?.inputs === true,
      callId: () => ++calls,
      pools: this.#pools,
      preference: (name) => options.engines?.[name] ?? options.engine ?? 'auto',
      env: options.env,
      opens: new PQueue({ concurrency: options.backgroundOpens ?? 4 }),
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
