/**
 * Configuration of the standalone proxy (main.ts), as JSON:
 *
 *   { "allow": [{ "host": "api.example.com", "wildcard": false, "port": 443 }],
 *     "listen": { "host": "0.0.0.0", "port": 3128 },
 *     "limits": { "maxConnections": 64 },
 *     "loopbackRelay": "/run/airlock/loopback.sock" }
 *
 * `allow` is grants.network.allow as is; `listen` defaults to 0.0.0.0:3128
 * (inside its container the proxy must be reachable from the internal
 * network); `limits` fields are optional (types.ts DEFAULT_LIMITS);
 * `loopbackRelay` (optional) is the host's loopback relay socket (loopback.ts).
 */
import type { HostPattern } from '../grants/types.ts';
import { compileRules } from './policy.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { EgressLimits } from './types.ts';

export const EGRESS_CONFIG_ENV = 'AIRLOCK_EGRESS_CONFIG';

export const DEFAULT_CONTAINER_LISTEN = Object.freeze({ host: '0.0.0.0', port: 3128 });

export interface EgressConfig {
  allow: HostPattern[];
  listen: { host: string; port: number };
  limits: Partial<EgressLimits>;
  loopbackRelay?: string;
}

/** Parses and checks a config; throws a TypeError whose message starts with `source` and names the field and the fix. */
export function parseEgressConfig(text: string, source: string): EgressConfig {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TypeError(`${source}: not valid JSON (${(err as Error).message}); expected {"allow":[{"host":"api.example.com","wildcard":false,"port":443}]}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${source}: must be a JSON object with an "allow" array`);
  const o = value as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!['allow', 'listen', 'limits', 'loopbackRelay'].includes(key))
      throw new TypeError(`${source}: unknown field "${key}" (fields: allow, listen, limits, loopbackRelay)`);
  }
  if (!Array.isArray(o.allow))
    throw new TypeError(`${source}.allow: missing or not an array; give grants.network.allow, e.g. [{"host":"api.example.com","wildcard":false,"port":443}]`);
  const allow = o.allow.map((entry: unknown, i: number): HostPattern => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
      throw new TypeError(`${source}.allow[${i}]: must be an object {host, wildcard, port?}`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (!['host', 'wildcard', 'port'].includes(key)) throw new TypeError(`${source}.allow[${i}]: unknown field "${key}" (fields: host, wildcard, port)`);
    }
    const p = { host: e.host, wildcard: e.wildcard } as HostPattern;
    if (e.port !== undefined) p.port = e.port as number;
    return p;
  });
  compileRules(allow, `${source}.allow`);
  let listen: { host: string; port: number } = { ...DEFAULT_CONTAINER_LISTEN };
  if (o.listen !== undefined) {
    const l = o.listen as Record<string, unknown> | null;
    if (typeof l !== 'object' || l === null || typeof l.host !== 'string' || l.host === '')
      throw new TypeError(`${source}.listen: must be {"host":"0.0.0.0","port":3128}`);
    if (!Number.isInteger(l.port) || (l.port as number) < 0 || (l.port as number) > 65535)
      throw new TypeError(`${source}.listen.port: must be an integer 0-65535`);
    listen = { host: l.host, port: l.port as number };
  }
  const limits: Partial<EgressLimits> = {};
  if (o.limits !== undefined) {
    if (typeof o.limits !== 'object' || o.limits === null || Array.isArray(o.limits))
      throw new TypeError(`${source}.limits: must be an object, e.g. {"maxConnections":64}`);
    for (const [key, v] of Object.entries(o.limits)) {
      if (!(key in DEFAULT_LIMITS)) throw new TypeError(`${source}.limits: unknown field "${key}" (fields: ${Object.keys(DEFAULT_LIMITS).join(', ')})`);
      if (!Number.isInteger(v) || (v as number) <= 0) throw new TypeError(`${source}.limits.${key}: must be a positive integer`);
      limits[key as keyof EgressLimits] = v as number;
    }
  }
  if (o.loopbackRelay !== undefined && (typeof o.loopbackRelay !== 'string' || !o.loopbackRelay.startsWith('/')))
    throw new TypeError(`${source}.loopbackRelay: must be an absolute path to a Unix socket`);
  return { allow, listen, limits, ...(o.loopbackRelay === undefined ? {} : { loopbackRelay: o.loopbackRelay }) };
}
