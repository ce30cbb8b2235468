/**
 * The host's end of the loopback relay. A network grant of `127.0.0.1:port`
 * (or `[::1]:port`) means this machine's loopback on every engine: the worker
 * engine's egress proxy runs on the host and dials it directly, but a Docker
 * plugin's proxy runs in a container, whose loopback is its own. So for a
 * grant naming a loopback address, the engine listens on a Unix socket in a
 * private folder (mode 0700; the socket itself 0666 so uid 10001 can connect),
 * bind-mounts it into the proxy container alone, and the proxy dials loopback
 * addresses through it (protocol in src/egress/loopback.ts).
 *
 * The relay checks each request again, against the loopback entries of the
 * grant only: a compromised proxy reaches no other port of the host. Header
 * size, header time and connections are bounded; bytes then flow through the
 * proxy's own splice (idle timeout included).
 *
 * A bind mount needs the daemon on this machine: with a remote daemon such a
 * grant is refused (network.ts), never pointed at the daemon's loopback.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import net, { type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressRange, canonicalIp, checkTarget, compileRules, DEFAULT_LIMITS } from '../../egress/index.ts';
import { splice } from '../../egress/tunnel.ts';
import type { HostPattern } from '../../grants/types.ts';

/** Where the relay's socket appears in the proxy container. */
export const RELAY_MOUNT = '/run/airlock-loopback.sock';
/** A request line is `<address> <port>\n`: an IPv6 address and a port fit in far less. */
const MAX_REQUEST = 128;
const REQUEST_TIMEOUT_MS = 10_000;

/** The allowlist entries that name a loopback address (127.0.0.0/8, ::1): the ones the relay serves. */
export function loopbackEntries(allow: readonly HostPattern[]): HostPattern[] {
  return allow.filter((p) => {
    const ip = canonicalIp(p.host);
    return ip !== undefined && addressRange(ip) === 'loopback';
  });
}

export interface LoopbackRelay {
  /** The socket's path on the host (bind it at RELAY_MOUNT). */
  path: string;
  close(): Promise<void>;
}

export interface RelayOptions {
  idleTimeoutMs?: number;
  maxConnections?: number;
}

/** Starts the relay for these loopback entries (loopbackEntries()). */
export async function startLoopbackRelay(allow: readonly HostPattern[], options: RelayOptions = {}): Promise<LoopbackRelay> {
  const rules = compileRules(loopbackEntries(allow), 'loopback');
  const idleMs = options.idleTimeoutMs ?? DEFAULT_LIMITS.idleTimeoutMs;
  const max = options.maxConnections ?? DEFAULT_LIMITS.maxConnections;
  const dir = await mkdtemp(join(tmpdir(), 'airlock-loopback-'));
  const path = join(dir, 'relay.sock');
  const sockets = new Set<Socket>();
  const track = (s: Socket): void => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
    s.on('error', () => {});
  };
  let clients = 0;
  const server = net.createServer({ allowHalfOpen: true }, (client) => {
    track(client);
    clients += 1;
    client.once('close', () => {
      clients -= 1;
    });
    if (clients > max) {
      client.destroy();
      return;
    }
    serve(client, rules, idleMs, track);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.removeListener('error', reject);
      resolve();
    });
  });
  try {
    await chmod(path, 0o666);
  } catch (e) {
    server.close();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let closed: Promise<void> | undefined;
  return {
    path,
    close: () => {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          for (const s of sockets) s.destroy();
        });
        await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

/** One connection from the proxy: read the request, check it, connect, answer, then splice. */
function serve(client: Socket, rules: ReturnType<typeof compileRules>, idleMs: number, track: (s: Socket) => void): void {
  let buf = Buffer.alloc(0);
  const refuse = (code: string, reason: string): void => {
    // Closed once the answer is out: a half-open refused socket would otherwise hold a connection slot for as
    // long as the proxy keeps its end open (the request timeout is already off by then).
    client.end(`no ${code} ${reason}\n`, () => client.destroy());
  };
  client.setTimeout(REQUEST_TIMEOUT_MS, () => client.destroy());
  const onData = (chunk: Buffer): void => {
    buf = Buffer.concat([buf, chunk]);
    const nl = buf.indexOf(10);
    if (nl === -1) {
      if (buf.length > MAX_REQUEST) {
        client.removeListener('data', onData);
        refuse('EPROTO', 'request line too long');
      }
      return;
    }
    client.removeListener('data', onData);
    client.pause();
    client.setTimeout(0);
    const rest = buf.subarray(nl + 1);
    const m = /^(\S{1,64}) ([0-9]{1,5})$/.exec(buf.subarray(0, nl).toString('latin1'));
    const ip = m === null ? undefined : canonicalIp(m[1] ?? '');
    const port = Number(m?.[2]);
    if (ip === undefined || !(port >= 1 && port <= 65535)) return refuse('EPROTO', 'malformed request');
    const target = { host: ip, port, ip: true };
    if (addressRange(ip) !== 'loopback' || !checkTarget(rules, target).ok) return refuse('EACCES', `${ip} port ${port} is not granted`);
    const upstream = net.connect({ host: ip, port, allowHalfOpen: true, noDelay: true });
    track(upstream);
    let connected = false;
    upstream.once('error', (e: Error & { code?: string }) => {
      // Once connected, splice() owns both sockets' errors.
      if (connected) return;
      refuse(/^[A-Z0-9_-]{1,40}$/.test(e.code ?? '') ? (e.code as string) : 'ECONNREFUSED', `cannot connect to ${ip}:${port} on the host's loopback`);
    });
    // The proxy gave up (its connect deadline) before the destination answered: drop the attempt.
    client.once('close', () => {
      if (!connected) upstream.destroy();
    });
    upstream.once('connect', () => {
      connected = true;
      if (client.destroyed) return upstream.destroy();
      client.write('ok\n');
      if (rest.length > 0) upstream.write(rest);
      splice(client, upstream, idleMs);
    });
  };
  client.on('data', onData);
}
