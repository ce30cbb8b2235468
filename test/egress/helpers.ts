/** Local destinations and raw clients for the egress proxy tests (no Docker, no outside network). */
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import type { ExecutionContext } from 'ava';
import type { ProxyContext } from '../../src/egress/context.ts';
import type { Dial } from '../../src/egress/dial.ts';
import { DEFAULT_LIMITS, startEgressProxy } from '../../src/egress/index.ts';
import type { EgressDecision, EgressProxy, EgressProxyOptions, Target } from '../../src/egress/index.ts';

export interface TestProxy extends EgressProxy {
  decisions: EgressDecision[];
  /** Resolves with the next decision reported (or one already reported beyond `seen`). */
  nextDecision(): Promise<EgressDecision>;
}

export async function proxyFor(t: ExecutionContext, options: EgressProxyOptions): Promise<TestProxy> {
  const decisions: EgressDecision[] = [];
  let waiters: ((d: EgressDecision) => void)[] = [];
  let read = 0;
  const proxy = await startEgressProxy({
    ...options,
    onDecision: (d) => {
      decisions.push(d);
      options.onDecision?.(d);
      const w = waiters;
      waiters = [];
      for (const f of w) f(d);
    },
  });
  t.teardown(() => proxy.close());
  return {
    ...proxy,
    decisions,
    nextDecision: () => {
      if (read < decisions.length) return Promise.resolve(decisions[read++] as EgressDecision);
      return new Promise((resolve) =>
        waiters.push((d) => {
          read++;
          resolve(d);
        }),
      );
    },
  };
}

/** A resolver from a fixed table that records every call. */
export function tableResolver(table: Record<string, string[]>): { resolve: (host: string) => Promise<string[]>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    resolve: async (host) => {
      calls.push(host);
      const answer = table[host];
      if (answer === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
      return answer;
    },
  };
}

export interface EchoServer {
  port: number;
  /** Server-side sockets, for checking that a tunnel's far end closed. */
  sockets: Socket[];
  /** Resolves when the nth (1-based) connection arrives. */
  connection(n: number): Promise<Socket>;
}

/** TCP echo server on 127.0.0.1; answers a half-close with "<eof>" and then closes its side. */
export async function echoServer(t: ExecutionContext): Promise<EchoServer> {
  const sockets: Socket[] = [];
  const waiting = new Map<number, (s: Socket) => void>();
  const server = net.createServer({ allowHalfOpen: true }, (s) => {
    sockets.push(s);
    s.on('error', () => {});
    s.on('data', (d) => s.write(d));
    s.on('end', () => s.end('<eof>'));
    waiting.get(sockets.length)?.(s);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    connection: (n) => (sockets.length >= n ? Promise.resolve(sockets[n - 1] as Socket) : new Promise((resolve) => waiting.set(n, resolve))),
  };
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** HTTP server on 127.0.0.1 that records requests and answers with some hop-by-hop headers of its own. */
export async function httpServer(t: ExecutionContext): Promise<{ port: number; requests: SeenRequest[] }> {
  const requests: SeenRequest[] = [];
  const server = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += String(chunk);
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
    res.writeHead(200, {
      'Content-Type': 'text/plain',
      Connection: 'X-Secret-Resp, keep-alive',
      'X-Secret-Resp': 'hop',
      'Keep-Alive': 'timeout=99',
      'X-Kept': 'yes',
    });
    res.end(`hello ${req.method} ${req.url} ${body}`);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  return { port: (server.address() as AddressInfo).port, requests };
}

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = net.createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface Answer {
  status: number;
  head: string;
  body: string;
  socket: Socket;
}

/**
 * Sends `bytes` to the proxy; resolves with the parsed response head once it
 * arrives. When `untilClose`, waits for the proxy to close the connection and
 * returns everything after the head as `body`.
 */
export async function send(proxy: EgressProxy, bytes: string | Buffer, opts: { untilClose?: boolean; end?: boolean } = {}): Promise<Answer> {
  const socket = net.connect(proxy.address.port, proxy.address.host);
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(bytes);
  if (opts.end === true) socket.end();
  let buf = Buffer.alloc(0);
  const headEnd = (): number => buf.indexOf('\r\n\r\n');
  await new Promise<void>((resolve) => {
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (opts.untilClose !== true && headEnd() >= 0) {
        socket.removeListener('data', onData);
        socket.removeListener('close', onClose);
        socket.pause();
        resolve();
      }
    };
    const onClose = (): void => resolve();
    socket.on('data', onData);
    socket.once('close', onClose);
  });
  const end = headEnd();
  const head = end >= 0 ? buf.subarray(0, end).toString('latin1') : buf.toString('latin1');
  const rest = end >= 0 ? buf.subarray(end + 4) : Buffer.alloc(0);
  if (opts.untilClose !== true && rest.length > 0) socket.unshift(rest);
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0);
  return { status, head, body: opts.untilClose === true ? rest.toString('utf8') : '', socket };
}

/** CONNECT through the proxy; a refusal is read to its end (the proxy closes the connection). */
export async function connect(proxy: EgressProxy, target: string, extra = ''): Promise<Answer> {
  const answer = await send(proxy, `CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n${extra}`);
  if (answer.status === 200) return answer;
  const body: string[] = [];
  answer.socket.on('data', (d: Buffer) => body.push(d.toString('utf8')));
  answer.socket.resume();
  if (!answer.socket.destroyed) await once(answer.socket, 'close');
  return { ...answer, body: body.join('') };
}

/** Writes `text` into a tunnel and reads until `expect` has arrived. */
export async function roundTrip(socket: Socket, text: string, expect = text): Promise<string> {
  let got = '';
  const done = new Promise<void>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      got += d.toString('utf8');
      if (got.includes(expect)) {
        socket.removeListener('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`tunnel closed after "${got}", expected "${expect}"`)));
    socket.resume();
  });
  socket.write(text);
  await done;
  return got;
}

export interface ProxiedResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A plain-HTTP proxy request (absolute-form) with node:http. */
export async function viaProxy(
  proxy: EgressProxy,
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<ProxiedResponse> {
  const target = new URL(url);
  const req = http.request({
    host: proxy.address.host,
    port: proxy.address.port,
    method: init.method ?? 'GET',
    path: url,
    headers: { Host: target.host, ...init.headers },
    agent: false,
  });
  req.end(init.body);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let body = '';
  for await (const chunk of res) body += String(chunk);
  return { status: res.statusCode ?? 0, headers: res.headers, body };
}

export interface TestContext {
  cx: ProxyContext;
  decisions: EgressDecision[];
  /** Targets the handler asked `dial` for, in order. */
  dialled: Target[];
}

/** A handler context around a fake `dial` (no policy, no resolver): for testing tunnel.ts and forward.ts on their own. */
export function contextFor(dial: Dial, over: Partial<ProxyContext> = {}): TestContext {
  const decisions: EgressDecision[] = [];
  const dialled: Target[] = [];
  const cx: ProxyContext = {
    dial: (target) => {
      dialled.push(target);
      return dial(target);
    },
    report: (d) => decisions.push(d),
    limits: { ...DEFAULT_LIMITS },
    token: undefined,
    originateTls: undefined,
    track: () => {},
    ...over,
  };
  return { cx, decisions, dialled };
}

/** A plain node:http server that hands CONNECT and requests to the given handlers; shaped like a proxy for send/connect/viaProxy. */
export async function handlerServer(
  t: ExecutionContext,
  on: { connect?: (req: http.IncomingMessage, socket: Socket, head: Buffer) => void; request?: (req: http.IncomingMessage, res: http.ServerResponse) => void },
): Promise<EgressProxy> {
  const server = http.createServer();
  server.on('connection', (s: Socket) => s.on('error', () => {}));
  if (on.connect !== undefined) server.on('connect', on.connect);
  if (on.request !== undefined) {
    server.on('request', on.request);
    server.on('checkContinue', on.request);
  }
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  t.teardown(close);
  const port = (server.address() as AddressInfo).port;
  return { address: { host: '127.0.0.1', port }, url: `http://127.0.0.1:${port}`, close };
}

/** Two connected TCP sockets on loopback: [client side, server side]. */
export async function socketPair(t: ExecutionContext): Promise<[Socket, Socket]> {
  const server = net.createServer({ allowHalfOpen: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const client = net.connect({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  client.on('error', () => {});
  const [[serverSide]] = await Promise.all([accepted, once(client, 'connect')]);
  serverSide.on('error', () => {});
  server.close();
  t.teardown(() => {
    client.destroy();
    serverSide.destroy();
  });
  return [client, serverSide];
}

/** A dial that connects to 127.0.0.1:`port` whatever the target (the test's own destination), as an allowed dial would. */
export function dialTo(port: number): Dial {
  return async () => {
    const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    await once(socket, 'connect');
    return { ok: true, socket, address: '127.0.0.1', rule: `test:${port}` };
  };
}
