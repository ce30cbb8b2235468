/**
 * HTTP over SSH for an `ssh://` daemon: each request is a `docker system
 * dial-stdio` channel on ONE SSH connection per daemon (dockerode's own
 * transport opens a connection per request, and leaves Nagle's algorithm on,
 * which holds each small protocol write for a delayed ACK: ~40 ms a call).
 * The host key is checked by the caller's `hostVerifier` (./known-hosts.ts).
 * The connection ends once no channel has been open for IDLE_MS, so an idle
 * process can exit.
 */
import { Agent } from 'node:http';
import type { Duplex } from 'node:stream';
import { Client, type ConnectConfig } from 'ssh2';

const IDLE_MS = 500;

/** An http.Agent whose connections are dial-stdio channels of one shared SSH connection (made on first use, again after it drops). */
export function sshAgent(config: ConnectConfig): Agent {
  let ready: Promise<Client> | undefined;
  let open = 0;
  let idle: NodeJS.Timeout | undefined;
  const connection = (): Promise<Client> => {
    ready ??= new Promise<Client>((resolve, reject) => {
      const client = new Client();
      const drop = (): void => {
        ready = undefined;
      };
      client.once('ready', () => {
        client.setNoDelay(true);
        resolve(client);
      });
      client.once('error', (e) => {
        drop();
        reject(e);
      });
      client.once('close', drop);
      client.connect(config);
    });
    return ready;
  };
  const agent = new Agent();
  agent.createConnection = ((_options: unknown, callback: (err: Error | null, stream?: Duplex) => void) => {
    connection().then(
      (client) =>
        client.exec('docker system dial-stdio', (err, stream) => {
          if (err) return callback(err);
          open += 1;
          clearTimeout(idle);
          stream.once('close', () => {
            open -= 1;
            if (open > 0) return;
            clearTimeout(idle);
            idle = setTimeout(() => {
              if (open === 0) client.end();
            }, IDLE_MS).unref();
          });
          // http expects a socket's knobs; a channel has none of them.
          const s = stream as unknown as Duplex & { setNoDelay?: unknown; setKeepAlive?: unknown; setTimeout?: unknown; ref?: unknown; unref?: unknown };
          for (const k of ['setNoDelay', 'setKeepAlive', 'setTimeout', 'ref', 'unref'] as const) s[k] ??= () => s;
          callback(null, s);
        }),
      (e: Error) => callback(e),
    );
    return undefined;
  }) as unknown as Agent['createConnection'];
  return agent;
}
