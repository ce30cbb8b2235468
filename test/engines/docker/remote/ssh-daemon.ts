/**
 * A "remote" Docker host over SSH on loopback: an SSH server (ssh2's own)
 * that accepts one client key and answers `docker system dial-stdio` by
 * connecting the channel to this machine's daemon socket, which is what the
 * docker CLI does on a real host. Host and client keys are made here.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { LOCAL_SOCKET } from '../../../../src/engines/docker/daemon.ts';
import { tempDir } from '../../../helpers/plugin.ts';

const { Server, utils } = ssh2;

export interface SshHost {
  port: number;
  /** known_hosts listing this host's key as `[127.0.0.1]:port`. */
  knownHosts: string;
  /** known_hosts listing another key for it (an impostor's view). */
  wrongKnownHosts: string;
  /** The accepted client key, and one the host does not accept. */
  clientKey: string;
  otherKey: string;
  /** dial-stdio sessions that reached the daemon socket. */
  dialled: number;
  close(): Promise<void>;
}

/**
 * An ed25519 key pair ssh2 can read back: its generator drops a public key's leading zero byte, so about one
 * pair in 256 fails parseKey ("Malformed OpenSSH public key"; mscdex/ssh2#1390, #1513); such a pair is made again.
 */
function keyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

export async function startSshHost(): Promise<SshHost> {
  const dir = tempDir('airlock-ssh-');
  const hostKey = keyPair();
  const impostor = keyPair();
  const client = keyPair();
  const other = keyPair();
  const clientKey = join(dir, 'id_client');
  const otherKey = join(dir, 'id_other');
  writeFileSync(clientKey, client.private, { mode: 0o600 });
  writeFileSync(otherKey, other.private, { mode: 0o600 });
  const allowed = utils.parseKey(client.public);
  if (allowed instanceof Error) throw allowed;
  const stats = { dialled: 0 };
  const server = new Server({ hostKeys: [hostKey.private] }, (conn) => {
    conn.on('authentication', (ctx) => {
      if (ctx.method === 'publickey' && ctx.key.algo === allowed.type && ctx.key.data.equals(allowed.getPublicSSH())) {
        if (ctx.signature === undefined || allowed.verify(ctx.blob as Buffer, ctx.signature, ctx.hashAlgo) === true) return ctx.accept();
      }
      ctx.reject(['publickey']);
    });
    conn.on('ready', () => {
      conn.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec, reject, info) => {
          if (info.command !== 'docker system dial-stdio') return reject();
          const stream = acceptExec();
          stats.dialled += 1;
          const socket = connect(LOCAL_SOCKET);
          stream.pipe(socket).pipe(stream);
          const end = (): void => {
            socket.destroy();
            stream.end();
          };
          socket.on('error', end);
          socket.on('close', end);
          stream.on('close', () => socket.destroy());
        });
      });
    });
    conn.on('error', () => undefined);
    // As a host's sshd would for a stream of small messages (docker writes each frame header apart).
    (conn as unknown as { setNoDelay(on: boolean): void }).setNoDelay(true);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  const line = (pub: string): string => `[127.0.0.1]:${port} ${pub.trim().split(/\s+/).slice(0, 2).join(' ')}\n`;
  const knownHosts = join(dir, 'known_hosts');
  const wrongKnownHosts = join(dir, 'known_hosts.wrong');
  writeFileSync(knownHosts, line(hostPublic(hostKey.private)));
  writeFileSync(wrongKnownHosts, line(hostPublic(impostor.private)));
  return {
    port,
    knownHosts,
    wrongKnownHosts,
    clientKey,
    otherKey,
    get dialled() {
      return stats.dialled;
    },
    close: async () => {
      server.close();
    },
  };
}

/** `ssh-ed25519 AAAA…` of a private key. */
function hostPublic(privateKey: string): string {
  const k = utils.parseKey(privateKey);
  if (k instanceof Error) throw k;
  return `${k.type} ${k.getPublicSSH().toString('base64')}`;
}
