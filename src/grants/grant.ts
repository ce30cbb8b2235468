/**
 * Manifest request ∩ host policy = Grants. A request beyond the policy is
 * refused, every refusal listed with the manifest line it comes from; nothing
 * is silently widened or dropped. The only narrowing done without asking is
 * of a default the author did not write (a `resources` field left out gets
 * the lesser of the default and the policy cap).
 */
import { realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { AirlockError, type Problem } from '../errors.ts';
import { formatHostPattern, hostPatternCovers, parseHostPattern } from '../manifest/hosts.ts';
import type { LoadedManifest } from '../manifest/load.ts';
import { formatDuration, formatSize, parseDuration, parseSize } from '../manifest/units.ts';
import type { Policy } from './policy.ts';
import { isInside } from '../plugin-files/inside.ts';
import { protectedOverlap, protectedPaths } from './protected.ts';

import type { EngineSettings, FilesystemGrant, Grants, HostPattern, ResourceGrants } from './types.ts';
import { trimSlashes } from '../manifest/trim.ts';

export interface GrantOptions {
  /** Where granted env values come from (default: process.env). */
  env?: Record<string, string | undefined>;
}

/** Computes the grants, or throws `permission-denied` listing each refused permission. */
export function computeGrants(plugin: LoadedManifest, policy: Policy, options: GrantOptions = {}): Grants {
  const { manifest, source, file } = plugin;
  const problems: Problem[] = [];
  const refuse = (path: (string | number)[], message: string, hint: string): void => {
    const field = path.reduce<string>((s, seg) => (typeof seg === 'number' ? `${s}[${seg}]` : s === '' ? seg : `${s}.${seg}`), '');
    problems.push({ file, ...source.locate(path), path: field, message, hint });
  };
  const policyName = policy.origin;

  // ---- resources ----
  const written = (key: string) => source.has(['resources', key]);
  const capped = <T extends number>(key: string, asked: T, cap: T, show: (n: number) => string): number => {
    if (asked <= cap) return asked;
    if (!written(key)) return cap;
    refuse(
      ['resources', key],
      `${key} ${show(asked)} is more than ${policyName} allows (${show(cap)})`,
      `ask for at most ${show(cap)}, or raise limits.${key} in the host policy`,
    );
    return cap;
  };
  const r = manifest.resources;
  const l = policy.limits;
  const resources: ResourceGrants = {
    memoryBytes: capped('memory', parseSize(r.memory), parseSize(l.memory), formatSize),
    cpu: capped('cpu', r.cpu, l.cpu, String),
    timeoutMs: capped('timeout', parseDuration(r.timeout), parseDuration(l.timeout), formatDuration),
    concurrency: capped('concurrency', r.concurrency, l.concurrency, String),
    outputBytes: capped('output', parseSize(r.output), parseSize(l.output), formatSize),
    logBytes: capped('logs', parseSize(r.logs), parseSize(l.logs), formatSize),
    queue: l.queue,
    diskBytes: capped('disk', parseSize(r.disk), parseSize(l.disk), formatSize),
    files: capped('files', r.files, l.files, String),
  };

  // ---- network ----
  let network: Grants['network'] = null;
  const asked = manifest.permissions.network?.allow ?? [];
  if (asked.length > 0) {
    const allowed = policy.network.allow.map((p) => parseHostPattern(p)).filter((p): p is HostPattern => typeof p !== 'string');
    const granted: HostPattern[] = [];
    asked.forEach((text, i) => {
      const want = parseHostPattern(text);
      if (typeof want === 'string') return; // the schema already rejected it
      if (allowed.some((a) => hostPatternCovers(a, want))) {
        granted.push(want);
      } else {
        refuse(
          ['permissions', 'network', 'allow', i],
          `network access to "${formatHostPattern(want)}" is not allowed by ${policyName}`,
          allowed.length === 0
            ? `the host policy allows no network; add "${formatHostPattern(want)}" to its network.allow, or remove it from plugin.yaml`
            : `add "${formatHostPattern(want)}" to network.allow in the host policy, or remove it from plugin.yaml`,
        );
      }
    });
    network = { allow: granted };
  }

  // ---- filesystem ----
  const filesystem: FilesystemGrant[] = [];
  const roots = policy.filesystem.flatMap((f) => {
    const real = realpathOrUndefined(f.path);
    return real === undefined ? [] : [{ path: real, access: f.access }];
  });
  // Parallel to `filesystem`: which manifest entry each grant came from.
  const entries: { index: number; written: string }[] = [];
  const protectedList = manifest.permissions.filesystem.length > 0 ? protectedPaths() : [];
  manifest.permissions.filesystem.forEach((req, i) => {
    const at = ['permissions', 'filesystem', i, 'path'];
    const requested = resolve(plugin.dir, req.path);
    const real = realpathOrUndefined(requested);
    if (real === undefined) {
      refuse(at, `path "${req.path}" (${requested}) does not exist`, 'create it, or fix the path (relative paths start at the plugin folder)');
      return;
    }
    const kind = statSync(real);
    if (!kind.isDirectory() && !kind.isFile()) {
      refuse(at, `path "${req.path}" (${real}) is neither a folder nor a regular file`, 'grant a folder or a regular file');
      return;
    }
    const root = roots.find((root) => isInside(root.path, real) && (req.access === 'read' || root.access === 'read-write'));
    if (root === undefined) {
      const readOnly = roots.find((root) => isInside(root.path, real));
      refuse(
        at,
        readOnly !== undefined
          ? `"${req.path}" (${real}) may only be read under ${policyName}, but plugin.yaml asks for read-write`
          : `"${req.path}" (${real}) is not inside any folder ${policyName} allows`,
        readOnly !== undefined
          ? 'change access to read, or allow read-write for that folder in the host policy'
          : `add a folder containing ${real} to filesystem in the host policy, or remove this entry from plugin.yaml`,
      );
      return;
    }
    const overlap = protectedOverlap(real, protectedList);
    if (overlap !== undefined) {
      const { guarded, how } = overlap;
      refuse(
        at,
        `"${req.path}" (${real}) ${how} ${guarded.what} ${guarded.path}; a plugin that can reach it can take over the host, so no policy may grant it`,
        guarded.hint,
      );
      return;
    }
    filesystem.push({ hostPath: real, mount: normalizeMount(req.mount), access: req.access });
    entries.push({ index: i, written: req.path });
  });
  // A grant inside a read-write grant is refused: the plugin could rename the
  // inner folder away and put a symlink in its place, and the next container,
  // wasmtime process or instance would open the link's target as the inner
  // grant (engines also check again at each use: capabilities/filesystem/
  // verify.ts). A folder granted twice with one of them read-write is refused
  // too (no swap is possible there, but nothing needs it). A read-write grant
  // inside a read-only one is fine: the plugin cannot rename what lies in a
  // folder it may only read.
  filesystem.forEach((inner, j) => {
    filesystem.forEach((outer, k) => {
      if (j === k || outer.access !== 'read-write' || !isInside(outer.hostPath, inner.hostPath)) return;
      const a = entries[k] as { index: number; written: string };
      const b = entries[j] as { index: number; written: string };
      const where = `the read-write grant "${a.written}" (${outer.hostPath}, permissions.filesystem[${a.index}])`;
      refuse(
        ['permissions', 'filesystem', b.index, 'path'],
        inner.hostPath === outer.hostPath
          ? `"${b.written}" (${inner.hostPath}) is the same folder as ${where}; one folder is granted once`
          : `"${b.written}" (${inner.hostPath}) lies inside ${where}; through it the plugin could replace this folder with a symlink to any host folder`,
        inner.hostPath === outer.hostPath
          ? 'remove one of the two entries'
          : 'grant only the outer folder (the plugin reaches the inner one through it), make the outer grant read-only, or grant folders that do not nest',
      );
    });
  });

  // ---- env ----
  const hostEnv = options.env ?? process.env;
  // Names come from the manifest: a name such as `toString`, `constructor` or
  // `__proto__` is an ordinary variable name, so the host env is read through
  // own properties only, and the grants keep names in a null-prototype map.
  const env = Object.create(null) as Record<string, string>;
  manifest.permissions.env.forEach((name, i) => {
    const ok = policy.env.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
    if (!ok) {
      refuse(
        ['permissions', 'env', i],
        `environment variable ${name} is not allowed by ${policyName}`,
        `add ${name} to env in the host policy, or remove it from plugin.yaml`,
      );
      return;
    }
    const value = Object.hasOwn(hostEnv, name) ? hostEnv[name] : undefined;
    if (typeof value === 'string') env[name] = value;
  });

  if (problems.length > 0) {
    throw new AirlockError(
      'permission-denied',
      `plugin "${manifest.name}" asks for ${problems.length} permission(s) that ${policyName} refuses:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
      { problems },
    );
  }

  const grants: Grants = {
    plugin: {
      name: manifest.name,
      version: manifest.version,
      runtime: plugin.runtime,
      dir: plugin.dir,
      entry: realpathSync(resolve(plugin.dir, manifest.entry)),
    },
    filesystem,
    network,
    env,
    resources,
    isolation: policy.isolation === 'per-call' ? 'per-call' : manifest.isolation,
  };
  const idle = typeof policy.idle === 'object' ? (Object.hasOwn(policy.idle, manifest.name) ? policy.idle[manifest.name] : policy.idle['*']) : policy.idle;
  if (idle !== undefined && idle !== 'never') grants.idleMs = parseDuration(idle);
  if (policy.unboundedWrites.length > 0) grants.unboundedWrites = [...policy.unboundedWrites];
  Object.assign(grants, engineSettings(policy));
  if (manifest.wasm !== undefined) grants.plugin.wasm = realpathSync(resolve(plugin.dir, manifest.wasm));
  return grants;
}

function realpathOrUndefined(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

function normalizeMount(mount: string): string {
  return mount.length > 1 ? trimSlashes(mount) : mount;
}

/** The daemon and cluster the host policy names (what `airlock doctor --policy` probes, and every plugin's grants carry). */
export function engineSettings(policy: Policy): EngineSettings {
  const settings: EngineSettings = {};
  if (policy.docker !== undefined) settings.docker = structuredClone(policy.docker);
  if (policy.kubernetes !== undefined) {
    const { context, ...k } = policy.kubernetes;
    settings.kubernetes = { ...k, ...(context === undefined ? {} : { context }) };
  }
  return settings;
}
