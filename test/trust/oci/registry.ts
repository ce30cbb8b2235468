/**
 * A real OCI registry on loopback for the push/pull tests: Debian's
 * docker-registry (the CNCF distribution registry) with a temp storage
 * folder and a port the test picks. Ready when it logs that it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tempDir } from '../../helpers/plugin.ts';

export const REGISTRY_BIN = '/usr/bin/docker-registry';
export const haveRegistry = existsSync(REGISTRY_BIN);

export interface TestRegistry {
  /** host:port, for references. */
  host: string;
  /** Where it keeps blobs (docker/registry/v2/blobs/sha256/<2>/<hex>/data). */
  storage: string;
  blobPath(digest: string): string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function startRegistry(): Promise<TestRegistry> {
  const root = tempDir('airlock-registry-');
  const storage = join(root, 'data');
  const port = await freePort();
  const config = join(root, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: info\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: false\nhttp:\n  addr: 127.0.0.1:${port}\n`,
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ['serve', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  // Never outlives the test process, however it ends.
  process.once('exit', () => child.kill('SIGKILL'));
  let log = '';
  await new Promise<void>((resolve, reject) => {
    // Generous: a busy machine may take a while to start it; the event, not the time, says it is ready.
    const timer = setTimeout(() => reject(new Error(`docker-registry did not start in 120 s:\n${log}`)), 120_000);
    child.stderr!.on('data', (chunk: Buffer) => {
      log += chunk.toString('utf8');
      if (log.includes(`listening on 127.0.0.1:${port}`)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`docker-registry exited (${code}):\n${log}`));
    });
  });
  child.stderr!.resume();
  return {
    host: `127.0.0.1:${port}`,
    storage,
    blobPath: (digest) => {
      const hex = digest.slice('sha256:'.length);
      return join(storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
    },
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
