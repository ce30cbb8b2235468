/**
 * The proxy's side of the loopback relay. In a container, 127.0.0.1 is the
 * container's own loopback, but a grant of `127.0.0.1:port` means the host's
 * (as on the worker engine, whose proxy runs on the host). So the Docker
 * engine bind-mounts a Unix socket into the proxy container whose other end is
 * a relay in Airlock's own process (src/engines/docker/loopback.ts), and the
 * proxy dials loopback addresses through it: after the usual checks, it sends
 * `<address> <port>\n`; the relay checks that against the grant again and
 * answers `ok\n` (then bytes flow as on any socket) or `no <code> <reason>\n`.
 *
 * Only node: builtins: this file runs inside the proxy container.
 */
import type { Socket } from 'node:net';

/** Longest answer line the relay sends. */
export const RELAY_LINE_MAX = 512;

/** The request line for `address:port`. */
export function relayRequest(address: string, port: number): string {
  return `${address} ${port}\n`;
}

/**
 * Sends the request on a socket connected to the relay and waits for its answer; rejects with the relay's
 * code (ECONNREFUSED, ...). Reads in paused mode ('readable'), so once the listener is gone the socket is
 * back in its initial state: whoever takes it next (a pipe, an HTTP client) starts the flow and misses nothing.
 */
export function relayHandshake(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err?: Error): void => {
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      if (err === undefined) resolve();
      else reject(err);
    };
    const onEnd = (): void => done(Object.assign(new Error('the loopback relay closed the connection'), { code: 'ECONNRESET' }));
    const onReadable = (): void => {
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) {
        buf = Buffer.concat([buf, chunk]);
        const nl = buf.indexOf(10);
        if (nl === -1) {
          if (buf.length > RELAY_LINE_MAX) return done(Object.assign(new Error('the loopback relay sent no answer line'), { code: 'EPROTO' }));
          continue;
        }
        const line = buf.subarray(0, nl).toString('utf8');
        const rest = buf.subarray(nl + 1);
        if (line === 'ok') {
          // What the destination sent right after the answer belongs to the client.
          if (rest.length > 0) socket.unshift(rest);
          return done();
        }
        const m = /^no ([A-Z0-9_-]{1,40}) (.*)$/.exec(line);
        return done(Object.assign(new Error(m?.[2] ?? 'the loopback relay refused'), { code: m?.[1] ?? 'EPROTO' }));
      }
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.write(relayRequest(address, port));
  });
}
