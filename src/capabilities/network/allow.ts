/**
 * Matching an outgoing HTTP request's scheme and authority against
 * grants.network.allow. Pure functions, shared by every engine that checks
 * requests itself.
 */
import type { HostPattern, NetworkGrant } from '../../grants/types.ts';

export interface Target {
  scheme: 'http' | 'https';
  host: string;
  port: number;
}

/**
 * Parses `host[:port]` (IPv6 in brackets) for `scheme`; undefined when the
 * authority is malformed (which is then denied).
 */
export function parseAuthority(scheme: 'http' | 'https', authority: string): Target | undefined {
  if (authority === '' || /[@/\\?#\s]/.test(authority)) return undefined;
  let host: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return undefined;
    host = authority.slice(1, end);
    const rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return undefined;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && authority.indexOf(':') !== colon) return undefined;
    host = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  host = host.toLowerCase().replace(/\.$/, '');
  if (host === '') return undefined;
  let port = scheme === 'https' ? 443 : 80;
  if (portText !== undefined) {
    if (!/^[0-9]{1,5}$/.test(portText)) return undefined;
    port = Number(portText);
    if (port < 1 || port > 65535) return undefined;
  }
  return { scheme, host, port };
}

export function hostMatches(pattern: HostPattern, host: string): boolean {
  if (pattern.wildcard) return host.endsWith(`.${pattern.host}`);
  return host === pattern.host;
}

/** True when `target` is allowed by `grant` (null grant: nothing is). */
export function isAllowed(grant: NetworkGrant | null, target: Target): boolean {
  if (grant === null) return false;
  return grant.allow.some((p) => hostMatches(p, target.host) && (p.port === undefined || p.port === target.port));
}
