/**
 * The egress proxy server: node:http parses requests (header size limit,
 * headers timeout, strict parser), this module decides and forwards.
 *
 * One decision per request, reported through onDecision: `refused` (policy or
 * malformed input; the client gets 4xx/503 with the reason as the body and in
 * `X-Airlock-Egress`), `failed` (admitted, destination unreachable; 502/504),
 * or `allowed` (connected; reported with the address actually used).
 *
 * Names are resolved once per request and the proxy connects to the returned
 * addresses themselves (net.connect with an IP literal does no lookup), so a
 * second, different DNS answer can never slip past the address checks.
 */
import { timingSafeEqual } from 'node:crypto';
import { promises as dns } from 'node:dns';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import tls from 'node:tls';
import { checkAddresses, checkTarget, compileRules, parseAuthority, printable } from './policy.ts';
import type { Rule, Target } from './policy.ts';
import { DEFAULT_LIMITS } from './types.ts';
import type {
  EgressDecision,
  EgressFailed,
  EgressKind,
  EgressLimits,
  EgressProxy,
  EgressProxyOptions,
  EgressRefused,
  Resolver,
} from './types.ts';

/** Hop-by-hop headers (RFC 9110 7.6.1, plus the non-standard Proxy-Connection and Keep-Alive). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

const defaultResolve: Resolver = async (host) => (await dns.lookup(host, { all: true })).map((a) => a.address);

type Opened =
  | { ok: true; socket: Socket; address: string; rule: string }
  | { ok: false; refused: Omit<EgressRefused, 'decision' | 'kind' | 'client'> }
  | { ok: false; failed: Omit<EgressFailed, 'decision' | 'kind' | 'client'> };

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const rules = compileRules(options.allow, 'allow');
  const limits = checkLimits({ ...DEFAULT_LIMITS, ...options.limits });
  const resolve = options.resolve ?? defaultResolve;
  const originateTls = options.originateTls;
  const token = options.token === undefined ? undefined : Buffer.from(options.token);
  if (token !== undefined && !/^[A-Za-z0-9_-]{16,}$/.test(options.token ?? '')) throw new TypeError('token: must be at least 16 characters of A-Z, a-z, 0-9, _ or -');
  const signal = options.signal;
  signal?.throwIfAborted();

  let closing = false;
  /** Every socket the proxy holds, client and upstream, so close() can end them all. */
  const sockets = new Set<Socket>();
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
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
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
    handleConnect(req, socket, head).catch(() => socket.destroy());
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    handleHttp(req, res).catch(() => res.destroy());
  });
  // `Expect: 100-continue`: decide first, and let the destination's own 100
  // through (node would otherwise say 100 to a request about to be refused).
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    handleHttp(req, res).catch(() => res.destroy());
  });
  server.on('checkExpectation', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const reason = `unsupported "Expect: ${printable(String(req.headers.expect))}" (only 100-continue is understood)`;
    report({ decision: 'refused', kind: req.method === 'CONNECT' ? 'connect' : 'http', code: 'bad-request', status: 417, reason, client: peer(req.socket) });
    httpRefusal(res, 417, 'bad-request', reason);
  });

  async function handleConnect(req: http.IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    if (rejected.has(socket)) return void socket.destroy();
    const client = peer(socket);
    const kind: EgressKind = 'connect';
    if (token !== undefined) {
      const reason = 'this proxy serves only absolute-form requests carrying its token';
      report({ decision: 'refused', kind, code: 'unauthorized', status: 407, reason, client });
      return rawRefusal(socket, 407, 'unauthorized', reason);
    }
    const target = parseAuthority(req.url ?? '');
    if (typeof target === 'string') {
      report({ decision: 'refused', kind, code: 'bad-request', status: 400, reason: `CONNECT ${target}`, client });
      return rawRefusal(socket, 400, 'bad-request', `CONNECT ${target}`);
    }
    const opened = await open(target);
    if (!opened.ok) {
      const d: EgressDecision = 'refused' in opened ? { decision: 'refused', kind, ...opened.refused, client } : { decision: 'failed', kind, ...opened.failed, client };
      report(d);
      return rawRefusal(socket, d.status, d.code, d.reason);
    }
    const upstream = opened.socket;
    report({ decision: 'allowed', kind, host: target.host, port: target.port, address: opened.address, rule: opened.rule, reason: `CONNECT ${hostPort(target)} matches ${opened.rule}`, client });
    if (socket.destroyed || !socket.writable) {
      upstream.destroy();
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    if (head.length > 0) upstream.write(head);
    splice(socket, upstream, limits.idleTimeoutMs);
  }

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const socket = req.socket;
    if (rejected.has(socket)) return void socket.destroy();
    const client = peer(socket);
    const kind: EgressKind = 'http';
    const refuse = (status: number, code: EgressRefused['code'], reason: string, extra: Partial<EgressRefused> = {}): void => {
      report({ decision: 'refused', kind, ...extra, code, status, reason, client });
      httpRefusal(res, status, code, reason);
    };
    const url = req.url ?? '';
    const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url);
    if (m === null) {
      return refuse(400, 'not-a-proxy-request', `"${printable(url)}" is not an absolute URL; this is an egress proxy: send "GET http://host/path" or "CONNECT host:port"`);
    }
    let authority = m[2] ?? '';
    if (token !== undefined) {
      const at = authority.lastIndexOf('@');
      const given = Buffer.from(at < 0 ? '' : authority.slice(0, at));
      if (given.length !== token.length || !timingSafeEqual(given, token)) return refuse(407, 'unauthorized', 'this proxy serves only requests carrying its token');
      authority = authority.slice(at + 1);
    }
    const scheme = (m[1] ?? '').toLowerCase();
    if (scheme !== 'http' && !(scheme === 'https' && originateTls !== undefined)) {
      return refuse(400, 'unsupported-scheme', `${scheme}:// requests are not forwarded; plain HTTP goes as "GET http://host/path", HTTPS and anything else through "CONNECT host:port"`);
    }
    const defaultPort = scheme === 'https' ? 443 : 80;
    const target = parseAuthority(authority, defaultPort);
    if (typeof target === 'string') return refuse(400, 'bad-request', target);
    const rest = m[3] ?? '';
    const path = rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;

    const opened = await open(target);
    if (!opened.ok) {
      if ('refused' in opened) return refuse(opened.refused.status, opened.refused.code, opened.refused.reason, opened.refused);
      report({ decision: 'failed', kind, ...opened.failed, client });
      return httpRefusal(res, opened.failed.status, opened.failed.code, opened.failed.reason);
    }
    let upstream: Socket = opened.socket;
    if (scheme === 'https') {
      try {
        upstream = await startTls(opened.socket, target);
      } catch (err) {
        opened.socket.destroy();
        const reason = `${hostPort(target)}: TLS with ${opened.address} failed (${errorText(err)})`;
        report({ decision: 'failed', kind, host: target.host, port: target.port, address: opened.address, code: 'tls-failed', status: 502, reason, client });
        return httpRefusal(res, 502, 'tls-failed', reason);
      }
    }
    report({ decision: 'allowed', kind, host: target.host, port: target.port, address: opened.address, rule: opened.rule, reason: `${req.method ?? 'GET'} ${scheme}://${hostPort(target)} matches ${opened.rule}`, client });
    if (res.destroyed || socket.destroyed) {
      upstream.destroy();
      return;
    }
    upstream.setTimeout(limits.idleTimeoutMs, () => upstream.destroy());

    const headers = stripHopByHop(req.rawHeaders, ['host']);
    headers.push('Host', target.port === defaultPort ? showHost(target) : hostPort(target), 'Connection', 'close');
    let upReq: http.ClientRequest;
    try {
      upReq = http.request({
        method: req.method ?? 'GET',
        path,
        headers,
        setHost: false,
        maxHeaderSize: limits.maxHeaderBytes * 4,
        // The already connected socket: no agent, no lookup, no second resolution.
        createConnection: () => upstream,
      });
    } catch (err) {
      upstream.destroy();
      // A method or path node:http will not send (it validates both).
      return refuse(400, 'bad-request', `request cannot be forwarded: ${(err as Error).message}`, { host: target.host, port: target.port });
    }
    upReq.on('response', (upRes: http.IncomingMessage) => {
      try {
        // X-Airlock-Egress marks the proxy's own answers; a destination cannot send one.
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, stripHopByHop(upRes.rawHeaders, ['x-airlock-egress']));
      } catch {
        upRes.destroy();
        upstream.destroy();
        if (!res.headersSent) httpRefusal(res, 502, 'bad-response', `${hostPort(target)} sent a response head that cannot be relayed`);
        else res.destroy();
        return;
      }
      upRes.on('error', () => res.destroy());
      upRes.pipe(res);
    });
    upReq.on('continue', () => res.writeContinue());
    upReq.on('error', (err: Error) => {
      upstream.destroy();
      if (!res.headersSent) httpRefusal(res, 502, 'bad-response', `${hostPort(target)}: ${err.message}`);
      else res.destroy();
    });
    // The client went away before the response was complete.
    res.on('close', () => {
      if (!res.writableFinished) upReq.destroy();
    });
    req.on('error', () => upReq.destroy());
    req.pipe(upReq);
  }

  /** Checks `target`, resolves it once, checks the addresses, connects to the first that answers. */
  async function open(target: Target): Promise<Opened> {
    const where = { host: target.host, port: target.port };
    const check = checkTarget(rules, target);
    if (!check.ok) return { ok: false, refused: { ...where, code: check.code, status: 403, reason: check.reason } };
    const rule: Rule = check.rule;
    const deadline = Date.now() + limits.connectTimeoutMs;
    let addresses: string[];
    if (target.ip) {
      addresses = [target.host];
    } else {
      let answer: readonly string[];
      try {
        answer = await withTimeout(Promise.resolve().then(() => resolve(target.host)), deadline - Date.now());
      } catch (err) {
        if (err instanceof DeadlineError) {
          return { ok: false, failed: { ...where, code: 'connect-timeout', status: 504, reason: `${hostPort(target)}: resolving ${target.host} took longer than ${limits.connectTimeoutMs} ms` } };
        }
        return { ok: false, failed: { ...where, code: 'resolve-failed', status: 502, reason: `${hostPort(target)}: cannot resolve ${target.host} (${errorText(err)})` } };
      }
      if (closing) return { ok: false, refused: { ...where, code: 'closing', status: 503, reason: 'the egress proxy is shutting down' } };
      const checked = checkAddresses(rules, target, Array.isArray(answer) ? answer : []);
      if (!checked.ok) {
        if (checked.code === 'resolve-failed') return { ok: false, failed: { ...where, code: 'resolve-failed', status: 502, reason: checked.reason } };
        return { ok: false, refused: { ...where, ...(checked.address === undefined ? {} : { address: checked.address }), code: checked.code, status: 403, reason: checked.reason } };
      }
      addresses = checked.addresses;
    }
    let lastError = 'no address';
    let last: string | undefined;
    for (const address of addresses) {
      if (closing) return { ok: false, refused: { ...where, code: 'closing', status: 503, reason: 'the egress proxy is shutting down' } };
      last = address;
      const left = deadline - Date.now();
      if (left <= 0) break;
      try {
        const socket = await connectTo(address, target.port, left);
        return { ok: true, socket, address, rule: rule.text };
      } catch (err) {
        lastError = err instanceof DeadlineError ? `timed out after ${limits.connectTimeoutMs} ms` : errorText(err);
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
        reason: `${hostPort(target)}: cannot connect to ${addresses.join(', ')} (${timedOut ? `timed out after ${limits.connectTimeoutMs} ms` : lastError})`,
      },
    };
  }

  /**
   * TLS over the already connected (pinned) socket: the name the client asked for is the SNI and the
   * name the certificate must carry (an IP target: its address), checked against `originateTls.ca` or
   * Node's CAs.
   */
  function startTls(socket: Socket, target: Target): Promise<tls.TLSSocket> {
    return new Promise((resolvePromise, reject) => {
      const secure = tls.connect({
        socket,
        host: target.host,
        ...(target.ip ? {} : { servername: target.host }),
        ...(originateTls?.ca === undefined ? {} : { ca: originateTls.ca }),
        ALPNProtocols: ['http/1.1'],
      });
      sockets.add(secure);
      secure.once('close', () => sockets.delete(secure));
      const timer = setTimeout(() => {
        secure.destroy();
        reject(new Error(`handshake timed out after ${limits.connectTimeoutMs} ms`));
      }, limits.connectTimeoutMs);
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

  function connectTo(address: string, port: number, timeoutMs: number): Promise<Socket> {
    return new Promise((resolvePromise, reject) => {
      // `address` is an IP literal, so net does no lookup of its own.
      const socket = net.connect({ host: address, port, allowHalfOpen: true, noDelay: true });
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DeadlineError());
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeListener('error', onError);
        socket.on('error', () => {});
        if (closing) {
          socket.destroy();
          reject(new Error('the egress proxy is shutting down'));
        } else resolvePromise(socket);
      });
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
    });
  }

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

/** Pipes two sockets into each other, half-close included, until either side closes, errs or idles. */
function splice(a: Socket, b: Socket, idleMs: number): void {
  const teardown = (): void => {
    a.destroy();
    b.destroy();
  };
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    from.setTimeout(idleMs, teardown);
    from.on('error', teardown);
    // A FIN from one side ends the other side's writing (pipe does that);
    // a close, flushed or not, takes the other side along once it has flushed.
    from.once('close', (hadError: boolean) => {
      if (hadError) return teardown();
      if (to.destroyed) return;
      to.end();
      if (to.writableFinished) to.destroy();
      else to.once('finish', () => to.destroy());
    });
    from.pipe(to);
  }
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

/** Drops hop-by-hop headers and those named in Connection, and `extra` names; keeps order and duplicates. */
function stripHopByHop(raw: readonly string[], extra: readonly string[]): string[] {
  const drop = new Set([...HOP_BY_HOP, ...extra]);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if ((raw[i] ?? '').toLowerCase() === 'connection') {
      for (const token of (raw[i + 1] ?? '').split(',')) drop.add(token.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (!drop.has(name.toLowerCase())) out.push(name, raw[i + 1] ?? '');
  }
  return out;
}

function refusalBody(code: string, reason: string): string {
  return `airlock egress proxy: ${code}: ${reason}\n`;
}

/** Answers on a raw socket (CONNECT, parse errors, over-limit accepts) and closes it once written. */
function rawRefusal(socket: Socket, status: number, code: string, reason: string): void {
  if (socket.destroyed || !socket.writable) return void socket.destroy();
  const body = refusalBody(code, reason);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      `X-Airlock-Egress: ${code}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  socket.once('finish', () => socket.destroy());
}

function httpRefusal(res: http.ServerResponse, status: number, code: string, reason: string): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const body = refusalBody(code, reason);
  res.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Airlock-Egress': code,
    'Content-Length': Buffer.byteLength(body),
    Connection: 'close',
  });
  res.end(body);
}

function checkLimits(l: EgressLimits): EgressLimits {
  for (const [name, value] of Object.entries(l)) {
    if (!Number.isInteger(value) || value <= 0) throw new TypeError(`limits.${name}: must be a positive integer, got ${String(value)}`);
  }
  return l;
}

function peer(socket: Socket): string {
  const a = socket.remoteAddress ?? '?';
  return `${net.isIPv6(a) ? `[${a}]` : a}:${socket.remotePort ?? '?'}`;
}

function showHost(t: Target): string {
  return t.ip && t.host.includes(':') ? `[${t.host}]` : t.host;
}

function hostPort(t: Target): string {
  return `${showHost(t)}:${t.port}`;
}

function errorText(err: unknown): string {
  if (err instanceof Error) return (err as Error & { code?: string }).code ?? err.message;
  return String(err);
}
