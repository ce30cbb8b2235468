/**
 * The proxy's own answers (refusals and failures): the status, the code in
 * `X-Airlock-Egress` and the reason as a text body, then the connection closes.
 */
import net from 'node:net';
import type http from 'node:http';
import type { Socket } from 'node:net';

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

function refusalBody(code: string, reason: string): string {
  return `airlock egress proxy: ${code}: ${reason}\n`;
}

/** Answers on a raw socket (CONNECT, parse errors, over-limit accepts) and closes it once written. */
export function rawRefusal(socket: Socket, status: number, code: string, reason: string): void {
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

/** The same answer through node:http's response (absolute-form requests). */
export function httpRefusal(res: http.ServerResponse, status: number, code: string, reason: string): void {
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

/** A client socket's `address:port`, for decisions. */
export function peer(socket: Socket): string {
  const a = socket.remoteAddress ?? '?';
  return `${net.isIPv6(a) ? `[${a}]` : a}:${socket.remotePort ?? '?'}`;
}
