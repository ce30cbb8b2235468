/**
 * Network allow-list entries: `api.example.com`, `api.example.com:443`,
 * `*.example.com`, `10.0.0.7:8080`, `[::1]:8080`. Used by the manifest schema
 * (to check what an author wrote), by host policies, and by the grants
 * intersection (to decide whether a policy entry covers a requested one).
 */
import type { HostPattern } from '../grants/types.ts';

/** node:net on first use: the host imports this module, and importing Airlock does not load net (issue 21). */
const isIP = (input: string): number => process.getBuiltinModule('node:net').isIP(input);

/** Ports an entry without `:port` admits (the egress proxy's DEFAULT_PORTS; test/manifest/hosts.property.test.ts checks they agree). */
const WEB_PORTS: readonly number[] = [80, 443];

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/** Parses one allow-list entry; returns an explanation string when it is not one. */
export function parseHostPattern(text: string): HostPattern | string {
  let rest = text.trim().toLowerCase();
  if (rest === '') return 'it is empty';
  if (rest.includes('://') || rest.includes('/')) return 'a URL; write the host, e.g. "api.example.com" or "api.example.com:443"';
  let port: number | undefined;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) return '"[" without "]" (IPv6 is written "[::1]:8080")';
    const after = rest.slice(close + 1);
    if (after !== '') {
      if (!after.startsWith(':')) return `unexpected text "${after}" after "]"`;
      const p = parsePort(after.slice(1));
      if (typeof p === 'string') return p;
      port = p;
    }
    const ip = rest.slice(1, close);
    if (isIP(ip) !== 6) return `"${ip}" is not an IPv6 address`;
    return port === undefined ? { host: ip, wildcard: false } : { host: ip, wildcard: false, port };
  }
  const colon = rest.lastIndexOf(':');
  if (colon >= 0) {
    if (rest.indexOf(':') !== colon) return 'a bare IPv6 address; write it in brackets, e.g. "[::1]:8080"';
    const p = parsePort(rest.slice(colon + 1));
    if (typeof p === 'string') return p;
    port = p;
    rest = rest.slice(0, colon);
  }
  let wildcard = false;
  if (rest.startsWith('*.')) {
    wildcard = true;
    rest = rest.slice(2);
  }
  if (rest.includes('*')) return '"*" may only be the first label, as in "*.example.com"';
  if (isIP(rest) === 4) {
    if (wildcard) return 'a wildcard cannot apply to an IP address';
  } else if (rest.length > 253 || !HOSTNAME.test(rest)) {
    return `"${rest}" is not a valid host name`;
  } else if (wildcard && !rest.includes('.')) {
    return `"*.${rest}" would match a whole top-level domain; name a registrable domain, e.g. "*.example.com"`;
  }
  const pattern: HostPattern = { host: rest, wildcard };
  if (port !== undefined) pattern.port = port;
  return pattern;
}

function parsePort(text: string): number | string {
  if (!/^\d{1,5}$/.test(text)) return `port "${text}" is not a number`;
  const n = Number(text);
  if (n < 1 || n > 65535) return `port ${n} is outside 1-65535`;
  return n;
}

export function formatHostPattern(p: HostPattern): string {
  const host = isIP(p.host) === 6 ? `[${p.host}]` : p.host;
  return `${p.wildcard ? '*.' : ''}${host}${p.port === undefined ? '' : `:${p.port}`}`;
}

/** True when `outer` admits every destination `inner` admits (so granting `inner` under `outer` widens nothing). */
export function hostPatternCovers(outer: HostPattern, inner: HostPattern): boolean {
  // A port-less entry admits the web ports only, so it covers a request for one of those, not for any port.
  if (outer.port === undefined ? inner.port !== undefined && !WEB_PORTS.includes(inner.port) : outer.port !== inner.port) return false;
  if (!outer.wildcard) return !inner.wildcard && outer.host === inner.host;
  // `*.example.com` covers itself, `a.example.com` and `*.a.example.com`, never `example.com` itself, nor
  // an IP address (the egress rules match IP targets only against entries that name the address).
  if (inner.wildcard && inner.host === outer.host) return true;
  return isIP(inner.host) === 0 && inner.host.endsWith(`.${outer.host}`);
}

/** True when a concrete destination `host:port` is admitted by `pattern`. */
export function hostPatternMatches(pattern: HostPattern, host: string, port: number): boolean {
  if (pattern.port === undefined ? !WEB_PORTS.includes(port) : pattern.port !== port) return false;
  const h = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  return pattern.wildcard ? isIP(h) === 0 && h.endsWith(`.${pattern.host}`) : h === pattern.host;
}
