/**
 * CONNECT tunnels: parse `host:port`, dial it (dial.ts), answer 200 and pipe
 * bytes both ways until either side closes, errs or both stay idle for
 * `idleTimeoutMs`. A proxy with a token refuses CONNECT outright (its clients
 * send absolute-form requests carrying the token; see forward.ts).
 */
import type http from 'node:http';
import type { Socket } from 'node:net';
import { rawRefusal } from './answer.ts';
import type { ProxyContext } from './context.ts';
import { allowed, notOpened } from './dial.ts';
import { hostPort, parseAuthority } from './policy.ts';
import type { EgressKind } from './types.ts';

/** Handles one CONNECT request on `socket` (node:http's 'connect' event); `client` is the peer for decisions. */
export async function handleConnect(cx: ProxyContext, req: http.IncomingMessage, socket: Socket, head: Buffer, client: string): Promise<void> {
  const kind: EgressKind = 'connect';
  if (cx.token !== undefined) {
    const reason = 'this proxy serves only absolute-form requests carrying its token';
    cx.report({ decision: 'refused', kind, code: 'unauthorized', status: 407, reason, client });
    return rawRefusal(socket, 407, 'unauthorized', reason);
  }
  const target = parseAuthority(req.url ?? '');
  if (typeof target === 'string') {
    cx.report({ decision: 'refused', kind, code: 'bad-request', status: 400, reason: `CONNECT ${target}`, client });
    return rawRefusal(socket, 400, 'bad-request', `CONNECT ${target}`);
  }
  const opened = await cx.dial(target);
  if (!opened.ok) {
    const d = notOpened(opened, kind, client);
    cx.report(d);
    return rawRefusal(socket, d.status, d.code, d.reason);
  }
  const upstream = opened.socket;
  cx.report(allowed(opened, target, kind, client, `CONNECT ${hostPort(target)}`));
  if (socket.destroyed || !socket.writable) {
    upstream.destroy();
    return;
  }
  socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
  if (head.length > 0) upstream.write(head);
  splice(socket, upstream, cx.limits.idleTimeoutMs);
}

/**
 * Pipes two sockets into each other, half-close included, until either side
 * closes, errs or idles: a 'timeout' on either (socket.setTimeout(idleMs))
 * destroys both.
 */
export function splice(a: Socket, b: Socket, idleMs: number): void {
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
