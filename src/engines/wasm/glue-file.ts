/**
 * The glue workers import: the text the transpile step verified (its seal),
 * written once per process into a private folder (mode 0700, removed at
 * exit) and imported by `file:` URL. Workers never import the cache entry
 * itself, so an entry deleted or damaged while the plugin runs (a prune, a
 * full disk) cannot break the workers that replace killed ones; and a file
 * costs a worker no base64 decoding of a `data:` URL (~10 ms for 258 KB).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

let folder: string | undefined;
const written = new Map<string, Promise<string>>();

function privateFolder(): string {
  if (folder === undefined) {
    folder = mkdtempSync(join(tmpdir(), `airlock-glue-${process.pid}-`));
    const made = folder;
    process.once('exit', () => rmSync(made, { recursive: true, force: true }));
  }
  return folder;
}

/**
 * The `file:` URL of `source` (with a sourceURL naming where it came from, so
 * stack traces name the cache file). One file per distinct text per process.
 */
export function glueFile(source: string, name: string): Promise<string> {
  const text = `${source}\n//# sourceURL=${name}\n`;
  const hash = createHash('sha256').update(text).digest('hex');
  let url = written.get(hash);
  if (url === undefined) {
    const path = join(privateFolder(), `${hash}.mjs`);
    url = writeFile(path, text, { mode: 0o400, flag: 'wx' }).then(() => pathToFileURL(path).href);
    written.set(hash, url);
    // A failed write is tried again by the next load.
    url.catch(() => written.delete(hash));
  }
  return url;
}
