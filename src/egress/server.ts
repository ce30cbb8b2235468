/**
 * The egress proxy server: node:http parses requests (header size limit,
 * headers timeout, strict parser); this module holds the limits, counts
 * connections, answers what the parser rejects, hands CONNECT to tunnel.ts
 * and absolute-form requests to forward.ts (both dial through dial.ts), and
 * closes everything on close() or abort.
 *
 * One decision per request, reported through onDecision: `refused` (policy or
 * malformed input; the client gets 4xx/503 with the reason as the body and in
 * `X-Airlock-Egress`), `failed` (admitted, destination unreachable; 502/504),
 * or `allowed` (connected; reported with the address actually used).
 */
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { httpRefusal, peer, rawRefusal } from './answer.ts';
import type { ProxyContext } from './context.ts';
import { dialer } from './dial.ts';
import { handleHttp } from './forward.ts';
import { proxyResolver } from './lookup.ts';
import { compileRules, printable } from './policy.ts';
import { handleConnect } from './tunnel.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type { EgressDecision, EgressLimits, EgressProxy, EgressProxyOptions, EgressRefused } from './types.ts';

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const rules = compileRules(options.allow, 'allow');
  const limits = checkLimits({ ...DEFAULT_LIMITS, ...options.limits });
  const token = options.token === undefined ? undefined : Buffer.from(options.token);
  if (token !== undefined && !/^[A-Za-z0-9_-]{16,}$/.test(options.token ?? ''))
    throw new TypeError('token: must be at least 16 characters of A-Z, a-z, 0-9, _ or -');
  const signal = options.signal;
  signal?.throwIfAborted();

  let closing = false;
  /** Every socket the proxy holds, client and upstream, so close() can end them all. */
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  /** Client connections answered 503 at accept time; the HTTP layer must not serve them. */
  const rejected = new WeakSet<Socket>();
  let active = 0;

  const report = (d: EgressDecision): void => {
    try {
      options.onDecision?.(d);
    } catch {
      // A logging callback must not take the proxy (and every tunnel) down.
    }
  };

  const cx: ProxyContext = {
    dial: dialer({
      rules,
      resolve: options.resolve ?? proxyResolver(),
      connectTimeoutMs: limits.connectTimeoutMs,
      track,
      closing: () => closing,
      loopbackRelay: options.loopbackRelay,
    }),
    report,
    limits,
    token,
    originateTls: options.originateTls,
    track,
  };

  const server = http.createServer({
    maxHeaderSize: limits.maxHeaderBytes,
    headersTimeout: limits.headersTimeoutMs,
    // Bodies and long downloads are bounded by the idle timeout instead.
    requestTimeout: 0,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    // The Host header is ignored anyway (RFC 9112 3.2.2: absolute-form wins).
    requireHostHeader: false,
    noDelay: true,
  });
  server.timeout = limits.idleTimeoutMs;

  server.on('connection', (socket: Socket) => {
    // Errors on client sockets end in 'close'; an unhandled one would crash the process.
    socket.on('error', () => {});
    track(socket);
    if (closing || active >= limits.maxConnections) {
      rejected.add(socket);
      const code = closing ? 'closing' : 'too-many-connections';
      const reason = closing ? 'the egress proxy is shutting down' : `more than ${limits.maxConnections} connections open at once`;
      report({ decision: 'refused', kind: 'unknown', code, status: 503, reason, client: peer(socket) });
      rawRefusal(socket, 503, code, reason);
      return;
    }
    active++;
    socket.once('close', () => active--);
  });

  server.on('clientError', (err: Error & { code?: string }, socket: Socket) => {
    if (rejected.has(socket) || !socket.writable || err.code === 'ECONNRESET' || err.code === 'EPIPE') {
      socket.destroy();
      return;
    }
    let status = 400;
    let code: EgressRefused['code'] = 'bad-request';
    let reason = `malformed request: ${err.code ?? 'parse error'}${'reason' in err && typeof err.reason === 'string' ? ` (${err.reason})` : ''}`;
    if (err.code === 'HPE_HEADER_OVERFLOW') {
      status = 431;
      code = 'header-too-large';
      reason = `the request head is larger than ${limits.maxHeaderBytes} bytes`;
    } else if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      status = 408;
      code = 'request-timeout';
      reason = `the request head did not arrive within ${limits.headersTimeoutMs} ms`;
    }
    report({ decision: 'refused', kind: 'unknown', code, status, reason, client: peer(socket) });
    rawRefusal(socket, status, code, reason);
  });

  server.on('connect', (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
    if (rejected.has(socket)) return void socket.destroy();
    handleConnect(cx, req, socket, head, peer(socket)).catch(() => socket.destroy());
  });

  const onRequest = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    if (rejected.has(req.socket)) return void req.socket.destroy();
    handleHttp(cx, req, res, peer(req.socket)).catch(() => res.destroy());
  };
  server.on('request', onRequest);
  // `Expect: 100-continue`: decide first, and let the destination's own 100
  // through (node would otherwise say 100 to a request about to be refused).
  server.on('checkContinue', onRequest);
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const reason = `unsupported "Expect: ${printable(String(req.headers.expect))}" (only 100-continue is understood)`;
    report({ decision: 'refused', kind: req.method === 'CONNECT' ? 'connect' : 'http', code: 'bad-request', status: 417, reason, client: peer(req.socket) });
    httpRefusal(res, 417, 'bad-request', reason);
  });

  await new Promise<void>((resolveListen, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ host: options.listen?.host ?? '127.0.0.1', port: options.listen?.port ?? 0 }, () => {
      server.removeListener('error', onError);
      resolveListen();
    });
  });
  // Accept errors (EMFILE and the like) after listening affect one connection, not the proxy.
  server.on('error', () => {});

  const bound = server.address() as AddressInfo;
  const address = { host: bound.address, port: bound.port };
  const url = `http://${net.isIPv6(bound.address) ? `[${bound.address}]` : bound.address}:${bound.port}`;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((done) => {
      closing = true;
      signal?.removeEventListener('abort', onAbort);
      server.close(() => done());
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
    });
    return closed;
  };
  const onAbort = (): void => void close();
  signal?.addEventListener('abort', onAbort, { once: true });
  if (signal?.aborted) await close();

  return { address, url, close };
}

function checkLimits(l: EgressLimits): EgressLimits {
  for (const [name, value] of Object.entries(l)) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`limits.${name}: must be a positive integer, got ${String(value)}`);
  }
  return l;
}
