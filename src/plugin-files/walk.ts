/**
 * The bounded walker of a plugin folder: every entry (sorted by name,
 * folders before what they hold), with lstat's view of it. Bounded in
 * entries, total file bytes and depth, each checked before the walk goes on.
 * The rule for what a folder may hold:
 * - regular files and folders: walked;
 * - symlinks: reported with their link text (as Airlock always did) when
 *   they resolve inside the folder; out of it, nowhere, or in a loop: refused;
 * - FIFOs, sockets and devices: refused (nothing a build or a hash should
 *   open), unless `ignore` leaves them out first.
 * Nothing is opened here; reading a file is readPluginFile's job.
 */
import type { Dirent } from 'node:fs';
import { lstat, opendir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { isAirlockError } from '../errors.ts';
import { fileError, kindOf, type FileErrorCode } from './fail.ts';
import { folder, locate, type Folder } from './inside.ts';
import { TREE_LIMITS, type TreeLimits } from './limits.ts';

export interface TreeEntry {
  /** POSIX path relative to the plugin folder. */
  rel: string;
  /** Absolute path (through the folder as given). */
  abs: string;
  type: 'file' | 'dir' | 'symlink';
  /** lstat size (files). */
  size: number;
  /** Any executable bit set (files). */
  executable: boolean;
  /** Symlinks: the link text, and where it resolves (inside the folder). */
  linkTarget?: string;
  realTarget?: string;
}

export interface WalkOptions {
  code: FileErrorCode;
  /** Leaves an entry (and all below a folder) out, before any check. */
  ignore?: (relPath: string, isDirectory: boolean) => boolean;
  limits?: Partial<TreeLimits>;
  /** How to make a folder smaller (for the limit messages). */
  hint?: string;
}

const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
/** Directory entries read per opendir batch (one thread-pool task each). */
const LIST_BATCH = 512;

/**
 * A folder's entries, unsorted, read in batches: `onEntry` sees each as it is read and throws to stop, so a
 * folder of millions of names (a plugin's, or one its build-time code wrote) is never listed whole in memory.
 */
export async function listFolder(abs: string, onEntry: (e: Dirent) => void): Promise<Dirent[]> {
  const found: Dirent[] = [];
  // The iterator closes the directory when the loop ends or throws.
  for await (const e of await opendir(abs, { bufferSize: LIST_BATCH })) {
    onEntry(e);
    found.push(e);
  }
  return found;
}

export async function walkPluginTree(dir: string | Folder, o: WalkOptions): Promise<{ folder: Folder; entries: TreeEntry[] }> {
  const f = typeof dir === 'string' ? await folder(dir, o.code) : dir;
  const limits = { ...TREE_LIMITS, ...o.limits };
  const hint = o.hint ?? 'move data out of the plugin folder';
  const entries: TreeEntry[] = [];
  let bytes = 0;
  let listed = 0;
  const countListed = (abs: string) => (): void => {
    if (++listed > limits.maxListed) throw fileError(o.code, 'tree', abs, `lists more than ${limits.maxListed} entries (ignored ones included)`, hint);
  };
  const walk = async (abs: string, rel: string, depth: number): Promise<void> => {
    if (depth > limits.maxDepth) throw fileError(o.code, 'tree', abs, `is nested more than ${limits.maxDepth} folders deep in the plugin folder`, hint);
    const listing = (await listFolder(abs, countListed(abs))).sort(byName);
    for (const e of listing) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      const p = join(abs, e.name);
      if (o.ignore?.(r, e.isDirectory()) === true) continue;
      if (entries.length >= limits.maxEntries) throw fileError(o.code, 'tree', f.dir, `has more than ${limits.maxEntries} files, folders and symlinks`, hint);
      if (e.isDirectory()) {
        entries.push({ rel: r, abs: p, type: 'dir', size: 0, executable: false });
        await walk(p, r, depth + 1);
      } else if (e.isSymbolicLink()) {
        const linkTarget = await readlink(p);
        let real: string;
        try {
          // Walked inside the folder only (./inside.ts): a link out of it is refused before its target is touched.
          real = (await locate(o.code, f, r)).real;
        } catch (err) {
          const reason = isAirlockError(err) ? err.details.reason : undefined;
          if (reason === 'outside')
            throw fileError(
              o.code,
              'outside',
              p,
              `a symlink leading outside the plugin folder (to ${linkTarget})`,
              'replace it with the file itself, inside the plugin folder',
              err,
            );
          const loop = reason === 'loop';
          throw fileError(
            o.code,
            loop ? 'loop' : 'outside',
            p,
            loop ? 'is a symlink loop' : `is a symlink to ${linkTarget}, which does not exist`,
            'replace the symlink with the file itself, or remove it',
            err,
          );
        }
        entries.push({ rel: r, abs: p, type: 'symlink', size: 0, executable: false, linkTarget, realTarget: real });
      } else if (e.isFile()) {
        const st = await lstat(p);
        bytes += st.size;
        if (bytes > limits.maxBytes) throw fileError(o.code, 'tree', f.dir, `holds more than ${limits.maxBytes} bytes of files (at ${r})`, hint);
        entries.push({ rel: r, abs: p, type: 'file', size: st.size, executable: (st.mode & 0o111) !== 0 });
      } else {
        const st = await lstat(p);
        throw fileError(
          o.code,
          'type',
          p,
          `is ${kindOf(st)}; a plugin folder holds only files, folders and symlinks inside it`,
          'remove it from the plugin folder',
        );
      }
    }
  };
  await walk(f.dir, '', 0);
  return { folder: f, entries };
}
