/**
 * Grants taken away at run time (`host.revoke`, the policy's `revoked:`
 * section): they narrow what manifest ∩ policy granted, per plugin, without
 * refusing the plugin: what remains keeps working, and what was revoked is
 * refused where an engine enforces it (no preopen, no mount, the egress
 * proxy). `host.grant` gives back what was revoked, never more than the
 * policy allows.
 */
import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatHostPattern, hostPatternCovers, parseHostPattern } from '../manifest/hosts.ts';
import { isInside } from '../plugin-files/inside.ts';
import type { Policy } from './policy.ts';
import type { Grants, HostPattern } from './types.ts';

/** What is revoked from one plugin: allow-list entries, folders (and all below), env names or `PREFIX_*`. */
export interface Revocation {
  network?: string[];
  filesystem?: string[];
  env?: string[];
}

export type Revocations = Record<string, Revocation>;

const realOrResolved = (path: string): string => {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
};

const envMatches = (pattern: string, name: string): boolean => (pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name);

/** `grants` without what `revoked` names; a network grant left with no entry is no network at all. */
export function narrowGrants(grants: Grants, revoked: Revocation | undefined, baseDir: string): Grants {
  if (revoked === undefined) return grants;
  const patterns = (revoked.network ?? []).map((t) => parseHostPattern(t)).filter((p): p is HostPattern => typeof p !== 'string');
  const paths = (revoked.filesystem ?? []).map((p) => realOrResolved(resolve(baseDir, p)));
  const allow = grants.network?.allow.filter((g) => !patterns.some((r) => hostPatternCovers(r, g)));
  const env = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(grants.env)) if (!(revoked.env ?? []).some((p) => envMatches(p, name))) env[name] = value;
  return {
    ...grants,
    network: allow === undefined || allow.length === 0 ? null : { allow },
    filesystem: grants.filesystem.filter((f) => !paths.some((p) => isInside(p, f.hostPath))),
    env,
  };
}

/**
 * Why the host policy could not grant `entry` at all (undefined: it can): a grant at run time
 * only gives back what was revoked, within the policy.
 */
export function outsidePolicy(policy: Policy, what: 'network' | 'filesystem' | 'env', entry: string): string | undefined {
  if (what === 'network') {
    const want = parseHostPattern(entry);
    if (typeof want === 'string') return `"${entry}" is not an allow-list entry: ${want}`;
    const allowed = policy.network.allow.map((p) => parseHostPattern(p)).filter((p): p is HostPattern => typeof p !== 'string');
    return allowed.some((a) => hostPatternCovers(a, want)) ? undefined : `network access to "${formatHostPattern(want)}" is not allowed by ${policy.origin}`;
  }
  if (what === 'filesystem') {
    const real = realOrResolved(resolve(policy.baseDir, entry));
    return policy.filesystem.some((f) => isInside(realOrResolved(f.path), real)) ? undefined : `"${entry}" is not inside any folder ${policy.origin} allows`;
  }
  return policy.env.some((p) => envMatches(p, entry) || (entry.endsWith('*') && p === entry))
    ? undefined
    : `environment variable ${entry} is not allowed by ${policy.origin}`;
}
