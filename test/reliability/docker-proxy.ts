/**
 * A unix-socket proxy in front of the Docker daemon's socket, for simulating
 * a daemon outage without touching the daemon other processes use: `cut()`
 * resets every connection through it (the attached stdio streams of running
 * containers included, as a daemon that stops ends them) and refuses new
 * ones; `restore()` accepts again. A DockerEngine built with
 * `new Docker({ socketPath: proxy.path })` sees exactly that.
 */
import { rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';

export class DockerSocketProxy {
  readonly path: string;
  readonly #target: string;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  #cutWhen: ((request: string) => boolean) | undefined;

  constructor(dir: string, target = process.env.DOCKER_HOST?.startsWith('unix://') === true ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock') {
    this.path = join(dir, 'docker.sock');
    this.#target = target;
  }

  get up(): boolean {
    return this.#server !== undefined;
  }

  /** Starts (or restarts) accepting connections. */
  async restore(): Promise<void> {
    if (this.#server !== undefined) return;
    rmSync(this.path, { force: true });
    const server = createServer((client) => {
      const upstream = createConnection(this.#target);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.on('data', (chunk: Buffer) => {
        // A request the test wants the daemon to vanish on: cut before it reaches the daemon.
        if (this.#cutWhen?.(chunk.toString('latin1')) === true) {
          this.#cutWhen = undefined;
          void this.cut();
          return;
        }
        upstream.write(chunk);
      });
      client.on('end', () => upstream.end());
      upstream.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => resolve());
    });
    this.#server = server;
  }

  /** Cuts (as below) when a request whose text matches arrives, instead of forwarding it. */
  cutOn(match: (request: string) => boolean): void {
    this.#cutWhen = match;
  }

  /** The daemon "stops": every open connection is reset and new ones are refused. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}
