/**
 * The glue workers import: the text the transpile step verified (its seal),
 * written once per process into a private folder (mode 0700, removed at
 * exit) and imported by `file:` URL. Workers never import the cache entry
 * itself, so an entry deleted or damaged while the plugin runs (a prune, a
 * full disk) cannot break the workers that replace killed ones; and a file
 * costs a worker no base64 decoding of a `data:` URL (~10 ms for 258 KB).
 * Beside it, the glue as a classic script (glueScript) and V8's code cache
 * of that script, which workers write (./glue-load.ts).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let folder: string | undefined;
const written = new Map<string, Promise<GlueFiles>>();

function privateFolder(): string {
  if (folder === undefined) {
    folder = mkdtempSync(join(tmpdir(), `airlock-glue-${process.pid}-`));
    const made = folder;
    process.once('exit', () => {
      try {
        rmSync(made, { recursive: true, force: true, maxRetries: 2, retryDelay: 10 });
      } catch {
        // A worker still writing its code cache as the process ends (ENOTEMPTY): an exit must not throw for it.
      }
    });
  }
  return folder;
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
    const text = `${source}\n//# sourceURL=${name}\n`;
    const base = join(privateFolder(), createHash('sha256').update(text).digest('hex'));
    const script = glueScript(source);
    files = Promise.all([write(`${base}.mjs`, text), script === undefined ? undefined : write(`${base}.js`, script)]).then(([mjs, js]) => ({
      url: pathToFileURL(mjs).href,
      ...(js === undefined ? {} : { script: { path: js, cache: `${base}.code` } }),
    }));
    written.set(source, files);
    // A failed write is tried again by the next load.
    files.catch(() => written.delete(source));
  }
  return files;
}
