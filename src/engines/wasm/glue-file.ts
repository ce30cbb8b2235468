/**
 * The glue workers import: the text the transpile step verified (its seal),
 * written once per process into a private folder and imported by `file:`
 * URL. Workers never import the cache entry itself, so an entry deleted or
 * damaged while the plugin runs (a prune, a full disk) cannot break the
 * workers that replace killed ones; and a file costs a worker no base64
 * decoding of a `data:` URL (~10 ms for 258 KB). Beside it, the glue as a
 * classic script (glueScript); V8's code cache of that script, which
 * workers write (./glue-load.ts), is shared by every process
 * (cacheDir('glue-code')).
 *
 * The folders live under the Airlock cache (cacheDir('glue'), mode 0700),
 * one per process, named by the machine and the process id. A process
 * removes its own at exit; one killed (SIGKILL, a crash) cannot, so the
 * next process to write glue removes the folders of this machine whose
 * process is gone (a bounded number per start, off the load's path).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { opendir, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cacheDir } from '../../paths.ts';

let folder: string | undefined;
const written = new Map<string, Promise<GlueFiles>>();

/** How many entries of the glue root one process examines for leftovers (the rest wait for later processes). */
export const SWEEP_LIMIT = 256;

/**
 * This machine and pid namespace, as a folder-name prefix: a process id
 * means something only there (a cache shared with a container or over NFS
 * holds folders of processes this one cannot see).
 */
export const GLUE_OWNER = (() => {
  let ns = '';
  try {
    ns = readlinkSync('/proc/self/ns/pid');
  } catch {
    // Not Linux: the host name alone.
  }
  return createHash('sha256').update(`${hostname()}\0${ns}`).digest('hex').slice(0, 12);
})();

const OWNED = new RegExp(`^${GLUE_OWNER}-(\\d+)-`);

/** Whether process `pid` of this machine is running (EPERM: it is, under another user). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the glue folders of this machine's processes that are gone (at most SWEEP_LIMIT entries looked at). Never throws. */
export async function sweepGlueFolders(root = cacheDir('glue')): Promise<void> {
  try {
    const dir = await opendir(root);
    let seen = 0;
    for await (const e of dir) {
      if (++seen > SWEEP_LIMIT) break;
      const pid = Number(OWNED.exec(e.name)?.[1] ?? Number.NaN);
      if (!Number.isSafeInteger(pid) || pid === process.pid || alive(pid)) continue;
      await rm(join(root, e.name), { recursive: true, force: true }).catch(() => {});
    }
  } catch {
    // No root yet, or unreadable: nothing to sweep.
  }
}

/** Settles once this process's sweep is over (tests). */
export let swept: Promise<void> = Promise.resolve();

function privateFolder(): string {
  if (folder === undefined) {
    const root = cacheDir('glue');
    mkdirSync(root, { recursive: true, mode: 0o700 });
    folder = mkdtempSync(join(root, `${GLUE_OWNER}-${process.pid}-`));
    const made = folder;
    process.once('exit', () => {
      try {
        rmSync(made, { recursive: true, force: true, maxRetries: 2, retryDelay: 10 });
      } catch {
        // A worker still writing its code cache as the process ends (ENOTEMPTY): an exit must not throw for it.
      }
    });
    swept = sweepGlueFolders(root);
  }
  return folder;
}

/**
 * Where V8's code cache of a glue goes: beside the other caches, not in the
 * process's folder, so a fresh process (`airlock call`) takes what an
 * earlier one compiled instead of compiling the glue and writing the cache
 * again (~7 ms). Named by the glue's text and Node's version; V8 refuses a
 * cache of another V8 or other flags, and the worker then writes it again
 * (./glue-load.ts).
 */
function codeCachePath(hash: string): string {
  // Its folder is made by whoever writes the cache (../../code-cache.ts), not on every load.
  return join(cacheDir('glue-code'), codeCacheName(hash));
}

function codeCacheName(hash: string): string {
  return `${hash}-node${process.versions.node}.code`;
}

/** The text a glue's files hold: its source, with a sourceURL naming where it came from (stack traces name the cache file). */
function glueText(source: string, name: string): string {
  return `${source}\n//# sourceURL=${name}\n`;
}

/** The name of V8's code cache for the glue at `path` (`airlock prune` keeps those of the components in use). */
export function glueCodeCacheName(source: string, path: string): string {
  return codeCacheName(
    createHash('sha256')
      .update(glueText(source, pathToFileURL(path).href))
      .digest('hex'),
  );
}

/** Where a worker finds the glue as a classic script, and where V8's code cache of it goes (./glue-load.ts). */
export interface GlueScript {
  path: string;
  cache: string;
}

export interface GlueFiles {
  /** The ESM glue's `file:` URL. */
  url: string;
  /** The same glue as a classic script (glueScript); absent when the glue has another shape. */
  script?: GlueScript;
}

/** What only a module may contain: a glue with any of it stays a module. */
const MODULE_SYNTAX = /^\s*(?:import|export)\b|\bimport\s*\(|\bimport\.meta\b/m;

/**
 * jco's instantiation-mode glue (top-level declarations, `export function
 * instantiate` and `export const _util`) as a classic script evaluating to a
 * function that returns `instantiate`. A script, unlike a module, takes V8's
 * code cache made after it ran (vm.Script cachedData), so a worker gets
 * `instantiate` and the call path compiled by an earlier worker: that is most
 * of a cached component's cold start (issue 21). Line numbers stay those of
 * the glue. Undefined for any other shape (imports, other exports).
 */
export function glueScript(source: string): string | undefined {
  const body = source.replace(/^export (?=(?:function|const|let|class) )/gm, '');
  if (MODULE_SYNTAX.test(body) || !/^function instantiate\(/m.test(body)) return undefined;
  return `(function () { "use strict"; ${body}\nreturn instantiate;\n})\n`;
}

/** Glue texts this process wrote lately (the text is the key: no hashing of a 258 KB string per load). */
const RECENT = 16;

async function write(path: string, text: string): Promise<string> {
  try {
    await writeFile(path, text, { mode: 0o400, flag: 'wx' });
  } catch (e) {
    // Written before and forgotten since (RECENT): named by its hash, so the same text.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return path;
    // Half a file must not pass for a written one next time.
    await rm(path, { force: true });
    throw e;
  }
  return path;
}

/**
 * The glue's files for workers: the ESM text (with a sourceURL naming where
 * it came from, so stack traces name the cache file) and its script form.
 * Written once per distinct text per process.
 */
export function glueFiles(source: string, name: string): Promise<GlueFiles> {
  let files = written.get(source);
  if (files !== undefined) {
    // Most recent last.
    written.delete(source);
    written.set(source, files);
  } else {
    for (const old of written.keys()) {
      if (written.size < RECENT) break;
      written.delete(old);
    }
    const text = glueText(source, name);
    const hash = createHash('sha256').update(text).digest('hex');
    const base = join(privateFolder(), hash);
    const script = glueScript(source);
    files = Promise.all([write(`${base}.mjs`, text), script === undefined ? undefined : write(`${base}.js`, script)]).then(([mjs, js]) => ({
      url: pathToFileURL(mjs).href,
      ...(js === undefined ? {} : { script: { path: js, cache: codeCachePath(hash) } }),
    }));
    written.set(source, files);
    // A failed write is tried again by the next load.
    files.catch(() => written.delete(source));
  }
  return files;
}
