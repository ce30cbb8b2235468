/**
 * The egress proxy's image: the node base image plus the proxy's files
 * (./egress-files.ts), built through the daemon's API from an uncompressed
 * tar context. The files travel in the image, not as bind mounts of this
 * machine's paths, so the proxy runs the same on a remote daemon as on the
 * local one. Tagged by a hash of the base image's id and the files, so it is
 * built once per Airlock version and base image, on each daemon.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { AirlockError } from '../../errors.ts';
import { collectPlugin, type ContextEntry, tar } from './context.ts';
import { egressRuntimeFiles } from './egress-files.ts';

export interface EgressImage {
  tag: string;
  command: string[];
  configEnv: string;
}

/** Builds in flight or done, per client and tag: concurrent loads build once. */
const built = new WeakMap<Docker, Map<string, Promise<void>>>();

/** The proxy's image on this daemon for `base` (an image with Node >= 22.18), built when missing. */
export async function egressImage(docker: Docker, base: string): Promise<EgressImage> {
  const runtime = egressRuntimeFiles();
  // Everything under rootfs/ in the context lands at / in the image (one COPY).
  const entries: ContextEntry[] = [{ path: 'rootfs/', type: 'dir' }];
  const dirs = new Set<string>();
  for (const m of runtime.mounts) {
    // Parent folders first, so the archive creates them with known modes.
    const parts = ['rootfs', ...m.containerPath.split('/').filter((p) => p !== '')];
    for (let i = 2; i < parts.length; i++) {
      const dir = `${parts.slice(0, i).join('/')}/`;
      if (!dirs.has(dir)) entries.push({ path: dir, type: 'dir' });
      dirs.add(dir);
    }
    // Airlock's own files, read with the plugin-tree bounds (no symlink out, bounded size).
    entries.push(...(await collectPlugin(m.hostPath, () => false, parts.join('/'))));
  }
  const dockerfile = `FROM ${base}\nCOPY rootfs/ /\n`;
  entries.push({ path: 'Dockerfile', type: 'file', data: Buffer.from(dockerfile) });
  const context = tar(entries);
  const baseId = (await docker.getImage(base).inspect()).Id;
  const tag = `airlock-egress:${createHash('sha256').update(baseId).update('\0').update(context).digest('hex').slice(0, 20)}`;
  let byTag = built.get(docker);
  if (byTag === undefined) built.set(docker, (byTag = new Map()));
  let build = byTag.get(tag);
  if (build === undefined) {
    const started = ensureImage(docker, tag, context);
    byTag.set(tag, started);
    started.catch(() => byTag.delete(tag));
    build = started;
  }
  await build;
  return { tag, command: runtime.command, configEnv: runtime.configEnv };
}

async function ensureImage(docker: Docker, tag: string, context: Buffer): Promise<void> {
  try {
    await docker.getImage(tag).inspect();
    return;
  } catch {
    // Not there yet: built below.
  }
  let failure: string | undefined;
  try {
    const stream = await docker.buildImage(Readable.from([context]), {
      t: tag,
      dockerfile: 'Dockerfile',
      rm: true,
      forcerm: true,
      pull: false,
      version: '1',
      // COPY only: no step runs, nothing needs a network.
      networkmode: 'none',
      labels: { 'airlock.managed': 'true', 'airlock.role': 'egress-proxy' },
    });
    await new Promise<void>((resolve, reject) => {
      docker.modem.followProgress(
        stream,
        (err: Error | null) => (err ? reject(err) : resolve()),
        (m: { error?: string }) => {
          if (m.error !== undefined) failure = m.error;
        },
      );
    });
  } catch (e) {
    failure ??= (e as Error).message;
  }
  if (failure !== undefined) throw new AirlockError('engine-unavailable', `cannot build the egress proxy's image ${tag}: ${failure}`);
}
