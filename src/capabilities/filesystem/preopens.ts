/**
 * Airlock's own wasi:filesystem, in front of the host filesystem. It does not
 * use preview2-shim's filesystem (no read-only mode; it resolves symlinks by
 * path and then opens by path, a check-then-use race; opening a FIFO blocks
 * its IO thread so hard that worker.terminate() never returns).
 *
 * Every descriptor (./descriptor.ts) holds a real fd; paths below it are
 * resolved by the walk (./walk.ts), which never follows a symlink and never
 * climbs above the preopen. This module opens one root per grant and hands
 * them to the guest as preopens.
 */
import { constants } from 'node:fs';
import type { FilesystemGrant } from '../../grants/types.ts';
import type { FileUsage, WasiImports } from '../types.ts';
import { Descriptor, type FilesystemContext } from './descriptor.ts';
import { DirectoryEntryStream } from './directory-entries.ts';
import { closeFd, closeOnCollect, openFd } from './fds.ts';
import { fileStreams } from './file-streams.ts';
import { Quota, type QuotaLimits } from './quota.ts';
import { openGrantRoot, type FdOps } from './verify.ts';
import { fdPath, O_CLOEXEC } from './walk.ts';

const { O_RDONLY, O_DIRECTORY } = constants;

/** The walk to a grant's root counts against MAX_OPEN_FDS like every other open. */
const FD_OPS: FdOps = { open: (p, f) => openFd(p, f), close: closeFd };

/** The disk quota of the read-write grants: limits, and the plugin's shared counters (./quota.ts). */
export interface FilesystemQuota extends QuotaLimits {
  /** Shared by every instance of the plugin; absent: this instance counts alone. */
  state?: SharedArrayBuffer;
}

/**
 * Builds the wasi:filesystem/types and /preopens interfaces for `grants`.
 * `onRelease`, when given, gets a function that closes every fd these
 * interfaces hold (roots and the guest's open descriptors), for the engine to
 * call when it drops the instance; otherwise they close when collected.
 * `quota`, when given, bounds what the read-write grants may hold. `files`
 * counts the reads and writes (the engine zeroes it per call: the call's usage).
 */
export function createFilesystem(
  grants: FilesystemGrant[],
  base: WasiImports,
  onRelease?: (fn: () => void) => void,
  quotaOptions?: FilesystemQuota,
  files: FileUsage = { reads: 0, readBytes: 0, writes: 0, writeBytes: 0 },
): WasiImports {
  const quota = quotaOptions === undefined ? undefined : new Quota({ bytes: quotaOptions.bytes, files: quotaOptions.files }, quotaOptions.state);
  const fs: FilesystemContext = { quota, live: new Set(), streams: fileStreams(base, files), files };

  // One root fd per grant, opened once per instance; every getDirectories()
  // hands out fresh descriptors re-opened from it (a dup), because the guest
  // owns what it gets and dropping it closes that fd. The root is opened
  // without following any symlink on its path: a granted folder swapped for a
  // symlink since the grants were computed fails this instance with
  // permission-denied instead of opening the link's target (./verify.ts).
  const opened: number[] = [];
  let roots: { fd: number; writable: boolean; mount: string }[];
  try {
    roots = grants.map((g) => {
      const fd = openGrantRoot(g, O_RDONLY | O_DIRECTORY, FD_OPS);
      opened.push(fd);
      return { fd, writable: g.access === 'read-write', mount: g.mount };
    });
  } catch (e) {
    for (const fd of opened) closeFd(fd);
    throw e;
  }
  // What the read-write grants already hold counts against the quota: measured once per plugin.
  if (quota !== undefined) quota.ensureCounted(roots.filter((r) => r.writable).map((r) => fdPath(r.fd)));
  const getDirectories = (): [Descriptor, string][] =>
    roots.map((r) => {
      const fd = openFd(fdPath(r.fd), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      return [new Descriptor(fs, fd, 'directory', r.writable, { read: true, mutateDirectory: r.writable }), r.mount];
    });
  const holder = { roots };
  for (const r of roots) closeOnCollect.register(holder, r.fd, holder);
  onRelease?.(() => {
    for (const d of [...fs.live]) d[Symbol.dispose]();
    closeOnCollect.unregister(holder);
    for (const r of roots) {
      try {
        closeFd(r.fd);
      } catch {
        /* already closed */
      }
    }
  });

  return {
    'wasi:filesystem/types': {
      Descriptor,
      DirectoryEntryStream,
      filesystemErrorCode: (err: { payload?: { code?: string } }) => err?.payload?.code,
    },
    // `holder` lives as long as this function: the root fds close with the instance.
    'wasi:filesystem/preopens': { getDirectories: () => (holder.roots, getDirectories()) },
  };
}
