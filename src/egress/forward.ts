/**
 * Absolute-form HTTP requests (`GET http://host/path`, and `https://` when the
 * proxy originates TLS): read the target from the URL (and the token, when
 * the proxy has one), dial it (dial.ts), then send the request on that one
 * socket with hop-by-hop headers dropped both ways, Host rewritten to the
 * target and `Connection: close`.
 */
import { timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { Socket } from 'node:net';
import { httpRefusal } from './answer.ts';
import type { ProxyContext } from './context.ts';
import { allowed, errorText, notOpened, originateTls } from './dial.ts';
import { hostPort, parseAuthority, printable, showHost } from './policy.ts';
import type { Target } from './policy.ts';
import type { EgressKind, EgressRefused } from './types.ts';

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

/** Where an absolute-form request goes, or why it will not. */
export type ProxyRequest =
  | { ok: true; scheme: 'http' | 'https'; target: Target; defaultPort: number; path: string }
  | { ok: false; status: number; code: EgressRefused['code']; reason: string };

/**
 * Reads an absolute-form request URL. With `token`, the URL's user info must
 * be exactly it (compared in constant time). `https` is accepted only when
 * the proxy originates TLS.
 */
export function parseProxyRequest(url: string, token: Buffer | undefined, https: boolean): ProxyRequest {
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^#]*)/.exec(url);
  if (m === null) {
    return {
      ok: false,
      status: 400,
      code: 'not-a-proxy-request',
      reason: `"${printable(url)}" is not an absolute URL; this is an egress proxy: send "GET http://host/path" or "CONNECT host:port"`,
    };
  }
  let authority = m[2] ?? '';
  if (token !== undefined) {
    const at = authority.lastIndexOf('@');
    const given = Buffer.from(at < 0 ? '' : authority.slice(0, at));
    if (given.length !== token.length || !timingSafeEqual(given, token))
      return { ok: false, status: 407, code: 'unauthorized', reason: 'this proxy serves only requests carrying its token' };
    authority = authority.slice(at + 1);
  }
  const scheme = (m[1] ?? '').toLowerCase();
  if (scheme !== 'http' && !(scheme === 'https' && https)) {
    return {
      ok: false,
      status: 400,
      code: 'unsupported-scheme',
      reason: `${scheme}:// requests are not forwarded; plain HTTP goes as "GET http://host/path", HTTPS and anything else through "CONNECT host:port"`,
    };
  }
  const defaultPort = scheme === 'https' ? 443 : 80;
  const target = parseAuthority(authority, defaultPort);
  if (typeof target === 'string') return { ok: false, status: 400, code: 'bad-request', reason: target };
  const rest = m[3] ?? '';
  const path = rest === '' ? '/' : rest.startsWith('/') ? rest : `/${rest}`;
  return { ok: true, scheme: scheme as 'http' | 'https', target, defaultPort, path };
}

/** Handles one absolute-form request (node:http's 'request' or 'checkContinue' event); `client` is the peer for decisions. */
export async function handleHttp(cx: ProxyContext, req: http.IncomingMessage, res: http.ServerResponse, client: string): Promise<void> {
  const socket = req.socket;
  const kind: EgressKind = 'http';
  const refuse = (status: number, code: EgressRefused['code'], reason: string, extra: Partial<EgressRefused> = {}): void => {
    cx.report({ decision: 'refused', kind, ...extra, code, status, reason, client });
    httpRefusal(res, status, code, reason);
  };
  const parsed = parseProxyRequest(req.url ?? '', cx.token, cx.originateTls !== undefined);
  if (!parsed.ok) return refuse(parsed.status, parsed.code, parsed.reason);
  const { scheme, target, defaultPort, path } = parsed;

  const opened = await cx.dial(target);
  if (!opened.ok) {
    const d = notOpened(opened, kind, client);
    cx.report(d);
    return httpRefusal(res, d.status, d.code, d.reason);
  }
  let upstream: Socket = opened.socket;
  if (scheme === 'https') {
    try {
      upstream = await originateTls(opened.socket, target, { ...cx.originateTls, timeoutMs: cx.limits.connectTimeoutMs, track: cx.track });
    } catch (err) {
      opened.socket.destroy();
      const reason = `${hostPort(target)}: TLS with ${opened.address} failed (${errorText(err)})`;
      cx.report({ decision: 'failed', kind, host: target.host, port: target.port, address: opened.address, code: 'tls-failed', status: 502, reason, client });
      return httpRefusal(res, 502, 'tls-failed', reason);
    }
  }
  cx.report(allowed(opened, target, kind, client, `${req.method ?? 'GET'} ${scheme}://${hostPort(target)}`));
  if (res.destroyed || socket.destroyed) {
    upstream.destroy();
    return;
  }
  upstream.setTimeout(cx.limits.idleTimeoutMs, () => upstream.destroy());

  const headers = stripHopByHop(req.rawHeaders, ['host']);
  headers.push('Host', target.port === defaultPort ? showHost(target) : hostPort(target), 'Connection', 'close');
  let upReq: http.ClientRequest;
  try {
    upReq = http.request({
      method: req.method ?? 'GET',
      path,
      headers,
      setHost: false,
      maxHeaderSize: cx.limits.maxHeaderBytes * 4,
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

/** Drops hop-by-hop headers and those named in Connection, and `extra` names; keeps order and duplicates. `raw`: name, value, name, value, ... */
export function stripHopByHop(raw: readonly string[], extra: readonly string[]): string[] {
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
