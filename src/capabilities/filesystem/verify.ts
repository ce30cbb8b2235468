/**
 * A grant's `hostPath` is resolved once, when the grants are computed; every
 * engine uses it again later (a new container, one wasmtime process per call,
 * a new worker instance). If anything on that path was replaced by a symlink
 * in between (another plugin with write access to a parent folder, for one),
 * reopening the path by name would reach whatever the link points at, which
 * was never checked against the policy. So every use checks first, and a
 * path that no longer names the very folder granted fails closed
 * (`permission-denied`).
 *
 * Two ways to check:
 * - `verifyGrantPath`: realpath again and compare (Docker: the daemon opens
 *   the bind source itself, by name, so a narrow window between this check
 *   and its mount remains);
 * - `openGrantRoot`: walk from `/` one component at a time with O_NOFOLLOW
 *   (openat through /proc/self/fd), so the fd returned is the granted folder
 *   itself with no window at all (worker engine, pinned wasmtime roots).
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, realpathSync } from 'node:fs';
import { AirlockError } from '../../errors.ts';
import type { FilesystemGrant, Grants } from '../../grants/types.ts';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW } = constants;
const O_CLOEXEC = 0o2000000;
// Linux O_PATH (same value on x86-64 and arm64): walks folders the user may cross but not list.
const O_PATH = 0o10000000;

function currentTarget(hostPath: string): string | undefined {
  try {
    return realpathSync(hostPath);
  } catch {
    return undefined;
  }
}

function swapped(g: FilesystemGrant, now: string | undefined, why?: string): AirlockError {
  const what = now === undefined ? 'no longer exists' : `now resolves to ${now}`;
  return new AirlockError(
    'permission-denied',
    `filesystem mount ${g.mount}: the granted path ${g.hostPath} ${what}${why === undefined ? '' : ` (${why})`}; it was replaced after the grants were computed, so it is not used. Reload the plugin to grant it again`,
    { details: { mount: g.mount, hostPath: g.hostPath, resolvesTo: now ?? null } },
  );
}

/** Throws `permission-denied` unless `g.hostPath` still resolves to itself (no symlink anywhere on it). */
export function verifyGrantPath(g: FilesystemGrant): void {
  const now = currentTarget(g.hostPath);
  if (now !== g.hostPath) throw swapped(g, now);
}

/** `verifyGrantPath` for every filesystem grant. */
export function verifyGrantPaths(grants: Grants): void {
  for (const g of grants.filesystem) verifyGrantPath(g);
}

export interface FdOps {
  open(path: string, flags: number): number;
  close(fd: number): void;
}

const RAW: FdOps = { open: (p, f) => openSync(p, f), close: closeSync };

/**
 * Opens the granted folder (or file) without following any symlink on its
 * path: each component is opened relative to the previous one with
 * O_NOFOLLOW, and `hostPath` is canonical, so a symlink anywhere on it means
 * it was swapped. `flags` apply to the last component (O_NOFOLLOW and
 * O_CLOEXEC are added). Throws `permission-denied`.
 */
export function openGrantRoot(g: FilesystemGrant, flags: number, ops: FdOps = RAW): number {
  const parts = g.hostPath.split('/').filter((p) => p !== '');
  if (!g.hostPath.startsWith('/') || parts.some((p) => p === '.' || p === '..')) throw swapped(g, currentTarget(g.hostPath), 'not a canonical absolute path');
  let cur = ops.open('/', (parts.length === 0 ? flags : O_PATH | O_DIRECTORY) | O_CLOEXEC);
  try {
    for (const [i, name] of parts.entries()) {
      const last = i === parts.length - 1;
      const next = ops.open(`/proc/self/fd/${cur}/${name}`, (last ? flags : O_PATH | O_DIRECTORY) | O_NOFOLLOW | O_CLOEXEC);
      ops.close(cur);
      cur = next;
    }
    return cur;
  } catch (e) {
    ops.close(cur);
    // The fd limit (a wasi error-code string from fds.ts) is not about the path.
    if (typeof e === 'string') throw e;
    const code = (e as { code?: string }).code ?? String(e);
    const now = currentTarget(g.hostPath);
    if (now !== g.hostPath) throw swapped(g, now, code === 'ELOOP' || code === 'ENOTDIR' ? 'a symlink is on the path' : code);
    // Not (or no longer) swapped, yet it did not open: fail closed all the same, saying why.
    throw new AirlockError(
      'permission-denied',
      `filesystem mount ${g.mount}: cannot open the granted path ${g.hostPath} without following symlinks (${code})`,
      {
        cause: e,
        details: { mount: g.mount, hostPath: g.hostPath, resolvesTo: now ?? null },
      },
    );
  }
}

/**
 * Root fds pinned for the life of the process, by canonical path and inode.
 * They are never closed: a command line already handed out names the fd
 * number, and a reused number would name something else. Bounded by the
 * distinct folders ever granted.
 */
const pinned = new Map<string, number>();

/**
 * A name for the granted folder that no later rename or symlink can
 * redirect: `/proc/<airlock pid>/fd/<n>` of an fd opened by `openGrantRoot`.
 * A child process (wasmtime) opening it gets this very folder. Throws
 * `permission-denied` when the path was swapped.
 */
export function pinnedGrantPath(g: FilesystemGrant): string {
  const fd = openGrantRoot(g, O_RDONLY | O_DIRECTORY);
  const st = fstatSync(fd);
  const key = `${st.dev}:${st.ino}:${g.hostPath}`;
  const have = pinned.get(key);
  if (have !== undefined && sameFile(have, st)) {
    closeSync(fd);
    return `/proc/${process.pid}/fd/${have}`;
  }
  pinned.set(key, fd);
  return `/proc/${process.pid}/fd/${fd}`;
}

function sameFile(fd: number, st: { dev: number; ino: number }): boolean {
  try {
    const s = fstatSync(fd);
    return s.dev === st.dev && s.ino === st.ino;
  } catch {
    return false;
  }
}

/**
 * True when something (a symlink included) is at `hostPath` now. A path that
 * is simply missing cannot be pinned; the engine then fails when it opens it.
 */
export function exists(hostPath: string): boolean {
  try {
    lstatSync(hostPath);
    return true;
  } catch {
    return false;
  }
}
