/**
 * The path walk: how a guest path below an open directory becomes a host
 * object, without ever leaving that directory. Pure over fds and paths (no
 * grant, quota or WASI object); the descriptor (./descriptor.ts) calls it.
 *
 * Paths are resolved one component at a time relative to an fd, through
 * `/proc/self/fd/<fd>/<name>` (Linux's openat: the parent is the
 * already-open directory, not a path that can be swapped), each component
 * opened with O_NOFOLLOW, so:
 * - `..` that climbs above the starting directory, and absolute paths, fail
 *   (`not-permitted`); a NUL fails (`invalid`);
 * - symlinks are never followed, anywhere on the path (`loop`);
 * - only regular files and directories open: the type is checked with lstat
 *   before the open and fstat after it, and the open itself is O_NONBLOCK,
 *   so a FIFO never blocks (`not-permitted`).
 * Errors are thrown as WASI error-code strings (./errors.ts).
 */
import { constants, fstatSync, lstatSync } from 'node:fs';
import { wasiCode } from './errors.ts';
import { closeFd, openFd } from './fds.ts';
import type { Quota } from './quota.ts';
import { typeOf } from './stat.ts';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
export const O_CLOEXEC = 0o2000000;

/** The /proc path of an open fd, or of `name` inside that directory fd (openat by path). */
export const fdPath = (fd: number, name?: string): string => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

/** Normalizes a guest path into components; `..` may not climb above the descriptor. */
export function splitGuestPath(path: string): string[] {
  if (path.startsWith('/')) throw 'not-permitted';
  if (path.includes('\0')) throw 'invalid';
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.pop() === undefined) throw 'not-permitted';
      continue;
    }
    out.push(seg);
  }
  return out;
}

/** Where a walk ended: the parent directory's fd, the final name, and what closes the fds it opened. */
export interface Walked {
  dir: number;
  name: string;
  release: () => void;
}

/**
 * Resolves `path` below the directory `start` to [parent directory fd, final
 * name], opening each directory component with O_NOFOLLOW; the final name is
 * not opened. The returned fd must be released with `release` (it may be
 * `start` itself). A path that names `start` itself gives name '.'.
 */
export function walk(start: number, path: string): Walked {
  const parts = splitGuestPath(path);
  const name = parts.pop() ?? '.';
  let cur = start;
  const opened: number[] = [];
  const release = (): void => {
    for (const fd of opened) closeFd(fd);
  };
  try {
    for (const seg of parts) {
      cur = openFd(fdPath(cur, seg), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      opened.push(cur);
    }
  } catch (e) {
    release();
    throw wasiCode(e);
  }
  return { dir: cur, name, release };
}

/** Runs `fn` on the /proc path of `path` below `start` (its final component is not followed by the walk; `fn` decides). */
export function atPath<T>(start: number, path: string, fn: (p: string) => T): T {
  const w = walk(start, path);
  try {
    return fn(fdPath(w.dir, w.name));
  } catch (e) {
    throw wasiCode(e);
  } finally {
    w.release();
  }
}

/**
 * Opens `path` below `start` with `flags`: type-checked before (lstat: no
 * symlink, FIFO, socket or device is ever opened) and after (fstat: the thing
 * opened is the thing checked), non-blocking, never following. A missing
 * final name is an error unless `allowMissing` (O_CREAT). `q`, when given,
 * is charged one file for a new entry and refunded what O_TRUNC freed; the
 * caller holds its lock.
 */
export function openBelow(start: number, path: string, flags: number, allowMissing: boolean, q: Quota | undefined): number {
  const w = walk(start, path);
  try {
    const p = fdPath(w.dir, w.name);
    let pre: string | undefined;
    let preSize = 0;
    try {
      const st = lstatSync(p);
      pre = typeOf(st);
      preSize = st.size;
    } catch (e) {
      if (!(allowMissing && (e as { code?: string }).code === 'ENOENT')) throw e;
    }
    if (pre === 'symbolic-link') throw 'loop';
    if (pre !== undefined && pre !== 'regular-file' && pre !== 'directory') throw 'not-permitted';
    // A new file takes one entry of the quota (refunded if the open fails).
    const creates = q !== undefined && pre === undefined;
    if (creates) q.takeFile();
    let fd: number;
    try {
      fd = openFd(p, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o644);
    } catch (e) {
      if (creates) q.freeFile();
      throw e;
    }
    const st = fstatSync(fd);
    const post = typeOf(st);
    // O_TRUNC freed what the file held.
    if (q !== undefined && pre === 'regular-file' && post === 'regular-file' && st.size < preSize) q.freeBytes(preSize - st.size);
    if (post !== 'regular-file' && post !== 'directory') {
      closeFd(fd);
      throw 'not-permitted';
    }
    return fd;
  } catch (e) {
    throw wasiCode(e);
  } finally {
    w.release();
  }
}
