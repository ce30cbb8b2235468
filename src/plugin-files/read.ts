/**
 * The bounded reader for one file inside a plugin folder. In order:
 * resolve it inside the folder (inside.ts, whose walk lstats each name) and
 * refuse anything but a regular file (a FIFO or device is never opened),
 * open it one folder at a time from the plugin folder (each opened
 * O_DIRECTORY|O_NOFOLLOW, the next found through its /proc/self/fd link, as
 * the guest path walk does), the file itself O_NOFOLLOW|O_NONBLOCK|O_NOCTTY
 * (a file or a parent folder swapped for a symlink fails before anything it
 * leads to is opened, a swap to a FIFO or device cannot block the open),
 * check the opened fd (its
 * /proc/self/fd path is inside the folder, fstat says regular file), refuse
 * it above `maxBytes` before reading, then read at most its fstat size.
 * The async form reads in chunks, so no libuv thread-pool slot is held for
 * longer than one bounded read.
 */
import { closeSync, constants, existsSync, fstatSync, lstatSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { lstat, open, type FileHandle } from 'node:fs/promises';
import { fileError, kindOf, type FileErrorCode } from './fail.ts';
import { relative, sep } from 'node:path';
import { folder, folderSync, isInside, locate, locateSync, type Folder } from './inside.ts';

export interface ReadOptions {
  code: FileErrorCode;
  /** Refused when larger (checked with fstat, before any byte is read). */
  maxBytes: number;
  /** How to fix an oversized file. */
  sizeHint?: string;
}

const FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY; // libuv adds O_CLOEXEC itself
const CHUNK = 1024 * 1024;
const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;
/** Linux's openat by path; without /proc (not Linux) the canonical path is opened and checked after (checkOpened). */
const PROC = existsSync('/proc/self/fd');

/** `real`'s folders below the plugin folder, and its name (canonical: none is a symlink unless swapped since). */
function steps(f: Folder, real: string): { folders: string[]; name: string } {
  const folders = relative(f.real, real).split(sep);
  return { name: folders.pop() ?? '', folders };
}

/** Opens `real` one folder at a time from the plugin folder, never following a symlink. */
function openBelowSync(f: Folder, real: string): number {
  if (!PROC) return openSync(real, FLAGS);
  const { folders, name } = steps(f, real);
  let dir = openSync(f.real, DIR_FLAGS);
  try {
    for (const step of folders) {
      const next = openSync(`/proc/self/fd/${dir}/${step}`, DIR_FLAGS);
      closeSync(dir);
      dir = next;
    }
    return openSync(`/proc/self/fd/${dir}/${name}`, FLAGS);
  } finally {
    closeSync(dir);
  }
}

async function openBelow(f: Folder, real: string): Promise<FileHandle> {
  if (!PROC) return open(real, FLAGS);
  const { folders, name } = steps(f, real);
  let dir = await open(f.real, DIR_FLAGS);
  try {
    for (const step of folders) {
      const next = await open(`/proc/self/fd/${dir.fd}/${step}`, DIR_FLAGS);
      await dir.close();
      dir = next;
    }
    return await open(`/proc/self/fd/${dir.fd}/${name}`, FLAGS);
  } finally {
    await dir.close();
  }
}

function checkType(code: FileErrorCode, file: string, st: Stats): void {
  if (!st.isFile()) throw fileError(code, 'type', file, `is ${kindOf(st)}, not a regular file`, 'replace it with a regular file');
}

function checkSize(o: ReadOptions, file: string, size: number): void {
  if (size > o.maxBytes)
    throw fileError(o.code, 'size', file, `is ${size} bytes; the limit is ${o.maxBytes}`, o.sizeHint ?? 'keep large data out of the plugin folder');
}

/** The opened fd is the file we checked: inside the folder, regular, within the cap. */
function checkOpened(o: ReadOptions, f: Folder, file: string, fd: number, st: Stats): void {
  let at: string | undefined;
  try {
    at = readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    at = undefined; // no /proc (not Linux): the lstat and O_NOFOLLOW checks stand alone
  }
  if (at !== undefined && !isInside(f.real, at))
    throw fileError(o.code, 'outside', file, `was swapped for ${at}, outside the plugin folder`, 'do not change the plugin folder while Airlock reads it');
  checkType(o.code, file, st);
  checkSize(o, file, st.size);
}

function openFailed(o: ReadOptions, file: string, err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  // ELOOP: a symlink where the checked file or folder was; ENOTDIR: a folder on its path swapped for something else.
  if (e.code === 'ELOOP' || e.code === 'ENOTDIR')
    throw fileError(o.code, 'outside', file, 'was swapped for a symlink while being opened', 'do not change the plugin folder while Airlock reads it', err);
  throw fileError(o.code, 'missing', file, `cannot be opened (${e.code ?? String(err)})`, 'check that it exists and is readable', err);
}

/** Checks `rel` as the reader would, without opening it: inside the folder, a regular file. Returns its canonical path. */
export function checkPluginFileSync(dir: string | Folder, rel: string, code: FileErrorCode): { file: string; real: string; size: number } {
  const f = typeof dir === 'string' ? folderSync(dir, code) : dir;
  const { file, real, stats } = locateSync(code, f, rel);
  // The walk's own lstat of the last name (./inside.ts): the folder itself has none.
  const st = stats ?? lstatSync(real);
  checkType(code, file, st);
  return { file, real, size: st.size };
}

/** Reads `rel` (relative to the plugin folder `dir`, or an absolute path inside it). Synchronous: for the manifest path. */
export function readPluginFileSync(dir: string | Folder, rel: string, o: ReadOptions): Buffer {
  const f = typeof dir === 'string' ? folderSync(dir, o.code) : dir;
  const { file, real, stats } = locateSync(o.code, f, rel);
  checkType(o.code, file, stats ?? lstatSync(real));
  let fd: number;
  try {
    fd = openBelowSync(f, real);
  } catch (err) {
    return openFailed(o, file, err);
  }
  try {
    const st = fstatSync(fd);
    checkOpened(o, f, file, fd, st);
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const n = readSync(fd, buf, got, st.size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The file opened after every check (caller closes the handle); `size` is its fstat size, at most `maxBytes`. */
export async function openPluginFile(
  dir: string | Folder,
  rel: string,
  o: ReadOptions,
): Promise<{ handle: FileHandle; size: number; folder: Folder; file: string }> {
  const f = typeof dir === 'string' ? await folder(dir, o.code) : dir;
  const { file, real, stats } = await locate(o.code, f, rel);
  checkType(o.code, file, stats ?? (await lstat(real)));
  const handle = await openBelow(f, real).catch((err: unknown) => openFailed(o, file, err));
  try {
    const st = await handle.stat();
    checkOpened(o, f, file, handle.fd, st);
    return { handle, size: st.size, folder: f, file };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

/** The file's bytes in chunks of at most 1 MiB, each one bounded read. */
export async function* readPluginFileChunks(dir: string | Folder, rel: string, o: ReadOptions): AsyncGenerator<Buffer> {
  const { handle, size } = await openPluginFile(dir, rel, o);
  try {
    let pos = 0;
    while (pos < size) {
      const want = Math.min(CHUNK, size - pos);
      const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(want), 0, want, pos);
      if (bytesRead === 0) break;
      pos += bytesRead;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** The whole file (at most `maxBytes`), asynchronously. */
export async function readPluginFile(dir: string | Folder, rel: string, o: ReadOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of readPluginFileChunks(dir, rel, o)) parts.push(chunk);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
