/**
 * Dialling a destination, the security-critical step: check the target
 * (policy.ts checkTarget), resolve the name once, check every address
 * (checkAddresses), then connect to those very addresses (net.connect with an
 * IP literal does no lookup), so a second, different DNS answer can never slip
 * past the checks. Also TLS over such a pinned socket, for the worker engine's
 * https:// route.
 *
 * Every socket opened is handed to `track` at once, so the server can destroy
 * it on close; `closing()` is asked between steps so a closing proxy opens
 * nothing new.
 */
import net from 'node:net';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { relayHandshake } from './loopback.ts';
import { addressRange, checkAddresses, checkTarget, hostPort } from './policy.ts';
import type { Rule, Target } from './policy.ts';
import type { EgressAllowed, EgressFailed, EgressKind, EgressRefused, Resolver } from './types.ts';

export type Dialed =
  | { ok: true; socket: Socket; address: string; rule: string }
  | { ok: false; refused: Omit<EgressRefused, 'decision' | 'kind' | 'client'> }
  | { ok: false; failed: Omit<EgressFailed, 'decision' | 'kind' | 'client'> };

/** A dial that did not open, as the decision both handlers report (and answer with its status and code). */
export function notOpened(dialed: Exclude<Dialed, { ok: true }>, kind: EgressKind, client: string): EgressRefused | EgressFailed {
  return 'refused' in dialed ? { decision: 'refused', kind, ...dialed.refused, client } : { decision: 'failed', kind, ...dialed.failed, client };
}

/** An opened dial as an `allowed` decision; `asked` is what the client asked for (`CONNECT host:443`, `GET http://host`). */
export function allowed(dialed: Extract<Dialed, { ok: true }>, target: Target, kind: EgressKind, client: string, asked: string): EgressAllowed {
  return {
    decision: 'allowed',
    kind,
    host: target.host,
    port: target.port,
    address: dialed.address,
    rule: dialed.rule,
    reason: `${asked} matches ${dialed.rule}`,
    client,
  };
}

export interface DialOptions {
  rules: readonly Rule[];
  resolve: Resolver;
  /** Resolving and connecting together must finish within this; else `connect-timeout` (504). */
  connectTimeoutMs: number;
  /** Receives every socket as soon as it is created. */
  track(socket: Socket): void;
  /** True once the proxy is shutting down. */
  closing(): boolean;
  /** A Unix socket to the host's loopback relay (loopback.ts): loopback addresses are dialled through it. */
  loopbackRelay?: string | undefined;
}

export type Dial = (target: Target) => Promise<Dialed>;

/** A dialler bound to one allowlist: checks `target`, resolves it once, checks the addresses, connects to the first that answers. */
export function dialer(o: DialOptions): Dial {
  const { rules, resolve, connectTimeoutMs } = o;
  const closingRefusal = (where: { host: string; port: number }): Dialed => ({
    ok: false,
    refused: { ...where, code: 'closing', status: 503, reason: 'the egress proxy is shutting down' },
  });

  return async (target) => {
    const where = { host: target.host, port: target.port };
    const check = checkTarget(rules, target);
    if (!check.ok) return { ok: false, refused: { ...where, code: check.code, status: 403, reason: check.reason } };
    const rule: Rule = check.rule;
    const deadline = Date.now() + connectTimeoutMs;
    let addresses: string[];
    if (target.ip) {
      addresses = [target.host];
    } else {
      let answer: readonly string[];
      try {
        answer = await withTimeout(
          Promise.resolve().then(() => resolve(target.host, AbortSignal.timeout(Math.max(1, deadline - Date.now())))),
          deadline - Date.now(),
        );
      } catch (err) {
        if (err instanceof DeadlineError) {
          return {
            ok: false,
            failed: {
              ...where,
              code: 'connect-timeout',
              status: 504,
              reason: `${hostPort(target)}: resolving ${target.host} took longer than ${connectTimeoutMs} ms`,
            },
          };
        }
        return {
          ok: false,
          failed: { ...where, code: 'resolve-failed', status: 502, reason: `${hostPort(target)}: cannot resolve ${target.host} (${errorText(err)})` },
        };
      }
      if (o.closing()) return closingRefusal(where);
      const checked = checkAddresses(rules, target, Array.isArray(answer) ? answer : []);
      if (!checked.ok) {
        if (checked.code === 'resolve-failed') return { ok: false, failed: { ...where, code: 'resolve-failed', status: 502, reason: checked.reason } };
        return {
          ok: false,
          refused: {
            ...where,
            ...(checked.address === undefined ? {} : { address: checked.address }),
            code: checked.code,
            status: 403,
            reason: checked.reason,
          },
        };
      }
      addresses = checked.addresses;
    }
    let lastError = 'no address';
    let last: string | undefined;
    for (const address of addresses) {
      if (o.closing()) return closingRefusal(where);
      last = address;
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        const socket = await connectTo(o, address, target.port, left);
        return { ok: true, socket, address, rule: rule.text };
      } catch (err) {
        lastError = err instanceof DeadlineError ? `timed out after ${connectTimeoutMs} ms` : errorText(err);
        if (err instanceof DeadlineError) break;
      }
    }
    const timedOut = Date.now() >= deadline || lastError.startsWith('timed out');
    return {
      ok: false,
      failed: {
        ...where,
        ...(last === undefined ? {} : { address: last }),
        code: timedOut ? 'connect-timeout' : 'connect-failed',
        status: timedOut ? 504 : 502,
        reason: `${hostPort(target)}: cannot connect to ${addresses.join(', ')} (${timedOut ? `timed out after ${connectTimeoutMs} ms` : lastError})`,
      },
    };
  };
}

function connectTo(o: DialOptions, address: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolvePromise, reject) => {
    // `address` is an IP literal, so net does no lookup of its own. A loopback address is the host's,
    // through the relay, when the proxy has one (in a container, its own loopback is not what was granted).
    const relay = o.loopbackRelay !== undefined && addressRange(address) === 'loopback' ? o.loopbackRelay : undefined;
    const socket =
      relay === undefined ? net.connect({ host: address, port, allowHalfOpen: true, noDelay: true }) : net.connect({ path: relay, allowHalfOpen: true });
    o.track(socket);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new DeadlineError());
    }, timeoutMs);
    const opened = (): void => {
      clearTimeout(timer);
      socket.removeListener('error', onError);
      socket.on('error', () => {});
      if (o.closing()) {
        socket.destroy();
        reject(new Error('the egress proxy is shutting down'));
      } else resolvePromise(socket);
    };
    socket.once('connect', () => {
      if (relay === undefined) return opened();
      relayHandshake(socket, address, port).then(opened, onError);
    });
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', onError);
  });
}

export interface TlsOptions {
  /** CAs to trust instead of Node's bundled ones. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** The handshake must finish within this. */
  timeoutMs: number;
  track(socket: Socket): void;
}

/**
 * TLS over the already connected (pinned) socket: the name the client asked for is the SNI and the
 * name the certificate must carry (an IP target: its address), checked against `ca` or Node's CAs.
 */
export function originateTls(socket: Socket, target: Target, o: TlsOptions): Promise<tls.TLSSocket> {
  return new Promise((resolvePromise, reject) => {
    const secure = tls.connect({
      socket,
      host: target.host,
      ...(target.ip ? {} : { servername: target.host }),
      ...(o.ca === undefined ? {} : { ca: o.ca }),
      ALPNProtocols: ['http/1.1'],
    });
    o.track(secure);
    const timer = setTimeout(() => {
      secure.destroy();
      reject(new Error(`handshake timed out after ${o.timeoutMs} ms`));
    }, o.timeoutMs);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      secure.destroy();
      reject(err);
    };
    secure.once('error', onError);
    secure.once('secureConnect', () => {
      clearTimeout(timer);
      secure.removeListener('error', onError);
      secure.on('error', () => {});
      resolvePromise(secure);
    });
  });
}

class DeadlineError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return Promise.reject(new DeadlineError());
  return new Promise<T>((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError()), ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolvePromise(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** An error's code (ECONNREFUSED, ...) or message, for reasons. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return (err as Error & { code?: string }).code ?? err.message;
  return String(err);
}
