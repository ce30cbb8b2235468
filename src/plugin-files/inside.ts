/**
 * Where a path inside a plugin folder really is. Symlinks that stay inside
 * the folder are followed (as Airlock always did); one that leads out of it,
 * nowhere, or round in a loop is refused. Only lstat/readlink are used here:
 * nothing is opened, so a FIFO or device is never touched.
 */
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
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

/** `rel` resolved inside the folder: `{ file }` as named (for messages), `{ real }` canonical. */
export function locateSync(code: FileErrorCode, f: Folder, rel: string): { file: string; real: string } {
  const file = start(code, f, rel);
  let real: string;
  try {
    real = realpathSync(file);
  } catch (err) {
    return refuse(code, f, file, err);
  }
  return { file, real: checkReal(code, f, file, real) };
}

export async function locate(code: FileErrorCode, f: Folder, rel: string): Promise<{ file: string; real: string }> {
  const file = start(code, f, rel);
  let real: string;
  try {
    real = await realpath(file);
  } catch (err) {
    return refuse(code, f, file, err);
  }
  return { file, real: checkReal(code, f, file, real) };
}
