/**
 * Where a path inside a plugin folder really is. Symlinks that stay inside
 * the folder are followed (as Airlock always did); one that leads out of it,
 * nowhere, or round in a loop is refused. Only lstat/readlink are used here:
 * nothing is opened, so a FIFO or device is never touched. The path is walked
 * one name at a time from the canonical folder, and a link's target is
 * checked against the folder before anything it names is looked at: a link
 * to a hung network mount or an automounter's folder (`/net/<host>/…`) is
 * refused without touching it (realpath would stat it first, holding the
 * event loop or a thread-pool slot for as long as the mount hangs).
 */
import { lstatSync, readlinkSync, realpathSync, type Stats } from 'node:fs';
import { lstat, readlink, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { isAirlockError } from '../errors.ts';
import { fileError, type FileErrorCode } from './fail.ts';

/** A plugin folder as given (for messages) and canonical (for containment). */
export interface Folder {
  dir: string;
  real: string;
}

export function isInside(realDir: string, realPath: string): boolean {
  return realPath === realDir || realPath.startsWith(realDir.endsWith(sep) ? realDir : `${realDir}${sep}`);
}

function lexicallyOutside(dir: string, file: string): boolean {
  const rel = relative(dir, file);
  return rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel);
}

function refuse(code: FileErrorCode, folder: Folder, file: string, err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' || e.code === 'ENOTDIR')
    throw fileError(code, 'missing', file, `not found in ${folder.dir}`, 'create it, or fix the name that points at it', err);
  if (e.code === 'ELOOP') throw fileError(code, 'loop', file, 'is a symlink loop', 'replace the symlink with the file itself', err);
  throw fileError(code, 'missing', file, `cannot be read (${e.code ?? String(err)})`, 'check its permissions', err);
}

function checkReal(code: FileErrorCode, folder: Folder, file: string, real: string): string {
  if (!isInside(folder.real, real)) {
    throw fileError(code, 'outside', file, `resolves to ${real}, outside the plugin folder`, 'replace the symlink with the file itself');
  }
  return real;
}

function start(code: FileErrorCode, folder: Folder, rel: string): string {
  const file = resolve(folder.dir, rel);
  if (lexicallyOutside(folder.dir, file))
    throw fileError(code, 'outside', file, 'is outside the plugin folder', 'name a file inside the plugin folder, relative to plugin.yaml');
  return file;
}

export function folderSync(dir: string, code: FileErrorCode): Folder {
  const abs = resolve(dir);
  try {
    return { dir: abs, real: realpathSync(abs) };
  } catch (err) {
    return refuse(code, { dir: abs, real: abs }, abs, err);
  }
}

export async function folder(dir: string, code: FileErrorCode): Promise<Folder> {
  const abs = resolve(dir);
  try {
    return { dir: abs, real: await realpath(abs) };
  } catch (err) {
    return refuse(code, { dir: abs, real: abs }, abs, err);
  }
}

/** Links followed for one path at most, as the kernel's MAXSYMLINKS. */
const MAX_LINKS = 40;

/** What the walk asks of the file system: lstat or readlink of a path inside the folder. */
type Ask = { lstat: string } | { readlink: string };

/** A path inside the folder: as named (for messages), canonical, and the lstat of what it names (none for the folder itself). */
export interface Located {
  file: string;
  real: string;
  stats?: Stats;
}

/**
 * `file` (lexically inside the folder) resolved as realpath would, asking only of paths inside the folder:
 * a link's target is resolved lexically from the canonical folder it sits in and refused when outside,
 * before anything it names is looked at.
 */
function* walk(code: FileErrorCode, f: Folder, file: string): Generator<Ask, Located, Stats | string> {
  const todo = names(relative(f.dir, file));
  let current = f.real;
  let last: Stats | undefined;
  let links = 0;
  while (todo.length > 0) {
    const next = join(current, todo.shift()!);
    const st = (yield { lstat: next }) as Stats;
    if (!st.isSymbolicLink()) {
      current = next;
      last = st;
      continue;
    }
    if (++links > MAX_LINKS) throw fileError(code, 'loop', file, 'is a symlink loop', 'replace the symlink with the file itself');
    const target = resolve(current, (yield { readlink: next }) as string);
    checkReal(code, f, file, target);
    // Walked again from the folder: the target's own names may be links too.
    todo.unshift(...names(relative(f.real, target)));
    current = f.real;
    last = undefined;
  }
  return { file, real: current, ...(last === undefined ? {} : { stats: last }) };
}

const names = (rel: string): string[] => rel.split(sep).filter((c) => c !== '' && c !== '.');

function runSync(g: Generator<Ask, Located, Stats | string>): Located {
  let step = g.next();
  while (step.done !== true) step = g.next('lstat' in step.value ? lstatSync(step.value.lstat) : readlinkSync(step.value.readlink));
  return step.value;
}

async function run(g: Generator<Ask, Located, Stats | string>): Promise<Located> {
  let step = g.next();
  while (step.done !== true) step = g.next('lstat' in step.value ? await lstat(step.value.lstat) : await readlink(step.value.readlink));
  return step.value;
}

/** `rel` resolved inside the folder (see Located). */
export function locateSync(code: FileErrorCode, f: Folder, rel: string): Located {
  const file = start(code, f, rel);
  try {
    return runSync(walk(code, f, file));
  } catch (err) {
    if (isAirlockError(err)) throw err;
    return refuse(code, f, file, err);
  }
}

export async function locate(code: FileErrorCode, f: Folder, rel: string): Promise<Located> {
  const file = start(code, f, rel);
  try {
    return await run(walk(code, f, file));
  } catch (err) {
    if (isAirlockError(err)) throw err;
    return refuse(code, f, file, err);
  }
}
