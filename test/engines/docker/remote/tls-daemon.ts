/**
 * A "remote" Docker daemon on loopback: a TLS terminator (mutual TLS
 * required) on 127.0.0.1:<free port> in front of this machine's daemon
 * socket, with a CA, server and client certificates made here by `openssl`
 * (node:crypto makes keys, not X.509 certificates). Also a second CA with
 * its own server and client certificates, for the wrong-certificate cases,
 * and a plain-TCP forwarder for the no-TLS case.
 */
import { once } from 'node:events';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { LOCAL_SOCKET } from '../../../../src/engines/docker/daemon.ts';
import type { DockerDaemonSetting } from '../../../../src/grants/types.ts';
import { makeCa } from '../../../helpers/ca.ts';
import { tempDir } from '../../../helpers/plugin.ts';

export interface Pki {
  dir: string;
  /** ca.pem, cert.pem, key.pem: what a client of this CA's daemon needs (DOCKER_CERT_PATH). */
  client: string;
  server: { cert: string; key: string };
  ca: string;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA (test/helpers/ca.ts). */
export function makePki(name: string): Pki {
  const ca = makeCa(`airlock test CA ${name}`, tempDir(`airlock-pki-${name}-`));
  const server = ca.issue('server', '/CN=127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  const signed = ca.issue('client', '/CN=airlock client', 'extendedKeyUsage=clientAuth');
  const client = join(ca.dir, 'client');
  mkdirSync(client);
  writeFileSync(join(client, 'ca.pem'), readFileSync(ca.ca));
  writeFileSync(join(client, 'cert.pem'), readFileSync(signed.cert));
  writeFileSync(join(client, 'key.pem'), readFileSync(signed.key));
  return { dir: ca.dir, client, ca: ca.ca, server };
}

/** A client folder (DOCKER_CERT_PATH layout) mixing the CA of one PKI with the client certificate of another. */
export function mixedClient(caFrom: Pki, certFrom: Pki): string {
  const dir = tempDir('airlock-pki-mixed-');
  writeFileSync(join(dir, 'ca.pem'), readFileSync(join(caFrom.client, 'ca.pem')));
  writeFileSync(join(dir, 'cert.pem'), readFileSync(join(certFrom.client, 'cert.pem')));
  writeFileSync(join(dir, 'key.pem'), readFileSync(join(certFrom.client, 'key.pem')));
  return dir;
}

export interface Terminator {
  port: number;
  /** Connections that reached the daemon socket through it (handshake passed). */
  forwarded: number;
  /** Handshakes it refused (no or untrusted client certificate). */
  refused: number;
  close(): Promise<void>;
}

function pipeToSocket(client: Socket | TLSSocket, stats: { forwarded: number }): void {
  stats.forwarded += 1;
  const upstream = connect(LOCAL_SOCKET);
  client.pipe(upstream).pipe(client);
  const end = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** The TLS terminator: requires a client certificate signed by `pki`'s CA, then forwards to the local daemon socket. */
export async function startTerminator(pki: Pki): Promise<Terminator> {
  const stats = { forwarded: 0, refused: 0 };
  const server = createTlsServer(
    {
      cert: readFileSync(pki.server.cert),
      key: readFileSync(pki.server.key),
      ca: readFileSync(pki.ca),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (socket) => pipeToSocket(socket, stats),
  );
  server.on('tlsClientError', () => {
    stats.refused += 1;
  });
  const port = await listen(server);
  return wrap(server, port, stats);
}

/** A plain TCP forwarder to the local daemon socket (the daemon a `tcp://` address without TLS reaches). */
export async function startPlainForwarder(): Promise<Terminator> {
  const stats = { forwarded: 0, refused: 0 };
  const server = createServer((socket) => pipeToSocket(socket, stats));
  const port = await listen(server);
  return wrap(server, port, stats);
}

function wrap(server: Server, port: number, stats: { forwarded: number; refused: number }): Terminator {
  // Listening alone keeps no test process alive (a test file whose tests were all filtered out still exits).
  server.unref();
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return {
    port,
    get forwarded() {
      return stats.forwarded;
    },
    get refused() {
      return stats.refused;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close').catch(() => undefined);
    },
  };
}

/** The engine's daemon setting for a terminator reached with the certificates in `certDir` (DOCKER_CERT_PATH layout). */
export function tlsSetting(port: number, certDir: string): DockerDaemonSetting {
  return { host: `tcp://127.0.0.1:${port}`, tls: { ca: join(certDir, 'ca.pem'), cert: join(certDir, 'cert.pem'), key: join(certDir, 'key.pem') } };
}

/** The environment pointing a child Airlock at the terminator (DOCKER_HOST and friends). */
export function tlsEnv(port: number, certDir: string): Record<string, string> {
  return { DOCKER_HOST: `tcp://127.0.0.1:${port}`, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certDir };
}
