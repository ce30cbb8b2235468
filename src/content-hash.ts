/**
 * Content hashes of plugin folders: the cache key of builds, image tags and
 * reloads. The hash covers each file's relative path, executable bit and
 * bytes (symlinks by their target text), in sorted order, so it is the same on
 * every machine and changes whenever anything a build could see changes.
 * The folder is walked and read with src/plugin-files (bounded, FIFOs and
 * devices refused, links out of the folder refused).
 */
import { readPluginFileChunks, TREE_LIMITS, walkPluginTree } from './plugin-files/index.ts';

export interface HashOptions {
  /** Relative POSIX paths to leave out (a folder leaves out everything below it). */
  ignore?: (relPath: string, isDirectory: boolean) => boolean;
  /** More text that belongs in the key (template text, base image, tool versions). */
  extra?: string[];
  /** Refuse folders larger than this many files (default: TREE_LIMITS). */
  maxFiles?: number;
  /** How to make a folder past the bounds smaller (default: an ignore file, or moving data out). */
  hint?: string;
}

const ALWAYS_IGNORED = new Set(['.git', '.airlock-cache']);

export async function hashTree(dir: string, options: HashOptions = {}): Promise<string> {
  // node:crypto on first use: importing the host does not load it (issue 21).
  const hash = process.getBuiltinModule('node:crypto').createHash('sha256');
  const { folder, entries } = await walkPluginTree(dir, {
    code: 'build-failed',
    ignore: (rel, isDir) => ALWAYS_IGNORED.has(rel.slice(rel.lastIndexOf('/') + 1)) || options.ignore?.(rel, isDir) === true,
    limits: { maxEntries: options.maxFiles ?? TREE_LIMITS.maxEntries },
    hint: options.hint ?? 'add an ignore file or move data out of the plugin folder',
  });
  for (const e of entries) {
    if (e.type === 'dir') hash.update(`d ${e.rel}\0`);
    else if (e.type === 'symlink') hash.update(`l ${e.rel}\0${e.linkTarget}\0`);
    else {
      hash.update(`f ${e.rel} ${e.executable ? 'x' : '-'} ${e.size}\0`);
      // Streamed in bounded chunks: a large file must not be held in memory whole. The walk's size is the cap.
      for await (const chunk of readPluginFileChunks(folder, e.rel, { code: 'build-failed', maxBytes: e.size })) hash.update(chunk);
    }
  }
  for (const e of options.extra ?? []) hash.update(`e ${e.length}\0${e}`);
  return hash.digest('hex');
}
