/**
 * The worker engine's way out for wasi:http: Airlock's egress proxy
 * (src/egress), started on the host's loopback for one plugin.
 *
 * preview2-shim would resolve an allowlisted name itself and connect to
 * whatever came back, so a name that resolves (or rebinds) to a private,
 * loopback or metadata address would get through. Through the proxy, every
 * engine enforces one policy: the name is resolved once, every address is
 * checked (non-public only when the grant names it) and the connection goes
 * to that address. HTTPS is opened by the proxy with the requested name as
 * SNI and for certificate verification (the guest's hop to the proxy is plain
 * HTTP on loopback, inside this process's own threads), and a per-plugin
 * token in the request keeps other local clients off the route.
 */
import { randomBytes } from 'node:crypto';
import { startEgressProxy } from '../../egress/index.ts';
import type { EgressProxyOptions } from '../../egress/index.ts';
import type { Grants } from '../../grants/types.ts';

/** Where a worker sends a plugin's outgoing HTTP requests (plain data: it crosses into the worker). */
export interface EgressRoute {
  /** The proxy's loopback address and port. */
  host: string;
  port: number;
  /** Carried as the URL's user info; the proxy serves nothing without it. */
  token: string;
}

/** Host-side options of the route (tests inject a resolver and a CA; see EgressProxyOptions). */
export interface RouteOptions {
  resolve?: EgressProxyOptions['resolve'];
  ca?: NonNullable<EgressProxyOptions['originateTls']>['ca'];
  onDecision?: EgressProxyOptions['onDecision'];
}

export interface WorkerEgress {
  route: EgressRoute;
  close(): Promise<void>;
}

/** Starts the plugin's route when it has a network grant; undefined when it has none (every request is denied). */
export async function startWorkerEgress(grants: Grants, options: RouteOptions = {}): Promise<WorkerEgress | undefined> {
  if (grants.network === null || grants.network.allow.length === 0) return undefined;
  const token = randomBytes(24).toString('hex');
  const proxy = await startEgressProxy({
    allow: grants.network.allow,
    token,
    originateTls: options.ca === undefined ? {} : { ca: options.ca },
    ...(options.resolve === undefined ? {} : { resolve: options.resolve }),
    ...(options.onDecision === undefined ? {} : { onDecision: options.onDecision }),
  });
  return { route: { host: proxy.address.host, port: proxy.address.port, token }, close: () => proxy.close() };
}
