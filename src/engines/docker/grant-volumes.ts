/**
 * Read-only filesystem grants on a remote daemon, where a bind mount would
 * name a path on the daemon's machine: each granted folder is copied into a
 * Docker volume on that daemon when the plugin loads, and the plugin's
 * containers mount the volume read-only at the grant's mount path. The
 * plugin sees the folder as it was at load (a snapshot: later changes on
 * this machine show after a reload).
 *
 * The copy goes through the API as an uncompressed tar (putArchive into a
 * created, never started helper container holding the volume; compressed
 * archives would be unpacked by the container's tools, GHSA-x86f-5xw2-fm2r).
 * The folder is walked with the plugin-tree bounds (entries, bytes, depth;
 * symlinks only when they stay inside; no FIFOs or devices) and streamed one
 * file at a time, so host memory holds one file, not the folder. The grant's
 * path is re-checked first, as for a bind mount (verify.ts).
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type Docker from 'dockerode';
import { verifyGrantPath } from '../../capabilities/index.ts';
import { AirlockError } from '../../errors.ts';
import type { FilesystemGrant } from '../../grants/types.ts';
import { readPluginFile, walkPluginTree } from '../../plugin-files/index.ts';
import { LABEL_MANAGED, LABEL_OWNER, LABEL_PLUGIN, OWNER } from './container.ts';
import { type ContextEntry, tarStream } from './context.ts';
import { CONTAINER_USER } from './options.ts';

export interface GrantVolumes {
  /** Volume mounts for the plugin's containers, read-only, one per grant. */
  mounts: Docker.MountSettings[];
  /** Removes the volumes (after the plugin's containers are gone). */
  close(): Promise<void>;
}

/** Where the helper container holds the volume while it is filled. */
const FILL_AT = '/airlock-fill';

/** Copies each read-only grant into a fresh volume on `docker`; `image` is any image there (the helper never starts). */
export async function copyGrantsToVolumes(docker: Docker, plugin: string, grants: readonly FilesystemGrant[], image: string): Promise<GrantVolumes> {
  const volumes: Docker.Volume[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(volumes.map((v) => v.remove().catch(() => undefined)));
  };
  const mounts: Docker.MountSettings[] = [];
  try {
    for (const g of grants) {
      if (g.access !== 'read') throw new AirlockError('internal', `copyGrantsToVolumes: ${g.hostPath} is not a read-only grant`);
      const name = `airlock-grant-${plugin}-${randomBytes(4).toString('hex')}`;
      const created = (await docker.createVolume({
        Name: name,
        Labels: { [LABEL_MANAGED]: 'true', [LABEL_OWNER]: OWNER, [LABEL_PLUGIN]: plugin, 'airlock.grant': g.hostPath },
      })) as unknown as { Name?: string };
      const volume = docker.getVolume(created.Name ?? name);
      volumes.push(volume);
      await fill(docker, volume.name, g, image);
      // NoCopy: an empty grant must stay empty, not take what the image holds at the mount path.
      mounts.push({
        Type: 'volume',
        Source: volume.name,
        Target: g.mount,
        ReadOnly: true,
        VolumeOptions: { NoCopy: true } as Docker.MountSettings['VolumeOptions'],
      });
    }
  } catch (e) {
    await close();
    throw e instanceof AirlockError && e.code !== 'build-failed'
      ? e
      : new AirlockError('engine-unavailable', `plugin ${plugin}: cannot copy a read-only grant to the remote Docker daemon: ${(e as Error).message}`, {
          cause: e,
        });
  }
  return { mounts, close };
}

async function fill(docker: Docker, volume: string, g: FilesystemGrant, image: string): Promise<void> {
  verifyGrantPath(g);
  const { folder, entries } = await walkPluginTree(g.hostPath, {
    code: 'build-failed',
    hint: 'grant a smaller folder, or run the plugin on a local daemon (a bind mount copies nothing)',
  });
  const helper = await docker.createContainer({
    Image: image,
    User: CONTAINER_USER,
    Cmd: ['true'],
    Labels: { [LABEL_MANAGED]: 'true', [LABEL_OWNER]: OWNER, 'airlock.role': 'grant-copy' },
    NetworkDisabled: true,
    HostConfig: { NetworkMode: 'none', Mounts: [{ Type: 'volume', Source: volume, Target: FILL_AT, ReadOnly: false }] },
  });
  try {
    const files = async function* (): AsyncGenerator<ContextEntry> {
      for (const e of entries) {
        yield e.type === 'dir'
          ? { path: `${e.rel}/`, type: 'dir' }
          : e.type === 'symlink'
            ? { path: e.rel, type: 'symlink', linkTarget: e.linkTarget ?? '' }
            : { path: e.rel, type: 'file', data: await readPluginFile(folder, e.rel, { code: 'build-failed', maxBytes: e.size }), executable: e.executable };
      }
    };
    await helper.putArchive(Readable.from(tarStream(files())), { path: FILL_AT });
  } finally {
    await helper.remove({ force: true }).catch(() => undefined);
  }
}
