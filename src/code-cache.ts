/**
 * V8's code cache of a classic script (vm.Script cachedData), kept in a
 * file shared by every process: made once the script has run, so it holds
 * the functions that run compiled too, not only the top level (what Node's
 * own compile cache keeps). The plugin glue (./engines/wasm/glue-load.ts)
 * and Airlock's bundle (./bundle-load.ts) are loaded with it. A cache of
 * another V8, other flags or another length is refused by V8; so every
 * file is named by the text it was made from (its hash) and Node's version.
 */
// Not `import ... from 'node:fs'`: an ES import of a builtin evaluates all its exports, and fs's pull in
// fs/promises, streams, readline and REPL history (14 more modules in every standby worker).
const { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { dirname } = process.getBuiltinModule('node:path');
const { threadId } = process.getBuiltinModule('node:worker_threads');

/** The cache at `path`, or undefined (none yet, unreadable: only slower). */
export function readCodeCache(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Writes whole or not at all (a temporary file renamed, its folder made
 * first): a reader never sees half a cache. The temporary name is this thread's of this process: the
 * cache is shared by every process.
 */
export function writeCodeCache(path: string, data: Buffer): void {
  const tmp = `${path}.${process.pid}-${threadId}.tmp`;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, path);
  } catch {
    // Only slower: the next process compiles it itself.
    rmSync(tmp, { force: true });
  }
}
