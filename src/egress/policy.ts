/**
 * The egress proxy's rules, as pure functions: which `host:port` a plugin may
 * reach and which resolved addresses it may connect to.
 *
 * - A name matches a non-wildcard entry when equal to it, and a wildcard entry
 *   (`*.example.com`, stored as host `example.com`) when it is a subdomain at
 *   any depth; never the apex itself.
 * - An entry without a port admits ports 80 and 443 only (DEFAULT_PORTS).
 *   A CONNECT tunnel carries any TCP protocol, so `allow: [api.example.com]`
 *   opening SSH, SMTP or a database port on that host would be a surprise;
 *   authors who need another port name it (`api.example.com:8443`). The
 *   worker engine's wasi:http guard (src/capabilities/network/allow.ts) uses
 *   these same rules, so every engine admits the same targets.
 * - IP-literal targets are admitted only when an entry names that address.
 * - Names are resolved once by the proxy; every resolved address must be
 *   public unicast (ipaddr.js range `unicast`, and for IPv6 inside 2000::/3).
 *   Private, loopback, link-local, unique-local, CGNAT, multicast, broadcast,
 *   unspecified, reserved/documentation, and IPv6 forms that embed IPv4
 *   (IPv4-mapped, IPv4-compatible, NAT64, 6to4, Teredo) are refused unless an
 *   entry names that exact address (with an admitted port). One forbidden
 *   address refuses the whole name: a name that mixes public and private
 *   answers is what DNS rebinding looks like, so it fails closed and loudly.
 *
 * Kept free of imports other than node: builtins and ipaddr.js, so the
 * standalone entry (main.ts) runs from a bare folder inside a container.
 * dial.ts applies both checks around the one resolution.
 */
import ipaddr from 'ipaddr.js';
import type { HostPattern } from '../grants/types.ts';

/** Ports an entry without `:port` admits. */
export const DEFAULT_PORTS: readonly number[] = [80, 443];

/** A destination as the client asked for it, canonicalised. */
export interface Target {
  /** Lowercase name without trailing dot, or an IP address in canonical form (IPv6 without brackets). */
  host: string;
  port: number;
  /** Set when `host` is an IP literal. */
  ip: boolean;
}

/** An allowlist entry checked and normalised once. */
export interface Rule {
  pattern: HostPattern;
  /** Canonical IP (IPv4-mapped IPv6 folded to IPv4) when the entry is an IP literal. */
  ip: string | undefined;
  /** `*.example.com:443`, for messages. */
  text: string;
}

export type PolicyRefusal = 'host-not-allowed' | 'port-not-allowed' | 'ip-not-named' | 'private-address';

export type PolicyResult = { ok: true; rule: Rule } | { ok: false; code: PolicyRefusal; reason: string };

/** Canonical text of an IP address (IPv4-mapped IPv6 folded to IPv4); undefined when `text` is not one. */
export function canonicalIp(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  // isValid also accepts "1", "0x7f.1" and other inet_aton shapes; only
  // four-part decimal IPv4 and real IPv6 count as addresses here.
  if (!ipaddr.IPv4.isValidFourPartDecimal(bare) && !ipaddr.IPv6.isValid(bare)) return undefined;
  try {
    return ipaddr.process(bare).toString();
  } catch {
    return undefined;
  }
}

/** Checks and normalises allowlist entries; throws a TypeError naming the bad entry and field. */
export function compileRules(allow: readonly HostPattern[], where = 'allow'): Rule[] {
  if (!Array.isArray(allow)) throw new TypeError(`${where}: must be an array of { host, wildcard, port? }`);
  return allow.map((p, i) => {
    const at = `${where}[${i}]`;
    if (typeof p !== 'object' || p === null) throw new TypeError(`${at}: must be an object { host, wildcard, port? }`);
    if (typeof p.host !== 'string' || p.host === '') throw new TypeError(`${at}.host: must be a non-empty string, e.g. "api.example.com"`);
    if (typeof p.wildcard !== 'boolean') throw new TypeError(`${at}.wildcard: must be true or false`);
    if (p.port !== undefined && (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535)) {
      throw new TypeError(`${at}.port: must be an integer 1-65535 or absent (absent: ports ${DEFAULT_PORTS.join(' and ')})`);
    }
    const ip = canonicalIp(p.host);
    const host = ip ?? p.host.toLowerCase().replace(/\.$/, '');
    if (ip !== undefined && p.wildcard) throw new TypeError(`${at}: a wildcard cannot apply to an IP address (${p.host})`);
    if (ip === undefined && !/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(host)) {
      throw new TypeError(`${at}.host: "${p.host}" is neither a host name nor an IP address`);
    }
    const pattern: HostPattern = p.port === undefined ? { host, wildcard: p.wildcard } : { host, wildcard: p.wildcard, port: p.port };
    const shown = ip?.includes(':') ? `[${ip}]` : host;
    const text = `${p.wildcard ? '*.' : ''}${shown}${p.port === undefined ? '' : `:${p.port}`}`;
    return { pattern, ip, text };
  });
}

/**
 * Parses an authority (`host:port`, `[v6]:port`, or `host` when
 * `defaultPort` is given) into a canonical Target; a string explains why not.
 * Host text goes through the WHATWG URL parser so that every spelling a
 * client library might accept (`0x7f.1`, `%61pi.example.com`, upper case,
 * IDN) lands on the one canonical form the rules are checked against.
 */
export function parseAuthority(authority: string, defaultPort?: number): Target | string {
  if (authority === '') return 'the target is empty';
  if (authority.length > 300) return 'the target is longer than 300 characters';
  if (/[\u0000-\u0020\u007f-\uffff@/\\?#]/.test(authority))
    return `"${printable(authority)}" is not host:port (no user info, path, spaces or control characters)`;
  let hostText: string;
  let portText: string | undefined;
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    if (end < 0) return `"${printable(authority)}": "[" without "]"`;
    hostText = authority.slice(0, end + 1);
    const rest = authority.slice(end + 1);
    if (rest !== '' && !rest.startsWith(':')) return `"${printable(authority)}": unexpected text after "]"`;
    portText = rest === '' ? undefined : rest.slice(1);
  } else {
    const colon = authority.lastIndexOf(':');
    if (colon >= 0 && authority.indexOf(':') !== colon) return `"${printable(authority)}": write IPv6 addresses in brackets, e.g. [2001:db8::1]:443`;
    hostText = colon < 0 ? authority : authority.slice(0, colon);
    portText = colon < 0 ? undefined : authority.slice(colon + 1);
  }
  let port: number;
  if (portText === undefined) {
    if (defaultPort === undefined) return `"${printable(authority)}" has no port; CONNECT needs host:port`;
    port = defaultPort;
  } else {
    if (!/^[0-9]{1,5}$/.test(portText)) return `port "${printable(portText)}" is not a number`;
    port = Number(portText);
    if (port < 1 || port > 65535) return `port ${port} is outside 1-65535`;
  }
  let hostname: string;
  try {
    hostname = new URL(`http://${hostText}/`).hostname;
  } catch {
    return `"${printable(hostText)}" is not a valid host`;
  }
  const ip = canonicalIp(hostname);
  if (ip !== undefined) return { host: ip, port, ip: true };
  hostname = hostname.replace(/\.$/, '');
  if (!/^[a-z0-9_-]+(\.[a-z0-9_-]+)*$/.test(hostname) || hostname.length > 253) return `"${printable(hostText)}" is not a valid host name`;
  return { host: hostname, port, ip: false };
}

function nameMatches(p: HostPattern, host: string): boolean {
  return p.wildcard ? host.endsWith(`.${p.host}`) : host === p.host;
}

export function portAdmitted(p: HostPattern, port: number): boolean {
  return p.port === undefined ? DEFAULT_PORTS.includes(port) : p.port === port;
}

/** The target's host as written in a URL or message (IPv6 in brackets). */
export function showHost(t: Target): string {
  return t.ip && t.host.includes(':') ? `[${t.host}]` : t.host;
}

/** `host:port` for messages. */
export function hostPort(t: Target): string {
  return `${showHost(t)}:${t.port}`;
}

/** First check, before any resolution: may the client ask for `target` at all? */
export function checkTarget(rules: readonly Rule[], target: Target): PolicyResult {
  const shown = `${showHost(target)}:${target.port}`;
  if (target.ip) {
    const named = rules.filter((r) => r.ip === target.host);
    const rule = named.find((r) => portAdmitted(r.pattern, target.port));
    if (rule !== undefined) return { ok: true, rule };
    if (named.length > 0)
      return {
        ok: false,
        code: 'port-not-allowed',
        reason: `${shown}: port ${target.port} is not granted for ${showHost(target)} (granted: ${named.map((r) => portsText(r)).join(', ')})`,
      };
    return { ok: false, code: 'ip-not-named', reason: `${shown}: IP address targets are allowed only when the network grant names the address` };
  }
  const matching = rules.filter((r) => r.ip === undefined && nameMatches(r.pattern, target.host));
  if (matching.length === 0) return { ok: false, code: 'host-not-allowed', reason: `${shown}: ${target.host} is not on the plugin's network allowlist` };
  const rule = matching.find((r) => portAdmitted(r.pattern, target.port));
  if (rule === undefined)
    return {
      ok: false,
      code: 'port-not-allowed',
      reason: `${shown}: port ${target.port} is not granted for ${target.host} (granted: ${matching.map((r) => portsText(r)).join(', ')})`,
    };
  return { ok: true, rule };
}

function portsText(r: Rule): string {
  return r.pattern.port === undefined ? `${r.text} (ports ${DEFAULT_PORTS.join(', ')})` : r.text;
}

/** 2000::/3, the IPv6 global unicast space; anything outside it is not a public destination. */
const GLOBAL_UNICAST_V6 = ipaddr.IPv6.parseCIDR('2000::/3');

/**
 * The ipaddr.js range of `address` (IPv4-mapped IPv6 classified as its IPv4),
 * with IPv6 `unicast` outside 2000::/3 reported as `reserved`. Only
 * `unicast` is a public destination.
 */
export function addressRange(address: string): string {
  const a = ipaddr.process(address);
  const range = a.range();
  if (range === 'unicast' && a.kind() === 'ipv6' && !a.match(GLOBAL_UNICAST_V6)) return 'reserved';
  return range;
}

const RANGE_NAMES: Record<string, string> = {
  private: 'private',
  loopback: 'loopback',
  linkLocal: 'link-local',
  uniqueLocal: 'unique-local',
  carrierGradeNat: 'carrier-grade NAT',
  multicast: 'multicast',
  unspecified: 'unspecified',
  broadcast: 'broadcast',
  reserved: 'reserved',
  ipv4Mapped: 'IPv4-mapped',
  rfc6145: 'IPv4-translated',
  rfc6052: 'NAT64',
  '6to4': '6to4',
  teredo: 'Teredo',
};

/**
 * Second check, after resolving `target.host` once: may the proxy connect to
 * every one of `addresses`? Returns them canonicalised, in the resolver's
 * order, and the proxy connects to exactly these strings: whatever ipaddr.js
 * made of an odd spelling (it reads `::1.2.3.4` as IPv4-mapped, for one) is
 * both what was classified and what is dialled.
 */
export function checkAddresses(
  rules: readonly Rule[],
  target: Target,
  addresses: readonly string[],
): { ok: true; addresses: string[] } | { ok: false; code: 'private-address' | 'resolve-failed'; reason: string; address?: string } {
  const shown = `${showHost(target)}:${target.port}`;
  if (addresses.length === 0) return { ok: false, code: 'resolve-failed', reason: `${shown}: ${target.host} resolved to no address` };
  const out: string[] = [];
  for (const raw of addresses) {
    const ip = typeof raw === 'string' ? canonicalIp(raw) : undefined;
    if (ip === undefined)
      return { ok: false, code: 'resolve-failed', reason: `${shown}: the resolver returned "${printable(String(raw))}", which is not an IP address` };
    const range = addressRange(ip);
    if (range !== 'unicast' && !rules.some((r) => r.ip === ip && portAdmitted(r.pattern, target.port))) {
      const kind = RANGE_NAMES[range] ?? range;
      return {
        ok: false,
        code: 'private-address',
        address: ip,
        reason: `${shown}: ${target.host} resolved to ${ip}, a ${kind} address; non-public addresses are reached only when the network grant names the address (e.g. "${ip.includes(':') ? `[${ip}]` : ip}:${target.port}")`,
      };
    }
    out.push(ip);
  }
  return { ok: true, addresses: out };
}

/** `text` with control and non-ASCII characters escaped and cut to 120 characters, for messages and logs. */
export function printable(text: string): string {
  const cut = text.length > 120 ? `${text.slice(0, 120)}...` : text;
  return cut.replace(/[^\u0020-\u007e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).replace(/"/g, '\\"');
}
