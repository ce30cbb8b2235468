/** Public types of the egress proxy (see index.ts). */
import type { HostPattern } from '../grants/types.ts';
import type { PolicyRefusal } from './policy.ts';

export interface EgressLimits {
  /** Largest request head (request line + headers) a client may send; more gets 431. Default 16 KiB. */
  maxHeaderBytes: number;
  /** A connection or tunnel with no traffic either way for this long is closed. Default 60 s. */
  idleTimeoutMs: number;
  /** A client must finish sending a request head within this time (slowloris); else 408. Default 20 s. */
  headersTimeoutMs: number;
  /** Resolving the name and connecting to the destination must finish within this time; else 504. Default 10 s. */
  connectTimeoutMs: number;
  /** Client connections open at once; one more gets 503 and is closed. Default 256. */
  maxConnections: number;
}

export const DEFAULT_LIMITS: Readonly<EgressLimits> = Object.freeze({
  maxHeaderBytes: 16 * 1024,
  idleTimeoutMs: 60_000,
  headersTimeoutMs: 20_000,
  connectTimeoutMs: 10_000,
  maxConnections: 256,
});

/**
 * Resolves a host name to IP addresses (the proxy calls it once per request and connects only to what it
 * returned). `signal` aborts at the request's deadline: a lookup still waiting to start gives up.
 */
export type Resolver = (host: string, signal?: AbortSignal) => Promise<readonly string[]>;

export interface EgressProxyOptions {
  /** The plugin's grants.network.allow. An entry without a port admits ports 80 and 443 only. */
  allow: readonly HostPattern[];
  /** Where to listen. Default 127.0.0.1, port 0 (any free port). In a container: 0.0.0.0 and a fixed port. */
  listen?: { host: string; port: number };
  /** Default: this proxy's share of the system resolver, at most two lookups at once per process and one per proxy (./lookup.ts). Tests inject names that resolve to local servers. */
  resolve?: Resolver;
  /** Called once per request with what was decided. Must not throw (a throw is ignored). */
  onDecision?: (decision: EgressDecision) => void;
  limits?: Partial<EgressLimits>;
  /**
   * Also serve `https://` absolute-form requests (`GET https://host/path`): the proxy opens TLS itself
   * to the one checked address, with the requested name for SNI and certificate verification. For the
   * worker engine's loopback route (src/capabilities/network/route.ts), where the guest's HTTP client
   * cannot speak CONNECT. `ca`: the CAs to trust instead of Node's bundled ones (tests).
   */
  originateTls?: { ca?: string | Buffer | Array<string | Buffer> };
  /**
   * When set, only absolute-form requests whose URL carries it as user info
   * (`GET http://TOKEN@host/path`) are served, and CONNECT is refused: another local client (another
   * plugin's guest, allowed to reach loopback) cannot borrow this plugin's allowlist.
   */
  token?: string;
  /**
   * A Unix socket to the host's loopback relay (loopback.ts): set in a container, where the proxy's own
   * loopback is not the host's that a `127.0.0.1:port` grant names. Loopback addresses are dialled through it.
   */
  loopbackRelay?: string;
  /** Aborting closes the proxy, like close(). */
  signal?: AbortSignal;
}

export interface EgressProxy {
  /** The bound address (the real port when `listen.port` was 0). */
  address: { host: string; port: number };
  /** `http://host:port`, for HTTP_PROXY / HTTPS_PROXY. */
  url: string;
  /** Stops listening and destroys every client connection and tunnel; resolves once all are closed. Idempotent. */
  close(): Promise<void>;
}

/** `connect`: a CONNECT tunnel; `http`: an absolute-form HTTP request. Refusals use `unknown` when the request could not be read at all. */
export type EgressKind = 'connect' | 'http';

/** Refusals: the proxy would not forward this. */
export type EgressRefusalCode =
  | PolicyRefusal
  /** Unparsable request line, target or headers. */
  | 'bad-request'
  /** Origin-form request (`GET /x`): the client talked to the proxy as if it were a web server. */
  | 'not-a-proxy-request'
  /** Absolute-form with a scheme other than http (https goes through CONNECT). */
  | 'unsupported-scheme'
  /** A proxy with a token got a request without it (407). */
  | 'unauthorized'
  | 'header-too-large'
  | 'request-timeout'
  | 'too-many-connections'
  /** The proxy was closing when the request was ready to go out. */
  | 'closing';

/** Failures: the request was admitted but the destination could not be reached. */
export type EgressFailureCode = 'resolve-failed' | 'connect-failed' | 'connect-timeout' | 'tls-failed';

export interface EgressAllowed {
  decision: 'allowed';
  kind: EgressKind;
  host: string;
  port: number;
  /** The one address the proxy connected to, out of the single resolution. */
  address: string;
  /** The allowlist entry that admitted it, e.g. `*.example.com:443`. */
  rule: string;
  reason: string;
  /** Client `address:port`. */
  client: string;
}

export interface EgressRefused {
  decision: 'refused';
  kind: EgressKind | 'unknown';
  /** Absent when the target could not be parsed. */
  host?: string;
  port?: number;
  /** For `private-address`: the resolved address that was refused. */
  address?: string;
  code: EgressRefusalCode;
  /** HTTP status sent to the client (403 for policy refusals). */
  status: number;
  reason: string;
  client: string;
}

export interface EgressFailed {
  decision: 'failed';
  kind: EgressKind;
  host: string;
  port: number;
  /** The last address tried, when resolution succeeded. */
  address?: string;
  code: EgressFailureCode;
  /** 502, or 504 on timeout. */
  status: number;
  reason: string;
  client: string;
}

export type EgressDecision = EgressAllowed | EgressRefused | EgressFailed;
