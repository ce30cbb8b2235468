/**
 * One plugin as an agent holds it: its grants under the agent's policy, its
 * content hash, its hold on a warm pool (pools.ts), its tools with their
 * validators, and the agent's fair share of the pool.
 */
import { relative, sep } from 'node:path';
import { hashTree } from '../content-hash.ts';
import { computeGrants } from '../grants/grant.ts';
import type { Grants, Policy } from '../grants/index.ts';
import { narrowGrants, type Revocation } from '../grants/revoke.ts';
import type { LoadedManifest } from '../manifest/index.ts';
import { prepareValidators, toolInfo, ToolValidators, type ToolInfo } from './catalog.ts';
import { FairShare } from './fair-share.ts';
import type { EnginePreference, OpenedPlugin, ProviderEvent } from '../provider/index.ts';
import type { Pools } from './pools.ts';
import type { EgressTap } from '../observe/usage.ts';

export interface LoadedTool {
  info: ToolInfo;
  validators: ToolValidators;
}

/** What the manifest and the policy decide, before any engine is opened: enough to list the tools and check their input. */
export interface PreparedEntry {
  plugin: LoadedManifest;
  grants: Grants;
  tools: Map<string, LoadedTool>;
  preference: EnginePreference;
}

export interface LoadedEntry extends PreparedEntry {
  /** The hold on the pool, released through Pools.release. */
  key: string;
  contentHash: string;
  opened: OpenedPlugin;
  /** The pool's egress decisions, for the usage of the calls running in it. */
  tap: EgressTap;
  /** This agent's share of the (possibly shared) pool. */
  share: FairShare;
}

/** What opening a plugin needs from the host. */
export interface OpenContext {
  pools: Pools;
  preference(name: string): EnginePreference;
  env: Record<string, string | undefined> | undefined;
  /** What was revoked from a plugin at run time (host.revoke), and where its relative paths start. */
  revoked(plugin: string): { revocation: Revocation | undefined; baseDir: string };
}

/** Grants under `policy`, then a warm pool (shared when another agent has the same grants and content). */
export function openEntry(plugin: LoadedManifest, policy: Policy, context: OpenContext): Promise<LoadedEntry> {
  return openPrepared(prepareEntry(plugin, policy, context), context);
}

/** The grants under `policy` and the tools (throws when the policy refuses a grant); no engine is touched. */
export function prepareEntry(plugin: LoadedManifest, policy: Policy, context: OpenContext): PreparedEntry {
  const { revocation, baseDir } = context.revoked(plugin.manifest.name);
  const grants = narrowGrants(computeGrants(plugin, policy, { env: context.env }), revocation, baseDir);
  const tools = new Map(plugin.manifest.tools.map((t) => [t.name, { info: toolInfo(plugin.manifest.name, t, grants), validators: new ToolValidators(t) }]));
  return { plugin, grants, tools, preference: context.preference(plugin.manifest.name) };
}

/** The warm pool for a prepared plugin (shared when another agent has the same grants and content): hashing, build, start. */
export async function openPrepared(prepared: PreparedEntry, context: OpenContext, onEvent?: (event: ProviderEvent) => void): Promise<LoadedEntry> {
  const { plugin, grants, preference } = prepared;
  const { pools } = context;
  // The engine's slow start (a worker thread) overlaps the hashing, the build lookup and the engine's own loading.
  pools.warm(grants, preference);
  // Dependency folders are Docker's business (its image installs them), and can be huge; a component's
  // node_modules is bundled into it (src/build/wasm.ts), so there it is code like the rest.
  // Granted folders inside the plugin are its data, not its code: a plugin writing there must
  // not count as changed (under `serve --watch` every write would rebuild and reload it).
  const data = grants.filesystem.map((f) => relative(plugin.dir, f.hostPath).split(sep).join('/')).filter((r) => r !== '' && !r.startsWith('..'));
  const bundled = plugin.runtime === 'wasm' || plugin.manifest.wasm !== undefined;
  // A Rust plugin's target/ is cargo's output (and can be huge), not what its component is built from.
  const cargo = plugin.manifest.entry.endsWith('.rs');
  const contentHash = await hashTree(plugin.dir, {
    ignore: (rel) =>
      (rel === 'node_modules' && !bundled) ||
      (rel === 'target' && cargo) ||
      rel === '__pycache__' ||
      rel === '.venv' ||
      data.some((d) => rel === d || rel.startsWith(`${d}/`)),
  });
  // While the engine instantiates the plugin off this thread, the tools' first calls are readied (their kept
  // validators read, else Ajv loaded), after the engine's own work on this thread: the turn after the start was asked for.
  const validators = [...prepared.tools.values()].map((t) => t.validators);
  const { key, opened, tap } = await pools.acquire(plugin, grants, preference, contentHash, onEvent, () => setImmediate(() => prepareValidators(validators)));
  return { ...prepared, key, contentHash, opened, tap, share: new FairShare(() => pools.share(key)) };
}
