/**
 * Content hashes of plugin folders: the cache key of builds, image tags and
 * reloads. The hash covers each file's relative path, executable bit and
 * bytes (symlinks by their target text), in sorted order, so it is the same on
 * every machine and changes whenever anything a build could see changes.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { AirlockError } from './errors.ts';

export interface HashOptions {
  /** Relative POSIX paths to leave out (a folder leaves out everything below it). */
  ignore?: (relPath: string, isDirectory: boolean) => boolean;
  /** More text that belongs in the key (template text, base image, tool versions). */
  extra?: string[];
  /** Refuse folders larger than this many files (default 20,000). */
  maxFiles?: number;
}

const ALWAYS_IGNORED = new Set(['.git', '.airlock-cache']);

export async function hashTree(dir: string, options: HashOptions = {}): Promise<string> {
  const hash = createHash('sha256');
  const maxFiles = options.maxFiles ?? 20_000;
  let files = 0;
  const walk = async (abs: string): Promise<void> => {
    const entries = (await readdir(abs, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const path = join(abs, e.name);
      const rel = relative(dir, path).split(sep).join('/');
      if (ALWAYS_IGNORED.has(e.name) || options.ignore?.(rel, e.isDirectory()) === true) continue;
      if (++files > maxFiles) throw new AirlockError('build-failed', `${dir} has more than ${maxFiles} files; add an ignore file or move data out of the plugin folder`);
      if (e.isDirectory()) {
        hash.update(`d ${rel}\0`);
        await walk(path);
      } else if (e.isSymbolicLink()) {
        hash.update(`l ${rel}\0${await readlink(path)}\0`);
      } else if (e.isFile()) {
        const st = await lstat(path);
        hash.update(`f ${rel} ${st.mode & 0o111 ? 'x' : '-'} ${st.size}\0`);
        // Streamed: a large file in a plugin folder must not be held in memory whole.
        for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
      }
    }
  };
  await walk(dir);
  for (const e of options.extra ?? []) hash.update(`e ${e.length}\0${e}`);
  return hash.digest('hex');
}
