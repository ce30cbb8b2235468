/**
 * Matching an outgoing HTTP request's scheme and authority against
 * grants.network.allow, for engines that check requests themselves (the
 * worker engine's wasi:http handler). The rules are the egress proxy's, so
 * every engine admits exactly the same targets: see
 * src/egress/policy.ts (an entry without a port admits 80 and
 * 443 only; IP targets only when named; wildcards match subdomains only).
 */
import { checkTarget, compileRules, parseAuthority as parseTarget, type Target } from '../../egress/policy.ts';
import type { NetworkGrant } from '../../grants/types.ts';

export type { Target };

/** Parses `host[:port]` (IPv6 in brackets) with the scheme's default port; undefined when malformed (and so denied). */
export function parseAuthority(scheme: 'http' | 'https', authority: string): Target | undefined {
  const t = parseTarget(authority, scheme === 'https' ? 443 : 80);
  return typeof t === 'string' ? undefined : t;
}

/** True when `target` is allowed by `grant` (null grant: nothing is). */
export function isAllowed(grant: NetworkGrant | null, target: Target): boolean {
  if (grant === null) return false;
  return checkTarget(compileRules(grant.allow), target).ok;
}
